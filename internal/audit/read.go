package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/sig"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/placeholder"
	"github.com/hipaa-platform/platform/policy/engine"
)

// MaxResourceBytes bounds one resource of a preview file. The largest the platform writes (a database
// host with its user data) is about 9 KB; the bound keeps what the reader holds proportional to the
// resources, whatever the file holds.
const MaxResourceBytes = 4 << 20

// errTooLarge stops the reader at a resource (or a run of bytes between resources) past the bound.
var errTooLarge = fmt.Errorf("more than %d MiB without a complete resource", MaxResourceBytes>>20)

// ReadPreviewJSON reads the array `platformctl preview --json` prints. It streams: the file is never
// held whole, a resource is decoded straight into property values, and what it holds is bounded by the
// resources, not by the file, so a file that is not the array is refused at its first bytes and junk
// after a valid start within MaxResourceBytes of it. A malformed file is an error saying where: the line
// and column of a syntax error or of a value of the wrong kind (the byte offset when r cannot be read
// again), or the index of a resource without a urn or type.
func ReadPreviewJSON(r io.Reader) ([]*engine.Resource, error) {
	var out []*engine.Resource
	err := StreamPreviewJSON(r, 1, func(rs []*engine.Resource) error {
		out = append(out, rs...)
		return nil
	})
	return out, err
}

// StreamPreviewJSON reads the array as ReadPreviewJSON does, decoding its resources on workers
// goroutines, and hands them to each, in the file's order, a run of consecutive resources at a time;
// what each keeps is all the reader holds beyond a few runs in flight. An error from each stops the
// reading and is returned as it is.
func StreamPreviewJSON(r io.Reader, workers int, each func([]*engine.Resource) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	skipped, err := startsAnArray(br)
	if err != nil {
		return err
	}
	return describe(r, split(br, skipped, max(workers, 1), each))
}

// describe words a reading error for people: where in r a syntax error or a value of the wrong kind
// is. An error of the caller's function comes back as it was.
func describe(r io.Reader, err error) error {
	var syn *jsontext.SyntacticError
	var at *atError
	var ours *eachError
	switch {
	case errors.As(err, &ours):
		return ours.err
	case errors.As(err, &syn):
		return fmt.Errorf("malformed JSON at %s: %v", locate(r, syn.ByteOffset), syn.Err)
	case errors.As(err, &at):
		return fmt.Errorf("unexpected JSON at %s: %s", locate(r, at.offset), at.message)
	}
	return err // nil, too large, or a resource without a urn or type
}

// tooLarge is the error of resource i running past MaxResourceBytes.
func tooLarge(i int) error {
	return fmt.Errorf("resource %d: %w; want the array printed by platformctl preview --json", i, errTooLarge)
}

// eachError is an error of the caller's function, passed back untouched.
type eachError struct{ err error }

func (e *eachError) Error() string { return e.err.Error() }

// startsAnArray refuses, from its first bytes, a document that is not a JSON array; it returns how much
// white space it skipped.
func startsAnArray(br *bufio.Reader) (skipped int64, err error) {
	for {
		head, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return skipped, errors.New("the file is empty; want the array printed by platformctl preview --json")
			}
			return skipped, err
		}
		switch c := head[0]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if _, err := br.Discard(1); err != nil {
				return skipped, err
			}
			skipped++
			continue
		case c == '[':
			return skipped, nil
		case c == '{' || c == '"' || c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n':
			return skipped, nil // JSON, but not an array: the decoder says what it is, and where
		}
		start, _ := br.Peek(16)
		return skipped, fmt.Errorf("not JSON: the file starts with %q; want the array printed by platformctl preview --json", start)
	}
}

// window hands the decoder the input and stops it when a resource runs past MaxResourceBytes.
type window struct {
	r io.Reader
	// n is what has been handed out; start where the current resource began.
	n, start int64
}

func (w *window) Read(p []byte) (int, error) {
	left := w.start + MaxResourceBytes - w.n
	if left < 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > left+1 {
		p = p[:left+1]
	}
	n, err := w.r.Read(p)
	w.n += int64(n)
	return n, err
}

// atError is a value of the wrong kind, at the byte offset where it starts.
type atError struct {
	offset  int64
	message string
}

func (e *atError) Error() string { return e.message }

