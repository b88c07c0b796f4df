package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// Evidence is what a stage's audit with a release found, before the stage is updated.
type Evidence struct {
	// Failed is whether a mandatory rule failed, an expired waiver or one beyond its allowed term
	// among them.
	Failed bool
	// Findings are the failed mandatory rules, one line each, as the report names them.
	Findings []string
	// Report is the whole report, to keep as the evidence; Digest is its SHA-256, sha256:<hex>.
	Report []byte
	Digest string
}

// Force lets an operation past what it would stop at (a stage in front that has not run the release, a
// failed audit), for the reason given, which is recorded with it. The zero value forces nothing.
type Force struct{ Reason string }

// Forced reports whether anything is forced.
func (f Force) Forced() bool { return f.Reason != "" }

// Promotion is the record each promotion, rollback and roll-forward leaves in the stage's history, in
// the configuration of its update: who moved what where, when, by which digest, and the digest of the
// audit report it passed.
type Promotion struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Action  string    `json:"action"`
	Release string    `json:"release"`
	// Digest is the image the stage was updated to run; empty without a registry to ask.
	Digest string `json:"digest,omitempty"`
	// Audit is the digest of the audit report the stage passed; empty without a gate.
	Audit string `json:"audit,omitempty"`
	// Forced is the reason the operation was forced; empty when it was not.
	Forced string `json:"forced,omitempty"`
}

// PromotionKey is the configuration key (in the project's namespace) that carries the record.
const PromotionKey = "promotion"

// ErrAuditFailed stops an operation whose stage failed its audit: the report says why.
var ErrAuditFailed = errors.New("the stage failed its HIPAA audit with the release")

// gate audits stack with release and stops unless it passed or the operation is forced.
func (f *Fleet) gate(stack, release string, force Force) (Evidence, error) {
	if f.Gate == nil {
		return Evidence{}, nil
	}
	ev, err := f.Gate(stack, release)
	if err != nil {
		return ev, err
	}
	if !ev.Failed {
		f.say("%s: the HIPAA audit with %s passed (report %s)", stack, release, ev.Digest)
		return ev, nil
	}
	for _, line := range ev.Findings {
		f.say("%s: %s", stack, line)
	}
	if force.Forced() {
		f.say("%s: the audit failed; going on anyway (--force: %s)", stack, force.Reason)
		return ev, nil
	}
	return ev, fmt.Errorf("%s, not updated: %w (report %s; pass --force with --reason to go on regardless)", stack, ErrAuditFailed, ev.Digest)
}

// resolve finds release in stack's registry, waiting for it to arrive there (replication) up to
// ReplicationWait, and refuses a digest other than want (the one a stage in front ran) when want is set.
func (f *Fleet) resolve(ctx context.Context, stack, release, want string) (string, error) {
	if f.Registry == nil {
		return "", nil
	}
	wait, every := f.ReplicationWait, f.PollEvery
	if wait == 0 {
		wait = 30 * time.Minute
	}
	if every == 0 {
		every = 20 * time.Second
	}
	start := f.now()
	for {
		digest, found, err := f.Registry(ctx, stack, release)
		if refusal.Is(err) {
			return "", err
		}
		if err != nil {
			return "", fmt.Errorf("%s: finding %s in its registry: %w", stack, release, err)
		}
		if found {
			if want != "" && digest != want {
				return "", fmt.Errorf("%s: %s is %s in its registry, but the stage in front ran %s; refusing to run another image under the same release", stack, release, digest, want)
			}
			return digest, nil
		}
		waited := f.now().Sub(start)
		if waited >= wait {
			return "", fmt.Errorf("%s: %s has not reached its registry after %s; is replication to its account configured (registryReplicateTo, registryReplicateFrom)?", stack, release, wait)
		}
		f.say("%s: waiting for %s to reach its registry (%s of at most %s)", stack, release, waited.Round(time.Second), wait)
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(every):
		}
	}
}

// record is the configuration value of a promotion's record.
func (f *Fleet) record(action, release, digest string, ev Evidence, force Force) (string, error) {
	b, err := json.Marshal(Promotion{By: f.User, At: f.now().UTC().Truncate(time.Second), Action: action, Release: release, Digest: digest, Audit: ev.Digest, Forced: force.Reason})
	return string(b), err
}
