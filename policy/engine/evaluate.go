package engine

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// WaiverRuleID reports waivers that exempt nothing because they are expired, reasonless or malformed.
const WaiverRuleID = "policy-waivers-valid"

// Report is what an evaluation found, with what each rule checked.
type Report struct {
	// Findings in rule, then URN order.
	Findings []Finding
	// Checked counts, per rule ID, the resources it looked at.
	Checked map[string]int
	// Levels is the enforcement level each rule ran at; disabled rules are absent from Checked.
	Levels map[string]Level
	// Resources is how many resources were evaluated.
	Resources int
}

// Blocking reports whether a finding fails the evaluation: mandatory, known, not waived.
func (f Finding) Blocking() bool { return f.Level == Mandatory && !f.Unknown && f.Waiver == nil }

// Failed reports whether any finding is blocking.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Findings, Finding.Blocking)
}

// waivers are one rule's valid waivers, compiled.
type waivers []compiledWaiver

type compiledWaiver struct {
	Waiver
	re *regexp.Regexp
}

func compile(rule string, cfg Config) (waivers, []Finding) {
	var valid waivers
	var invalid []Finding
	for _, w := range cfg.Rules[rule].Waivers {
		if p := w.problem(cfg.now()); p != "" {
			invalid = append(invalid, Finding{RuleID: WaiverRuleID, URN: w.Resource, Property: rule + ".waivers",
				Message: fmt.Sprintf("the waiver of %s for %q %s, so it exempts nothing", rule, w.Resource, p), Level: Mandatory})
			continue
		}
		valid = append(valid, compiledWaiver{w, w.compiled()})
	}
	return valid, invalid
}

func (ws waivers) find(urn, name string) *Waiver {
	for i := range ws {
		if ws[i].Resource == urn || ws[i].re.MatchString(urn) || (name != "" && ws[i].re.MatchString(name)) {
			return &ws[i].Waiver
		}
	}
	return nil
}

// settle gives each finding its level and waiver.
func settle(findings []Finding, level Level, ws waivers, names func(string) string) []Finding {
	for i := range findings {
		f := &findings[i]
		f.Level = level
		if f.Unknown {
			f.Level = Advisory
		}
		f.Waiver = ws.find(f.URN, names(f.URN))
	}
	return findings
}

// run calls a rule's check and turns a panic into a finding: a broken rule is reported, never fatal, and
// never silently passes.
func run(rule *Rule, params Params, urn string, body func(c *Check)) (findings []Finding) {
	c := &Check{rule: rule, params: params, urn: urn}
	defer func() {
		if p := recover(); p != nil {
			findings = append(c.findings, Finding{RuleID: rule.ID, URN: urn,
				Message: fmt.Sprintf("the rule failed (%v), so compliance could not be established", p)})
		}
	}()
	body(c)
	return c.findings
}

// CheckResource runs one resource rule on one resource with one rule's configuration: the analyzer's
// per-resource path.
func CheckResource(rule *Rule, r *Resource, cfg Config) []Finding {
	ws, _ := compile(rule.ID, cfg)
	f := run(rule, Params{cfg}, r.URN, func(c *Check) { rule.Resource(c, r) })
	return settle(f, cfg.level(rule.ID), ws, func(string) string { return r.Name })
}

// CheckStack runs one stack rule: the analyzer's whole-stack path.
func CheckStack(rule *Rule, s *Stack, cfg Config) []Finding {
	ws, _ := compile(rule.ID, cfg)
	f := run(rule, Params{cfg}, "", func(c *Check) { rule.Stack(c, s) })
	return settle(f, cfg.level(rule.ID), ws, s.name)
}

func (s *Stack) name(urn string) string {
	if r := s.byURN[urn]; r != nil {
		return r.Name
	}
	return ""
}

// InvalidWaivers reports every waiver in cfg that exempts nothing.
func InvalidWaivers(cfg Config) []Finding {
	var out []Finding
	for _, id := range slices.Sorted(maps.Keys(cfg.Rules)) {
		_, bad := compile(id, cfg)
		out = append(out, bad...)
	}
	return out
}

// Evaluate runs every enabled rule of the pack over resources: each resource rule on the resources of
// its types, then each stack rule once over them all.
func (p *Pack) Evaluate(resources []*Resource, cfg Config) *Report {
	rep := &Report{Checked: map[string]int{}, Levels: map[string]Level{}, Resources: len(resources)}
	byType := map[string][]*Rule{}
	for _, rule := range p.rules {
		level := cfg.level(rule.ID)
		if level == Disabled {
			continue
		}
		rep.Levels[rule.ID] = level
		rep.Checked[rule.ID] = 0
		if !rule.IsStack() {
			for _, t := range rule.Types {
				byType[t] = append(byType[t], rule)
			}
		}
	}
	stack := NewStack(resources)
	compiled := map[string]waivers{}
	for id := range rep.Levels {
		compiled[id], _ = compile(id, cfg)
	}
	params := Params{cfg}
	for _, r := range resources {
		for _, rule := range byType[r.Type] {
			rep.Checked[rule.ID]++
			f := run(rule, params, r.URN, func(c *Check) { rule.Resource(c, r) })
			if len(f) > 0 {
				rep.Findings = append(rep.Findings, settle(f, rep.Levels[rule.ID], compiled[rule.ID], stack.name)...)
			}
		}
	}
	for _, rule := range p.rules {
		if !rule.IsStack() || rep.Levels[rule.ID] == "" {
			continue
		}
		for _, t := range rule.Types {
			rep.Checked[rule.ID] += len(stack.OfType(t))
		}
		f := run(rule, params, "", func(c *Check) { rule.Stack(c, stack) })
		rep.Findings = append(rep.Findings, settle(f, rep.Levels[rule.ID], compiled[rule.ID], stack.name)...)
	}
	rep.Findings = append(rep.Findings, InvalidWaivers(cfg)...)
	SortFindings(rep.Findings)
	return rep
}

// SortFindings orders findings by rule, URN, property and message.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return strings.Compare(a.RuleID+"\x00"+a.URN+"\x00"+a.Property+"\x00"+a.Message,
			b.RuleID+"\x00"+b.URN+"\x00"+b.Property+"\x00"+b.Message)
	})
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
