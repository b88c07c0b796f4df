package enginetest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/hipaatest"
	"github.com/hipaa-platform/platform/stacks"
)

// plugins are the provider plugins the program uses, at the versions its SDKs ask for.
var plugins = map[string]string{"aws": "6.83.4", "random": "4.18.3", "tls": "5.2.0"}

type harness struct {
	env  map[string]string
	cmd  auto.PulumiCommand
	pack string
}

func setup(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	cmd, env := hipaatest.LocalPulumi(t, dir)
	home := env["PULUMI_HOME"]
	build := func(out, pkg string) {
		t.Helper()
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, b)
		}
	}
	standin := filepath.Join(dir, "standin")
	build(standin, "github.com/hipaa-platform/platform/policy/enginetest/standin")
	for name, version := range plugins {
		pdir := filepath.Join(home, "plugins", "resource-"+name+"-v"+version)
		if err := os.MkdirAll(pdir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(standin, filepath.Join(pdir, "pulumi-resource-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	packDir := filepath.Join(dir, "pack")
	build(filepath.Join(packDir, "hipaa-policy"), "github.com/hipaa-platform/platform/policy")
	yaml, err := os.ReadFile("../PulumiPolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(packDir, "PulumiPolicy.yaml"), yaml, 0o600); err != nil {
		t.Fatal(err)
	}
	env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
	return &harness{
		env:  env,
		cmd:  cmd,
		pack: filepath.Join(packDir, "hipaa-policy"),
	}
}

type policyEvent struct{ rule, urn, level, message string }

// preview runs `pulumi preview --policy-pack` of program as stack, with config, and returns the policy
// events and the preview's error.
func (h *harness) preview(t *testing.T, stack string, config map[string]string, program pulumi.RunFunc) ([]policyEvent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	proj := workspace.Project{Name: "hipaa", Runtime: workspace.NewProjectRuntimeInfo("go", nil)}
	s, err := auto.UpsertStackInlineSource(ctx, stack, "hipaa", program,
		auto.Project(proj), auto.EnvVars(h.env), auto.Pulumi(h.cmd))
	if err != nil {
		t.Fatal(err)
	}
	all := auto.ConfigMap{}
	for k, v := range config {
		all[k] = auto.ConfigValue{Value: v}
	}
	if err := s.SetAllConfig(ctx, all); err != nil {
		t.Fatal(err)
	}
	ch := make(chan events.EngineEvent)
	var got []policyEvent
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			if p := e.PolicyEvent; p != nil {
				first, _, _ := strings.Cut(p.Message, "\n")
				got = append(got, policyEvent{p.PolicyName, p.ResourceURN, p.EnforcementLevel, first})
			}
		}
	}()
	_, err = s.Preview(ctx, optpreview.PolicyPacks(h.pack), optpreview.EventStreams(ch))
	<-done
	return got, err
}

// TestPulumiPreviewOfTheDevStackPassesThePack previews the real program for dev through the real
// engine: the pack sees the engine's inputs after Check, with the values a first preview cannot know.
func TestPulumiPreviewOfTheDevStackPassesThePack(t *testing.T) {
	t.Parallel()
	h := setup(t)
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := p.StackConfig("dev")
	if err != nil {
		t.Fatal(err)
	}
	cfg["hipaa:release"] = "v1.4.2" // platformctl sets it for each update; the stand-in answers its lookup
	got, err := h.preview(t, "dev", cfg, stacks.Run)
	if err != nil {
		t.Fatalf("pulumi preview --policy-pack of dev: %v\n%v", err, got)
	}
	for _, e := range got {
		if e.level == "mandatory" {
			t.Errorf("mandatory violation in dev: %+v", e)
		}
		if e.level == "advisory" && !strings.Contains(e.message, "cannot be known during preview") {
			t.Errorf("unexpected advisory: %+v", e)
		}
		// Bucket names, key aliases, log group names and host addresses are known before deployment, so
		// the TLS-only rules and the log-writing roles are decided in the preview itself.
		if e.rule == "s3-bucket-tls-only" || e.rule == "db-tls-only" || strings.HasSuffix(e.urn, "-flow-logs") || strings.HasSuffix(e.urn, "-trail") {
			t.Errorf("%s could not decide %s in the preview: %s", e.rule, e.urn, e.message)
		}
	}
	t.Logf("%d advisory findings about values not known during preview", len(got))
	for _, e := range got {
		t.Logf("  %s %s: %s", e.rule, e.urn[strings.LastIndex(e.urn, "::")+2:], e.message)
	}
}

// TestPulumiPreviewOfANonCompliantProgramFails previews a program that breaks the rules: the preview
// fails with the mandatory violations of exactly those rules.
func TestPulumiPreviewOfANonCompliantProgramFails(t *testing.T) {
	t.Parallel()
	h := setup(t)
	got, err := h.preview(t, "bad", map[string]string{"aws:region": "us-east-1"}, hipaatest.NonCompliant)
	if err == nil {
		t.Fatal("the preview of a non-compliant program passed")
	}
	failed := map[string]bool{}
	for _, e := range got {
		if e.level == "mandatory" {
			failed[e.rule] = true
		}
	}
	var rules []string
	for r := range failed {
		rules = append(rules, r)
	}
	slices.Sort(rules)
	if !slices.Equal(rules, hipaatest.NonCompliantFails) {
		t.Errorf("mandatory violations of %v, want %v", rules, hipaatest.NonCompliantFails)
	}
}
