package fleet

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/hipaa-platform/platform/internal/imageref"
	"github.com/hipaa-platform/platform/internal/outputs"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Promote deploys image to the stage to, after checking that every stage in front of it has run the
// image (unless force). The image is named by tag or digest; a malformed one is refused before
// anything runs.
func (f *Fleet) Promote(ctx context.Context, image, to string, force bool) error {
	return f.preserve(func() error { return f.promote(ctx, image, to, force) })
}

func (f *Fleet) promote(ctx context.Context, image, to string, force bool) error {
	if _, err := imageref.Parse(image); err != nil {
		return refusal.Of(err)
	}
	if err := f.stage(to); err != nil {
		return err
	}
	if err := f.check(to, image); err != nil {
		return err
	}
	if err := f.checkFront(ctx, image, to, force); err != nil {
		return err
	}
	return f.deploy(ctx, to, true, image, fmt.Sprintf("promote %s to %s", image, to))
}

// PromoteAll promotes image through every stage in order and stops at the first that fails, leaving the
// stages after it untouched.
func (f *Fleet) PromoteAll(ctx context.Context, image string, force bool) error {
	return f.preserve(func() error { return f.promoteAll(ctx, image, force) })
}

func (f *Fleet) promoteAll(ctx context.Context, image string, force bool) error {
	if _, err := imageref.Parse(image); err != nil {
		return refusal.Of(err)
	}
	// Every stage must accept the image before the first is updated.
	for _, stage := range f.Stages {
		if err := f.check(stage, image); err != nil {
			return err
		}
	}
	for i, stage := range f.Stages {
		f.say("[%d/%d] %s", i+1, len(f.Stages), stage)
		if err := f.Promote(ctx, image, stage, force); err != nil {
			if left := f.Stages[i+1:]; len(left) > 0 {
				return fmt.Errorf("stopped at %s; %s not updated: %w", stage, strings.Join(left, ", "), err)
			}
			return fmt.Errorf("stopped at %s: %w", stage, err)
		}
	}
	return nil
}

// checkFront refuses a promotion to a stage before every stage in front of it has run the image.
func (f *Fleet) checkFront(ctx context.Context, image, to string, force bool) error {
	for _, before := range f.Stages[:slices.Index(f.Stages, to)] {
		ran, current, err := f.ran(ctx, before, image)
		if err != nil {
			return err
		}
		if ran {
			continue
		}
		if force {
			f.say("%s: %s has not run on %s; promoting anyway (--force)", to, image, before)
			continue
		}
		running := "nothing yet"
		if current != "" {
			running = current
		}
		return refusal.New("%s has not run on %s (running there: %s); promote it there first, or pass --force", image, before, running)
	}
	return nil
}

// ran reports whether stack has ever run image successfully, and what it runs now.
func (f *Fleet) ran(ctx context.Context, stack, image string) (bool, string, error) {
	releases, current, err := f.current(ctx, stack)
	return ranBefore(releases, image), current, err
}

// deploy updates the stack to run image.
func (f *Fleet) deploy(ctx context.Context, stack string, create bool, image, message string) error {
	return f.update(ctx, stack, create, auto.ConfigMap{f.key("release"): {Value: image}}, message)
}

// current is the release a stack runs, from its history; "" for a stack not yet created or never
// updated.
func (f *Fleet) current(ctx context.Context, stack string) (releases []string, current string, err error) {
	s, err := auto.SelectStack(ctx, stack, f.Workspace)
	if auto.IsSelectStack404Error(err) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	history, err := f.History(ctx, s)
	if err != nil {
		return nil, "", err
	}
	releases, current = Releases(history)
	return releases, current, nil
}

// Up updates a stage with its dials as committed, keeping the release it runs; release, when given, is
// the one a new stage starts with.
func (f *Fleet) Up(ctx context.Context, stack, release string) error {
	return f.preserve(func() error { return f.up(ctx, stack, release) })
}

func (f *Fleet) up(ctx context.Context, stack, release string) error {
	if slices.Contains(f.Accounts, stack) {
		return f.upAccount(ctx, stack, release)
	}
	if release != "" {
		if _, err := imageref.Parse(release); err != nil {
			return refusal.Of(err)
		}
	}
	if !slices.Contains(f.Stages, stack) {
		return refusal.New("unknown stack %q: the stages are %s, and the account stacks %s", stack, strings.Join(f.Stages, ", "), strings.Join(f.Accounts, ", "))
	}
	_, current, err := f.current(ctx, stack)
	if err != nil {
		return err
	}
	switch {
	case release == "" && current == "":
		return refusal.New("%s runs no release yet; pass --release IMAGE for its first", stack)
	case release == "":
		release = current
	}
	if err := f.check(stack, release); err != nil {
		return err
	}
	return f.deploy(ctx, stack, true, release, fmt.Sprintf("update %s, running %s", stack, release))
}

