package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/policy/report"
)

func auditCmd(d deps) *cobra.Command {
	var o audit.Options
	cmd := &cobra.Command{
		Use:   "audit (--stack NAME | --resources FILE) [--format FORMAT] [--config FILE] [--output FILE]",
		Short: "Check a stack, or a preview's resources, against the HIPAA policy pack",
		Long: `audit evaluates the HIPAA policy pack in-process, with the same rules pulumi preview runs through the
pack's analyzer: over a stack of this project (its program run offline under mocks, as preview does; a
demo stack demo-NAME from the demo profile), or over a file written by "platformctl preview --json". It
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
	cmd.Flags().StringVar(&o.Format, "format", "text", "the report's `FORMAT`: "+strings.Join(report.Formats, ", "))
	cmd.Flags().StringVar(&o.ConfigFile, "config", "", "the policy pack's configuration `FILE` (JSON, as for --policy-pack-config)")
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the report to `FILE` instead of standard output")
	return cmd
}
