package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/plan"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// planOptions are what plan looks at.
type planOptions struct {
	stacks  []string
	account string
	online  bool
}

func planCmd(d deps) *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan (--stack NAME [--stack NAME...] | --account NAME) [--online]",
		Short: "Say what a stack needs before its first deployment: quotas, zones, and a model of its stand-up time",
		Long: `plan previews each stack offline and prints what its first ` + "`pulumi up`" + ` needs: the AWS quotas it
consumes at its largest (each Auto Scaling group at its maximum size and at its surge during an instance
refresh) against AWS's defaults, marking those to raise first; the zones, instance types and endpoint
services it assumes; and the modeled time to stand it up from empty, the critical path through its
dependency graph weighted by typical creation times (a model, with its sources in internal/plan).

Several --stack flags plan stacks that share an account and region (dev, test and qa in the
non-production account): their quotas are added up. --account plans every stack accounts.yaml puts in
that account, together.

--online, with AWS credentials for the stack's account, reads the account's applied quotas with Service
Quotas and checks each zone's instance types and endpoint services with EC2, through the AWS CLI.

Exit status: 0 when the plans are printed (offline) or everything fits the account (online); 1 when,
online, a quota must be raised or a zone lacks what a stack uses; 2 when a stack is refused.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := findProject(cmd)
			if err != nil {
				return err
			}
			var check checker
			if o.online {
				check = func(ctx context.Context, args ...string) ([]byte, error) { return awsCLI(ctx, nil, args...) }
			}
			stacks, err := planned(p, o)
			if err != nil {
				return err
			}
			return runPlan(cmd.Context(), d.stdout, p, stacks, check)
		},
	}
	cmd.Flags().StringArrayVar(&o.stacks, "stack", nil, "a `STACK` to plan: account-nonprod, account-prod, dev, test, qa, prod, or a demo stack demo-NAME; repeat for stacks of one account")
	cmd.Flags().StringVar(&o.account, "account", "", "plan every stack of the `ACCOUNT` that accounts.yaml names (nonprod, prod) together")
	cmd.Flags().BoolVar(&o.online, "online", false, "check against the account with the AWS CLI and the caller's credentials")
	return cmd
}

// planned are the stacks o asks for: --stack's, or --account's from accounts.yaml.
func planned(p *project.Project, o planOptions) ([]string, error) {
	if o.account == "" {
		return o.stacks, nil
	}
	if len(o.stacks) > 0 {
		return nil, refusal.New("give --stack or --account, not both")
	}
	accts, err := p.Accounts()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range accts {
		if a.Name == o.account {
			return a.Stacks, nil
		}
		names = append(names, a.Name)
	}
	return nil, refusal.New("--account %q: %s names the accounts %s", o.account, project.AccountsFile, strings.Join(names, ", "))
}

// checker runs the AWS CLI's command args and returns its standard output.
type checker func(ctx context.Context, args ...string) ([]byte, error)

// awsCLI runs the AWS CLI on the PATH with the caller's credentials and env added (an account's
// AWS_PROFILE), and returns its JSON output; a failure carries the CLI's own message.
func awsCLI(ctx context.Context, env map[string]string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "aws", append(args, "--output", "json")...)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil, fmt.Errorf("aws %s: %s", strings.Join(args[:min(2, len(args))], " "), strings.TrimSpace(string(ee.Stderr)))
	}
	return out, err
}

// errQuotas makes plan exit 1 once it has printed what does not fit.
var errQuotas = errors.New("the stacks need more than the account offers: raise those quotas or change the zones before the first up")

// runPlan plans stacks of p and writes the plans; with check, against the account.
func runPlan(ctx context.Context, out io.Writer, p *project.Project, stacks []string, check checker) error {
	if len(stacks) == 0 {
		names, _ := p.Stacks()
		return refusal.New("--stack is required; the stacks are %s, or a demo stack %sNAME", strings.Join(names, ", "), project.DemoPrefix)
	}
	var plans []plan.Plan
	for _, s := range stacks {
		resources, err := preview.Stack(p, s, "")
		if err != nil {
			return err
		}
		pl, err := plan.Make(s, preview.Region(p, s), resources)
		if err != nil {
			return err
		}
		if len(plans) > 0 && pl.Region != plans[0].Region {
			return refusal.New("--stack %s is in %s and %s in %s: plan together only stacks of one region", s, pl.Region, plans[0].Stack, plans[0].Region)
		}
		plans = append(plans, pl)
	}
	w := bufio.NewWriter(out)
	defer w.Flush()
	for i, pl := range plans {
		if i > 0 {
			fmt.Fprintln(w)
		}
		pl.Write(w)
	}
	uses := plans[0].Uses
	if len(plans) > 1 {
		uses = plan.Sum(plans)
		fmt.Fprintf(w, "\nTogether (%s), in one account and region:\n", strings.Join(stacks, ", "))
		plan.WriteQuotas(w, uses, false)
	}
	if check == nil {
		return nil // offline, an account's applied quotas are unknown: RAISE marks what is above AWS's defaults
	}
	findings, err := plan.Check(ctx, plans[0].Region, uses, plans, plan.Runner(check))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nAgainst the account (online):\n")
	for _, f := range findings {
		fmt.Fprintf(w, "  %s\n", f)
	}
	if len(findings) > 0 {
		return errQuotas
	}
	fmt.Fprintf(w, "  every quota and zone fits\n")
	return nil
}
