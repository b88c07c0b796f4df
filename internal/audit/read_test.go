package audit

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// endless is 1 GiB of input: head, then fill repeated, counting what is read of it.
type endless struct {
	head []byte
	fill byte
	left int64
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && e.left > 0 {
		if len(e.head) > 0 {
			p[n], e.head = e.head[0], e.head[1:]
		} else {
			p[n] = e.fill
		}
		n++
		e.left--
	}
	e.read += int64(n)
	return n, nil
}

const gib = 1 << 30

// TestJunkIsRefusedWithoutReadingIt: whatever a gigabyte of input holds, the reader refuses it within
// its first bytes, or within MaxResourceBytes of the last complete resource, so that what it holds stays
// bounded by the resources.
func TestJunkIsRefusedWithoutReadingIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		in       *endless
		want     string
		readUpTo int64
	}{
		{"binary", &endless{fill: 0x00, left: gib}, `not JSON: the file starts with "\x00\x00`, 64 << 10},
		{"text", &endless{head: []byte("Lorem ipsum "), fill: 'x', left: gib}, `not JSON: the file starts with "Lorem ipsum`, 64 << 10},
		{"an object", &endless{head: []byte(`{"a": "`), fill: 'x', left: gib}, "the document is a JSON object", 64 << 10},
		{"one endless string", &endless{head: []byte(`[{"urn": "`), fill: 'a', left: gib}, "resource 0: more than 4 MiB without a complete resource", 2 * MaxResourceBytes},
		{"endless white space", &endless{head: []byte(`[`), fill: ' ', left: gib}, "resource 0: more than 4 MiB", 2 * MaxResourceBytes},
		{"a good resource, then junk", &endless{head: []byte(`[{"urn": "u", "type": "t"}, {"name": "`), fill: 'n', left: gib}, "resource 1: more than 4 MiB", 2 * MaxResourceBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadPreviewJSON(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if tc.in.read > tc.readUpTo {
				t.Errorf("read %d MiB of the gigabyte before refusing it, want at most %d MiB", tc.in.read>>20, tc.readUpTo>>20)
			}
		})
	}
}

func TestPositionsWithoutSeeking(t *testing.T) {
	t.Parallel()
	// A pipe cannot be read again, so the place is a byte offset rather than a line and column.
	_, err := ReadPreviewJSON(io.MultiReader(strings.NewReader(`[{"urn": 42}]`)))
	if err == nil || err.Error() != "unexpected JSON at byte 9: urn is a JSON number; want a string" {
		t.Errorf("error %v", err)
	}
	_, err = ReadPreviewJSON(bytes.NewReader([]byte("[\n  {\"urn\": 42}]")))
	if err == nil || err.Error() != "unexpected JSON at line 2, column 11: urn is a JSON number; want a string" {
		t.Errorf("error %v", err)
	}
	if _, err := ReadPreviewJSON(strings.NewReader(" \n")); err == nil || !strings.Contains(err.Error(), "the file is empty") {
		t.Errorf("an empty file: %v", err)
	}
}

func TestPreviewPlaceholdersComeBackAsASecretAndAnUnknown(t *testing.T) {
	t.Parallel()
	rs, err := ReadPreviewJSON(strings.NewReader(`[{"urn": "u", "type": "t", "name": "n", "inputs": {"password": "[secret]", "arn": "[unknown]", "n": 2, "ok": true, "list": ["a", null]},
		"dependencies": ["d", "e"], "propertyDependencies": {"arn": ["d"]}, "custom": true,
		"options": {"protect": true, "deleteBeforeReplace": true, "retainOnDelete": false, "ignoreChanges": ["ami"], "replaceOnChanges": [], "dependsOn": ["e"], "import": "i-1", "future": 1}}]`))
	if err != nil {
		t.Fatal(err)
	}
	r := rs[0]
	if !r.Get("password").Present() || r.Get("password").Str() != "[secret]" || !r.Props.Get("password").Secret() {
		t.Errorf("password = %v, want a secret", r.Props.Get("password"))
	}
	if !r.Get("arn").Unknown() {
		t.Errorf("arn = %v, want unknown", r.Props.Get("arn"))
	}
	if n, _ := r.Get("n").Num(); n != 2 || !r.Get("ok").True() || len(r.Get("list").Items()) != 2 {
		t.Errorf("values %v", r.Props)
	}
	if len(r.Dependencies) != 2 || r.PropertyDependencies["arn"][0] != "d" {
		t.Errorf("dependencies %v %v", r.Dependencies, r.PropertyDependencies)
	}
	if o := r.Options; !o.Protect || !o.DeleteBeforeReplace || o.RetainOnDelete || len(o.IgnoreChanges) != 1 || o.DependsOn[0] != "e" || o.Import != "i-1" {
		t.Errorf("options %+v", o)
	}
	if _, err := ReadPreviewJSON(strings.NewReader(`[{"urn": "u", "type": "t", "options": {"protect": "yes"}}]`)); err == nil ||
		!strings.Contains(err.Error(), "options.protect is a JSON string; want true or false") {
		t.Errorf("a malformed option: %v", err)
	}
}
