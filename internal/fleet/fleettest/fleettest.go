// Package fleettest gives tests a Pulumi workspace that stands in for the project's: the real Pulumi
// CLI (built by .ci/run and named by HIPAA_PULUMI_CLI) against a local file:// backend, in a directory
// holding the project's own Pulumi.yaml, stack files and demo profile, running an inline program that
// stands in for the platform program; and the configuration check platformctl gives its fleet.
package fleettest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/hipaatest"
	"github.com/hipaa-platform/platform/stacks"
)

// Env is a workspace over the stand-in program.
type Env struct {
	Workspace auto.Workspace
	// Work is the workspace directory, where the stack files and the demo profile are.
	Work string
	// Project is the project as read from Work.
	Project *project.Project

	mu     sync.Mutex
	failOn map[string]bool
	proj   workspace.Project
}

// Fail makes every update of stack fail (or succeed again), as a release that never becomes healthy
// does.
func (e *Env) Fail(stack string, fail bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failOn[stack] = fail
}

// standIn stands in for stacks.Run: the same configuration, read and validated by the program's own
// LoadConfig from the project's Pulumi.yaml and stack files, and the same exports, but one component in
// place of the AWS resources, for which no provider plugin can be had here.
func (e *Env) standIn(ctx *pulumi.Context) error {
	cfg, err := stacks.LoadConfig(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	fail := e.failOn[ctx.Stack()]
	e.mu.Unlock()
	if fail {
		return fmt.Errorf("the web tier did not become healthy on %s running %s", ctx.Stack(), cfg.Release.Image)
	}
	if cfg.AccountBaseline {
		// An account stack runs no release: it exports none.
		var baseline struct{ pulumi.ResourceState }
		return ctx.RegisterComponentResource("hipaa:baseline:Account", "hipaa-"+ctx.Stack()+"-baseline", &baseline)
	}
	var tier struct{ pulumi.ResourceState }
	if err := ctx.RegisterComponentResource("hipaa:app:Tier", "hipaa-"+ctx.Stack()+"-web", &tier); err != nil {
		return err
	}
	digest := strings.TrimPrefix(cfg.Release.Ref.Digest, "sha256:")
	if digest == "" {
		digest = fmt.Sprintf("%x", sha256.Sum256([]byte(cfg.Release.Ref.Tag)))
	}
	stacks.ExportRelease(ctx, cfg, pulumi.String("123456789012.dkr.ecr.us-east-1.amazonaws.com/hipaa-app@sha256:"+digest).ToStringOutput())
	// A secret, as the platform's generated passwords are, so that every update decrypts and encrypts
	// state with the stack's secrets manager.
	ctx.Export("probe", pulumi.ToSecret(pulumi.String("not-a-real-secret")))
	return nil
}

// New returns a fresh environment; root is the repository's root, relative to the test's package.
func New(t testing.TB, root string) *Env {
	t.Helper()
	dir := t.TempDir()
	cmd, env := hipaatest.LocalPulumi(t, dir)
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	stackFiles, err := filepath.Glob(filepath.Join(root, "Pulumi.*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(stackFiles, filepath.Join(root, "Pulumi.yaml"), filepath.Join(root, project.DemoProfileFile)) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	proj, err := workspace.LoadProject(filepath.Join(root, "Pulumi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Work: work, failOn: map[string]bool{}, proj: *proj}
	if e.Project, err = project.Load(work); err != nil {
		t.Fatal(err)
	}
	e.Workspace, err = auto.NewLocalWorkspace(context.Background(),
		auto.WorkDir(work), auto.Program(e.standIn), auto.Project(*proj), auto.Pulumi(cmd), auto.EnvVars(env))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Backend is a second workspace over the same directory and stand-in program, with a local backend of
// its own: another account's, as the production account's state is apart from the non-production one's.
func (e *Env) Backend(t testing.TB) auto.Workspace {
	t.Helper()
	cmd, env := hipaatest.LocalPulumi(t, t.TempDir())
	ws, err := auto.NewLocalWorkspace(context.Background(),
		auto.WorkDir(e.Work), auto.Program(e.standIn), auto.Project(e.proj), auto.Pulumi(cmd), auto.EnvVars(env))
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// Check is the configuration check platformctl gives its fleet: the program's own LoadConfig, run
// offline for the stack with the release.
func (e *Env) Check(stack, release string) error { return preview.Check(e.Project, stack, release) }
