package engine

import (
	"errors"
	"fmt"
	"strings"
)

// Framework is the body of requirements a pack's rules enforce, and how its citations are written.
type Framework struct {
	// Name and Version name it, as the engine's compliance metadata does ("HIPAA", "45 CFR 164 Subpart C").
	Name, Version string
	// Cite renders a rule's citations for people ("45 CFR 164.312(b)"). Optional; by default they are
	// joined with commas.
	Cite func(citations []string) string
	// Sections names each section the rules cite ("164.312(b)": "Audit controls"). Optional.
	Sections map[string]string
}

// Pack is a named, versioned set of rules and the framework they enforce. It is built once and only
// read after that, so the analyzer, the audit and the tests share one.
type Pack struct {
	// Name and Version identify the pack to Pulumi (PulumiPolicy.yaml repeats them).
	Name, Version string
	// DisplayName and Description say what it is, for the engine's policy listing.
	DisplayName, Description string
	Framework                Framework

	rules []*Rule
	byID  map[string]*Rule
}

// NewPack checks the rules and makes the pack: every rule has an ID of its own, a description,
// citations, a severity and a fix, and exactly one of Resource and Stack; a resource rule names the
// types it looks at.
func NewPack(p Pack, rules []*Rule) (*Pack, error) {
	p.rules = rules
	p.byID = make(map[string]*Rule, len(rules))
	var errs []error
	if p.Name == "" || p.Version == "" {
		errs = append(errs, errors.New("the pack has no name or version"))
	}
	for i, r := range rules {
		what := fmt.Sprintf("rule %d (%s)", i, r.ID)
		switch {
		case r.ID == "" || r.ID == WaiverRuleID || r.ID == allRules:
			errs = append(errs, fmt.Errorf("%s: the ID is empty or reserved", what))
		case p.byID[r.ID] != nil:
			errs = append(errs, fmt.Errorf("%s: the ID is used twice", what))
		case r.Description == "" || r.Fix == "" || len(r.Citations) == 0 || r.Severity == "":
			errs = append(errs, fmt.Errorf("%s: a rule needs a description, citations, a severity and a fix", what))
		case (r.Resource == nil) == (r.Stack == nil):
			errs = append(errs, fmt.Errorf("%s: set exactly one of Resource and Stack", what))
		case r.Resource != nil && len(r.Types) == 0:
			errs = append(errs, fmt.Errorf("%s: a resource rule names the types it looks at", what))
		}
		p.byID[r.ID] = r
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &p, nil
}

// Rules returns every rule, in report order.
func (p *Pack) Rules() []*Rule { return p.rules }

// Rule returns the rule with an ID, or nil.
func (p *Pack) Rule(id string) *Rule { return p.byID[id] }

// IDs lists the rules' IDs, in report order.
func (p *Pack) IDs() []string {
	ids := make([]string, len(p.rules))
	for i, r := range p.rules {
		ids[i] = r.ID
	}
	return ids
}

// Cite renders citations in the framework's form.
func (p *Pack) Cite(citations []string) string {
	if p.Framework.Cite != nil {
		return p.Framework.Cite(citations)
	}
	return strings.Join(citations, ", ")
}
