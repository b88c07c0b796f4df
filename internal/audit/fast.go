package audit

import (
	"encoding/binary"
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
// With a cache, inputs of a text decoded before are that decoding, shared (a property.Map is
// immutable).
func fastResource(src string, cache *inputsCache) (r *engine.Resource, ok bool) {
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
			if p.peek() != '{' {
				return false
			}
			if cache != nil {
				r.Props, ok = cache.inputs(p)
				break
			}
			var v property.Value
			if v, ok = p.value(); ok {
				r.Props = v.AsMap()
			}
		case "dependencies":
			r.Dependencies, ok = p.strs()
		case "propertyDependencies":
			r.PropertyDependencies = map[string][]string{}
			ok = p.object(func(k string) bool {
				deps, ok := p.strs()
				n := len(r.PropertyDependencies)
				r.PropertyDependencies[k] = deps
				return ok && len(r.PropertyDependencies) > n // a duplicate name adds nothing
			})
		case "options":
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

// known are the names the resource and option readers read, each given a bit of names.bits.
var known = map[string]uint32{}

func init() {
	for i, k := range []string{"urn", "type", "name", "parent", "custom", "inputs", "dependencies", "propertyDependencies",
		"options", "protect", "deleteBeforeReplace", "retainOnDelete", "ignoreChanges", "replaceOnChanges", "dependsOn", "import"} {
		known[k] = 1 << i
	}
}

// dup records key and reports whether it was read before.
func (n *names) dup(key string) bool {
	if bit, ok := known[key]; ok {
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

// strs reads null or an array of strings.
func (p *fast) strs() ([]string, bool) {
	if p.literal("null") {
		return nil, true
	}
	if !p.take('[') {
		return nil, false
	}
	var out []string
	if p.take(']') {
		return out, true
	}
	for {
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if p.take(',') {
			continue
		}
		return out, p.take(']')
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

// inputsCache holds the decoded inputs of the resources of a file by their text, for the workers that
// decode it: in an estate the same inputs recur (the stacks of a fleet made from one configuration, a
// resource every stack has), and a text decoded once is not decoded again. The decoded strings are parts
// of the cache's own copy of the text, so that it holds no run of the file. Inputs shorter than
// inputsCacheMin are decoded every time: looking them up costs about what decoding them does.
type inputsCache struct {
	c *contentcache.Cache[property.Map]
}

const (
	inputsCacheLimit = 1 << 20
	inputsCacheMin   = 256
)

func newInputsCache() *inputsCache {
	return &inputsCache{contentcache.New[property.Map](inputsCacheLimit)}
}

// inputs reads the inputs object at p: from the cache when its text was read before, else decoded.
func (c *inputsCache) inputs(p *fast) (property.Map, bool) {
	start := p.i
	if !p.skip() {
		return property.Map{}, false
	}
	raw := p.src[start:p.i]
	decode := func(text string) (property.Map, bool) {
		q := &fast{src: text}
		v, ok := q.value()
		if !ok || q.i != len(text) {
			return property.Map{}, false
		}
		return v.AsMap(), true
	}
	if len(raw) < inputsCacheMin {
		return decode(raw)
	}
	return c.c.Get(raw, decode)
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