// upAccount creates or updates an account stack, which runs no release.
func (f *Fleet) upAccount(ctx context.Context, stack, release string) error {
	if release != "" {
		return refusal.New("%s is an account stack, which runs no release; leave --release out", stack)
	}
	if err := f.check(stack, ""); err != nil {
		return err
	}
	return f.update(ctx, stack, true, auto.ConfigMap{}, fmt.Sprintf("update the account baseline %s", stack))
}

// UpAll updates every account stack, then every stage in order, each keeping its release, and stops at
// the first that fails.
func (f *Fleet) UpAll(ctx context.Context) error {
	return f.preserve(func() error { return f.upAll(ctx) })
}

func (f *Fleet) upAll(ctx context.Context) error {
	all := append(slices.Clone(f.Accounts), f.Stages...)
	for i, stack := range all {
		f.say("[%d/%d] %s", i+1, len(all), stack)
		if err := f.Up(ctx, stack, ""); err != nil {
			return fmt.Errorf("stopped at %s: %w", stack, err)
		}
	}
	return nil
}

// Rollback returns a stage to the release it ran before the current one.
func (f *Fleet) Rollback(ctx context.Context, stack string) error {
	return f.preserve(func() error { return f.step(ctx, stack, -1) })
}

// RollForward moves a stage to the release it ran after the current one, undoing a rollback.
func (f *Fleet) RollForward(ctx context.Context, stack string) error {
	return f.preserve(func() error { return f.step(ctx, stack, +1) })
}

// step moves a stage by one in the list of releases it has run, in the order it first ran them.
func (f *Fleet) step(ctx context.Context, stack string, by int) error {
	if err := f.stage(stack); err != nil {
		return err
	}
	if ok, err := f.exists(ctx, stack); err != nil {
		return err
	} else if !ok {
		return refusal.New("%s has not been created; stand it up with `platformctl up --stack %s --release IMAGE`", stack, stack)
	}
	releases, current, err := f.current(ctx, stack)
	if err != nil {
		return err
	}
	i := indexOf(releases, current) + by
	switch {
	case current == "":
		return refusal.New("%s has run no release", stack)
	case i < 0:
		return refusal.New("%s runs %s, the first release it ran; there is nothing to roll back to", stack, current)
	case i >= len(releases):
		return refusal.New("%s runs %s, the latest release it ran; there is nothing to roll forward to", stack, current)
	}
	if err := f.check(stack, releases[i]); err != nil {
		return err
	}
	verb := "roll back"
	if by > 0 {
		verb = "roll forward"
	}
	return f.deploy(ctx, stack, false, releases[i], fmt.Sprintf("%s %s from %s to %s", verb, stack, current, releases[i]))
}

// Status is what one stack runs.
type Status struct {
	Stack string `json:"stack"`
	// Created is false for a stage not in the backend yet.
	Created bool `json:"created"`
	// Release is the reference deployed; Image the image by digest.
	Release string `json:"release,omitempty"`
	Image   string `json:"image,omitempty"`
	// Releases is every release the stack has run, in the order it first ran them.
	Releases []string `json:"releases,omitempty"`
	// LastUpdate is when the stack was last updated, and LastResult how that update ended (succeeded,
	// failed, in-progress): a stage whose last update failed still runs its last good release.
	LastUpdate string `json:"lastUpdate,omitempty"`
	LastResult string `json:"lastResult,omitempty"`
	// ExpiresAt is a demo stack's expiry.
	ExpiresAt string `json:"expiresAt,omitempty"`
}

// Status reports what runs where: every stage, the account stacks (which run no release), then every
// other stack of the backend (the demos).
func (f *Fleet) Status(ctx context.Context) ([]Status, error) {
	var out []Status
	err := f.preserve(func() (err error) {
		out, err = f.status(ctx)
		return err
	})
	return out, err
}

func (f *Fleet) status(ctx context.Context) ([]Status, error) {
	summaries, err := f.Workspace.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing stacks: %w", err)
	}
	names := append(slices.Clone(f.Stages), f.Accounts...)
	for _, s := range summaries {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	var out []Status
	for _, name := range names {
		i := slices.IndexFunc(summaries, func(s auto.StackSummary) bool { return s.Name == name })
		st := Status{Stack: name, Created: i >= 0}
		if !st.Created {
			out = append(out, st)
			continue
		}
		st.LastUpdate = summaries[i].LastUpdate
		s, err := auto.SelectStack(ctx, name, f.Workspace)
		if err != nil {
			return nil, err
		}
		exported, err := s.Outputs(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s's outputs: %w", name, err)
		}
		if r, ok := exported[outputs.Release].Value.(map[string]any); ok {
			st.Release, _ = r["requested"].(string)
			st.Image, _ = r["image"].(string)
		}
		st.ExpiresAt, _ = exported[outputs.ExpiresAt].Value.(string)
		updates, err := f.updates(ctx, s)
		if err != nil {
			return nil, err
		}
		if len(updates) > 0 {
			st.LastResult = updates[0].Result
		}
		st.Releases, _ = Releases(f.deployments(updates))
		out = append(out, st)
	}
	return out, nil
}
