package engine

import (
	"fmt"
	"slices"
)

// Severity ranks a violation by the harm it allows.
type Severity string

// Severities, highest first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Rule is one policy of the pack.
type Rule struct {
	// ID names the rule: <service>-<resource>-<what>.
	ID string
	// Description says in one line what a compliant stack has.
	Description string
	// Citations are the sections of 45 CFR Part 164 the rule enforces ("164.312(b)"), or "project" for a
	// safeguard of the platform's own.
	Citations []string
	// Severity ranks a violation.
	Severity Severity
	// Fix says in words how to comply.
	Fix string
	// Types are the resource types a resource rule looks at; empty for a stack rule.
	Types []string
	// Params declares the rule's parameters and their defaults, settable in the pack's config.
	Params []Param
	// Scanners are the checks of the same control that scanners of the deployed account run, so that a
	// report before deployment and one after speak of the same controls. Optional.
	Scanners Scanners

	// Resource checks one resource of one of Types. Exactly one of Resource and Stack is set.
	Resource func(c *Check, r *Resource)
	// Stack checks relations between the resources of a stack.
	Stack func(c *Check, s *Stack)
}

// Scanners names a control's checks in the scanners auditors run against a live account.
type Scanners struct {
	// ConfigRules are AWS Config managed rules, by the names AWS Config reports them under
	// (s3-default-encryption-kms).
	ConfigRules []string
	// Prowler are Prowler's AWS check IDs (s3_bucket_kms_encryption).
	Prowler []string
}

// Param is a rule parameter.
type Param struct {
	Name        string
	Description string
	// Default is an int or a []int.
	Default any
}

// IsStack reports whether the rule relates resources.
func (r *Rule) IsStack() bool { return r.Stack != nil }

// AppliesTo reports whether a resource rule looks at resources of typ.
func (r *Rule) AppliesTo(typ string) bool { return slices.Contains(r.Types, typ) }

// Finding is one thing a rule found.
type Finding struct {
	RuleID string `json:"rule"`
	URN    string `json:"urn"`
	// Property is the property at fault, as a path ("rules[0].applyServerSideEncryptionByDefault.sseAlgorithm"),
	// or empty when the resource as a whole is at fault.
	Property string `json:"property,omitempty"`
	// Message says exactly what is wrong.
	Message string `json:"message"`
	// Unknown marks a finding about a value not known until deployment: reported as advisory, neither
	// passed nor failed.
	Unknown bool `json:"unknown,omitempty"`
	// Level is the enforcement level the finding is reported at.
	Level Level `json:"level"`
	// Waiver is the waiver that exempts this finding, if any; a waived finding is still shown.
	Waiver *Waiver `json:"waiver,omitempty"`
}

// Check collects what one rule finds about one resource or stack.
type Check struct {
	rule     *Rule
	params   Params
	urn      string
	findings []Finding
	// shared is the evaluation's cache of what rules derive from content (Derive); nil outside one.
	shared *shared
}

// Fail reports a violation of the checked resource's property.
func (c *Check) Fail(property, format string, args ...any) {
	c.FailOn(c.urn, property, format, args...)
}

// FailOn reports a violation on another resource, for stack rules.
func (c *Check) FailOn(urn, property, format string, args ...any) {
	c.findings = append(c.findings, Finding{RuleID: c.rule.ID, URN: urn, Property: property, Message: fmt.Sprintf(format, args...)})
}

// Unknown reports that a deciding property is not known until deployment.
func (c *Check) Unknown(property string) {
	c.UnknownOn(c.urn, property)
}

// UnknownOn reports an unknown deciding property of another resource.
func (c *Check) UnknownOn(urn, property string) {
	c.findings = append(c.findings, Finding{RuleID: c.rule.ID, URN: urn, Property: property, Unknown: true,
		Message: property + " cannot be known during preview; it is checked again on the deployed stack"})
}

// Int returns an integer parameter of the rule.
func (c *Check) Int(name string) int { return c.params.Int(c.rule, name) }

// Ints returns an integer list parameter of the rule.
func (c *Check) Ints(name string) []int { return c.params.Ints(c.rule, name) }
