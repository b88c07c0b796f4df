package engine

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hipaa-platform/platform/internal/contentcache"
)

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
	// Configuration is the configuration the rules ran with, as a report states it.
	Configuration InForce
}

// InForce is the configuration of an evaluation where it differs from the pack's defaults: the rules
// disabled or made advisory, the parameters set, the waiver term, and every waiver with what it matched,
// so that a report cannot pass without saying what it did not enforce.
type InForce struct {
	Disabled   []string       `json:"disabled"`
	Advisory   []string       `json:"advisory"`
	Parameters []ParamSetting `json:"parameters"`
	// WaiverTermDays is the longest a waiver may run.
	WaiverTermDays int         `json:"waiverTermDays"`
	Waivers        []WaiverUse `json:"waivers"`
}

// ParamSetting is a rule parameter set to other than its default.
type ParamSetting struct {
	Rule    string `json:"rule"`
	Name    string `json:"name"`
	Value   any    `json:"value"`
	Default any    `json:"default"`
}

// Default reports whether the configuration is the pack's own: every rule mandatory with its default
// parameters, and no waiver.
func (c InForce) Default() bool {
	return len(c.Disabled) == 0 && len(c.Advisory) == 0 && len(c.Parameters) == 0 && len(c.Waivers) == 0
}

// Blocking reports whether a finding fails the evaluation: mandatory, known, not waived.
func (f Finding) Blocking() bool { return f.Level == Mandatory && !f.Unknown && f.Waiver == nil }

// Failed reports whether any finding is blocking.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Findings, Finding.Blocking)
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
func run(rule *Rule, params Params, urn string, shared *shared, body func(c *Check)) (findings []Finding) {
	c := &Check{rule: rule, params: params, urn: urn, shared: shared}
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
	ws := validWaivers(rule.ID, cfg)
	f := run(rule, Params{cfg}, r.URN, nil, func(c *Check) { rule.Resource(c, r) })
	return settle(f, cfg.level(rule.ID), ws, func(string) string { return r.Name })
}

// CheckStack runs one stack rule: the analyzer's whole-stack path.
func CheckStack(rule *Rule, s *Stack, cfg Config) []Finding {
	ws := validWaivers(rule.ID, cfg)
	f := run(rule, Params{cfg}, "", nil, func(c *Check) { rule.Stack(c, s) })
	return settle(f, cfg.level(rule.ID), ws, s.name)
}

func (s *Stack) name(urn string) string {
	if r := s.byURN[urn]; r != nil {
		return r.Name
	}
	return ""
}

// Evaluate runs every enabled rule of the pack over resources, taken as one stack: each resource rule on
// the resources of its types, then each stack rule once over them all.
func (p *Pack) Evaluate(resources []*Resource, cfg Config) *Report {
	e := p.Begin(cfg)
	e.Stack(resources)
	return e.Report()
}

// Evaluation is one run of a pack over stacks handed to it one at a time, from any number of goroutines:
// an audit of an estate evaluates each stack as soon as it is read and keeps only what it found. Each
// stack is evaluated as Evaluate evaluates one, and stack rules join only within a stack.
type Evaluation struct {
	p        *Pack
	cfg      Config
	levels   map[string]Level
	byType   map[string][]*Rule
	stack    []*Rule
	compiled map[string]waivers
	uses     []WaiverUse

	shared *shared

	mu        sync.Mutex
	findings  []Finding
	checked   map[string]int
	resources int
}

// Begin starts an evaluation with cfg.
func (p *Pack) Begin(cfg Config) *Evaluation {
	e := &Evaluation{p: p, cfg: cfg, levels: map[string]Level{}, byType: map[string][]*Rule{}, compiled: map[string]waivers{},
		checked: map[string]int{}, uses: judgeWaivers(cfg), shared: &shared{kinds: map[string]*contentcache.Cache[any]{}}}
	for _, rule := range p.rules {
		level := cfg.level(rule.ID)
		if level == Disabled {
			continue
		}
		e.levels[rule.ID] = level
		e.checked[rule.ID] = 0
		e.compiled[rule.ID] = validWaivers(rule.ID, cfg)
		if rule.IsStack() {
			e.stack = append(e.stack, rule)
			continue
		}
		for _, t := range rule.Types {
			e.byType[t] = append(e.byType[t], rule)
		}
	}
	return e
}

