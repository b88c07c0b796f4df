package hipaa_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/hipaatest"
)

// stackResources previews a stack of the repository under mocks, as the analyzer would see it.
func stackResources(t testing.TB, stack string) []*hipaa.Resource {
	t.Helper()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := preview.Stack(p, stack, "")
	if err != nil {
		t.Fatal(err)
	}
	return hipaa.FromOffline(rs)
}

func TestEveryStackPassesEveryMandatoryRule(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := p.Stacks()
	for _, stack := range names {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rep := hipaa.Evaluate(stackResources(t, stack), hipaa.Config{})
			for _, f := range rep.Findings {
				t.Errorf("%s %s %s: %s", f.RuleID, f.URN, f.Property, f.Message)
			}
		})
	}
}

func TestANonCompliantProgramFailsExactlyTheExpectedRules(t *testing.T) {
	t.Parallel()
	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	rep := hipaa.Evaluate(hipaa.FromOffline(rs), hipaa.Config{})
	failed := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Blocking() {
			failed[f.RuleID] = true
		}
	}
	want := hipaatest.NonCompliantFails
	if got := slices.Sorted(maps.Keys(failed)); !slices.Equal(got, want) {
		t.Errorf("failed rules:\n got %v\nwant %v", got, want)
	}
}