// locate describes a byte offset of r's content as its line and column, reading r again from its start
// when it can be (a file), or else as the offset.
func locate(r io.Reader, offset int64) string {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return fmt.Sprintf("byte %d", offset)
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return fmt.Sprintf("byte %d", offset)
	}
	br := bufio.NewReader(rs)
	line, col := 1, 1
	for i := int64(0); ; i++ {
		c, err := br.ReadByte()
		if err != nil || i >= offset {
			break
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonReader decodes the preview JSON token by token.
type jsonReader struct {
	dec *jsontext.Decoder
	win *window
	// src, when set, is the whole input as one string: each string value read is a part of it, not a
	// copy.
	src string
	// index0 is the index in the file of the first resource this reader reads.
	index0 int
	// read are the resources read so far.
	read []*engine.Resource
	// interned holds each distinct string once, where there is no src: a URN recurs in every dependency
	// list that names it, and keys, types and ARNs recur in every resource.
	interned map[string]string
}

// text reads a string (a value or an object name): a part of src, or else interned.
func (d *jsonReader) text() (string, error) {
	raw, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	escaped := bytes.IndexByte(raw, '\\') >= 0
	if d.src != "" && !escaped {
		end := d.dec.InputOffset() - 1
		return d.src[end-int64(len(raw))+2 : end], nil
	}
	if escaped {
		unquoted, err := jsontext.AppendUnquote(nil, raw)
		if err != nil {
			return "", err
		}
		raw = append(append([]byte{'"'}, unquoted...), '"')
	}
	body := raw[1 : len(raw)-1]
	if d.interned == nil {
		return string(body), nil
	}
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
	// The decoder stands after the last token read; the value in question starts past the separators,
	// which are in its unread buffer.
	off := d.dec.InputOffset()
	for _, c := range d.dec.UnreadBuffer() {
		if strings.IndexByte(" \t\r\n:,", c) < 0 {
			break
		}
		off++
	}
	return &atError{offset: off, message: fmt.Sprintf("%s is a JSON %s; want %s", what, kind, want)}
}

func (d *jsonReader) resources() ([]*engine.Resource, error) {
	if d.dec.PeekKind() != '[' {
		return nil, d.unexpected("the document", "the array printed by platformctl preview --json")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	for {
		d.win.start = d.dec.InputOffset()
		switch d.dec.PeekKind() {
		case ']':
			_, err := d.dec.ReadToken()
			return d.read, err
		case 0:
			_, err := d.dec.ReadToken() // surfaces the syntax error, the unexpected end or the bound
			return nil, err
		}
		r, err := d.resource()
		if err != nil {
			return nil, err
		}
		if err := complete(r, d.index0+len(d.read)); err != nil {
			return nil, err
		}
		d.read = append(d.read, r)
	}
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
		case "options":
			if r.Options, err = d.options(); err != nil {
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

// complete refuses a resource without the urn and type every rule needs; i is its index in the file.
func complete(r *engine.Resource, i int) error {
	if r.URN == "" || r.Type == "" {
		return fmt.Errorf("resource %d has no urn or type; want the array printed by platformctl preview --json", i)
	}
	return nil
}

// options reads a resource's options object.
func (d *jsonReader) options() (engine.Options, error) {
	var o engine.Options
	if d.dec.PeekKind() != '{' {
		return o, d.unexpected("options", "an object")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return o, err
	}
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return o, err
		}
		switch key {
		case "protect", "deleteBeforeReplace", "retainOnDelete":
			b, err := d.boolean("options." + key)
			if err != nil {
				return o, err
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
			o.IgnoreChanges, err = d.strs("options." + key)
		case "replaceOnChanges":
			o.ReplaceOnChanges, err = d.strs("options." + key)
		case "dependsOn":
			o.DependsOn, err = d.strs("options." + key)
		case "import":
			o.Import, err = d.str("options." + key)
		default:
			err = d.dec.SkipValue()
		}
		if err != nil {
			return o, err
		}
	}
	_, err := d.dec.ReadToken()
	return o, err
}

// boolean reads true or false.
func (d *jsonReader) boolean(what string) (bool, error) {
	if kind := d.dec.PeekKind(); kind != 't' && kind != 'f' {
		return false, d.unexpected(what, "true or false")
	}
	tok, err := d.dec.ReadToken()
	return err == nil && tok.Bool(), err
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
	var out map[string][]string
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return nil, err
		}
		deps, err := d.strs(what + "." + key)
		if err != nil {
			return nil, err
		}
		if len(deps) > 0 { // a property with no dependencies is left out; reading it gives none either way
			if out == nil {
				out = map[string][]string{}
			}
			out[key] = deps
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
		for first := true; d.dec.PeekKind() != '}'; first = false {
			key, err := d.text()
			if err != nil {
				return property.Value{}, err
			}
			if first && key == sig.Key && d.dec.PeekKind() == '"' {
				// A value of Pulumi's own encoding: a secret, as a state holds it, is read as a secret
				// whatever it carries (ciphertext, or the plaintext of an export with --show-secrets),
				// which is never kept. Any other (an asset, an archive) is read as the object it is.
				kind, err := d.text()
				if err != nil {
					return property.Value{}, err
				}
				if kind == sig.Secret {
					for d.dec.PeekKind() != '}' {
						if _, err := d.text(); err != nil {
							return property.Value{}, err
						}
						if err := d.dec.SkipValue(); err != nil {
							return property.Value{}, err
						}
					}
					_, err := d.dec.ReadToken()
					return property.New(placeholder.Secret).WithSecret(true), err
				}
				m[key] = property.New(kind)
				continue
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

// FromOffline converts what a program registered under mocks (see internal/offline) into the resources
// the rules see, components left out: the engine sends them too, but no rule looks at them.
func FromOffline(rs []offline.Resource) []*engine.Resource {
	out := make([]*engine.Resource, 0, len(rs))
	for _, r := range rs {
		if r.Custom {
			res := engine.FromPropertyMap(r.URN, r.Type, r.Name, r.Parent, r.Inputs, r.Dependencies, r.PropertyDependencies)
			res.Options = r.Options
			out = append(out, res)
		}
	}
	return out
}
