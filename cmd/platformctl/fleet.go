package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Stages is the path a release takes, in order.
var Stages = []string{"dev", "test", "qa", "prod"}

// projectWorkspace opens a workspace of the project: the project directory with the real program, run
// by the pulumi CLI on the PATH against the backend env or the environment names (PULUMI_BACKEND_URL,
// or pulumi login), with env's AWS profile. What is missing for that is said in one line, as a refusal:
// nothing has changed.
func projectWorkspace(ctx context.Context, p *project.Project, env map[string]string) (auto.Workspace, error) {
	cli, err := exec.LookPath("pulumi")
	if err != nil {
		return nil, refusal.New("this command needs the Pulumi CLI (3.255 or newer) on the PATH; install it as https://www.pulumi.com/docs/iac/download-install/ says")
	}
	if runtime := p.RuntimeName(); runtime != "" {
		if err := languageHost(cli, runtime); err != nil {
			return nil, err
		}
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(p.Dir), auto.EnvVars(env))
	if err != nil {
		return nil, fmt.Errorf("opening the Pulumi workspace in %s: %s", p.Dir, firstLine(err))
	}
	if os.Getenv("PULUMI_BACKEND_URL") == "" && env["PULUMI_BACKEND_URL"] == "" {
		if _, err := ws.WhoAmI(ctx); err != nil {
			return nil, refusal.New("no Pulumi backend: log in with `pulumi login` (for regulated data, a state bucket of your own: pulumi login 's3://BUCKET?region=REGION&awssdk=v2') or set PULUMI_BACKEND_URL")
		}
	}
	return ws, nil
}

// languageHost checks that the CLI can run a program of runtime: its language host (pulumi-language-go
// for a Go program), which the official CLI ships beside itself, is there or on the PATH.
func languageHost(cli, runtime string) error {
	host := "pulumi-language-" + runtime
	if _, err := exec.LookPath(host); err == nil {
		return nil
	}
	if real, err := filepath.EvalSymlinks(cli); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(real), host)); err == nil {
			return nil
		}
	}
	return refusal.New("the project's runtime is %s, and the Pulumi CLI at %s has no language host %s beside it or on the PATH: the official CLI ships one; a CLI built from its Go module has none", runtime, cli, host)
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(strings.TrimSpace(err.Error()), "\n")
	return line
}

// openFleet finds the project and opens its fleet over d's workspace, with progress on stderr.
func openFleet(cmd *cobra.Command, d deps) (*fleet.Fleet, error) {
	p, err := findProject(cmd)
	if err != nil {
		return nil, err
	}
	for _, s := range Stages {
		if !p.HasStack(s) {
			return nil, refusal.New("the project has no Pulumi.%s.yaml; the stages are %v", s, Stages)
		}
	}
	accounts, err := accountStacks(p)
	if err != nil {
		return nil, err
	}
	f := &fleet.Fleet{
		Project: p, Stages: Stages, Accounts: accounts, Progress: d.stderr, User: d.user(), Now: d.now,
		Check: func(stack, release string) error { return preview.Check(p, stack, release) },
	}
	f.PolicyPacks, _ = cmd.Flags().GetStringSlice("policy-pack")
	if err := openWorkspaces(cmd.Context(), d, p, f); err != nil {
		return nil, err
	}
	if cmd.Flags().Lookup("policy-config") != nil {
		configFile, _ := cmd.Flags().GetString("policy-config")
		reportDir, _ := cmd.Flags().GetString("report-dir")
		f.Gate = gate(p, configFile, reportDir, d.now)
		if d.registry != nil {
			f.Registry = d.registry(p)
		}
	}
	return f, nil
}

// openWorkspaces opens a workspace per account of accounts.yaml that has a backend or profile of its
// own, for its stacks; the demos' account's (or the environment's) holds every other stack.
func openWorkspaces(ctx context.Context, d deps, p *project.Project, f *fleet.Fleet) error {
	accts, err := p.Accounts()
	if err != nil {
		return err
	}
	demos := map[string]string(nil)
	for _, a := range accts {
		if a.Demos {
			demos = a.Env()
		}
	}
	if f.Workspace, err = d.workspace(ctx, p, demos); err != nil {
		return err
	}
	f.Workspaces = map[string]auto.Workspace{}
	for _, a := range accts {
		if a.Demos {
			for _, s := range a.Stacks {
				f.Workspaces[s] = f.Workspace
			}
			continue
		}
		w := f.Workspace
		if env := a.Env(); len(env) > 0 {
			if w, err = d.workspace(ctx, p, env); err != nil {
				return fmt.Errorf("account %s: %w", a.Name, err)
			}
		}
		for _, s := range a.Stacks {
			f.Workspaces[s] = w
		}
	}
	return nil
}

// withGate adds the flags of the audit that gates a promotion, rollback or roll-forward.
func withGate(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().String("policy-config", "", "the policy pack's configuration `FILE` (JSON, as for --policy-pack-config: levels, parameters, waivers) the gate audits with")
	cmd.Flags().String("report-dir", "", "write each audited stage's report to `DIR`/audit-STAGE.md, the evidence of the promotion")
	cmd.Flags().Bool("force", false, "go on past a stage in front that has not run the release, and past a failed audit; needs --reason")
	cmd.Flags().String("reason", "", "the `REASON` the operation is forced, recorded in the stage's history; only with --force")
	return cmd
}

// forceOf is what --force and --reason say; --force needs a reason, and a reason needs --force.
func forceOf(cmd *cobra.Command) (fleet.Force, error) {
	force, _ := cmd.Flags().GetBool("force")
	reason, _ := cmd.Flags().GetString("reason")
	reason = strings.TrimSpace(reason)
	switch {
	case force && reason == "":
		return fleet.Force{}, refusal.New("--force needs --reason REASON: a forced operation records why, in the stage's history")
	case !force && reason != "":
		return fleet.Force{}, refusal.New("--reason is only for --force")
	}
	return fleet.Force{Reason: reason}, nil
}

// accountStacks are the project's stacks whose files make them their account's baseline.
func accountStacks(p *project.Project) ([]string, error) {
	all, err := p.Stacks()
	if err != nil {
		return nil, err
	}
	var accounts []string
	for _, s := range all {
		cfg, _, err := p.StackConfig(s)
		if err != nil {
			return nil, refusal.Of(err)
		}
		if cfg[p.Name+":accountBaseline"] == "true" {
			accounts = append(accounts, s)
		}
	}
	return accounts, nil
}

// withFleet opens the fleet and runs fn with a context that Ctrl-C cancels, so that an update stops
// cleanly (Pulumi finishes the operations in flight and records the state) instead of being killed.
func withFleet(cmd *cobra.Command, d deps, fn func(context.Context, *fleet.Fleet) error) error {
	f, err := openFleet(cmd, d)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	return fn(ctx, f)
}

// withPolicyPacks adds --policy-pack to a command that updates stacks.
func withPolicyPacks(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().StringSlice("policy-pack", nil, "a policy pack `PATH` every update runs with, such as the HIPAA pack's built analyzer (policy/bin/hipaa-policy); repeatable")
	return cmd
}
