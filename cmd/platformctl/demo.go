package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func demoCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create, list, destroy and reap the sales team's demo stacks",
		Long: `demo manages demo stacks (demo-NAME): complete platforms from the demo profile, which keeps every
HIPAA safeguard of the program, holds synthetic data only, can be destroyed with its data, and is small.
Every resource is tagged with the demo's Owner and ExpiresAt; "demo reap" destroys the expired ones and
is safe to run from a schedule.`,
	}
	cmd.AddCommand(withPolicyPacks(demoCreateCmd()), demoListCmd(), demoDestroyCmd(), demoReapCmd())
	return cmd
}

func demoCreateCmd() *cobra.Command {
	var ttl time.Duration
	var owner, release, from string
	cmd := &cobra.Command{
		Use:   "create NAME [--ttl 72h] [--owner EMAIL] [--release IMAGE | --from STAGE]",
		Short: "Create a demo stack that expires after --ttl",
		Long: fmt.Sprintf(`create deploys demo stack demo-NAME from the demo profile. NAME is 2 to 20 lower-case letters,
digits and hyphens. It runs --release, or by default the release running on --from (qa). The owner
(default: the current user) and the expiry are tagged on every resource. The ttl is %s to %s.
If the deployment fails, what it created is destroyed again.

Exit status: 0 on success, 1 when the deployment fails, 2 when the request is refused.`, fleet.MinDemoTTL, fleet.MaxDemoTTL),
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if owner == "" {
				owner = currentUser()
			}
			err := withFleet(cmd, func(ctx context.Context, f *fleet.Fleet) error {
				if release == "" {
					all, err := f.Status(ctx)
					if err != nil {
						return err
					}
					for _, s := range all {
						if s.Stack == from {
							release = s.Release
						}
					}
					if release == "" {
						return refusal.New("%s runs no release to demo; pass --release IMAGE or another --from", from)
					}
				}
				return f.CreateDemo(ctx, args[0], fleet.DemoOptions{Owner: owner, TTL: ttl, Release: release})
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "demo %s is up, running %s, until %s\n", args[0], release, time.Now().Add(ttl).UTC().Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "ttl", 72*time.Hour, "how long the demo lives")
	cmd.Flags().StringVar(&owner, "owner", "", "who the demo is for (default: the current user)")
	cmd.Flags().StringVar(&release, "release", "", "the image the demo runs")
	cmd.Flags().StringVar(&from, "from", "qa", "the stage whose running release the demo runs, when --release is not given")
	return cmd
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

func demoListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--json]",
		Short: "List the demo stacks, soonest to expire first",
		Long:  "list shows every demo stack with its owner, release and expiry, and whether it has expired.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := openFleet(cmd)
			if err != nil {
				return err
			}
			demos, err := f.Demos(cmd.Context(), time.Now())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(demos)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
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
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func demoDestroyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "destroy NAME",
		Short: "Destroy a demo stack with its data, and remove it",
		Long:  "destroy deletes every resource of demo-NAME, its synthetic data included, and removes the stack.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withFleet(cmd, func(ctx context.Context, f *fleet.Fleet) error { return f.DestroyDemo(ctx, args[0]) })
		},
	}
}

func demoReapCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reap",
		Short: "Destroy every demo stack past its expiry; safe to run from a schedule",
		Long: `reap destroys each demo stack whose ExpiresAt has passed and keeps the others. It goes on past a demo
that fails to destroy, reports it, and exits 1; the next run retries it. A demo whose expiry cannot be
read is kept and reported.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withFleet(cmd, func(ctx context.Context, f *fleet.Fleet) error {
				r, err := f.Reap(ctx, time.Now())
				fmt.Fprintf(cmd.OutOrStdout(), "reaped %d demo(s), kept %d, failed %d\n", len(r.Destroyed), len(r.Kept), len(r.Failed))
				return err
			})
		},
	}
}
