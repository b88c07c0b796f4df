package hipaa_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/hipaatest"
)

// stackResources previews a stack of the repository under mocks, as the analyzer would see it.
func stackResources(t testing.TB, stack string) []*engine.Resource {
	t.Helper()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := preview.Stack(p, stack, "")
	if err != nil {
		t.Fatal(err)
	}
	return audit.FromOffline(rs)
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
			rep := hipaa.Pack().Evaluate(stackResources(t, stack), engine.Config{})
			for _, f := range rep.Findings {
				t.Errorf("%s %s %s: %s", f.RuleID, f.URN, f.Property, f.Message)
			}
		})
	}
}

// TestTheDemoProfilePassesEveryRule runs the real program with a demo stack's whole configuration: the
// demo profile with the name, tags, expiry and release that platformctl demo create adds, through the
// project's own config checks. The profile keeps every safeguard.
func TestTheDemoProfilePassesEveryRule(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := preview.Stack(p, "demo-acme", "v1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	rep := hipaa.Pack().Evaluate(audit.FromOffline(rs), engine.Config{})
	for _, f := range rep.Findings {
		t.Errorf("%s %s %s: %s", f.RuleID, f.URN, f.Property, f.Message)
	}
	var demoTagged bool
	for _, r := range rs {
		if r.Type == "aws:s3/bucketV2:BucketV2" {
			demoTagged = true
			if r.String("tags.DataClass") != "synthetic" || r.Value("forceDestroy") != true {
				t.Errorf("%s: DataClass %q, forceDestroy %v", r.Name, r.String("tags.DataClass"), r.Value("forceDestroy"))
			}
		}
	}
	if !demoTagged {
		t.Error("the demo has no buckets")
	}
}

func TestANonCompliantProgramFailsExactlyTheExpectedRules(t *testing.T) {
	t.Parallel()
	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	rep := hipaa.Pack().Evaluate(audit.FromOffline(rs), engine.Config{})
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

// TestTheDatabasePasswordsAreTheOnesThatRotate reads the dev stack's preview as secrets-passwords-rotated
// does: the clients' two credentials, and only they, are generated passwords, each rotated by the
// database's hosts every database.RotationEveryDays days; with a maximum below that, exactly those two fail.
func TestTheDatabasePasswordsAreTheOnesThatRotate(t *testing.T) {
	t.Parallel()
	rs := stackResources(t, "dev")
	cfg := engine.Config{Rules: map[string]engine.RuleConfig{"secrets-passwords-rotated": {Params: map[string]any{"maximumDays": database.RotationEveryDays - 1}}}}
	var failed []string
	for _, f := range hipaa.Pack().Evaluate(rs, cfg).Findings {
		if f.RuleID != "secrets-passwords-rotated" {
			t.Errorf("%s %s %s: %s", f.RuleID, f.URN, f.Property, f.Message)
			continue
		}
		failed = append(failed, f.URN[strings.LastIndex(f.URN, "::")+2:]+" "+f.Property+": "+f.Message)
	}
	slices.Sort(failed)
	want := fmt.Sprintf("tags.RotationDays: the password rotates every %d days; the most allowed is %d", database.RotationEveryDays, database.RotationEveryDays-1)
	if len(failed) != 2 || failed[0] != "hipaa-dev-db-app "+want || failed[1] != "hipaa-dev-db-monitoring "+want {
		t.Errorf("with a maximum of %d days: %q; want the application's and the monitoring host's credentials", database.RotationEveryDays-1, failed)
	}
}
