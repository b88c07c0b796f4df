package audit

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/policy/engine"
)

// choppy hands out its input in pieces of random length, so that the splitter's buffer ends in the
// middle of strings, escapes and separators.
type choppy struct {
	r   io.Reader
	rnd *rand.Rand
}

func (c *choppy) Read(p []byte) (int, error) {
	if n := 1 + c.rnd.IntN(7000); n < len(p) {
		p = p[:n]
	}
	return c.r.Read(p)
}

// awkward is a preview file whose strings hold everything the splitter must not take for structure:
// quotes after even and odd runs of backslashes, brackets and braces, separators, escapes of every kind
// and a long string, in resources of many sizes, laid out with irregular white space.
func awkward(n int) string {
	values := []string{
		`"plain"`, `"a \"quoted\" word"`, `"ends in a backslash \\"`, `"\\\\\" three and a quote"`,
		`"{\"not\": [\"structure\"]}"`, `"] , } { ["`, `"\u00e9\t\n\/"`, `12.5`, `-3e2`, `true`, `false`, `null`,
		`[]`, `{}`, `[{"deep": [[{"deeper": "]"}]]}]`,
		`"` + strings.Repeat("x", 300_000) + `"`,
	}
	var b strings.Builder
	b.WriteString(" \n[\n")
	for i := range n {
		if i > 0 {
			b.WriteString([]string{",", " ,\n", "\t,  "}[i%3])
		}
		fmt.Fprintf(&b, `{"urn": "urn:pulumi:s%d::p::t::r%d", "type": "t", "name": "r\"%d", "inputs": {`, i%3, i, i)
		for j := range 1 + i%len(values) {
			if j > 0 {
				b.WriteString(", ")
			}
			v := values[(i+j)%len(values)]
			if len(v) > 1000 && i%5 != 0 {
				v = `"short"`
			}
			fmt.Fprintf(&b, `"k%d\\": %s`, j, v)
		}
		fmt.Fprintf(&b, `}, "dependencies": ["d\\\\"], "propertyDependencies": {"k0\\": ["d"]}, "options": {"protect": %t}, "custom": true}`, i%2 == 0)
	}
	b.WriteString("\n]\n")
	return b.String()
}

// sequentialRead reads the whole of doc with the sequential decoder alone, which the splitter hands
// what it does not expect: the reading the split one must agree with.
func sequentialRead(doc string) ([]*engine.Resource, error) {
	s := &splitter{r: strings.NewReader(doc), buf: make([]byte, 0, 16)}
	r := s.sequential(0, atStart)
	return r.out, describe(strings.NewReader(doc), r.err)
}

func sameResources(t *testing.T, got, want []*engine.Resource) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d resources, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := *got[i], *want[i]
		if !property.New(g.Props).Equals(property.New(w.Props)) {
			t.Fatalf("resource %d: properties %v, want %v", i, g.Props, w.Props)
		}
		g.Props, w.Props = property.Map{}, property.Map{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("resource %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestTheSplitReadingIsTheSequentialOne: over a file of awkward strings, read in random pieces, the
// split reading on several workers gives the very resources of the sequential decoder, in order, in
// runs no bigger than a few runBytes.
func TestTheSplitReadingIsTheSequentialOne(t *testing.T) {
	t.Parallel()
	doc := awkward(3000)
	want, err := sequentialRead(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 3000 || want[1].Get("k0\\").Str() != `a "quoted" word` || want[1].Name != `r"1` {
		t.Fatalf("the sequential decoder read %d resources of 3000, the second %v", len(want), want[1].Props)
	}
	for _, workers := range []int{1, 2, 8} {
		var got []*engine.Resource
		runs := 0
		err := StreamPreviewJSON(&choppy{strings.NewReader(doc), rand.New(rand.NewPCG(uint64(workers), 1))}, workers, func(rs []*engine.Resource) error {
			got = append(got, rs...)
			runs++
			return nil
		})
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		sameResources(t, got, want)
		if runs < 10 {
			t.Errorf("%d workers: the file came in %d runs, want it split into many", workers, runs)
		}
	}
}

// TestTheSplitReadingRefusesAsTheSequentialOne: each malformed file, past a few good resources, is
// refused with the sequential decoder's message and position, on any number of workers.
func TestTheSplitReadingRefusesAsTheSequentialOne(t *testing.T) {
	t.Parallel()
	good := `{"urn": "urn:pulumi:s::p::t::a", "type": "t", "inputs": {"s": "a \"}\" string"}}`
	goods := strings.Repeat(good+",\n", 40) + good
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"a field of the wrong kind", "[" + goods + `,` + "\n" + `{"urn": 42, "type": "t"}]`, "urn is a JSON number; want a string"},
		{"a resource not an object", "[" + goods + `, "a string"]`, "a resource is a JSON string; want an object"},
		{"junk between resources", "[" + goods + ` x ` + good + `]`, "malformed JSON at line 41"},
		{"a comma before the end", "[" + goods + `,]`, "malformed JSON at line 41"},
		{"brackets that do not match", "[" + goods + `, {"urn": "u", "type": "t", "inputs": {"a": [1}]}]`, "malformed JSON at line 41"},
		{"a missing value", "[" + goods + ",\n" + `{"urn": "u", "type": }]`, "malformed JSON at line 42, column 22"},
		{"no type", "[" + goods + `, {"urn": "u"}]`, "resource 41 has no urn or type"},
		{"cut short in a string", "[" + goods + `, {"urn": "u`, "unexpected EOF"},
		{"cut short after a resource", "[" + goods, "unexpected EOF"},
		{"a document that is not an array", `{"urn": "u"}`, "the document is a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, want := sequentialRead(tc.doc)
			if want == nil || !strings.Contains(want.Error(), tc.want) {
				t.Fatalf("the sequential decoder says %v, want %q", want, tc.want)
			}
			for _, workers := range []int{1, 4} {
				_, err := func() ([]*engine.Resource, error) {
					var out []*engine.Resource
					err := StreamPreviewJSON(bytes.NewReader([]byte(tc.doc)), workers, func(rs []*engine.Resource) error {
						out = append(out, rs...)
						return nil
					})
					return out, err
				}()
				if err == nil || err.Error() != want.Error() {
					t.Errorf("%d workers: %v, want %v", workers, err, want)
				}
			}
		})
	}
}

