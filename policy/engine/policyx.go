package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Sink receives structured findings. An analyzer server that passes a PolicyManager implementing it gets
// each finding whole (property, unknown, waiver, level) and the pack's full configuration for stack
// policies; any other PolicyManager gets the formatted message through ReportViolation.
type Sink interface {
	policyx.PolicyManager
	Finding(f Finding)
	Config() Config
}

// PolicyPack returns the rules as the Pulumi SDK's own policy values.
func (p *Pack) PolicyPack() (policyx.PolicyPack, error) {
	version, err := semver.Parse(p.Version)
	if err != nil {
		return nil, fmt.Errorf("pack %s: version %q: %w", p.Name, p.Version, err)
	}
	policies := make([]policyx.Policy, 0, len(p.rules))
	for _, rule := range p.rules {
		policies = append(policies, p.policy(rule))
	}
	return policyx.NewPolicyPack(p.Name, version, policyx.EnforcementLevelMandatory, policies)
}

// policy wraps one rule as a policyx policy: mandatory by default, configurable with the standard
// policy config (enforcementLevel, the rule's parameters, waivers).
func (p *Pack) policy(rule *Rule) policyx.Policy {
	if rule.IsStack() {
		return policyx.NewStackValidationPolicy(rule.ID, policyx.StackValidationPolicyArgs{
			Description:      rule.Description,
			EnforcementLevel: policyx.EnforcementLevelMandatory,
			ConfigSchema:     schema(rule),
			ValidateStack: func(_ context.Context, args policyx.StackValidationArgs) error {
				cfg := Config{}
				if s, ok := args.Manager.(Sink); ok {
					cfg = s.Config()
				}
				resources := make([]*Resource, 0, len(args.Resources))
				for _, r := range args.Resources {
					resources = append(resources, FromAnalyzer(r))
				}
				p.report(args.Manager, CheckStack(rule, NewStack(resources), cfg))
				return nil
			},
		})
	}
	return policyx.NewResourceValidationPolicy(rule.ID, policyx.ResourceValidationPolicyArgs{
		Description:      rule.Description,
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     schema(rule),
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if !rule.AppliesTo(args.Resource.Type) {
				return nil
			}
			var cfg Config
			if s, ok := args.Manager.(Sink); ok {
				cfg = s.Config()
			} else if rc, err := ruleConfig(rule, args.Config); err == nil {
				cfg = Config{Rules: map[string]RuleConfig{rule.ID: rc}}
			}
			p.report(args.Manager, CheckResource(rule, FromAnalyzer(args.Resource), cfg))
			return nil
		},
	})
}

// FromAnalyzer makes a Resource from what the engine sends an analyzer.
func FromAnalyzer(r policyx.AnalyzerResource) *Resource {
	return &Resource{URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent, Props: r.Properties,
		Dependencies: r.Dependencies, PropertyDependencies: r.PropertyDependencies,
		Options: Options{Protect: r.Options.Protect, DeleteBeforeReplace: r.Options.DeleteBeforeReplace, IgnoreChanges: r.Options.IgnoreChanges}}
}

func (p *Pack) report(m policyx.PolicyManager, findings []Finding) {
	for _, f := range findings {
		if s, ok := m.(Sink); ok {
			s.Finding(f)
			continue
		}
		m.ReportViolation(p.Message(f), f.URN)
	}
}

// Message renders a finding for the engine's output: what is wrong, where, the citations and the fix.
func (p *Pack) Message(f Finding) string {
	var b strings.Builder
	b.WriteString(f.Message)
	if f.Property != "" {
		fmt.Fprintf(&b, "\nProperty: %s", f.Property)
	}
	if rule := p.Rule(f.RuleID); rule != nil {
		fmt.Fprintf(&b, "\n%s: %s (severity %s)\nFix: %s", p.Framework.Name, p.Cite(rule.Citations), rule.Severity, rule.Fix)
	}
	if f.Waiver != nil {
		fmt.Fprintf(&b, "\nWaived until %s: %s", f.Waiver.Expires, f.Waiver.Reason)
	}
	return b.String()
}

// schema describes a rule's configuration for Pulumi: its parameters and waivers. Reasons and expiry
// dates are deliberately not required here: a waiver without them is reported as a violation, with a
// message, rather than refused by the CLI.
func schema(rule *Rule) *policyx.ConfigSchema {
	props := map[string]map[string]any{
		"waivers": {
			"type":        "array",
			"description": "resources exempted from this rule, each with a reason and an expiry date (YYYY-MM-DD)",
			"items": map[string]any{
				"type": "object",
				"properties": map[string]any{
					"resource": map[string]any{"type": "string"},
					"reason":   map[string]any{"type": "string"},
					"expires":  map[string]any{"type": "string"},
				},
			},
		},
	}
	for _, p := range rule.Params {
		switch p.Default.(type) {
		case int:
			props[p.Name] = map[string]any{"type": "integer", "minimum": 1, "default": p.Default, "description": p.Description}
		case []int:
			props[p.Name] = map[string]any{"type": "array", "items": map[string]any{"type": "integer"}, "description": p.Description}
		}
	}
	return &policyx.ConfigSchema{Properties: props}
}
