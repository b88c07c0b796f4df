package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/placeholder"
	"github.com/hipaa-platform/platform/policy/engine"
)

// ReadPreviewJSON reads the array `platformctl preview --json` prints. It decodes the stream straight
// into property values, without an intermediate map per object: the file of a large estate is read in a
// fraction of what generic JSON decoding takes. A malformed file is an error saying where: the line and
// column of a syntax error or of a value of the wrong kind, or the index of a resource without a urn or
// type.
func ReadPreviewJSON(r io.Reader) ([]*engine.Resource, error) {
	var buf bytes.Buffer
	if f, ok := r.(interface{ Stat() (os.FileInfo, error) }); ok {
		if info, err := f.Stat(); err == nil {
			buf.Grow(int(info.Size()) + bytes.MinRead) // one allocation for a file, not a doubling series
		}
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	d := &jsonReader{dec: jsontext.NewDecoder(bytes.NewReader(data)), data: data, interned: map[string]string{}}
	out, err := d.resources()
	if err != nil {
		var syn *jsontext.SyntacticError
		if errors.As(err, &syn) {
			line, col := position(data, syn.ByteOffset)
			return nil, fmt.Errorf("malformed JSON at line %d, column %d: %v", line, col, syn.Err)
		}
		return nil, err
	}
	return out, nil
}

// jsonReader decodes the preview JSON token by token.
type jsonReader struct {
	dec  *jsontext.Decoder
	data []byte
	// interned holds each distinct string once: a URN recurs in every dependency list that names it, and
	// keys, types and ARNs recur in every resource.
	interned map[string]string
}

// text reads a string (a value or an object name), interned.
func (d *jsonReader) text() (string, error) {
	raw, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	if bytes.IndexByte(raw, '\\') >= 0 {
		unquoted, err := jsontext.AppendUnquote(nil, raw)
		if err != nil {
			return "", err
		}
		raw = append(append([]byte{'"'}, unquoted...), '"')
	}
	body := raw[1 : len(raw)-1]
	if s, ok := d.interned[string(body)]; ok {
		return s, nil
	}
	s := string(body)
	d.interned[s] = s
	return s, nil
}

// unexpected reports a value of the wrong kind at the decoder's position.
func (d *jsonReader) unexpected(what, want string) error {
	kind, isValue := map[jsontext.Kind]string{'{': "object", '[': "array", '"': "string", '0': "number", 't': "boolean",
		'f': "boolean", 'n': "null"}[d.dec.PeekKind()]
	if !isValue {
		// Not a value at all: reading it surfaces the syntax error, or the end of the input, with its position.
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		kind = "nothing"
	}
	// The decoder stands after the last token read; the value in question starts past the separators.
	off := d.dec.InputOffset()
	for off < int64(len(d.data)) && strings.IndexByte(" \t\r\n:,", d.data[off]) >= 0 {
		off++
	}
	line, col := position(d.data, off)
	return fmt.Errorf("unexpected JSON at line %d, column %d: %s is a JSON %s; want %s", line, col, what, kind, want)
}

func (d *jsonReader) resources() ([]*engine.Resource, error) {
	if d.dec.PeekKind() != '[' {
		return nil, d.unexpected("the document", "the array printed by platformctl preview --json")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	var out []*engine.Resource
	for i := 0; d.dec.PeekKind() != ']'; i++ {
		if d.dec.PeekKind() == 0 {
			_, err := d.dec.ReadToken() // surfaces the syntax error or the unexpected end
			return nil, err
		}
		r, err := d.resource()
		if err != nil {
			return nil, err
		}
		if r.URN == "" || r.Type == "" {
			return nil, fmt.Errorf("resource %d has no urn or type; want the array printed by platformctl preview --json", i)
		}
		out = append(out, r)
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *jsonReader) resource() (*engine.Resource, error) {
	if d.dec.PeekKind() != '{' {
		return nil, d.unexpected("a resource", "an object")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	r := &engine.Resource{}
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return nil, err
		}
		switch key {
		case "urn", "type", "name", "parent":
			s, err := d.str(key)
			if err != nil {
				return nil, err
			}
			switch key {
			case "urn":
				r.URN = s
			case "type":
				r.Type = s
			case "name":
				r.Name = s
			case "parent":
				r.Parent = s
			}
		case "inputs":
			if d.dec.PeekKind() != '{' {
				return nil, d.unexpected("inputs", "an object")
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			r.Props = v.AsMap()
		case "dependencies":
			if r.Dependencies, err = d.strs(key); err != nil {
				return nil, err
			}
		case "propertyDependencies":
			if r.PropertyDependencies, err = d.strMap(key); err != nil {
				return nil, err
			}
		default:
			if err := d.dec.SkipValue(); err != nil {
				return nil, err
			}
		}
	}
	_, err := d.dec.ReadToken()
	return r, err
}

func (d *jsonReader) str(what string) (string, error) {
	if d.dec.PeekKind() != '"' {
		return "", d.unexpected(what, "a string")
	}
	return d.text()
}

func (d *jsonReader) strs(what string) ([]string, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return nil, err
	}
	if d.dec.PeekKind() != '[' {
		return nil, d.unexpected(what, "an array of URNs")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	var out []string
	for d.dec.PeekKind() != ']' {
		s, err := d.str(what + " element")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	_, err := d.dec.ReadToken()
	return out, err
}

func (d *jsonReader) strMap(what string) (map[string][]string, error) {
	if d.dec.PeekKind() != '{' {
		return nil, d.unexpected(what, "an object of URN arrays")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return nil, err
		}
		if out[key], err = d.strs(what + "." + key); err != nil {
			return nil, err
		}
	}
	_, err := d.dec.ReadToken()
	return out, err
}

// value decodes one JSON value into a property value; the preview's placeholders become a secret and a
// value not known until deployment.
func (d *jsonReader) value() (property.Value, error) {
	switch d.dec.PeekKind() {
	case '{':
		if _, err := d.dec.ReadToken(); err != nil {
			return property.Value{}, err
		}
		m := map[string]property.Value{}
		for d.dec.PeekKind() != '}' {
			key, err := d.text()
			if err != nil {
				return property.Value{}, err
			}
			if m[key], err = d.value(); err != nil {
				return property.Value{}, err
			}
		}
		_, err := d.dec.ReadToken()
		return property.New(property.NewMap(m)), err
	case '[':
		if _, err := d.dec.ReadToken(); err != nil {
			return property.Value{}, err
		}
		var arr []property.Value
		for d.dec.PeekKind() != ']' {
			v, err := d.value()
			if err != nil {
				return property.Value{}, err
			}
			arr = append(arr, v)
		}
		_, err := d.dec.ReadToken()
		return property.New(property.NewArray(arr)), err
	case '"':
		s, err := d.text()
		return previewValue(s), err
	}
	tok, err := d.dec.ReadToken()
	if err != nil {
		return property.Value{}, err
	}
	switch tok.Kind() {
	case '0':
		f, err := tok.Float()
		return property.New(f), err
	case 't', 'f':
		return property.New(tok.Bool()), nil
	}
	return property.New(property.Null), nil
}

// previewValue reads a string of the preview JSON: its placeholders stand for a secret and an unknown.
func previewValue(s string) property.Value {
	switch s {
	case placeholder.Unknown:
		return property.New(property.Computed)
	case placeholder.Secret:
		return property.New(s).WithSecret(true)
	}
	return property.New(s)
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// FromOffline converts what a program registered under mocks (see internal/offline) into the resources
// the rules see, components left out: the engine sends them too, but no rule looks at them.
func FromOffline(rs []offline.Resource) []*engine.Resource {
	out := make([]*engine.Resource, 0, len(rs))
	for _, r := range rs {
		if r.Custom {
			out = append(out, engine.FromPropertyMap(r.URN, r.Type, r.Name, r.Parent, r.Inputs, r.Dependencies, r.PropertyDependencies))
		}
	}
	return out
}
