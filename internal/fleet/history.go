package fleet

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/hipaa-platform/platform/internal/imageref"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Deployment is one successful update of a stack and the release it ran.
type Deployment struct {
	Version int       `json:"version"`
	Release string    `json:"release"`
	At      time.Time `json:"at"`
	Message string    `json:"message"`
	// Promotion is the record of the promotion, rollback or roll-forward the update was; nil for an
	// update that moved no release (up).
	Promotion *Promotion `json:"promotion,omitempty"`
}

// History returns the stack's successful updates, oldest first, with the release each ran.
func (f *Fleet) History(ctx context.Context, s auto.Stack) ([]Deployment, error) {
	updates, err := f.updates(ctx, s)
	if err != nil {
		return nil, err
	}
	return f.deployments(updates), nil
}

// updates returns the stack's whole history, newest first.
func (f *Fleet) updates(ctx context.Context, s auto.Stack) ([]auto.UpdateSummary, error) {
	updates, err := s.History(ctx, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("reading %s's history: %w", s.Name(), err)
	}
	return updates, nil
}

// deployments are the successful updates among updates (newest first), oldest first, with the release
// each ran.
func (f *Fleet) deployments(updates []auto.UpdateSummary) []Deployment {
	var out []Deployment
	for i := len(updates) - 1; i >= 0; i-- {
		u := updates[i]
		if u.Kind != "update" || u.Result != "succeeded" {
			continue
		}
		release := u.Config[f.key("release")].Value
		if release == "" {
			continue
		}
		at, _ := time.Parse(time.RFC3339, u.StartTime)
		d := Deployment{Version: u.Version, Release: release, At: at, Message: u.Message}
		// Each update's configuration is its own: the record is the update's only when its release is
		// the record's (an up after a promotion carries the old record along with the release).
		var p Promotion
		if raw := u.Config[f.key(PromotionKey)].Value; raw != "" && json.Unmarshal([]byte(raw), &p) == nil && p.Release == release && !recorded(out, p) {
			d.Promotion = &p
		}
		out = append(out, d)
	}
	return out
}

// recorded reports whether p is already some earlier deployment's record.
func recorded(earlier []Deployment, p Promotion) bool {
	for _, d := range earlier {
		if d.Promotion != nil && *d.Promotion == p {
			return true
		}
	}
	return false
}

// StackHistory is the successful updates of stack, oldest first, each with its promotion's record.
func (f *Fleet) StackHistory(ctx context.Context, stack string) ([]Deployment, error) {
	var out []Deployment
	err := f.preserve(func() error {
		s, err := auto.SelectStack(ctx, stack, f.ws(stack))
		if auto.IsSelectStack404Error(err) {
			return refusal.New("%s has not been created", stack)
		}
		if err != nil {
			return err
		}
		out, err = f.History(ctx, s)
		return err
	})
	return out, err
}

// Releases returns the distinct releases a stack has run, in the order it first ran them; the last of
// its history is the one running.
func Releases(history []Deployment) (releases []string, current string) {
	for _, d := range history {
		if !ranBefore(releases, d.Release) {
			releases = append(releases, d.Release)
		}
		current = d.Release
	}
	return releases, current
}

// ranBefore reports whether image is one of releases, by the same image rather than the same text.
func ranBefore(releases []string, image string) bool {
	want, err := imageref.Parse(image)
	if err != nil {
		return false
	}
	for _, r := range releases {
		if got, err := imageref.Parse(r); err == nil && imageref.Same(got, want) {
			return true
		}
	}
	return false
}

// indexOf is the position of image in releases, or -1.
func indexOf(releases []string, image string) int {
	for i, r := range releases {
		if ranBefore([]string{r}, image) {
			return i
		}
	}
	return -1
}
