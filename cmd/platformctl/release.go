package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func releaseCmd(d deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Promote a release through dev, test, qa and prod; roll it back or forward; show what runs where",
		Long: `release moves container images through the stages dev, test, qa and prod with the Pulumi Automation
API, running the platform program of this project directory against the backend you are logged in to.

A stack's release lives with the stack: the program exports it, and the stack's update history records
every release it ran, so rollback and roll-forward walk that history and no release is lost. The
repository's lifecycle policy never expires a released image. Each update rolls the hosts with an
instance refresh that keeps full healthy capacity, so a release causes no downtime.`,
	}
	cmd.AddCommand(withGate(withPolicyPacks(promoteCmd(d))), withGate(withPolicyPacks(rollbackCmd(d, false))), withGate(withPolicyPacks(rollbackCmd(d, true))),
		statusCmd(d), historyCmd(d))
	return cmd
}

// promoteOptions say where a release goes.
type promoteOptions struct {
	to    string
	all   bool
	force fleet.Force
}

func promoteCmd(d deps) *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote IMAGE (--to STACK | --all) [--policy-config FILE] [--report-dir DIR] [--force --reason REASON]",
		Short: "Deploy an image to a stage, once the stages in front have run it and the stage passes its audit",
		Long: `promote deploys IMAGE (a tag such as v1.4.2 or release-1a2b3c, a digest @sha256:..., or
hipaa-app:TAG) to the stage --to. It is refused while a stage in front of it (dev before test, test
before qa, qa before prod) has not run the same image. With --all it promotes through dev, test, qa and
prod in order and stops at the first stage that fails, leaving the later ones as they were.

Each stage lives in its account's backend and is updated with its account's AWS profile, as
accounts.yaml says. Before a stage is updated:
  - the image is found in the registry the stage pulls from, waiting (up to 30 minutes, with progress)
    for it to replicate there from the account that built it, and it must be the very image, by
    digest, that the stage in front runs;
  - the stage is audited with the image: the program previewed offline for the stage and the HIPAA pack
    evaluated over it, with --policy-config's levels and waivers. A mandatory finding, an expired waiver
    or one beyond its allowed term stops the promotion before anything changes, with the findings.
--force with --reason goes past a stage in front that has not run the image and past a failed audit.
Each promotion records in the stage's history who promoted what, when, by which digest, the digest of
the audit report it passed and any reason it was forced: release history --stack STAGE shows it.

A malformed image, one of another repository or registry than the stage pulls from, or an unknown stack
is refused before any stack is created or updated.

Exit status: 0 on success, 1 when an audit or an update fails or the image differs from the one in
front, 2 when the request is refused.`,
		Args: oneArg("IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.all == (o.to != "") {
				return refusal.New("give exactly one of --to STACK and --all")
			}
			var err error
			if o.force, err = forceOf(cmd); err != nil {
				return err
			}
			if err := withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) error { return promote(ctx, f, args[0], o) }); err != nil {
				return err
			}
			fmt.Fprintf(d.stdout, "promoted %s\n", args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "the `STACK` to deploy to: dev, test, qa or prod")
	cmd.Flags().BoolVar(&o.all, "all", false, "promote through every stage in order, stopping at the first failure")
	return cmd
}

func promote(ctx context.Context, f *fleet.Fleet, image string, o promoteOptions) error {
	if o.all {
		return f.PromoteAll(ctx, image, o.force)
	}
	return f.Promote(ctx, image, o.to, o.force)
}

