// Package fleet runs the platform's stacks through the Pulumi Automation API: releases promoted through
// the stages, rolled back and forward, environments stood up, and demo stacks created and reaped. It
// works on any auto.Workspace, so the command line drives the project directory with the real program
// and the tests drive inline stand-ins through the very same calls.
//
// A stack's running release lives with the stack, in its backend: the program exports it, and every
// update's history records the configuration it ran with, so the release history is the stack's own and
// nothing is lost. Each operation puts the stack files back as it found them, so the committed
// Pulumi.<stack>.yaml files hold dials only and no operation depends on a file left by another.
package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Fleet is the platform's stacks, in the backends of their accounts.
type Fleet struct {
	// Workspace is the project's workspace: the project directory, or an inline program in tests. It
	// holds every stack that Workspaces does not name, the demos included.
	Workspace auto.Workspace
	// Workspaces are the workspaces of the stacks that live in another account's backend, with that
	// account's credentials (the production account's prod and account-prod), by stack. Optional. They
	// share Workspace's directory.
	Workspaces map[string]auto.Workspace
	// Project is the project: its name (the namespace of its configuration keys), its stack files and
	// its demo profile.
	Project *project.Project
	// Stages are the environments a release goes through, in order.
	Stages []string
	// Accounts are the account stacks, each its account's baseline: they run no release, and deploy
	// before the stages.
	Accounts []string
	// Progress receives what is happening: the steps and the engine's own progress. Optional.
	Progress io.Writer
	// PolicyPacks are the policy packs every update runs with (the HIPAA pack's built analyzer), so a
	// mandatory violation stops the update before anything changes. Optional.
	PolicyPacks []string
	// Check runs the program's own configuration checks for a stack with a release, offline, so that a
	// release the stack would refuse (another repository or registry, a malformed reference) is refused
	// before any stack is created or updated. Required.
	Check func(stack, release string) error
	// Gate audits a stage with a release before a promotion, rollback or roll-forward updates it: the
	// program previewed for the stage with the release, and the HIPAA pack evaluated over it. A failed
	// audit stops the operation before anything changes, unless it is forced with a reason. Optional.
	Gate func(stack, release string) (Evidence, error)
	// Registry finds release in the registry stack pulls from, and its digest; found is false while it
	// is not there, as a release on its way to another account by replication. Optional: without it,
	// digests are not compared.
	Registry func(ctx context.Context, stack, release string) (digest string, found bool, err error)
	// ReplicationWait bounds the wait for a release to reach a stage's registry, checked every
	// PollEvery. Optional; default 30 minutes ("the majority of images replicate in less than 30
	// minutes": ECR user guide, private image replication) and 20 seconds.
	ReplicationWait, PollEvery time.Duration
	// User is who runs the operations, recorded with each promotion; Now the clock. Optional.
	User string
	Now  func() time.Time
}

// ws is the workspace that holds stack.
func (f *Fleet) ws(stack string) auto.Workspace {
	if w, ok := f.Workspaces[stack]; ok {
		return w
	}
	return f.Workspace
}

// workspaces are every distinct workspace of the fleet, Workspace first.
func (f *Fleet) workspaces() []auto.Workspace {
	out := []auto.Workspace{f.Workspace}
	for _, name := range slices.Sorted(maps.Keys(f.Workspaces)) {
		if w := f.Workspaces[name]; !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func (f *Fleet) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// check refuses a release that stack's configuration does not accept (Check says so with a refusal).
func (f *Fleet) check(stack, release string) error {
	if f.Check == nil {
		return errors.New("fleet: no configuration check")
	}
	return f.Check(stack, release)
}

func (f *Fleet) say(format string, v ...any) {
	if f.Progress != nil {
		fmt.Fprintf(f.Progress, format+"\n", v...)
	}
}

func (f *Fleet) key(name string) string { return f.Project.Name + ":" + name }

// stage checks that name is one of the stages.
func (f *Fleet) stage(name string) error {
	if !slices.Contains(f.Stages, name) {
		return refusal.New("unknown stack %q: the stages are %s", name, strings.Join(f.Stages, ", "))
	}
	return nil
}

// exists reports whether the stack's backend has the stack.
func (f *Fleet) exists(ctx context.Context, name string) (bool, error) {
	stacks, err := f.ws(name).ListStacks(ctx)
	if err != nil {
		return false, fmt.Errorf("listing stacks: %w", err)
	}
	return slices.ContainsFunc(stacks, func(s auto.StackSummary) bool { return s.Name == name }), nil
}

// open selects a stack, or creates it when create is set and it does not exist yet.
func (f *Fleet) open(ctx context.Context, name string, create bool) (auto.Stack, error) {
	s, err := auto.SelectStack(ctx, name, f.ws(name))
	if err == nil || !create || !auto.IsSelectStack404Error(err) {
		return s, err
	}
	f.say("%s: creating the stack", name)
	return auto.NewStack(ctx, name, f.ws(name))
}

// update opens the stack (creating it when create is set and it does not exist), sets config and runs
// `pulumi up`, showing the engine's progress.
func (f *Fleet) update(ctx context.Context, name string, create bool, config auto.ConfigMap, message string) error {
	s, err := f.open(ctx, name, create)
	if err != nil {
		return err
	}
	f.say("%s: %s", name, message)
	if err := s.SetAllConfig(ctx, config); err != nil {
		return fmt.Errorf("configuring %s: %w", name, err)
	}
	opts := []optup.Option{optup.Message(message)}
	if len(f.PolicyPacks) > 0 {
		opts = append(opts, optup.PolicyPacks(f.PolicyPacks...))
	}
	if f.Progress != nil {
		opts = append(opts, optup.ProgressStreams(f.Progress))
	}
	if _, err := s.Up(ctx, opts...); err != nil {
		return fmt.Errorf("updating %s: %w", name, err)
	}
	return nil
}

// preserve runs fn and then puts the workspace's stack files back as they were: the configuration set
// for an update, and whatever the CLI writes while reading a stack (its encryption salt, recovered from
// the backend), are not left behind, so the committed files keep only dials and a working copy is
// left as found. A file fn created is removed.
func (f *Fleet) preserve(fn func() error) (err error) {
	dir := f.Workspace.WorkDir()
	before, err := stackFiles(dir)
	if err != nil {
		return err
	}
	defer func() {
		after, lerr := stackFiles(dir)
		if lerr != nil {
			err = errors.Join(err, lerr)
			return
		}
		for path := range after {
			if _, kept := before[path]; !kept {
				err = errors.Join(err, os.Remove(path))
			}
		}
		for path, content := range before {
			if !bytes.Equal(after[path], content) {
				err = errors.Join(err, os.WriteFile(path, content, 0o644))
			}
		}
	}()
	return fn()
}

// stackFiles reads every Pulumi.<stack>.yaml of dir.
func stackFiles(dir string) (map[string][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		files[p] = b
	}
	return files, nil
}
