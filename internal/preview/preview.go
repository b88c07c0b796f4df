// Package preview runs the platform program for one of the project's stacks, with that stack's own
// Pulumi.<stack>.yaml (or, for a demo stack, the demo profile), under the SDK's mocks, and renders what it
// registered as a tree or as JSON. It also checks a stack's configuration with a release, with the
// program's own checks, before platformctl changes anything.
package preview

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
	"github.com/hipaa-platform/platform/stacks"
)

// DefaultRelease is the release an offline preview shows when the stack's file names none: a stack's
// running release is kept with the stack in its backend, which an offline preview does not read.
const DefaultRelease = "release-offline-preview"

// A demo stack previews with these in place of the owner and expiry that `platformctl demo create` sets;
// they are fixed, so two previews of a demo are alike.
const (
	DemoOwner  = "offline-preview"
	DemoExpiry = "2000-01-01T00:00:00Z"
)

// Stack runs the program for stack of project p and returns the resources it registers. release, when
// not empty, is the image the tiers run (hipaa:release); otherwise the stack file's, or DefaultRelease. A
// stack of the project, or a demo stack (demo-NAME) of its demo profile, previews; anything else, and
// every invalid value of its configuration at once, is a refusal.
func Stack(p *project.Project, stack, release string) ([]offline.Resource, error) {
	return run(p, stack, release, stacks.Run)
}

// Check runs the program's configuration checks for stack with release, and nothing else: what a
// deployment of that release would refuse, found before anything changes.
func Check(p *project.Project, stack, release string) error {
	_, err := run(p, stack, release, loadConfig)
	return err
}

// loadConfig is the part of the program that reads and checks the configuration.
func loadConfig(ctx *pulumi.Context) error {
	_, err := stacks.LoadConfig(ctx)
	return err
}

// run runs program for stack under mocks. Nothing runs with values the stack file got wrong: then only
// the program's own checks run, to report theirs in the same refusal.
func run(p *project.Project, stack, release string, program pulumi.RunFunc) ([]offline.Resource, error) {
	cfg, secrets, fileErr := config(p, stack, release)
	if cfg == nil {
		return nil, refusal.Of(fileErr)
	}
	if fileErr != nil {
		program = loadConfig
	}
	resources, err := offline.Run(offline.Options{
		Project: p.Name, Stack: stack, Region: cfg["aws:region"], Config: cfg, SecretKeys: secrets,
	}, program)
	if merged := project.Merge(stack, fileErr, err); merged != nil {
		return nil, refusal.Of(merged)
	}
	return resources, err
}

// config is the configuration stack's program receives, with release (or the stack's own, or
// DefaultRelease) as the image the tiers run; an account stack's runs none unless one is asked for.
func config(p *project.Project, stack, release string) (map[string]string, []string, error) {
	var cfg map[string]string
	var secrets []string
	var err error
	if name, demo := project.DemoName(stack); demo && !p.HasStack(stack) {
		cfg, secrets, err = p.DemoConfig(project.Demo{Name: name, Owner: DemoOwner, ExpiresAt: DemoExpiry, Release: release})
	} else {
		cfg, secrets, err = p.StackConfig(stack)
	}
	if cfg == nil {
		return nil, nil, err
	}
	key := p.Name + ":release"
	switch {
	case release != "":
		cfg[key] = release
	case cfg[key] == "" && cfg[p.Name+":accountBaseline"] != "true": // an account stack runs none
		cfg[key] = DefaultRelease
	}
	return cfg, secrets, err
}

// Region is the AWS region stack deploys to, from its configuration; empty when it has none.
func Region(p *project.Project, stack string) string {
	cfg, _, _ := config(p, stack, "")
	return cfg["aws:region"]
}
