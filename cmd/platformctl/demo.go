package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func demoCmd(d deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create, list, destroy and reap the sales team's demo stacks",
		Long: `demo manages demo stacks (demo-NAME): complete platforms from the demo profile (` + project.DemoProfileFile + `),
which keeps every HIPAA safeguard of the program, holds synthetic data only, can be destroyed with its
data, and is small. Every resource is tagged with the demo's Owner and ExpiresAt; "demo reap" destroys the
expired ones and is safe to run from a schedule. "platformctl preview --stack demo-NAME" shows a demo
before it is created.`,
	}
	cmd.AddCommand(withPolicyPacks(demoCreateCmd(d)), demoListCmd(d), demoDestroyCmd(d), demoReapCmd(d))
	return cmd
}

// demoCreateOptions are what a demo is created with; release empty means the one running on from.
type demoCreateOptions struct {
	ttl                  time.Duration
	owner, release, from string
}

func demoCreateCmd(d deps) *cobra.Command {
	var o demoCreateOptions
	cmd := &cobra.Command{
		Use:   "create NAME [--ttl 72h] [--owner EMAIL] [--release IMAGE | --from STAGE]",
		Short: "Create a demo stack that expires after --ttl",
		Long: fmt.Sprintf(`create deploys demo stack demo-NAME from the demo profile. NAME is 2 to 20 lower-case letters,
digits and hyphens. It runs --release, or by default the release running on --from (qa). The owner
(default: the current user) and the expiry are tagged on every resource. The ttl is %s to %s.
If the deployment fails, what it created is destroyed again.

Exit status: 0 on success, 1 when the deployment fails, 2 when the request is refused.`, fleet.MinDemoTTL, fleet.MaxDemoTTL),
		Args: oneArg("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.owner == "" {
				o.owner = d.user()
			}
			var release string
			now := d.now()
			err := withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) (err error) {
				release, err = createDemo(ctx, f, args[0], o, now)
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(d.stdout, "demo %s is up, running %s, until %s\n", args[0], release, now.Add(o.ttl).UTC().Truncate(time.Second).Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().DurationVar(&o.ttl, "ttl", 72*time.Hour, "how long the demo lives, as a `DURATION` such as 72h")
	cmd.Flags().StringVar(&o.owner, "owner", "", "who the demo is for, an `EMAIL` or user name (default: the current user)")
	cmd.Flags().StringVar(&o.release, "release", "", "the `IMAGE` the demo runs")
	cmd.Flags().StringVar(&o.from, "from", "qa", "the `STAGE` whose running release the demo runs, when --release is not given")
	return cmd
}

// createDemo creates demo name, running o.release or else what o.from runs, and returns the release.
func createDemo(ctx context.Context, f *fleet.Fleet, name string, o demoCreateOptions, now time.Time) (string, error) {
	release := o.release
	if release == "" {
		all, err := f.Status(ctx)
		if err != nil {
			return "", err
		}
		for _, s := range all {
			if s.Stack == o.from {
				release = s.Release
			}
		}
		if release == "" {
			return "", refusal.New("%s runs no release to demo; pass --release IMAGE or another --from", o.from)
		}
	}
	return release, f.CreateDemo(ctx, name, fleet.DemoOptions{Owner: o.owner, TTL: o.ttl, Release: release, Now: now})
}

func demoListCmd(d deps) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the demo stacks, soonest to expire first",
		Long:  "list shows every demo stack with its owner, release and expiry, and whether it has expired.",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := openFleet(cmd, d)
			if err != nil {
				return err
			}
			demos, err := f.Demos(cmd.Context(), d.now())
			if err != nil {
				return err
			}
			return writeDemos(d.stdout, demos, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

// writeDemos prints the demos as a table, or as a JSON array ([] when there are none).
func writeDemos(out io.Writer, demos []fleet.Demo, asJSON bool) error {
	if asJSON {
		if demos == nil {
			demos = []fleet.Demo{}
		}
		return writeJSON(out, demos)
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DEMO\tOWNER\tRELEASE\tEXPIRES")
	for _, d := range demos {
		expires := "unknown"
		if !d.ExpiresAt.IsZero() {
			expires = d.ExpiresAt.Format(time.RFC3339)
		}
		if d.Expired {
			expires += " (expired)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", d.Name, orDash(d.Owner), orDash(d.Release), expires)
	}
	return w.Flush()
}

func demoDestroyCmd(d deps) *cobra.Command {
	return &cobra.Command{
		Use:   "destroy NAME",
		Short: "Destroy a demo stack with its data, and remove it",
		Long:  "destroy deletes every resource of demo-NAME, its synthetic data included, and removes the stack.",
		Args:  oneArg("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) error { return f.DestroyDemo(ctx, args[0]) })
		},
	}
}

func demoReapCmd(d deps) *cobra.Command {
	return &cobra.Command{
		Use:   "reap",
		Short: "Destroy every demo stack past its expiry; safe to run from a schedule",
		Long: `reap destroys each demo stack whose ExpiresAt has passed and keeps the others. It goes on past a demo
that fails to destroy, reports it, and exits 1; the next run retries it. A demo whose expiry cannot be
read is kept and reported.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withFleet(cmd, d, func(ctx context.Context, f *fleet.Fleet) error {
				r, err := f.Reap(ctx, d.now())
				fmt.Fprintf(d.stdout, "reaped %d demo(s), kept %d, failed %d\n", len(r.Destroyed), len(r.Kept), len(r.Failed))
				return err
			})
		},
	}
}
