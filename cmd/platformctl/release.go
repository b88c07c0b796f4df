package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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
	cmd.AddCommand(withPolicyPacks(promoteCmd(d)), withPolicyPacks(rollbackCmd(d, false)), withPolicyPacks(rollbackCmd(d, true)), statusCmd(d))
	return cmd
}

// promoteOptions say where a release goes.
type promoteOptions struct {
	to         string
	all, force bool
}

func promoteCmd(d deps) *cobra.Command {
	var o promoteOptions
	cmd := &cobra.Command{
		Use:   "promote IMAGE (--to STACK | --all) [--force]",
		Short: "Deploy an image to a stage, once the stages in front of it have run it",
		Long: `promote deploys IMAGE (a tag such as v1.4.2 or release-1a2b3c, a digest @sha256:..., or
hipaa-app:TAG) to the stage --to. It is refused while a stage in front of it (dev before test, test
before qa, qa before prod) has not run the same image, unless --force. With --all it promotes through
dev, test, qa and prod in order and stops at the first stage that fails, leaving the later ones as they
were. A malformed image, one of another repository or registry than the stage pulls from, or an unknown
stack is refused before any stack is created or updated.

Exit status: 0 on success, 1 when an update fails, 2 when the request is refused.`,
		Args: oneArg("IMAGE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.all == (o.to != "") {
				return refusal.New("give exactly one of --to STACK and --all")
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
	cmd.Flags().BoolVar(&o.force, "force", false, "promote even though a stage in front has not run the image")
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
		Use: use, Short: short, Long: long + "\n\nExit status: 0 on success, 1 when the update fails, 2 when there is nothing to move to.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stack == "" {
				return refusal.New("--stack is required; the stages are %s", strings.Join(Stages, ", "))
			}
			return withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) error {
				if forward {
					return f.RollForward(ctx, stack)
				}
				return f.Rollback(ctx, stack)
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
	fmt.Fprintln(w, "STACK\tRELEASE\tIMAGE\tLAST UPDATE\tRELEASES RUN")
	for _, s := range all {
		if !s.Created {
			fmt.Fprintf(w, "%s\t-\t-\tnot created\t-\n", s.Stack)
			continue
		}
		last := orDash(s.LastUpdate)
		if s.LastResult != "" && s.LastResult != "succeeded" {
			last += " (" + s.LastResult + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Stack, orDash(s.Release), orDash(s.Image), last, orDash(strings.Join(s.Releases, " ")))
	}
	return w.Flush()
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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
