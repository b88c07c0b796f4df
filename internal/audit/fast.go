package audit

import (
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/contentcache"
	"github.com/hipaa-platform/platform/policy/engine"
)

// fastResource decodes the text of one resource as the token decoder does (jsonReader.resource), in
// one pass over the text with no tokens in between, each string a part of src. It accepts only what
// that decoder accepts; for anything else (a syntax error, a duplicate name, a value of the wrong kind,
// even what it merely does not expect) ok is false, and the token decoder reads the resource again, to
// read it or to say exactly what is wrong and where.
//
// With a cache, inputs and options of a text decoded before are that decoding, shared (a property.Map is
// immutable, and so are the options' lists).
func fastResource(src string, cache *textCache) (r *engine.Resource, ok bool) {
	p := &fast{src: src}
	r = &engine.Resource{}
	var seen names
	ok = p.object(func(key string) bool {
		if seen.dup(key) {
			return false
		}
		var ok bool
		switch key {
		case "urn":
			r.URN, ok = p.str()
		case "type":
			r.Type, ok = p.str()
		case "name":
			r.Name, ok = p.str()
		case "parent":
			r.Parent, ok = p.str()
		case "inputs":
			if cache != nil {
				r.Props, ok = cache.readInputs(p)
				break
			}
			r.Props, ok = p.inputs()
		case "dependencies":
			r.Dependencies, ok = p.strs()
		case "propertyDependencies":
			r.PropertyDependencies, ok = p.propertyDependencies()
		case "options":
			if cache != nil {
				r.Options, ok = cache.readOptions(p)
				break
			}
			ok = p.options(&r.Options)
		default:
			_, ok = p.value()
		}
		return ok
	})
	p.space()
	return r, ok && p.i == len(src)
}

// fast reads JSON text at src[i:].
type fast struct {
	src string
	i   int
}

func (p *fast) space() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next byte past white space, or 0 at the end.
func (p *fast) peek() byte {
	p.space()
	if p.i < len(p.src) {
		return p.src[p.i]
	}
	return 0
}

func (p *fast) take(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// object reads an object, calling member with each name, positioned at its value, which member reads.
func (p *fast) object(member func(key string) bool) bool {
	if !p.take('{') {
		return false
	}
	if p.take('}') {
		return true
	}
	for {
		key, ok := p.str()
		if !ok || !p.take(':') || !member(key) {
			return false
		}
		if p.take(',') {
			continue
		}
		return p.take('}')
	}
}

// str reads a string: a part of src when it holds no escape.
func (p *fast) str() (string, bool) {
	if p.peek() != '"' {
		return "", false
	}
	start := p.i
	end := strings.IndexByte(p.src[start+1:], '"')
	if end < 0 {
		return "", false
	}
	body := p.src[start+1 : start+1+end]
	if strings.IndexByte(body, '\\') < 0 {
		// Most strings, however long: no escape, so the next quote ends them.
		p.i = start + end + 2
		return body, plainText(body)
	}
	p.i++
	for p.i < len(p.src) {
		switch c := p.src[p.i]; {
		case c == '"':
			p.i++
			unquoted, err := jsontext.AppendUnquote(nil, p.src[start:p.i])
			return string(unquoted), err == nil
		case c == '\\':
			p.i += 2
		case c < 0x20:
			return "", false
		default:
			p.i++
		}
	}
	return "", false
}

// plainText reports whether s may stand unescaped in a JSON string: valid UTF-8 with no control
// character. It reads ASCII eight bytes at a time.
func plainText(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		// A byte of 0x80 or more, or one below 0x20 (the word's bytes less 0x20 borrow into their top
		// bit), sends the rest to the careful check.
		if w&highs != 0 || (w-0x20*ones)&^w&highs != 0 {
			break
		}
	}
	rest := s[i:]
	for j := 0; j < len(rest); j++ {
		if rest[j] < 0x20 {
			return false
		}
	}
	return utf8.ValidString(rest)
}

// names are the names of one object read so far, to refuse a duplicate as the token decoder does: the
// names the readers know by a bit each, any other in a list.
type names struct {
	bits  uint32
	other []string
}