func rollbackCmd(d deps, forward bool) *cobra.Command {
	use, short, long := "rollback --stack STACK", "Return a stage to the release it ran before the current one",
		`rollback redeploys, on --stack, the release the stack ran before the one it runs now, from the
stack's own history. Run again, it goes one release further back; roll-forward undoes it.`
	if forward {
		use, short, long = "roll-forward --stack STACK", "Move a stage to the release it ran after the current one",
			`roll-forward redeploys, on --stack, the release the stack ran after the one it runs now: it undoes
a rollback, one release at a time, up to the newest release the stack ran.`
	}
	var stack string
	cmd := &cobra.Command{
		Use: use + " [--policy-config FILE] [--report-dir DIR] [--force --reason REASON]", Short: short,
		Long: long + `

The stage passes the same audit as a promotion first, and the same record goes into its history.

Exit status: 0 on success, 1 when the audit or the update fails, 2 when there is nothing to move to.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stack == "" {
				return refusal.New("--stack is required; the stages are %s", strings.Join(Stages, ", "))
			}
			force, err := forceOf(cmd)
			if err != nil {
				return err
			}
			return withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) error {
				if forward {
					return f.RollForward(ctx, stack, force)
				}
				return f.Rollback(ctx, stack, force)
			})
		},
	}
	cmd.Flags().StringVar(&stack, "stack", "", "the `STACK`: dev, test, qa or prod")
	return cmd
}

func statusCmd(d deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show which release runs on every stack, and every release each has run",
		Long: `status lists every stage, then every other stack of the backend (the demos), with the release it
runs (as promoted, and the image by digest), when it was last updated (marked failed when that update
failed, the release shown being the last that succeeded) and the releases it has run in the order it
first ran them, which are what rollback and roll-forward move between.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := openFleet(cmd, d)
			if err != nil {
				return err
			}
			all, err := f.Status(cmd.Context())
			if err != nil {
				return err
			}
			return writeStatus(d.stdout, all, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// writeStatus prints what runs where, as a table or JSON.
func writeStatus(out io.Writer, all []fleet.Status, asJSON bool) error {
	if asJSON {
		if all == nil {
			all = []fleet.Status{}
		}
		return writeJSON(out, all)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STACK\tRELEASE\tIMAGE\tLAST UPDATE\tLAST PROMOTION\tRELEASES RUN")
	for _, s := range all {
		if !s.Created {
			fmt.Fprintf(w, "%s\t-\t-\tnot created\t-\t-\n", s.Stack)
			continue
		}
		last := orDash(s.LastUpdate)
		if s.LastResult != "" && s.LastResult != "succeeded" {
			last += " (" + s.LastResult + ")"
		}
		promotion := "-"
		if p := s.LastPromotion; p != nil {
			promotion = fmt.Sprintf("%s by %s, audit %s", p.Action, orDash(p.By), orDash(short(p.Audit)))
			if p.Forced != "" {
				promotion += ", forced"
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Stack, orDash(s.Release), orDash(s.Image), last, promotion, orDash(strings.Join(s.Releases, " ")))
	}
	return w.Flush()
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// short is a digest's first 12 hex digits.
func short(digest string) string {
	if _, hex, ok := strings.Cut(digest, ":"); ok && len(hex) > 12 {
		return hex[:12]
	}
	return digest
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func upCmd(d deps) *cobra.Command {
	var stack, release string
	var all bool
	cmd := &cobra.Command{
		Use:   "up (--stack STACK [--release IMAGE] | --all)",
		Short: "Stand up or update an environment or an account's baseline, keeping the release it runs",
		Long: `up creates or updates a stage with the dials of its Pulumi.STACK.yaml, keeping the release the stage
runs, so an infrastructure change never changes the release. A new stage needs --release for its first.
An account stack (account-nonprod, account-prod: the account's baseline, which every environment of the
account needs first) runs no release. With --all it updates the account stacks, then dev, test, qa and
prod in order, and stops at the first that fails.

Use it rather than a bare "pulumi up", which does not know the running release and refuses to run
without -c hipaa:release=IMAGE.

Exit status: 0 on success, 1 when an update fails, 2 when the request is refused.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (stack != "") || (all && release != "") {
				return refusal.New("give --stack STACK (with --release IMAGE for a new stage) or --all")
			}
			return withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) error {
				if all {
					return f.UpAll(ctx)
				}
				return f.Up(ctx, stack, release)
			})
		},
	}
	cmd.Flags().StringVar(&stack, "stack", "", "the `STACK`: account-nonprod, account-prod, dev, test, qa or prod")
	cmd.Flags().StringVar(&release, "release", "", "the release `IMAGE` a new stage starts with")
	cmd.Flags().BoolVar(&all, "all", false, "update the account stacks, then every stage in order, stopping at the first failure")
	return cmd
}

func historyCmd(d deps) *cobra.Command {
	var stack string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history --stack STACK [--json]",
		Short: "Show every release a stage ran, and who moved it there with which evidence",
		Long: `history lists the stage's successful updates, oldest first: when, the release, and for each
promotion, rollback and roll-forward its record: who ran it, the image by digest, the SHA-256 of the
audit report the stage passed with it (the Markdown report --report-dir wrote), and why it was forced,
if it was. An update that moved no release (platformctl up) has no record.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stack == "" {
				return refusal.New("--stack is required; the stages are %s", strings.Join(Stages, ", "))
			}
			f, err := openFleet(cmd, d)
			if err != nil {
				return err
			}
			history, err := f.StackHistory(cmd.Context(), stack)
			if err != nil {
				return err
			}
			if asJSON {
				if history == nil {
					history = []fleet.Deployment{}
				}
				return writeJSON(d.stdout, history)
			}
			w := tabwriter.NewWriter(d.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tAT\tACTION\tRELEASE\tDIGEST\tBY\tAUDIT REPORT\tFORCED")
			for _, h := range history {
				action, digest, by, report, forced := "up", "-", "-", "-", "-"
				if p := h.Promotion; p != nil {
					action, digest, by, report, forced = p.Action, orDash(p.Digest), orDash(p.By), orDash(p.Audit), orDash(p.Forced)
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Version, h.At.UTC().Format(time.RFC3339), action, h.Release, digest, by, report, forced)
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&stack, "stack", "", "the `STACK`: dev, test, qa or prod")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}
