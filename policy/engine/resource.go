package engine

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/contentcache"
)

// Resource is a resource as a rule sees it: its type, its properties (the inputs in a preview, the state
// in an audit of a deployed stack) and what its properties were computed from.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Parent string
	Props  property.Map
	// Dependencies and PropertyDependencies are URNs of the resources this one's properties came from,
	// the edges stack rules join on.
	Dependencies         []string
	PropertyDependencies map[string][]string
	// Options are the resource options that change what an update does to it.
	Options Options

	// memo holds what rules derived from the properties (decoded user data, parsed policies), so that
	// each is derived once however many rules read it.
	memo *memo
}

// memo is a resource's derived values; owner tells a copy of the resource (which must derive its own,
// since its properties may have been changed) from the resource that filled it.
type memo struct {
	owner  *Resource
	values map[string]any
}

// Memo returns what derive computes from r's properties, computing it on the first call under key
// only. r's properties must not change after a first call (a copy of r derives afresh). A resource is
// evaluated by one goroutine at a time, so Memo takes no lock.
func Memo[T any](r *Resource, key string, derive func() T) T {
	if r.memo == nil || r.memo.owner != r {
		r.memo = &memo{owner: r, values: map[string]any{}}
	} else if v, ok := r.memo.values[key]; ok {
		return v.(T)
	}
	v := derive()
	r.memo.values[key] = v
	return v
}

// shared is what rules derived from property values, by content, for every resource an evaluation
// evaluates: the same user data or policy document in many resources (the hosts of a tier, the
// identical stacks of a fleet) is decoded once. Each kind of derivation has a cache of its own
// (internal/contentcache: bounded, holding copies, turned off where contents do not recur).
type shared struct {
	mu    sync.Mutex
	kinds map[string]*contentcache.Cache[any]
}

// sharedLimit bounds the bytes of content each kind's cache holds.
const sharedLimit = 1 << 20

func (s *shared) cache(kind string) *contentcache.Cache[any] {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.kinds[kind]
	if c == nil {
		c = contentcache.New[any](sharedLimit)
		s.kinds[kind] = c
	}
	return c
}

// Derive returns derive(content), content being a property value (or made of one) of the resource c
// checks and derive a pure function of it, under a kind naming what derive computes: computed once per
// distinct content in an evaluation, however many resources hold it. The result is shared by all of
// them: it must never be changed. Outside an evaluation of stacks (a resource checked alone) it is
// computed every time; callers that read it more than once per resource keep it with Memo. The cache
// belongs to the evaluation, never to a resource, so that resources evaluated side by side by several
// evaluations are not written to.
func Derive[T any](c *Check, kind, content string, derive func(string) T) T {
	if c == nil || c.shared == nil {
		return derive(content)
	}
	v, _ := c.shared.cache(kind).Get(content, func(own string) (any, bool) { return derive(own), true })
	return v.(T)
}

// Options are the resource options a rule may look at. The engine hands an analyzer protect,
// ignoreChanges and deleteBeforeReplace only; a preview file carries all of them.
type Options struct {
	Protect             bool     `json:"protect"`
	DeleteBeforeReplace bool     `json:"deleteBeforeReplace"`
	RetainOnDelete      bool     `json:"retainOnDelete"`
	IgnoreChanges       []string `json:"ignoreChanges"`
	ReplaceOnChanges    []string `json:"replaceOnChanges"`
	// DependsOn are the URNs the resource depends on beyond what its properties are computed from.
	DependsOn []string `json:"dependsOn"`
	// Import is the ID of an existing resource the stack adopts; empty for none.
	Import string `json:"import"`
}

// V is a property looked up by path: found, missing, or not known until deployment.
type V struct {
	v       property.Value
	found   bool
	unknown bool
	path    string
}

// Get looks up a property by path; each element is a key (string) or an index (int).
func (r *Resource) Get(path ...any) V {
	return lookup(property.New(r.Props), "", path)
}

// Get looks up a property below v.
func (v V) Get(path ...any) V {
	if v.unknown || !v.found {
		return V{unknown: v.unknown, path: v.path + pathString(path)}
	}
	return lookup(v.v, v.path, path)
}