// knownBit is the bit of names.bits of a name the resource and option readers read, 0 for any other. A
// switch, since it runs for every name of every resource: the compiler's search of the cases costs less
// than a map's hash.
func knownBit(key string) uint32 {
	switch key {
	case "urn":
		return 1 << 0
	case "type":
		return 1 << 1
	case "name":
		return 1 << 2
	case "parent":
		return 1 << 3
	case "custom":
		return 1 << 4
	case "inputs":
		return 1 << 5
	case "dependencies":
		return 1 << 6
	case "propertyDependencies":
		return 1 << 7
	case "options":
		return 1 << 8
	case "protect":
		return 1 << 9
	case "deleteBeforeReplace":
		return 1 << 10
	case "retainOnDelete":
		return 1 << 11
	case "ignoreChanges":
		return 1 << 12
	case "replaceOnChanges":
		return 1 << 13
	case "dependsOn":
		return 1 << 14
	case "import":
		return 1 << 15
	}
	return 0
}

// dup records key and reports whether it was read before.
func (n *names) dup(key string) bool {
	if bit := knownBit(key); bit != 0 {
		was := n.bits&bit != 0
		n.bits |= bit
		return was
	}
	for _, o := range n.other {
		if o == key {
			return true
		}
	}
	n.other = append(n.other, key)
	return false
}

// propertyDependencies reads an object of arrays of URNs, leaving out the properties that have none (a
// null or an empty list), as jsonReader.strMap does: most have none, and a map of only those that do
// costs a fraction of one of all.
func (p *fast) propertyDependencies() (map[string][]string, bool) {
	var out map[string][]string
	var buf [32]string
	seen := buf[:0] // the names so far, to refuse a duplicate; on the stack for all but the largest
	ok := p.object(func(key string) bool {
		if slices.Contains(seen, key) {
			return false
		}
		seen = append(seen, key)
		deps, ok := p.strs()
		if len(deps) > 0 {
			if out == nil {
				out = map[string][]string{}
			}
			// A copy: the resource's text may be a view of a buffer used again (see own).
			out[strings.Clone(key)] = deps
		}
		return ok
	})
	return out, ok
}

// strs reads null or an array of strings.
func (p *fast) strs() ([]string, bool) {
	if p.literal("null") {
		return nil, true
	}
	if !p.take('[') {
		return nil, false
	}
	if p.take(']') {
		return nil, true
	}
	// Read into a buffer on the stack, then allocated once at the list's length.
	var buf [16]string
	out := buf[:0]
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if p.take(',') {
			continue
		}
		return slices.Clone(out), p.take(']')
	}
}

func (p *fast) literal(word string) bool {
	p.space()
	if len(p.src)-p.i >= len(word) && p.src[p.i:p.i+len(word)] == word {
		p.i += len(word)
		return true
	}
	return false
}

// options reads a resource's options as jsonReader.options does.
func (p *fast) options(o *engine.Options) bool {
	var seen names
	return p.object(func(key string) bool {
		if seen.dup(key) {
			return false
		}
		var ok bool
		switch key {
		case "protect", "deleteBeforeReplace", "retainOnDelete":
			var b bool
			switch {
			case p.literal("true"):
				b, ok = true, true
			case p.literal("false"):
				ok = true
			}
			switch key {
			case "protect":
				o.Protect = b
			case "deleteBeforeReplace":
				o.DeleteBeforeReplace = b
			case "retainOnDelete":
				o.RetainOnDelete = b
			}
		case "ignoreChanges":
			o.IgnoreChanges, ok = p.strs()
		case "replaceOnChanges":
			o.ReplaceOnChanges, ok = p.strs()
		case "dependsOn":
			o.DependsOn, ok = p.strs()
		case "import":
			o.Import, ok = p.str()
		default:
			_, ok = p.value()
		}
		return ok
	})
}