// Stack evaluates the resources of one stack. It is safe to call from several goroutines at once, each
// with a stack of its own.
func (e *Evaluation) Stack(resources []*Resource) {
	stack := NewStack(resources)
	params := Params{e.cfg}
	checked := map[string]int{}
	var findings []Finding
	for _, r := range resources {
		for _, rule := range e.byType[r.Type] {
			checked[rule.ID]++
			f := run(rule, params, r.URN, e.shared, func(c *Check) { rule.Resource(c, r) })
			if len(f) > 0 {
				findings = append(findings, settle(f, e.levels[rule.ID], e.compiled[rule.ID], stack.name)...)
			}
		}
	}
	for _, rule := range e.stack {
		for _, t := range rule.Types {
			checked[rule.ID] += len(stack.OfType(t))
		}
		f := run(rule, params, "", e.shared, func(c *Check) { rule.Stack(c, stack) })
		findings = append(findings, settle(f, e.levels[rule.ID], e.compiled[rule.ID], stack.name)...)
	}
	matched := make([]int, len(e.uses))
	for i := range e.uses {
		matched[i] = e.uses[i].Waiver.count(resources)
	}
	// A finding outlives its stack; its strings must not hold the stack's input in memory.
	for i := range findings {
		f := &findings[i]
		f.URN, f.Property, f.Message = strings.Clone(f.URN), strings.Clone(f.Property), strings.Clone(f.Message)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.findings = append(e.findings, findings...)
	for id, n := range checked {
		e.checked[id] += n
	}
	for i, n := range matched {
		e.uses[i].Matched += n
	}
	e.resources += len(resources)
}

// Report is what the evaluation found over every stack it was given, in rule, then URN order.
func (e *Evaluation) Report() *Report {
	e.mu.Lock()
	defer e.mu.Unlock()
	rep := &Report{Checked: maps.Clone(e.checked), Levels: maps.Clone(e.levels), Resources: e.resources,
		Findings: slices.Clone(e.findings)}
	uses := slices.Clone(e.uses)
	for i := range uses {
		uses[i].settle()
	}
	rep.Configuration = e.p.inForce(e.cfg, uses, rep.Findings)
	for _, u := range rep.Configuration.Waivers {
		if u.Problem != "" {
			rep.Findings = append(rep.Findings, waiverFinding(u))
		}
	}
	SortFindings(rep.Findings)
	return rep
}

// inForce states the configuration, with what each waiver exempted among findings.
func (p *Pack) inForce(cfg Config, uses []WaiverUse, findings []Finding) InForce {
	c := InForce{WaiverTermDays: cfg.waiverTerm(), Waivers: uses}
	for _, rule := range p.rules {
		switch cfg.level(rule.ID) {
		case Disabled:
			c.Disabled = append(c.Disabled, rule.ID)
		case Advisory:
			c.Advisory = append(c.Advisory, rule.ID)
		}
		for _, param := range rule.Params {
			v, set := cfg.Rules[rule.ID].Params[param.Name]
			if set && fmt.Sprint(v) != fmt.Sprint(param.Default) {
				c.Parameters = append(c.Parameters, ParamSetting{Rule: rule.ID, Name: param.Name, Value: v, Default: param.Default})
			}
		}
	}
	for i := range c.Waivers {
		u := &c.Waivers[i]
		for _, f := range findings {
			if f.RuleID == u.Rule && f.Waiver != nil && f.Waiver.Resource == u.Resource && f.Waiver.Reason == u.Reason && f.Waiver.Expires == u.Expires {
				u.Exempted++
			}
		}
	}
	return c
}

// SortFindings orders findings by rule, URN, property and message.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return strings.Compare(a.RuleID+"\x00"+a.URN+"\x00"+a.Property+"\x00"+a.Message,
			b.RuleID+"\x00"+b.URN+"\x00"+b.Property+"\x00"+b.Message)
	})
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
