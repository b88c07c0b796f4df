package engine

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// WaiverRuleID reports waivers that exempt nothing: expired, reasonless or malformed ones, one that
// names every resource, one that runs longer than the configured term, and one that matches no resource.
const WaiverRuleID = "policy-waivers-valid"

// Waiver exempts resources from one rule, for a written reason, until a date. An invalid waiver exempts
// nothing and is itself reported.
type Waiver struct {
	// Resource is a URN, or a pattern in which * matches anything, over URNs or resource names.
	Resource string `json:"resource"`
	// Reason says why the exemption is acceptable and what compensates for it. Required.
	Reason string `json:"reason"`
	// Expires is the last day (YYYY-MM-DD, UTC) the waiver applies. Required.
	Expires string `json:"expires"`

	// pattern is Resource compiled, once, when the configuration is read.
	pattern *regexp.Regexp
}

// compiled returns the waiver's resource pattern, compiling it if the configuration was not read by
// ParseConfig.
func (w *Waiver) compiled() *regexp.Regexp {
	if w.pattern == nil {
		return regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(w.Resource), `\*`, ".*") + "$")
	}
	return w.pattern
}

// matches reports whether the waiver names the resource, by URN or by name.
func (w *Waiver) matches(urn, name string) bool {
	re := w.compiled()
	return w.Resource == urn || re.MatchString(urn) || (name != "" && re.MatchString(name))
}

// problem reports what makes a waiver invalid, or "" when it is valid on day now with waivers running
// at most termDays.
func (w *Waiver) problem(now time.Time, termDays int) string {
	if strings.TrimSpace(w.Resource) == "" {
		return "names no resource"
	}
	if strings.Trim(w.Resource, "*") == "" {
		return fmt.Sprintf("names every resource (%q); to stop enforcing the rule, set its level in the configuration, where it shows", w.Resource)
	}
	if strings.TrimSpace(w.Reason) == "" {
		return "gives no reason"
	}
	day, err := time.Parse("2006-01-02", w.Expires)
	if err != nil {
		return fmt.Sprintf("has expiry %q; want a date YYYY-MM-DD", w.Expires)
	}
	if now.After(day.Add(24 * time.Hour)) {
		return "expired on " + w.Expires
	}
	if last := now.Truncate(24*time.Hour).AddDate(0, 0, termDays); day.After(last) {
		return fmt.Sprintf("runs until %s, more than %d days from %s; a waiver is reviewed at least every %d days (%s maximumTermDays), so let it expire by %s",
			w.Expires, termDays, now.Format("2006-01-02"), termDays, WaiverRuleID, last.Format("2006-01-02"))
	}
	return ""
}

// WaiverUse is one waiver of the configuration and what it did in an evaluation.
type WaiverUse struct {
	Rule string `json:"rule"`
	Waiver
	// Matched counts the evaluated resources the waiver names; Exempted the findings it waived.
	Matched  int `json:"matched"`
	Exempted int `json:"exempted"`
	// Problem says why the waiver exempts nothing; empty for a waiver in force.
	Problem string `json:"problem,omitempty"`
}

// waivers are one rule's valid waivers.
type waivers []*Waiver

func (ws waivers) find(urn, name string) *Waiver {
	for _, w := range ws {
		if w.matches(urn, name) {
			return w
		}
	}
	return nil
}

// validWaivers returns a rule's waivers that are valid on their own (before matching any resource).
func validWaivers(rule string, cfg Config) waivers {
	var valid waivers
	for i := range cfg.Rules[rule].Waivers {
		w := &cfg.Rules[rule].Waivers[i]
		if w.problem(cfg.now(), cfg.waiverTerm()) == "" {
			valid = append(valid, w)
		}
	}
	return valid
}

// noMatch is the problem of a waiver that names no resource evaluated.
const noMatch = "matches no resource of the stack; correct its pattern or remove it"

// Waivers judges every waiver of cfg against resources: what it matched, and why it exempts nothing
// where it does not. Waivers of a rule that is not in the pack are left out; ParseConfig refuses them.
func (p *Pack) Waivers(resources []*Resource, cfg Config) []WaiverUse {
	uses := judgeWaivers(cfg)
	for i := range uses {
		uses[i].Matched = uses[i].Waiver.count(resources)
		uses[i].settle()
	}
	return uses
}

// judgeWaivers judges every waiver of cfg on its own, before it is matched with any resource.
func judgeWaivers(cfg Config) []WaiverUse {
	var out []WaiverUse
	for _, id := range slices.Sorted(maps.Keys(cfg.Rules)) {
		for _, w := range cfg.Rules[id].Waivers {
			out = append(out, WaiverUse{Rule: id, Waiver: w, Problem: w.problem(cfg.now(), cfg.waiverTerm())})
		}
	}
	return out
}

// count is how many of resources the waiver names.
func (w *Waiver) count(resources []*Resource) int {
	n := 0
	for _, r := range resources {
		if w.matches(r.URN, r.Name) {
			n++
		}
	}
	return n
}

// settle gives a waiver valid on its own that matched nothing its problem.
func (u *WaiverUse) settle() {
	if u.Problem == "" && u.Matched == 0 {
		u.Problem = "matches no resource of the stack; correct its pattern or remove it"
	}
}

// WaiverFindings are the findings of policy-waivers-valid: one for every waiver that exempts nothing.
func (p *Pack) WaiverFindings(resources []*Resource, cfg Config) []Finding {
	var out []Finding
	for _, u := range p.Waivers(resources, cfg) {
		if u.Problem != "" {
			out = append(out, waiverFinding(u))
		}
	}
	return out
}

func waiverFinding(u WaiverUse) Finding {
	return Finding{RuleID: WaiverRuleID, URN: u.Resource, Property: u.Rule + ".waivers", Level: Mandatory,
		Message: fmt.Sprintf("the waiver of %s for %q %s, so it exempts nothing", u.Rule, u.Resource, u.Problem)}
}