// value reads any value into a property value, a preview's placeholders becoming a secret and an
// unknown, as jsonReader.value does.
func (p *fast) value() (property.Value, bool) {
	switch c := p.peek(); {
	case c == '{':
		m := map[string]property.Value{}
		ok := p.object(func(key string) bool {
			if _, dup := m[key]; dup {
				return false
			}
			v, ok := p.value()
			m[key] = v
			return ok
		})
		return property.New(property.NewMap(m)), ok
	case c == '[':
		p.i++
		var arr []property.Value
		if p.take(']') {
			return property.New(property.NewArray(arr)), true
		}
		for {
			v, ok := p.value()
			if !ok {
				return property.Value{}, false
			}
			arr = append(arr, v)
			if p.take(',') {
				continue
			}
			return property.New(property.NewArray(arr)), p.take(']')
		}
	case c == '"':
		s, ok := p.str()
		return previewValue(s), ok
	case c == 't' && p.literal("true"):
		return property.New(true), true
	case c == 'f' && p.literal("false"):
		return property.New(false), true
	case c == 'n' && p.literal("null"):
		return property.New(property.Null), true
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return property.Value{}, false
}

// number reads a number of JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *fast) number() (property.Value, bool) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.src) && p.src[p.i] >= '0' && p.src[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.src[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.src) && p.src[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return property.Value{}, false
	}
	if p.i < len(p.src) && p.src[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return property.Value{}, false
		}
	}
	if p.i < len(p.src) && (p.src[p.i] == 'e' || p.src[p.i] == 'E') {
		p.i++
		if p.i < len(p.src) && (p.src[p.i] == '+' || p.src[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return property.Value{}, false
		}
	}
	f, err := strconv.ParseFloat(p.src[start:p.i], 64)
	return property.New(f), err == nil
}

// textCache holds what the workers that decode a file decoded, by its text: in an estate the same
// inputs recur (the stacks of a fleet made from one configuration, a resource every stack has), and the
// options of most resources are one text, so that a text decoded once is not decoded again. The decoded
// strings are parts of the cache's own copy of the text, so that it holds no run of the file.
type textCache struct {
	inputs  *contentcache.Cache[property.Map]
	options *contentcache.Cache[engine.Options]
}

// textCacheLimit bounds the bytes of text each of the caches holds.
const textCacheLimit = 1 << 20

func newTextCache() *textCache {
	return &textCache{contentcache.New[property.Map](textCacheLimit), contentcache.New[engine.Options](textCacheLimit)}
}

// readInputs reads the inputs object at p: from the cache when its text was read before, else decoded.
func (c *textCache) readInputs(p *fast) (property.Map, bool) {
	return cached(c.inputs, p, (*fast).inputs)
}

// inputs reads an object of property values.
func (p *fast) inputs() (property.Map, bool) {
	if p.peek() != '{' {
		return property.Map{}, false
	}
	v, ok := p.value()
	return v.AsMap(), ok
}

// readOptions reads the options object at p: from the cache when its text was read before, else
// decoded. The options' lists are shared by the resources that have the same text, as their inputs are.
func (c *textCache) readOptions(p *fast) (o engine.Options, ok bool) {
	return cached(c.options, p, func(q *fast) (engine.Options, bool) {
		var o engine.Options
		return o, q.options(&o)
	})
}

// cached reads the object at p with read, or takes what read made of the same text before from c.
func cached[V any](c *contentcache.Cache[V], p *fast, read func(*fast) (V, bool)) (V, bool) {
	var zero V
	if p.peek() != '{' {
		return zero, false
	}
	start := p.i
	if !p.skip() {
		return zero, false
	}
	// The cache hands read a copy of the text, never the resource's own, which is a view of a run's
	// buffer that is used again (run.release).
	return c.Get(p.src[start:p.i], func(text string) (V, bool) {
		q := &fast{src: text}
		v, ok := read(q)
		return v, ok && q.i == len(text)
	})
}

// skip moves past one JSON value without decoding it, tracking only strings and brackets; what it
// passes is decoded, and so checked, where it is not a text decoded before.
func (p *fast) skip() bool {
	depth := 0
	for p.i < len(p.src) {
		switch c := p.src[p.i]; c {
		case '"':
			// The next quote ends the string unless an odd run of backslashes escapes it.
			j := p.i + 1
			for {
				k := strings.IndexByte(p.src[j:], '"')
				if k < 0 {
					return false
				}
				j += k
				n := 0
				for b := j - 1; b > p.i && p.src[b] == '\\'; b-- {
					n++
				}
				if n%2 == 0 {
					break
				}
				j++
			}
			p.i = j + 1
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return false
			}
			if depth == 0 {
				p.i++
				return true
			}
		default:
			if depth == 0 && c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return false // a bare value is not an inputs object
			}
		}
		p.i++
	}
	return false
}
