package hipaa

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/conformance"
)

// Every result of AWS's conformance pack that the design makes names a rule of AWS's pack and the pack rule
// of the same control, which says so among its scanners, and the README lists it.
func TestEveryConformanceExceptionIsTheSameControlAsAPackRule(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range conformance.Exceptions {
		if !conformance.Known(e.Rule) {
			t.Errorf("exception %s is not a rule of AWS's HIPAA pack", e.Rule)
		}
		r := Pack().Rule(e.PackRule)
		if r == nil {
			t.Errorf("exception %s names %s, which is not a rule of the pack", e.Rule, e.PackRule)
			continue
		}
		if !slices.Contains(r.Scanners.ConfigRules, e.Rule) {
			t.Errorf("%s, which stands for exception %s, does not name it among its AWS Config rules %v", r.ID, e.Rule, r.Scanners.ConfigRules)
		}
		if e.Resources == "" || e.Reason == "" || e.Control == "" {
			t.Errorf("exception %s lacks its resources, reason or control", e.Rule)
		}
		if !strings.Contains(string(readme), "| `"+e.Rule+"` |") {
			t.Errorf("the README's table of exceptions lacks %s", e.Rule)
		}
	}
}
