package fleet

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/internal/fleet/fleettest"
	"github.com/hipaa-platform/platform/internal/refusal"
)

var (
	stages   = []string{"dev", "test", "qa", "prod"}
	accounts = []string{"account-nonprod", "account-prod"}
)

// harness is a fleet over the stand-in workspace.
type harness struct {
	*Fleet
	*fleettest.Env
	progress *bytes.Buffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := fleettest.New(t, filepath.Join("..", ".."))
	progress := &bytes.Buffer{}
	return &harness{
		Fleet:    &Fleet{Workspace: env.Workspace, Project: env.Project, Stages: stages, Accounts: accounts, Progress: progress, Check: env.Check},
		Env:      env,
		progress: progress,
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// stackNames lists the stacks in the backend.
func (h *harness) stackNames(t *testing.T) []string {
	t.Helper()
	summaries, err := h.Fleet.Workspace.ListStacks(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range summaries {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}

// running is what a stack's outputs say it runs.
func (h *harness) running(t *testing.T, stack string) Status {
	t.Helper()
	all, err := h.Status(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Stack == stack {
			return s
		}
	}
	t.Fatalf("no status for %s", stack)
	return Status{}
}

func refused(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || !refusal.Is(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want a refusal containing %q", err, want)
	}
}

func TestPromotionOrderRollbackAndRollForward(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := ctxFor(t)

	// Bad requests are refused before anything exists.
	refused(t, h.Promote(ctx, "v1.0.0", "test", false), "v1.0.0 has not run on dev (running there: nothing yet)")
	refused(t, h.Promote(ctx, "hipaa-app@sha256:beef", "dev", false), `digest "sha256:beef" is not sha256:`)
	refused(t, h.Promote(ctx, "v1.0.0", "staging", false), `unknown stack "staging": the stages are dev, test, qa, prod`)
	if names := h.stackNames(t); len(names) != 0 {
		t.Fatalf("stacks %v exist after refused requests", names)
	}

	committed, err := os.ReadFile(filepath.Join(h.Work, "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1.0.0", "v1.1.0", "v1.2.0"} {
		if err := h.Promote(ctx, v, "dev", false); err != nil {
			t.Fatalf("promote %s to dev: %v\n%s", v, err, h.progress)
		}
	}
	if got := h.running(t, "dev"); got.Release != "v1.2.0" || !strings.Contains(got.Image, "/hipaa-app@sha256:") {
		t.Errorf("dev runs %+v, want v1.2.0 by digest", got)
	}
	if after, _ := os.ReadFile(filepath.Join(h.Work, "Pulumi.dev.yaml")); !bytes.Equal(after, committed) {
		t.Errorf("the committed stack file changed:\n%s", after)
	}

	// Rollback and roll-forward walk the releases dev has run, in the order it first ran them.
	for _, step := range []struct {
		forward bool
		want    string
	}{{false, "v1.1.0"}, {false, "v1.0.0"}, {true, "v1.1.0"}, {true, "v1.2.0"}} {
		do := h.Rollback
		if step.forward {
			do = h.RollForward
		}
		if err := do(ctx, "dev"); err != nil {
			t.Fatalf("step to %s: %v", step.want, err)
		}
		if got := h.running(t, "dev").Release; got != step.want {
			t.Fatalf("dev runs %s, want %s", got, step.want)
		}
	}
	refused(t, h.RollForward(ctx, "dev"), "dev runs v1.2.0, the latest release it ran; there is nothing to roll forward to")
	refused(t, h.Rollback(ctx, "qa"), "qa has not been created")
	refused(t, h.Rollback(ctx, "staging"), `unknown stack "staging"`)

	// Every release dev ever ran is still in its history, once each, in order.
	if got := h.running(t, "dev").Releases; !slices.Equal(got, []string{"v1.0.0", "v1.1.0", "v1.2.0"}) {
		t.Errorf("dev's releases = %v", got)
	}

	// A release moves on only after the stages in front of it ran it; the same image by another
	// reference counts.
	if err := h.Promote(ctx, "hipaa-app:v1.1.0", "test", false); err != nil {
		t.Fatalf("promote v1.1.0 to test: %v", err)
	}
	refused(t, h.Promote(ctx, "v1.1.0", "prod", false), "v1.1.0 has not run on qa (running there: nothing yet)")
	if err := h.Promote(ctx, "v1.2.0", "qa", true); err != nil {
		t.Fatalf("forced promotion: %v", err)
	}
	if !strings.Contains(h.progress.String(), "v1.2.0 has not run on test; promoting anyway (--force)") {
		t.Error("a forced promotion is not reported")
	}
	if got := h.stackNames(t); !slices.Equal(got, []string{"dev", "qa", "test"}) {
		t.Errorf("stacks = %v", got)
	}
}

func TestPromoteAllStopsAtTheFirstFailingStage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := ctxFor(t)
	refused(t, h.Up(ctx, "dev", ""), "dev runs no release yet; pass --release IMAGE")

	h.Fail("qa", true)
	err := h.PromoteAll(ctx, "release-7f3a", false)
	if err == nil || !strings.Contains(err.Error(), "stopped at qa; prod not updated") || !strings.Contains(err.Error(), "did not become healthy on qa") {
		t.Fatalf("error = %v, want it to stop at qa", err)
	}
	for stack, want := range map[string]string{"dev": "release-7f3a", "test": "release-7f3a", "qa": ""} {
		if got := h.running(t, stack).Release; got != want {
			t.Errorf("%s runs %q, want %q", stack, got, want)
		}
	}
	if h.running(t, "prod").Created {
		t.Error("prod was created although qa failed")
	}
	// qa was created by the failed update, and says so.
	if qa := h.running(t, "qa"); qa.LastResult != "failed" {
		t.Errorf("qa's last update: %q, want failed", qa.LastResult)
	}
	if dev := h.running(t, "dev"); dev.LastResult != "succeeded" {
		t.Errorf("dev's last update: %q, want succeeded", dev.LastResult)
	}
	// A release one stage would refuse is refused for all of them, before any is updated.
	refused(t, h.PromoteAll(ctx, "other:v2", false), `names repository "other"`)
	if got := h.running(t, "dev").Release; got != "release-7f3a" {
		t.Errorf("dev runs %q after a refused promotion, want release-7f3a", got)
	}

	h.Fail("qa", false)
	if err := h.PromoteAll(ctx, "release-7f3a", false); err != nil {
		t.Fatalf("second run: %v", err)
	}
	// Standing every stack up again creates the account stacks first, and keeps what each stage runs.
	refused(t, h.Up(ctx, "account-nonprod", "release-7f3a"), "account-nonprod is an account stack, which runs no release")
	if err := h.UpAll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, stack := range stages {
		if got := h.running(t, stack); got.Release != "release-7f3a" || !slices.Equal(got.Releases, []string{"release-7f3a"}) {
			t.Errorf("%s: %+v", stack, got)
		}
	}
	for _, stack := range accounts {
		if got := h.running(t, stack); !got.Created || got.Release != "" || got.LastResult != "succeeded" {
			t.Errorf("%s: %+v, want created, running no release", stack, got)
		}
	}
	progress := h.progress.String()
	if a, d := strings.Index(progress, "[1/6] account-nonprod"), strings.Index(progress, "[3/6] dev"); a < 0 || d < a || !strings.Contains(progress, "[6/6] prod") {
		t.Errorf("the account stacks did not come first:\n%s", progress)
	}
}

func TestDemoLifecycle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := ctxFor(t)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	opts := DemoOptions{Owner: "dana@example.com", TTL: 72 * time.Hour, Release: "v1.2.0", Now: now}

	for name, tc := range map[string]struct {
		name string
		o    DemoOptions
		want string
	}{
		"name":    {"Acme_Corp", opts, `demo name "Acme_Corp": want 2 to 20 lower-case letters`},
		"ttl":     {"acme", DemoOptions{Owner: opts.Owner, TTL: -time.Hour, Release: "v1", Now: now}, "ttl -1h0m0s: want 1h0m0s to 336h0m0s"},
		"owner":   {"acme", DemoOptions{Owner: "", TTL: time.Hour, Release: "v1", Now: now}, `owner ""`},
		"release": {"acme", DemoOptions{Owner: opts.Owner, TTL: time.Hour, Release: "v1 ", Now: now}, "surrounding spaces"},
	} {
		t.Run(name, func(t *testing.T) { refused(t, h.CreateDemo(ctx, tc.name, tc.o), tc.want) })
	}
	if names := h.stackNames(t); len(names) != 0 {
		t.Fatalf("stacks %v exist after refused requests", names)
	}

	if err := h.CreateDemo(ctx, "acme", opts); err != nil {
		t.Fatalf("create: %v\n%s", err, h.progress)
	}
	refused(t, h.CreateDemo(ctx, "acme", opts), "demo acme exists already")
	old := opts
	old.Now = now.Add(-100 * time.Hour)
	old.TTL = time.Hour
	if err := h.CreateDemo(ctx, "old", old); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.Work, "Pulumi.demo-acme.yaml")); !os.IsNotExist(err) {
		t.Errorf("the demo's stack file was left in the working directory (%v)", err)
	}

	// A demo whose deployment fails is taken down again.
	h.Fail("demo-broken", true)
	if err := h.CreateDemo(ctx, "broken", opts); err == nil || !strings.Contains(err.Error(), "did not become healthy") {
		t.Fatalf("error = %v", err)
	}

	demos, err := h.Demos(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(demos) != 2 || demos[0].Name != "old" || !demos[0].Expired || demos[1].Name != "acme" || demos[1].Expired {
		t.Fatalf("demos = %+v", demos)
	}
	if d := demos[1]; d.Owner != "dana@example.com" || d.Release != "v1.2.0" || !d.ExpiresAt.Equal(now.Add(72*time.Hour)) {
		t.Errorf("acme = %+v", d)
	}

	reaped, err := h.Reap(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(reaped.Destroyed) != 1 || reaped.Destroyed[0].Name != "old" || len(reaped.Kept) != 1 {
		t.Errorf("reaped = %+v", reaped)
	}
	if !strings.Contains(h.progress.String(), "demo-old: expired 99h0m0s ago") {
		t.Errorf("the reap does not say why:\n%s", h.progress)
	}
	if got := h.stackNames(t); !slices.Equal(got, []string{"demo-acme"}) {
		t.Errorf("stacks after the reap = %v", got)
	}
	// Reaping again changes nothing.
	if reaped, err := h.Reap(ctx, now); err != nil || len(reaped.Destroyed) != 0 {
		t.Errorf("second reap: %+v, %v", reaped, err)
	}

	refused(t, h.DestroyDemo(ctx, "nosuch"), "no demo nosuch (stack demo-nosuch)")
	if err := h.DestroyDemo(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if got := h.stackNames(t); len(got) != 0 {
		t.Errorf("stacks after destroy = %v", got)
	}
}
