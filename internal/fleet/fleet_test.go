package fleet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/hipaa-platform/platform/internal/audit"
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
	refused(t, h.Promote(ctx, "v1.0.0", "test", Force{}), "v1.0.0 has not run on dev (running there: nothing yet)")
	refused(t, h.Promote(ctx, "hipaa-app@sha256:beef", "dev", Force{}), `digest "sha256:beef" is not sha256:`)
	refused(t, h.Promote(ctx, "v1.0.0", "staging", Force{}), `unknown stack "staging": the stages are dev, test, qa, prod`)
	if names := h.stackNames(t); len(names) != 0 {
		t.Fatalf("stacks %v exist after refused requests", names)
	}

	committed, err := os.ReadFile(filepath.Join(h.Work, "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1.0.0", "v1.1.0", "v1.2.0"} {
		if err := h.Promote(ctx, v, "dev", Force{}); err != nil {
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
		if err := do(ctx, "dev", Force{}); err != nil {
			t.Fatalf("step to %s: %v", step.want, err)
		}
		if got := h.running(t, "dev").Release; got != step.want {
			t.Fatalf("dev runs %s, want %s", got, step.want)
		}
	}
	refused(t, h.RollForward(ctx, "dev", Force{}), "dev runs v1.2.0, the latest release it ran; there is nothing to roll forward to")
	refused(t, h.Rollback(ctx, "qa", Force{}), "qa has not been created")
	refused(t, h.Rollback(ctx, "staging", Force{}), `unknown stack "staging"`)

	// Every release dev ever ran is still in its history, once each, in order.
	if got := h.running(t, "dev").Releases; !slices.Equal(got, []string{"v1.0.0", "v1.1.0", "v1.2.0"}) {
		t.Errorf("dev's releases = %v", got)
	}

	// A release moves on only after the stages in front of it ran it; the same image by another
	// reference counts.
	if err := h.Promote(ctx, "hipaa-app:v1.1.0", "test", Force{}); err != nil {
		t.Fatalf("promote v1.1.0 to test: %v", err)
	}
	refused(t, h.Promote(ctx, "v1.1.0", "prod", Force{}), "v1.1.0 has not run on qa (running there: nothing yet)")
	if err := h.Promote(ctx, "v1.2.0", "qa", Force{Reason: "qa needs it before test"}); err != nil {
		t.Fatalf("forced promotion: %v", err)
	}
	if !strings.Contains(h.progress.String(), "v1.2.0 has not run on test; promoting anyway (--force: qa needs it before test)") {
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
	err := h.PromoteAll(ctx, "release-7f3a", Force{})
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
	refused(t, h.PromoteAll(ctx, "other:v2", Force{}), `names repository "other"`)
	if got := h.running(t, "dev").Release; got != "release-7f3a" {
		t.Errorf("dev runs %q after a refused promotion, want release-7f3a", got)
	}

	h.Fail("qa", false)
	if err := h.PromoteAll(ctx, "release-7f3a", Force{}); err != nil {
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

// twoAccounts is the harness with prod and account-prod in a backend of their own, as the production
// account's, a registry stand-in, and the real gate: the program previewed offline for the stage with the
// release and the HIPAA pack evaluated over it, with the pack configuration in *config.
type twoAccounts struct {
	*harness
	prod   auto.Workspace
	config string
	audits map[string]int
	// digests are what the registry stand-in holds, by stack and release; a release absent for prod
	// arrives there after arriving polls.
	arriving int
	digests  map[string]string
}

func newTwoAccounts(t *testing.T) *twoAccounts {
	h := newHarness(t)
	a := &twoAccounts{harness: h, prod: h.Env.Backend(t), audits: map[string]int{}, digests: map[string]string{}}
	h.Workspaces = map[string]auto.Workspace{"prod": a.prod, "account-prod": a.prod}
	h.User = "dana@example.com"
	h.PollEvery, h.ReplicationWait = 10*time.Millisecond, 5*time.Second
	configDir := t.TempDir()
	h.Gate = func(stack, release string) (Evidence, error) {
		a.audits[stack]++
		o := audit.Options{Project: h.Env.Project, Stack: stack, Release: release, Format: "markdown", Now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		if a.config != "" {
			o.ConfigFile = filepath.Join(configDir, "policy.json")
			if err := os.WriteFile(o.ConfigFile, []byte(a.config), 0o644); err != nil {
				return Evidence{}, err
			}
		}
		rendered, failed, blocking, err := audit.Gate(o)
		sum := sha256.Sum256(rendered)
		return Evidence{Failed: failed, Findings: blocking, Report: rendered, Digest: "sha256:" + hex.EncodeToString(sum[:])}, err
	}
	// The registries: every release is in the non-production one at once, by the digest the stand-in
	// program pins it to; in prod's, after a few polls (replication), unless digests says otherwise.
	h.Registry = func(_ context.Context, stack, release string) (string, bool, error) {
		if d, ok := a.digests[stack+" "+release]; ok {
			return d, true, nil
		}
		if stack == "prod" && a.arriving > 0 {
			a.arriving--
			return "", false, nil
		}
		return "sha256:" + fmt.Sprintf("%x", sha256.Sum256([]byte(release))), true, nil
	}
	return a
}

// TestAReleaseReachesProdInItsOwnAccountThroughTheGate: promote --all takes a release through the four
// stages, prod in a backend of its own, waiting for the image to replicate to prod's registry, each
// stage audited first; prod's history records who promoted what by which digest and which report.
func TestAReleaseReachesProdInItsOwnAccountThroughTheGate(t *testing.T) {
	t.Parallel()
	a := newTwoAccounts(t)
	ctx := ctxFor(t)
	a.arriving = 3
	if err := a.PromoteAll(ctx, "v3.0.0", Force{}); err != nil {
		t.Fatalf("promote --all: %v\n%s", err, a.progress)
	}
	for _, s := range stages {
		if a.audits[s] != 1 {
			t.Errorf("%s was audited %d times, want once before its update", s, a.audits[s])
		}
		if got := a.running(t, s).Release; got != "v3.0.0" {
			t.Errorf("%s runs %q, want v3.0.0", s, got)
		}
	}
	if names := a.stackNames(t); slices.Contains(names, "prod") {
		t.Errorf("prod is in the non-production backend: %v", names)
	}
	if list, err := a.prod.ListStacks(ctx); err != nil || len(list) != 1 || list[0].Name != "prod" {
		t.Errorf("the production backend holds %v (%v), want prod alone", list, err)
	}
	if !strings.Contains(a.progress.String(), "prod: waiting for v3.0.0 to reach its registry") {
		t.Errorf("no progress while waiting for replication:\n%s", a.progress)
	}
	history, err := a.StackHistory(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	want := "sha256:" + fmt.Sprintf("%x", sha256.Sum256([]byte("v3.0.0")))
	last := history[len(history)-1].Promotion
	if last == nil || last.By != "dana@example.com" || last.Digest != want || last.Action != "promote" || !strings.HasPrefix(last.Audit, "sha256:") || last.Release != "v3.0.0" {
		t.Fatalf("prod's record: %+v, want dana's promotion of v3.0.0 by %s with the report's digest", last, want)
	}
	if st := a.running(t, "prod"); st.LastPromotion == nil || *st.LastPromotion != *last {
		t.Errorf("status shows %+v, want the last record", st.LastPromotion)
	}

	// A release whose image in prod's registry is not the one qa ran is refused there; prod keeps its
	// release.
	a.digests["prod v3.1.0"] = "sha256:" + strings.Repeat("e", 64)
	err = a.PromoteAll(ctx, "v3.1.0", Force{})
	if err == nil || !strings.Contains(err.Error(), "but the stage in front ran") || !strings.Contains(err.Error(), "stopped at prod") {
		t.Fatalf("a mismatched digest: %v", err)
	}
	if got := a.running(t, "prod").Release; got != "v3.0.0" {
		t.Errorf("prod runs %s after a refused promotion", got)
	}
}

// TestAFailedAuditStopsAPromotionUnlessForcedWithAReason: an expired waiver fails the audit, so the
// stage is not updated; forced with a reason, it is, and the reason is recorded. A rollback in prod
// passes the same gate.
func TestAFailedAuditStopsAPromotionUnlessForcedWithAReason(t *testing.T) {
	t.Parallel()
	a := newTwoAccounts(t)
	ctx := ctxFor(t)
	for _, r := range []string{"v1.0.0", "v1.1.0"} {
		if err := a.PromoteAll(ctx, r, Force{}); err != nil {
			t.Fatalf("promote %s: %v\n%s", r, err, a.progress)
		}
	}
	a.config = `{"log-retention": {"waivers": [{"resource": "hipaa-*", "reason": "migrating the trail", "expires": "2026-11-01"}]}}`
	err := a.Promote(ctx, "v1.2.0", "dev", Force{})
	if !errors.Is(err, ErrAuditFailed) || refusal.Is(err) {
		t.Fatalf("an expired waiver: %v, want the audit's failure", err)
	}
	if !strings.Contains(a.progress.String(), "policy-waivers-valid") || !strings.Contains(a.progress.String(), "expired on 2026-11-01") {
		t.Errorf("the finding is not shown:\n%s", a.progress)
	}
	if got := a.running(t, "dev").Release; got != "v1.1.0" {
		t.Errorf("dev runs %s after a failed audit, want v1.1.0 still", got)
	}
	if err := a.Promote(ctx, "v1.2.0", "dev", Force{Reason: "incident 4411: the trail migration is signed off"}); err != nil {
		t.Fatalf("forced: %v", err)
	}
	history, err := a.StackHistory(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if p := history[len(history)-1].Promotion; p == nil || p.Forced != "incident 4411: the trail migration is signed off" {
		t.Errorf("the forced promotion's record: %+v", p)
	}

	a.config = ""
	before := a.audits["prod"]
	if err := a.Rollback(ctx, "prod", Force{}); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if a.audits["prod"] != before+1 || a.running(t, "prod").Release != "v1.0.0" {
		t.Errorf("prod's rollback: audited %d times more, runs %s", a.audits["prod"]-before, a.running(t, "prod").Release)
	}
	if err := a.RollForward(ctx, "prod", Force{}); err != nil {
		t.Fatalf("roll forward: %v", err)
	}
	history, err = a.StackHistory(ctx, "prod")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, d := range history {
		if d.Promotion != nil {
			actions = append(actions, d.Promotion.Action+" "+d.Promotion.Release)
		}
	}
	if got := strings.Join(actions, ", "); got != "promote v1.0.0, promote v1.1.0, rollback v1.0.0, roll-forward v1.1.0" {
		t.Errorf("prod's records: %s", got)
	}
}
