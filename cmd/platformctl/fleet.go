package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Stages is the path a release takes, in order.
var Stages = []string{"dev", "test", "qa", "prod"}

// newWorkspace opens the project's workspace: the project directory with the real program, run by the
// pulumi CLI on the PATH against the backend the environment names (PULUMI_BACKEND_URL, or pulumi
// login). Tests replace it with a workspace over an inline stand-in.
var newWorkspace = func(ctx context.Context, p *project.Project) (auto.Workspace, error) {
	return auto.NewLocalWorkspace(ctx, auto.WorkDir(p.Dir))
}

// openFleet finds the project and opens its fleet, with progress on stderr.
func openFleet(cmd *cobra.Command) (*fleet.Fleet, error) {
	dir, _ := cmd.Flags().GetString("dir")
	p, err := project.Find(dir)
	if err != nil {
		return nil, refusal.Of(err)
	}
	have, err := p.Stacks()
	if err != nil {
		return nil, err
	}
	for _, s := range Stages {
		if !slices.Contains(have, s) {
			return nil, fmt.Errorf("the project has no Pulumi.%s.yaml; the stages are %v", s, Stages)
		}
	}
	ws, err := newWorkspace(cmd.Context(), p)
	if err != nil {
		return nil, fmt.Errorf("opening the Pulumi workspace (is the pulumi CLI installed and logged in to the backend?): %w", err)
	}
	packs, _ := cmd.Flags().GetStringSlice("policy-pack")
	return &fleet.Fleet{Workspace: ws, Project: p.Name, Stages: Stages, Progress: cmd.ErrOrStderr(), PolicyPacks: packs}, nil
}

// withFleet opens the fleet and runs fn with a context that Ctrl-C cancels, so that an update stops
// cleanly (Pulumi finishes the operations in flight and records the state) instead of being killed; a
// refusal of the fleet is bad input.
func withFleet(cmd *cobra.Command, fn func(context.Context, *fleet.Fleet) error) error {
	f, err := openFleet(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	return fn(ctx, f)
}

// withPolicyPacks adds --policy-pack to a command that updates stacks.
func withPolicyPacks(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().StringSlice("policy-pack", nil, "a policy pack every update runs with, such as the HIPAA pack's built analyzer (policy/bin/hipaa-policy); repeatable")
	return cmd
}
