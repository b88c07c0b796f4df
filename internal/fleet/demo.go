package fleet

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"

	"github.com/hipaa-platform/platform/internal/imageref"
	"github.com/hipaa-platform/platform/internal/outputs"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Demo TTL bounds: long enough for a week of meetings, short enough that a forgotten demo goes.
const (
	MinDemoTTL = time.Hour
	MaxDemoTTL = 14 * 24 * time.Hour
)

// DemoOptions are what a demo is created with.
type DemoOptions struct {
	// Owner is who the demo is for, tagged on every resource. Required.
	Owner string
	// TTL is how long until the demo may be reaped, MinDemoTTL to MaxDemoTTL. Required.
	TTL time.Duration
	// Release is the image it runs. Required.
	Release string
	// Now is the creation time; zero means the current time.
	Now time.Time
}

var owner = regexp.MustCompile(`^[A-Za-z0-9._%+@-]{2,128}$`)

// CreateDemo creates demo stack name from the demo profile and deploys it. Every input is checked
// before anything is created, and a demo whose deployment fails is destroyed and removed again, so that
// no half-made demo is left to pay for.
func (f *Fleet) CreateDemo(ctx context.Context, name string, o DemoOptions) error {
	return f.preserve(func() error { return f.createDemo(ctx, name, o) })
}

