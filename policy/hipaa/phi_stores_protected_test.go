package hipaa

import (
	"slices"
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

func TestPhiStoresProtected(t *testing.T) {
	t.Parallel()
	protect := engine.Options{Protect: true}
	stack := func(mutate func(stackFixture) stackFixture) *engine.Stack {
		s := stackFixture{
			{typ: tKmsKey, name: "key", opts: protect},
			{typ: tBucket, name: "data", props: map[string]any{"tags": map[string]any{"DataClass": "phi"}}, opts: protect},
			{typ: tVolume, name: "db-0-data", opts: protect},
			{typ: tInstance, name: "db-0", props: map[string]any{"tags": map[string]any{"Role": "database"}}, opts: protect},
			{typ: tInstance, name: "monitoring", props: map[string]any{"tags": map[string]any{"Role": "monitoring"}}},
			{typ: tSecret, name: "db/app", opts: protect},
		}
		if mutate != nil {
			s = mutate(s)
		}
		return s.stack()
	}
	unprotect := func(name string) func(stackFixture) stackFixture {
		return func(s stackFixture) stackFixture {
			for i := range s {
				if s[i].name == name {
					s[i].opts = engine.Options{}
				}
			}
			return s
		}
	}
	for _, tc := range []struct {
		name   string
		mutate func(stackFixture) stackFixture
		want   []string
	}{
		{"all protected", nil, nil},
		{"a bucket left out", unprotect("data"), []string{": data holds or guards PHI in a stack that protects its keys, but is not protected; an update that replaces it, or a destroy, would lose it"}},
		{"a database host left out", unprotect("db-0"), []string{": db-0 holds or guards PHI in a stack that protects its keys, but is not protected; an update that replaces it, or a destroy, would lose it"}},
		{"a secret left out", unprotect("db/app"), []string{": db/app holds or guards PHI in a stack that protects its keys, but is not protected; an update that replaces it, or a destroy, would lose it"}},
		{"a stack that protects nothing", func(s stackFixture) stackFixture {
			for i := range s {
				s[i].opts = engine.Options{}
			}
			return s
		}, nil},
		{"synthetic data", func(s stackFixture) stackFixture {
			s = unprotect("data")(s)
			s[1].props = map[string]any{"tags": map[string]any{"DataClass": "synthetic"}}
			return s
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := render(engine.CheckStack(&phiStoresProtected, stack(tc.mutate), engine.Config{}))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