// TestAnErrorOfTheCallerStopsTheReading: the function given the runs can stop the reading, and its
// error comes back as it was.
func TestAnErrorOfTheCallerStopsTheReading(t *testing.T) {
	t.Parallel()
	stop := fmt.Errorf("enough")
	calls := 0
	err := StreamPreviewJSON(strings.NewReader(awkward(2000)), 4, func([]*engine.Resource) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("error %v after %d calls, want %v after 1", err, calls, stop)
	}
}

// TestTheFastDecoderReadsWhatTheTokenDecoderReads: every resource of the awkward file is read by the
// one-pass decoder, into what the token decoder reads; and what the token decoder refuses, the fast one
// does not accept.
func TestTheFastDecoderReadsWhatTheTokenDecoderReads(t *testing.T) {
	t.Parallel()
	var raws []string
	s := &splitter{r: strings.NewReader(awkward(200)), buf: make([]byte, 0, 1<<20)}
	s.runs(func(r *run) bool {
		raws = append(raws, r.raws...)
		return true
	})
	if len(raws) != 200 {
		t.Fatalf("split %d resources of 200", len(raws))
	}
	var got, want []*engine.Resource
	for i, raw := range raws {
		r, ok := fastResource(raw, nil)
		if !ok {
			t.Fatalf("resource %d: the fast decoder refused %.200s", i, raw)
		}
		got = append(got, r)
		d := &jsonReader{dec: jsontext.NewDecoder(strings.NewReader(raw)), src: raw}
		w, err := d.resource()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, w)
	}
	sameResources(t, got, want)
	for _, bad := range []string{
		`{"urn": "a", "urn": "b"}`, `{"inputs": {"x": 1, "x": 2}}`, `{"options": {"protect": true, "protect": true}}`,
		`{"a": 01}`, `{"a": 1.}`, `{"a": -}`, `{"a": 1e}`, `{"a": tru}`, `{"a": [1,]}`, `{"a": {"b": 1,}}`, `{"a": 1 "b": 2}`,
		"{\"urn\": \"\xff\"}", "{\"a\": \"a tab\there\"}", `{"a": "\x"}`, `{"a": "cut`, `{"a": 1} junk`,
		`{"urn": 1}`, `{"inputs": []}`, `{"dependencies": "d"}`, `{"propertyDependencies": {"a": "d"}}`,
		`{"options": {"protect": "yes"}}`, `{"options": {"import": 1}}`, `{"options": null}`, `{"inputs": null}`,
		`{"propertyDependencies": {"a": null, "a": null}}`, `{"propertyDependencies": {"a": [], "a": ["u"]}}`,
	} {
		if _, ok := fastResource(bad, nil); ok {
			t.Errorf("the fast decoder accepted %s", bad)
		}
		if _, ok := fastResource(bad, newTextCache()); ok {
			t.Errorf("the fast decoder with a cache accepted %s", bad)
		}
		d := &jsonReader{dec: jsontext.NewDecoder(strings.NewReader(bad)), src: bad}
		if _, err := d.resource(); err == nil && !strings.HasSuffix(bad, "junk") {
			t.Errorf("the token decoder accepts %s, so the fast one should too", bad)
		}
	}
}