func (f *Fleet) createDemo(ctx context.Context, name string, o DemoOptions) error {
	stack, err := project.DemoStack(name)
	if err != nil {
		return err
	}
	switch {
	case !owner.MatchString(o.Owner):
		return refusal.New("owner %q: want an e-mail address or user name", o.Owner)
	case o.TTL < MinDemoTTL || o.TTL > MaxDemoTTL:
		return refusal.New("ttl %s: want %s to %s", o.TTL, MinDemoTTL, MaxDemoTTL)
	}
	if _, err := imageref.Parse(o.Release); err != nil {
		return refusal.Of(err)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	demo := project.Demo{Name: name, Owner: o.Owner, ExpiresAt: now.Add(o.TTL).UTC().Truncate(time.Second).Format(time.RFC3339), Release: o.Release}
	settings, err := f.Project.DemoSettings(demo)
	if err != nil {
		return err
	}
	if err := f.check(stack, o.Release); err != nil {
		return err
	}
	if exists, err := f.exists(ctx, stack); err != nil {
		return err
	} else if exists {
		return refusal.New("demo %s exists already (stack %s); destroy it first or choose another name", name, stack)
	}
	config := auto.ConfigMap{}
	for k, v := range settings {
		config[k] = auto.ConfigValue{Value: v}
	}
	f.say("%s: creating demo %s for %s, expiring %s", stack, name, o.Owner, demo.ExpiresAt)
	if err := f.update(ctx, stack, true, config, fmt.Sprintf("create demo %s for %s until %s, running %s", name, o.Owner, demo.ExpiresAt, o.Release)); err != nil {
		f.say("%s: the deployment failed; destroying what it created", stack)
		if cleanup := f.DestroyDemo(ctx, name); cleanup != nil {
			return fmt.Errorf("%w; and cleaning up failed too, destroy it with `platformctl demo destroy %s`: %v", err, name, cleanup)
		}
		return err
	}
	return nil
}

// Demo is one demo stack.
type Demo struct {
	Name      string    `json:"name"`
	Stack     string    `json:"stack"`
	Owner     string    `json:"owner,omitempty"`
	Release   string    `json:"release,omitempty"`
	ExpiresAt time.Time `json:"expiresAt"`
	Expired   bool      `json:"expired"`
}

// Demos lists the demo stacks, soonest to expire first, judged at now.
func (f *Fleet) Demos(ctx context.Context, now time.Time) ([]Demo, error) {
	var out []Demo
	err := f.preserve(func() (err error) {
		out, err = f.demos(ctx, now)
		return err
	})
	return out, err
}

func (f *Fleet) demos(ctx context.Context, now time.Time) ([]Demo, error) {
	summaries, err := f.Workspace.ListStacks(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing stacks: %w", err)
	}
	demos := []Demo{}
	for _, sum := range summaries {
		if !strings.HasPrefix(sum.Name, project.DemoPrefix) {
			continue
		}
		s, err := auto.SelectStack(ctx, sum.Name, f.ws(sum.Name))
		if err != nil {
			return nil, err
		}
		out, err := s.Outputs(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading %s's outputs: %w", sum.Name, err)
		}
		d := Demo{Name: strings.TrimPrefix(sum.Name, project.DemoPrefix), Stack: sum.Name}
		d.Owner, _ = out[outputs.Owner].Value.(string)
		if r, ok := out[outputs.Release].Value.(map[string]any); ok {
			d.Release, _ = r["requested"].(string)
		}
		if raw, ok := out[outputs.ExpiresAt].Value.(string); ok {
			if t, err := time.Parse(time.RFC3339, raw); err == nil {
				d.ExpiresAt = t
				d.Expired = !now.Before(t)
			}
		}
		demos = append(demos, d)
	}
	slices.SortFunc(demos, func(a, b Demo) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	return demos, nil
}

// DestroyDemo destroys demo name and removes its stack.
func (f *Fleet) DestroyDemo(ctx context.Context, name string) error {
	return f.preserve(func() error { return f.destroyDemo(ctx, name) })
}

func (f *Fleet) destroyDemo(ctx context.Context, name string) error {
	stack, err := project.DemoStack(name)
	if err != nil {
		return err
	}
	s, err := auto.SelectStack(ctx, stack, f.ws(stack))
	if auto.IsSelectStack404Error(err) {
		return refusal.New("no demo %s (stack %s); `platformctl demo list` shows the demos", name, stack)
	}
	if err != nil {
		return err
	}
	return f.destroy(ctx, s)
}

// destroy destroys every resource of the stack, then removes the stack with its history.
func (f *Fleet) destroy(ctx context.Context, s auto.Stack) error {
	f.say("%s: destroying", s.Name())
	opts := []optdestroy.Option{optdestroy.Message("destroy " + s.Name())}
	if f.Progress != nil {
		opts = append(opts, optdestroy.ProgressStreams(f.Progress))
	}
	if _, err := s.Destroy(ctx, opts...); err != nil {
		return fmt.Errorf("destroying %s: %w", s.Name(), err)
	}
	if err := f.ws(s.Name()).RemoveStack(ctx, s.Name()); err != nil {
		return fmt.Errorf("removing stack %s: %w", s.Name(), err)
	}
	f.say("%s: destroyed and removed", s.Name())
	return nil
}

// Reaped is the outcome of one reap.
type Reaped struct {
	Destroyed []Demo
	Kept      []Demo
	Failed    map[string]error
}

// Reap destroys every demo that expired by now. It goes on past a failure, so one stuck demo does not
// keep the others alive, and reports each; run again, it retries what failed. It is safe to schedule:
// a demo not yet expired, or one whose expiry cannot be read, is kept.
func (f *Fleet) Reap(ctx context.Context, now time.Time) (Reaped, error) {
	var out Reaped
	err := f.preserve(func() (err error) {
		out, err = f.reap(ctx, now)
		return err
	})
	return out, err
}

func (f *Fleet) reap(ctx context.Context, now time.Time) (Reaped, error) {
	var r Reaped
	demos, err := f.Demos(ctx, now)
	if err != nil {
		return r, err
	}
	for _, d := range demos {
		switch {
		case d.ExpiresAt.IsZero():
			f.say("%s: kept: it exports no expiry (a demo whose first deployment never finished?); destroy it with `platformctl demo destroy %s`", d.Stack, d.Name)
			r.Kept = append(r.Kept, d)
		case !d.Expired:
			f.say("%s: kept until %s", d.Stack, d.ExpiresAt.Format(time.RFC3339))
			r.Kept = append(r.Kept, d)
		default:
			f.say("%s: expired %s ago (at %s); reaping", d.Stack, now.Sub(d.ExpiresAt).Round(time.Minute), d.ExpiresAt.Format(time.RFC3339))
			if err := f.DestroyDemo(ctx, d.Name); err != nil {
				if r.Failed == nil {
					r.Failed = map[string]error{}
				}
				r.Failed[d.Stack] = err
				continue
			}
			r.Destroyed = append(r.Destroyed, d)
		}
	}
	if len(r.Failed) > 0 {
		var errs []error
		for stack, err := range r.Failed {
			errs = append(errs, fmt.Errorf("%s: %w", stack, err))
		}
		return r, errors.Join(errs...)
	}
	return r, nil
}
