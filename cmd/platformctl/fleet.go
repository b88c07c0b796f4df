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

// projectWorkspace opens the project's workspace: the project directory with the real program, run by
// the pulumi CLI on the PATH against the backend the environment names (PULUMI_BACKEND_URL, or pulumi
// login). What is missing for that is said in one line, as a refusal: nothing has changed.
func projectWorkspace(ctx context.Context, p *project.Project) (auto.Workspace, error) {
	cli, err := exec.LookPath("pulumi")
	if err != nil {
		return nil, refusal.New("this command needs the Pulumi CLI (3.255 or newer) on the PATH; install it as https://www.pulumi.com/docs/iac/download-install/ says")
	}
	if runtime := p.RuntimeName(); runtime != "" {
		if err := languageHost(cli, runtime); err != nil {
			return nil, err
		}
	}
	ws, err := auto.NewLocalWorkspace(ctx, auto.WorkDir(p.Dir))
	if err != nil {
		return nil, fmt.Errorf("opening the Pulumi workspace in %s: %s", p.Dir, firstLine(err))
	}
	if os.Getenv("PULUMI_BACKEND_URL") == "" {
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
	ws, err := d.workspace(cmd.Context(), p)
	if err != nil {
		return nil, err
	}
	packs, _ := cmd.Flags().GetStringSlice("policy-pack")
	return &fleet.Fleet{
		Workspace: ws, Project: p, Stages: Stages, Accounts: accounts, Progress: d.stderr, PolicyPacks: packs,
		Check: func(stack, release string) error { return preview.Check(p, stack, release) },
	}, nil
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
