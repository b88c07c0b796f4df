package imageref

import (
	"strings"
	"testing"
)

const sum = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseAcceptsEveryForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Ref
	}{
		{"v1.4.2", Ref{Tag: "v1.4.2"}},
		{"@" + sum, Ref{Digest: sum}},
		{"hipaa-app:v1.4.2", Ref{Repository: "hipaa-app", Tag: "v1.4.2"}},
		{"hipaa-app@" + sum, Ref{Repository: "hipaa-app", Digest: sum}},
		{"hipaa-app:v1@" + sum, Ref{Repository: "hipaa-app", Tag: "v1", Digest: sum}},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com/hipaa-app:release-42", Ref{Registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com", Repository: "hipaa-app", Tag: "release-42"}},
		{"localhost:5000/team/app:1", Ref{Registry: "localhost:5000", Repository: "team/app", Tag: "1"}},
	} {
		got, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if again, err := Parse(got.String()); err != nil || again != got {
			t.Errorf("Parse(%q).String() = %q does not parse back: %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

func TestParseRefusesMalformedReferences(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                "empty image reference",
		" v1":                             "surrounding spaces",
		"app@sha256:abc":                  "digest \"sha256:abc\"",
		"app@md5:" + sum[7:]:              "is not sha256:",
		"app:-bad":                        "tag \"-bad\"",
		"app:v1:v2/x":                     "names no tag or digest",
		"Upper/App:v1":                    "repository \"Upper/App\"",
		"registry.example.com/app/":       "names no tag or digest",
		".hidden":                         "names no tag or digest",
		"app:" + strings.Repeat("x", 129): "tag",
	} {
		if _, err := Parse(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want one containing %q", in, err, want)
		}
	}
}

func TestSame(t *testing.T) {
	t.Parallel()
	mustParse := func(s string) Ref {
		r, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"v1", "hipaa-app:v1", true},
		{"v1", "v2", false},
		{"hipaa-app:v1", "other:v1", false},
		{"@" + sum, "hipaa-app:v9@" + sum, true},
		{"hipaa-app:v1@" + sum, "hipaa-app:v1@sha256:" + strings.Repeat("f", 64), false},
		{"@" + sum, "v1", false},
	} {
		if got := Same(mustParse(tc.a), mustParse(tc.b)); got != tc.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestECRAccount(t *testing.T) {
	t.Parallel()
	r, _ := Parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com/hipaa-app:v1")
	if got := r.ECRAccount(); got != "123456789012" {
		t.Errorf("ECRAccount = %q", got)
	}
	r, _ = Parse("ghcr.io/x/app:v1")
	if got := r.ECRAccount(); got != "" {
		t.Errorf("ECRAccount of ghcr.io = %q, want empty", got)
	}
}
