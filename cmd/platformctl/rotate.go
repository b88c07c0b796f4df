package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func rotateCmd(d deps) *cobra.Command {
	var what string
	var complete bool
	c := &cobra.Command{
		Use:   "rotate --stack STACK --what app|monitoring|ca [--complete]",
		Short: "Rotate a stack's database credential or internal CA now, with no failed client connection",
		Long: fmt.Sprintf(`rotate changes a client's database credential now, as its schedule does every %d days, through Systems
Manager on the cluster's leader, or its one host (hipaa-db rotate): --what app the application's, --what monitoring the
monitoring host's. Each has two login roles that take turns: the one not in use gets a new password, the
secret names it, and the previous one's password still admits new connections for %d minutes, while
every client host reads the new credential (within 15 minutes); PostgreSQL refuses it after that by
itself. A rotation within another's overlap is refused: a client may still hold the credential it would
change.

--complete ends the overlap now, for a credential that must stop working at once (a leak): a client
that has not read the new credential yet fails to connect until it does.

--what ca takes the next of the three steps that replace the database cluster's internal CA, each a
change of the stack's hipaa:dbCAGenerations in Pulumi.<stack>.yaml, to preview and apply as any other:
trust (a new CA trusted beside the old one), issue (every host's certificate signed by the new CA), drop
(the old CA no longer trusted). Apply each, and let it reach every host (their converge runs, within 15
minutes) and the web and engine tiers (their instance refresh) before the next: then no host or client
ever meets a certificate it does not trust.`, database.RotationEveryDays, database.RotationOverlapSeconds/60),
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := findProject(cmd)
			if err != nil {
				return err
			}
			if what == "ca" {
				return rotateCA(d, p, cmd)
			}
			if !slices.Contains(database.RotatedCredentials, what) {
				return refusal.New("--what %q: want one of %s, ca", what, strings.Join(database.RotatedCredentials, ", "))
			}
			stack, _ := cmd.Flags().GetString("stack")
			t, err := dbTargetOf(p, stack, true)
			if err != nil {
				return err
			}
			// The leader rotates: it alone may change a role, and the others refuse. A cluster of one
			// host has no Patroni to ask: its host is the primary, and refuses if it is not.
			leader := t.Hosts[0]
			if len(t.Hosts) > 1 {
				s, host, err := askStatus(cmd.Context(), d, t, "")
				if err != nil {
					return err
				}
				if leader = leaderOf(s); leader == "" {
					return refusal.New("%s has no running leader (asked on %s): see platformctl db status", stack, host)
				}
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
	c.Flags().StringVar(&what, "what", "", "`WHAT` to rotate: app (the application's credential), monitoring (the monitoring host's) or ca (the cluster's internal CA, one step)")
	c.Flags().BoolVar(&complete, "complete", false, "end the last rotation's overlap now: the previous credential stops working at once")
	return c
}

// caKey is the stack setting that lists a cluster's CA generations.
const caKey = "dbCAGenerations"

// rotateCA writes the CA rotation's next step into the stack's settings and says what it does and what
// to do next.
func rotateCA(d deps, p *project.Project, cmd *cobra.Command) error {
	if complete, _ := cmd.Flags().GetBool("complete"); complete {
		return refusal.New("--complete: applies to a credential's overlap; a CA's overlap ends with its drop step")
	}
	stack, _ := cmd.Flags().GetString("stack")
	if stack == "" {
		names, _ := p.Stacks()
		return refusal.New("--stack is required; the stacks are %s", strings.Join(names, ", "))
	}
	cfg, _, err := p.StackConfig(stack)
	if err != nil {
		return refusal.Of(err)
	}
	var gens []string
	if raw := cfg[p.Name+":"+caKey]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &gens); err != nil {
			return refusal.New("%s:%s: got %s, want a list of generations", p.Name, caKey, raw)
		}
	}
	step, err := database.NextCAStep(gens, d.now())
	if err != nil {
		return refusal.New("%s:%s: %v", p.Name, caKey, err)
	}
	if err := p.SetStackValue(stack, caKey, step.Next); err != nil {
		return err
	}
	next := "then run this command again for the next step"
	if step.Name == "drop" {
		next = "that ends the rotation"
	}
	fmt.Fprintf(d.stdout, "%s: step %s: %s:%s is now %s: %s.\nPreview and apply it (pulumi up --stack %s), wait until every database and monitoring host has converged (15 minutes) and the web and engine tiers' instance refresh has finished; %s.\n",
		stack, step.Name, p.Name, caKey, strings.Join(step.Next, ", "), step.Says, stack, next)
	return nil
}
