package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/hipaa-platform/platform/internal/imageref"
)

// Deployment is one successful update of a stack and the release it ran.
type Deployment struct {
	Version int
	Release string
	At      time.Time
	Message string
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
		out = append(out, Deployment{Version: u.Version, Release: release, At: at, Message: u.Message})
	}
	return out
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