// TestPlainText: a control character or invalid UTF-8 anywhere in a string, in the words read eight
// bytes at a time or in the rest, makes it need escaping.
func TestPlainText(t *testing.T) {
	t.Parallel()
	base := strings.Repeat("abcdefgh", 3) + "xyz"
	if !plainText(base) || !plainText("") || !plainText("héllo wörld, ünïcode ok") {
		t.Fatal("plain text refused")
	}
	for i := range len(base) {
		for _, c := range []byte{0x00, 0x1f, '\n', 0xff} {
			s := base[:i] + string([]byte{c}) + base[i+1:]
			if plainText(s) {
				t.Errorf("byte %#x at %d accepted", c, i)
			}
		}
	}
}

// TestInputsOfOneTextAreDecodedOnce: the second resource with the same inputs gets the first one's
// decoding, escapes and all.
func TestInputsOfOneTextAreDecodedOnce(t *testing.T) {
	t.Parallel()
	c := newTextCache()
	text := `{"policy": "` + strings.Repeat(`\"x\\`, 100) + `", "n": [1, {"a": null}]}`
	var got []property.Map
	for range 2 {
		m, ok := c.readInputs(&fast{src: text})
		if !ok {
			t.Fatalf("%s not read", text)
		}
		got = append(got, m)
	}
	if c.inputs.Len() != 1 || !got[0].Equals(got[1]) || got[0].Get("policy").AsString() != strings.Repeat(`"x\`, 100) {
		t.Errorf("%d cached, %v", c.inputs.Len(), got)
	}
}

// TestOptionsOfOneTextAreReadOnce: resources with the same options text share one reading, and a
// different text is read for itself; options that are not an object are not read.
func TestOptionsOfOneTextAreReadOnce(t *testing.T) {
	t.Parallel()
	c := newTextCache()
	plain := `{"protect": false, "ignoreChanges": [], "dependsOn": []}`
	other := `{"protect": true, "ignoreChanges": ["tags"], "dependsOn": ["urn:pulumi:dev::hipaa::aws:s3/bucket:Bucket::logs"]}`
	for i, text := range []string{plain, plain, other, plain} {
		o, ok := c.readOptions(&fast{src: text})
		want := engine.Options{}
		if text == other {
			want = engine.Options{Protect: true, IgnoreChanges: []string{"tags"}, DependsOn: []string{"urn:pulumi:dev::hipaa::aws:s3/bucket:Bucket::logs"}}
		}
		if !ok || !reflect.DeepEqual(o, want) {
			t.Errorf("options %d (%s): got %+v %v, want %+v", i, text, o, ok, want)
		}
	}
	if c.options.Len() != 2 {
		t.Errorf("%d texts cached, want 2", c.options.Len())
	}
	if _, ok := c.readOptions(&fast{src: `null`}); ok {
		t.Error("options of null read")
	}
}

// TestNothingDecodedRefersToARunsBuffer: every buffer a decoded run gives back is overwritten at once,
// and what was read is still the sequential decoder's reading, so no string of a resource is part of a
// run's buffer: not its URN and dependencies (own), nor its inputs, whether the cache served them or,
// with the cache turned off by inputs that do not recur, they were decoded there. Not parallel: it
// replaces the hook every run calls.
func TestNothingDecodedRefersToARunsBuffer(t *testing.T) {
	released = func(b []byte) {
		for i := range b {
			b[i] = 'x'
		}
	}
	defer func() { released = func([]byte) {} }()
	var distinct strings.Builder
	distinct.WriteString("[")
	for i := range 3000 { // 3 MB of inputs that do not recur: past a fill of the cache, which turns it off
		if i > 0 {
			distinct.WriteString(",\n")
		}
		fmt.Fprintf(&distinct, `{"urn": "urn:pulumi:s::p::t::r%d", "type": "t", "inputs": {"n": %d, "pad": "%s%d"}, "dependencies": ["urn:pulumi:s::p::t::r%d"], "propertyDependencies": {"n": ["urn:pulumi:s::p::t::r%d"], "pad": []}, "options": {"dependsOn": ["urn:pulumi:s::p::t::r%d"]}}`,
			i, i, strings.Repeat("p", 1000), i, i+1, i+2, i+3)
	}
	distinct.WriteString("]")
	for name, doc := range map[string]string{"awkward": awkward(400), "distinct": distinct.String()} {
		want, err := sequentialRead(doc)
		if err != nil {
			t.Fatal(err)
		}
		var got []*engine.Resource
		if err := StreamPreviewJSON(strings.NewReader(doc), 3, func(rs []*engine.Resource) error {
			got = append(got, rs...)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { sameResources(t, got, want) })
	}
}
