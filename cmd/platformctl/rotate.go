package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func rotateCmd(d deps) *cobra.Command {
	var what string
	var complete bool
	c := &cobra.Command{
		Use:   "rotate --stack STACK --what app|monitoring [--complete]",
		Short: "Rotate a stack's database credential now, with no failed client connection",
		Long: fmt.Sprintf(`rotate changes a client's database credential now, as its schedule does every %d days, through Systems
Manager on the cluster's leader (hipaa-db rotate): --what app the application's, --what monitoring the
monitoring host's. Each has two login roles that take turns: the one not in use gets a new password, the
secret names it, and the previous one's password still admits new connections for %d minutes, while
every client host reads the new credential (within 15 minutes); PostgreSQL refuses it after that by
itself. A rotation within another's overlap is refused: a client may still hold the credential it would
change.

--complete ends the overlap now, for a credential that must stop working at once (a leak): a client
that has not read the new credential yet fails to connect until it does.`, database.RotationEveryDays, database.RotationOverlapSeconds/60),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := findProject(cmd)
			if err != nil {
				return err
			}
			if !slices.Contains(database.RotatedCredentials, what) {
				return refusal.New("--what %q: want one of %s", what, strings.Join(database.RotatedCredentials, ", "))
			}
			stack, _ := cmd.Flags().GetString("stack")
			t, err := dbTargetOf(p, stack, false)
			if err != nil {
				return err
			}
			// The leader rotates: it alone may change a role, and the others refuse.
			s, host, err := askStatus(cmd.Context(), d, t, "")
			if err != nil {
				return err
			}
			leader := leaderOf(s)
			if leader == "" {
				return refusal.New("%s has no running leader (asked on %s): see platformctl db status", stack, host)
			}
			command := []string{hipaaDB, "rotate", what}
			if complete {
				command = append(command, "--complete")
			}
			stdout, stderr, code, err := d.onHost(cmd.Context(), t, leader, command)
			switch {
			case err != nil:
				return fmt.Errorf("rotate %s on %s, the leader of %s: %w", what, leader, stack, err)
			case code == 2:
				return refusal.New("rotate %s of %s on %s: %s", what, stack, leader, refusedBecause(stderr))
			case code != 0:
				return fmt.Errorf("rotate %s of %s on %s: exit %d: %s", what, stack, leader, code, strings.TrimSpace(stderr+stdout))
			}
			fmt.Fprintf(d.stdout, "%s (on %s)\n", strings.TrimSpace(stdout), leader)
			return nil
		},
	}
	c.Flags().String("stack", "", "the `STACK` whose credential to rotate")
	c.Flags().StringVar(&what, "what", "", "`WHAT` to rotate: app (the application's credential) or monitoring (the monitoring host's)")
	c.Flags().BoolVar(&complete, "complete", false, "end the last rotation's overlap now: the previous credential stops working at once")
	return c
}
