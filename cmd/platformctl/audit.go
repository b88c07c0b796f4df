package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
	"github.com/hipaa-platform/platform/policy/report"
)

func auditCmd(d deps) *cobra.Command {
	var o audit.Options
	cmd := &cobra.Command{
		Use:   "audit (--stack NAME [--deployed] | --resources FILE | --state FILE) [--format FORMAT] [--config FILE] [--output FILE]",
		Short: "Check a stack, a preview's resources or a deployed state against the HIPAA policy pack",
		Long: `audit evaluates the HIPAA policy pack in-process, with the same rules pulumi preview runs through the
pack's analyzer: over a stack of this project (its program run offline under mocks, as preview does; a
demo stack demo-NAME from the demo profile), over a file written by "platformctl preview --json", or
over a deployed state: a file written by "pulumi stack export" (--state), or the stack's own state,
exported from its backend (--stack NAME --deployed; the account's backend of accounts.yaml). A deployed
resource is checked on its inputs, with the outputs its inputs lack beside them; run "pulumi refresh"
first for the state to be what the account has. An audit of a deployed state adds a drift section: the
resources and properties where the state and the program's preview of the same stack differ. It
prints every finding with its rule, HIPAA citation, resource URN and fix; waived findings are shown,
never hidden. Every report states the program it audited (the commit, for a stack of a git checkout)
and the configuration in force: the rules disabled or made advisory, the parameters changed, and each
waiver with what it matched.

Formats: text (default), json, markdown (a report to file with an audit: safeguards by citation, rules,
findings, waivers and a Mermaid diagram of the network and data flows), sarif (for code scanning).
--config takes the pack's configuration in the --policy-pack-config form: enforcement levels,
parameters and waivers (each with a reason and an expiry within a year, or the term set under
policy-waivers-valid maximumTermDays). A configuration that enables no rule is refused. --output writes
the report whole or not at all, and never over a file the audit reads.

Exit status: 0 when no mandatory rule fails, 1 when one does, 2 on bad input.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Stack != "" {
				p, err := findProject(cmd)
				if err != nil {
					return err
				}
				o.Project = p
			} else if o.State != "" {
				// The drift needs the program; outside the project the state is audited without it.
				if p, err := findProject(cmd); err == nil {
					o.Project = p
				}
			}
			if o.Deployed && o.Project != nil {
				o.Export = func(stack string) ([]byte, error) { return exportStack(cmd.Context(), d, o.Project, stack) }
			}
			o.Now = d.now()
			failed, err := audit.Run(o, d.stdout)
			if err == nil && failed {
				return errViolations
			}
			return err
		},
	}
	cmd.Flags().StringVar(&o.Stack, "stack", "", "a `STACK` of this project to audit (its program is run offline)")
	cmd.Flags().StringVar(&o.Resources, "resources", "", "a `FILE` written by `platformctl preview --json` to audit")
	cmd.Flags().StringVar(&o.State, "state", "", "a `FILE` written by `pulumi stack export` to audit, with its drift from the program")
	cmd.Flags().BoolVar(&o.Deployed, "deployed", false, "audit the --stack's deployed state, exported from its backend, with its drift from the program")
	cmd.Flags().StringVar(&o.Format, "format", "text", "the report's `FORMAT`: "+strings.Join(report.Formats, ", "))
	cmd.Flags().StringVar(&o.ConfigFile, "config", "", "the policy pack's configuration `FILE` (JSON, as for --policy-pack-config)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the report to `FILE` instead of standard output")
	return cmd
}

// exportStack is what `pulumi stack export` prints for stack, from the backend of the account that
// holds it (accounts.yaml; the demos' account's, or the environment's, for any other).
func exportStack(ctx context.Context, d deps, p *project.Project, stack string) ([]byte, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	accts, err := p.Accounts()
	if err != nil {
		return nil, err
	}
	a, ok := project.AccountOf(accts, stack)
	if !ok { // a stack no account names is the demos' account's, as openWorkspaces has it
		for _, demos := range accts {
			if demos.Demos {
				a = demos
			}
		}
	}
	ws, err := d.workspace(ctx, p, a.Env())
	if err != nil {
		return nil, err
	}
	exported, err := audit.Export(ctx, ws, stack)
	if err != nil {
		return nil, refusal.New("stack %s has no deployed state to audit in its backend: %s", stack, firstLine(err))
	}
	return exported, nil
}
