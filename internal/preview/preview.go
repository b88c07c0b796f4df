// Package preview runs the platform program for one of the project's stacks, with that stack's own
// Pulumi.<stack>.yaml, under the SDK's mocks, and renders what it registered as a tree or as JSON.
package preview

import (
	"errors"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
	"github.com/hipaa-platform/platform/stacks"
)

// DefaultRelease is the release an offline preview shows when the stack's file names none: a stack's
// running release is kept with the stack in its backend, which an offline preview does not read.
const DefaultRelease = "release-offline-preview"

// Stack runs the program for stack of project p and returns the resources it registers. release, when
// not empty, is the image the tiers run (hipaa:release); otherwise the stack file's, or DefaultRelease.
func Stack(p *project.Project, stack, release string) ([]offline.Resource, error) {
	cfg, secrets, err := p.StackConfig(stack)
	if err != nil {
		return nil, refusal.Of(err)
	}
	key := p.Name + ":release"
	switch {
	case release != "":
		cfg[key] = release
	case cfg[key] == "":
		cfg[key] = DefaultRelease
	}
	resources, err := offline.Run(offline.Options{
		Project:    p.Name,
		Stack:      stack,
		Region:     cfg["aws:region"],
		Config:     cfg,
		SecretKeys: secrets,
	}, stacks.Run)
	var cfgErr *stacks.ConfigError
	if errors.As(err, &cfgErr) {
		return resources, refusal.Of(cfgErr)
	}
	return resources, err
}
