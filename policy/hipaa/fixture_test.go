package hipaa

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/placeholder"
	"github.com/hipaa-platform/platform/policy/engine"
)

// The rule tests start from a compliant fixture and change one property per case, asserting the exact
// findings, written "property: message" (with " [unknown]" for a value not known during preview).

// unknown stands for a value not known until deployment.
var unknown = struct{ unknown bool }{true}

// del removes a property.
var del = struct{ del bool }{true}

// fx is a fixture resource: type, name and plain properties, and the names of the fixture resources
// each property was computed from.
type fx struct {
	typ, name string
	props     map[string]any
	deps      map[string][]string
	opts      engine.Options
}

func (f fx) resource() *engine.Resource {
	return &engine.Resource{URN: urnOf(f.typ, f.name), Type: f.typ, Name: f.name, Props: plainMap(clone(f.props)),
		PropertyDependencies: map[string][]string{}, Options: f.opts}
}

func urnOf(typ, name string) string { return "urn:pulumi:test::hipaa::" + typ + "::" + name }

// clone deep-copies plain JSON-like values, turning the unknown marker into the preview placeholder.
func clone(v any) map[string]any {
	b, err := json.Marshal(replaceUnknown(v))
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func replaceUnknown(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = replaceUnknown(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = replaceUnknown(e)
		}
		return out
	}
	if v == unknown {
		return placeholder.Unknown
	}
	return v
}

// set changes the property at a dotted path (numbers index arrays) in a copy of props.
func set(props map[string]any, path string, value any) map[string]any {
	out := clone(props)
	parts := strings.Split(path, ".")
	var cur any = out
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if value == del {
					delete(c, p)
				} else {
					c[p] = replaceUnknown(value)
				}
				return out
			}
			if c[p] == nil {
				c[p] = map[string]any{}
			}
			cur = c[p]
		case []any:
			n, _ := strconv.Atoi(p)
			if last {
				c[n] = replaceUnknown(value)
				return out
			}
			cur = c[n]
		}
	}
	return out
}

func render(fs []engine.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		s := f.Property + ": " + f.Message
		if f.Unknown {
			s += " [unknown]"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

type change struct {
	name  string
	path  string // for resource rules: a property path; for stack rules "resource-name:path"
	value any
	want  []string
}

// testResourceRule checks that the fixture passes and that each change yields exactly its findings.
func testResourceRule(t *testing.T, rule *engine.Rule, base fx, changes []change) {
	t.Helper()
	if got := render(engine.CheckResource(rule, base.resource(), engine.Config{})); len(got) != 0 {
		t.Fatalf("the compliant fixture fails %s: %q", rule.ID, got)
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			t.Parallel()
			f := base
			f.props = set(base.props, ch.path, ch.value)
			got := render(engine.CheckResource(rule, f.resource(), engine.Config{}))
			want := append([]string(nil), ch.want...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s = %v: got\n  %q\nwant\n  %q", ch.path, ch.value, got, want)
			}
		})
	}
}

// stackFixture is a compliant set of resources for a stack rule.
type stackFixture []fx

func (s stackFixture) stack() *engine.Stack {
	urns := map[string]string{}
	for _, f := range s {
		urns[f.name] = urnOf(f.typ, f.name)
	}
	rs := make([]*engine.Resource, 0, len(s))
	for _, f := range s {
		r := f.resource()
		for prop, names := range f.deps {
			for _, n := range names {
				if urn, ok := urns[n]; ok {
					r.PropertyDependencies[prop] = append(r.PropertyDependencies[prop], urn)
				}
			}
		}
		rs = append(rs, r)
	}
	return engine.NewStack(rs)
}

// with changes one resource's property ("name:path"), or removes a resource ("-name").
func (s stackFixture) with(target string, value any) stackFixture {
	out := slices.Clone(s)
	if name, ok := strings.CutPrefix(target, "-"); ok {
		return slices.DeleteFunc(out, func(f fx) bool { return f.name == name })
	}
	name, path, _ := strings.Cut(target, ":")
	for i := range out {
		if out[i].name == name {
			out[i].props = set(out[i].props, path, value)
			return out
		}
	}
	panic(fmt.Sprintf("no fixture resource %q", name))
}

func testStackRule(t *testing.T, rule *engine.Rule, base stackFixture, changes []change) {
	t.Helper()
	if got := render(engine.CheckStack(rule, base.stack(), engine.Config{})); len(got) != 0 {
		t.Fatalf("the compliant fixture fails %s: %q", rule.ID, got)
	}
	for _, ch := range changes {
		t.Run(ch.name, func(t *testing.T) {
			t.Parallel()
			got := render(engine.CheckStack(rule, base.with(ch.path, ch.value).stack(), engine.Config{}))
			want := append([]string(nil), ch.want...)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s = %v: got\n  %q\nwant\n  %q", ch.path, ch.value, got, want)
			}
		})
	}
}

// plainMap turns a fixture's plain properties into property values, as the audit's reader of preview
// files would.
func plainMap(m map[string]any) property.Map {
	vals := make(map[string]property.Value, len(m))
	for k, v := range m {
		vals[k] = plainValue(v)
	}
	return property.NewMap(vals)
}

func plainValue(v any) property.Value {
	switch v := v.(type) {
	case nil:
		return property.New(property.Null)
	case bool:
		return property.New(v)
	case float64:
		return property.New(v)
	case string:
		switch v {
		case placeholder.Unknown:
			return property.New(property.Computed)
		case placeholder.Secret:
			return property.New(v).WithSecret(true)
		}
		return property.New(v)
	case []any:
		arr := make([]property.Value, len(v))
		for i, e := range v {
			arr[i] = plainValue(e)
		}
		return property.New(property.NewArray(arr))
	case map[string]any:
		return property.New(plainMap(v))
	}
	return property.New(fmt.Sprint(v))
}