func lookup(cur property.Value, prefix string, path []any) V {
	p := prefix
	for i, step := range path {
		p = appendStep(p, step)
		if cur.IsComputed() {
			return V{unknown: true, path: p + pathString(path[i+1:])}
		}
		ok := true
		switch s := step.(type) {
		case string:
			if ok = cur.IsMap(); ok {
				cur, ok = cur.AsMap().GetOk(s)
			}
		case int:
			if ok = cur.IsArray() && s < cur.AsArray().Len(); ok {
				cur = cur.AsArray().Get(s)
			}
		}
		if !ok {
			// A missing step makes the whole path missing; messages name the full path asked for.
			return V{path: p + pathString(path[i+1:])}
		}
	}
	if cur.IsComputed() {
		return V{unknown: true, path: p}
	}
	return V{v: cur, found: !cur.IsNull(), path: p}
}

// appendStep is path with one more step, a key (string) or an index (int), as messages name it.
func appendStep(path string, step any) string {
	switch s := step.(type) {
	case string:
		if path == "" {
			return s
		}
		return path + "." + s
	case int:
		return path + "[" + strconv.Itoa(s) + "]"
	}
	return path
}

func pathString(path []any) string {
	p := ""
	for _, step := range path {
		if key, ok := step.(string); ok {
			p += "." + key
		} else {
			p = appendStep(p, step)
		}
	}
	return p
}

// Path is the property path, for messages.
func (v V) Path() string { return v.path }

// Unknown reports whether the value is not known until deployment.
func (v V) Unknown() bool { return v.unknown }

// Missing reports whether the property is absent or null (and known to be).
func (v V) Missing() bool { return !v.unknown && !v.found }

// Present reports whether the property is set: to a known non-empty value, or to one not yet known.
func (v V) Present() bool {
	if v.unknown {
		return true
	}
	if !v.found {
		return false
	}
	if v.v.IsString() {
		return v.v.AsString() != ""
	}
	return true
}

// Str returns a string value, or "" for anything else.
func (v V) Str() string {
	if v.found && v.v.IsString() {
		return v.v.AsString()
	}
	return ""
}

// True reports whether the value is true: a boolean, or the string "true" that some provider
// properties use.
func (v V) True() bool {
	if !v.found {
		return false
	}
	if v.v.IsBool() {
		return v.v.AsBool()
	}
	return v.v.IsString() && strings.EqualFold(v.v.AsString(), "true")
}

// Num returns a numeric value (a number, or a string holding one) and whether there was one.
func (v V) Num() (float64, bool) {
	if !v.found {
		return 0, false
	}
	if v.v.IsNumber() {
		return v.v.AsNumber(), true
	}
	if v.v.IsString() {
		var f float64
		if _, err := fmt.Sscan(v.v.AsString(), &f); err == nil {
			return f, true
		}
	}
	return 0, false
}

// Items returns the elements of an array value; a single non-array value is one element.
func (v V) Items() []V {
	if !v.found {
		return nil
	}
	if !v.v.IsArray() {
		return []V{v}
	}
	arr := v.v.AsArray()
	out := make([]V, 0, arr.Len())
	for i := range arr.Len() {
		e := arr.Get(i)
		out = append(out, V{v: e, found: !e.IsNull() && !e.IsComputed(), unknown: e.IsComputed(), path: appendStep(v.path, i)})
	}
	return out
}

// Strs returns the string elements of an array (or a single string) value.
func (v V) Strs() []string {
	var out []string
	for _, e := range v.Items() {
		if s := e.Str(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Tag returns a tag's value from tags or, where the provider filled it, tagsAll.
func (r *Resource) Tag(name string) V {
	if t := r.Get("tags", name); !t.Missing() {
		return t
	}
	return r.Get("tagsAll", name)
}

// Root is the resource's whole property map as a value, for code shared with nested objects.
func (r *Resource) Root() V { return V{v: property.New(r.Props), found: true} }

// FromPropertyMap makes a Resource from the Pulumi engine's representation of its properties.
func FromPropertyMap(urn, typ, name, parent string, props resource.PropertyMap, deps []string, pdeps map[string][]string) *Resource {
	return &Resource{URN: urn, Type: typ, Name: name, Parent: parent, Props: resource.FromResourcePropertyMap(props),
		Dependencies: deps, PropertyDependencies: pdeps}
}
