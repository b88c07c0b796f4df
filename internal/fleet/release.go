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
// image, that the image in the stage's registry is the one the stage in front ran (waiting for it to
// replicate there), and that the stage passes its HIPAA audit with it; force goes past the first and
// the last. The image is named by tag or digest; a malformed one is refused before anything runs.
func (f *Fleet) Promote(ctx context.Context, image, to string, force Force) error {
	return f.preserve(func() error { return f.promote(ctx, image, to, force) })
}

func (f *Fleet) promote(ctx context.Context, image, to string, force Force) error {
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
	want, err := f.ranInFront(ctx, to)
	if err != nil {
		return err
	}
	return f.gatedDeploy(ctx, to, true, image, want, "promote", fmt.Sprintf("promote %s to %s", image, to), force)
}

// ranInFront is the digest the stage in front of stage runs, which stage must get the same of; empty
// for the first stage, or without a registry to compare with.
func (f *Fleet) ranInFront(ctx context.Context, stage string) (string, error) {
	i := slices.Index(f.Stages, stage)
	if i <= 0 || f.Registry == nil {
		return "", nil
	}
	st, err := f.statusOf(ctx, f.Stages[i-1])
	if err != nil || st.Image == "" {
		return "", err
	}
	_, digest, _ := strings.Cut(st.Image, "@")
	return digest, nil
}

// gatedDeploy updates stack to run image, once the image is in the stack's registry (as want, when
// set) and the stack passed its audit with it, recording who did it, the digest and the report's.
func (f *Fleet) gatedDeploy(ctx context.Context, stack string, create bool, image, want, action, message string, force Force) error {
	digest, err := f.resolve(ctx, stack, image, want)
	if err != nil {
		return err
	}
	ev, err := f.gate(stack, image, force)
	if err != nil {
		return err
	}
	record, err := f.record(action, image, digest, ev, force)
	if err != nil {
		return err
	}
	if force.Forced() {
		message += " (forced: " + force.Reason + ")"
	}
	return f.update(ctx, stack, create, auto.ConfigMap{f.key("release"): {Value: image}, f.key(PromotionKey): {Value: record}}, message)
}

// PromoteAll promotes image through every stage in order and stops at the first that fails, leaving the
// stages after it untouched.
func (f *Fleet) PromoteAll(ctx context.Context, image string, force Force) error {
	return f.preserve(func() error { return f.promoteAll(ctx, image, force) })
}

func (f *Fleet) promoteAll(ctx context.Context, image string, force Force) error {
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
func (f *Fleet) checkFront(ctx context.Context, image, to string, force Force) error {
	for _, before := range f.Stages[:slices.Index(f.Stages, to)] {
		ran, current, err := f.ran(ctx, before, image)
		if err != nil {
			return err
		}
		if ran {
			continue
		}
		if force.Forced() {
			f.say("%s: %s has not run on %s; promoting anyway (--force: %s)", to, image, before, force.Reason)
			continue
		}
		running := "nothing yet"
		if current != "" {
			running = current
		}
		return refusal.New("%s has not run on %s (running there: %s); promote it there first, or pass --force with --reason", image, before, running)
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
	s, err := auto.SelectStack(ctx, stack, f.ws(stack))
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

// Rollback returns a stage to the release it ran before the current one, through the same audit as a
// promotion.
func (f *Fleet) Rollback(ctx context.Context, stack string, force Force) error {
	return f.preserve(func() error { return f.step(ctx, stack, -1, force) })
}

// RollForward moves a stage to the release it ran after the current one, undoing a rollback, through
// the same audit as a promotion.
func (f *Fleet) RollForward(ctx context.Context, stack string, force Force) error {
	return f.preserve(func() error { return f.step(ctx, stack, +1, force) })
}

// step moves a stage by one in the list of releases it has run, in the order it first ran them.
func (f *Fleet) step(ctx context.Context, stack string, by int, force Force) error {
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
	verb, action := "roll back", "rollback"
	if by > 0 {
		verb, action = "roll forward", "roll-forward"
	}
	return f.gatedDeploy(ctx, stack, false, releases[i], "", action, fmt.Sprintf("%s %s from %s to %s", verb, stack, current, releases[i]), force)
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
	// LastPromotion is the record of the last promotion, rollback or roll-forward that succeeded.
	LastPromotion *Promotion `json:"lastPromotion,omitempty"`
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
	names := append(slices.Clone(f.Stages), f.Accounts...)
	summaries := map[string]auto.StackSummary{}
	for _, w := range f.workspaces() {
		list, err := w.ListStacks(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing stacks: %w", err)
		}
		for _, s := range list {
			// A stack the fleet keeps in another backend is that backend's, not this one's.
			if f.ws(s.Name) != w {
				continue
			}
			summaries[s.Name] = s
			if !slices.Contains(names, s.Name) {
				names = append(names, s.Name)
			}
		}
	}
	var out []Status
	for _, name := range names {
		sum, created := summaries[name]
		st, err := f.describe(ctx, name, sum, created)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// statusOf is one stack's status.
func (f *Fleet) statusOf(ctx context.Context, name string) (Status, error) {
	list, err := f.ws(name).ListStacks(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("listing stacks: %w", err)
	}
	i := slices.IndexFunc(list, func(s auto.StackSummary) bool { return s.Name == name })
	if i < 0 {
		return Status{Stack: name}, nil
	}
	return f.describe(ctx, name, list[i], true)
}

// describe reads what a stack runs from its outputs and history.
func (f *Fleet) describe(ctx context.Context, name string, sum auto.StackSummary, created bool) (Status, error) {
	st := Status{Stack: name, Created: created}
	if !created {
		return st, nil
	}
	st.LastUpdate = sum.LastUpdate
	s, err := auto.SelectStack(ctx, name, f.ws(name))
	if err != nil {
		return st, err
	}
	exported, err := s.Outputs(ctx)
	if err != nil {
		return st, fmt.Errorf("reading %s's outputs: %w", name, err)
	}
	if r, ok := exported[outputs.Release].Value.(map[string]any); ok {
		st.Release, _ = r["requested"].(string)
		st.Image, _ = r["image"].(string)
	}
	st.ExpiresAt, _ = exported[outputs.ExpiresAt].Value.(string)
	updates, err := f.updates(ctx, s)
	if err != nil {
		return st, err
	}
	if len(updates) > 0 {
		st.LastResult = updates[0].Result
	}
	deployments := f.deployments(updates)
	st.Releases, _ = Releases(deployments)
	for i := len(deployments) - 1; i >= 0; i-- {
		if p := deployments[i].Promotion; p != nil {
			st.LastPromotion = p
			break
		}
	}
	return st, nil
}
