package report

import (
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// RuleSummary is what one rule found.
type RuleSummary struct {
	ID          string   `json:"id"`
	Description string   `json:"description"`
	Citations   []string `json:"citations"`
	Severity    string   `json:"severity"`
	Level       string   `json:"level"`
	Checked     int      `json:"checked"`
	Passed      int      `json:"passed"`
	Failed      int      `json:"failed"`
	Waived      int      `json:"waived"`
	Unknown     int      `json:"unknown"`
	// ConfigRules and Prowler are the checks of the same control that AWS Config and Prowler run on the
	// deployed account.
	ConfigRules []string `json:"configRules,omitempty"`
	Prowler     []string `json:"prowlerChecks,omitempty"`
}

// Summaries counts, per enabled rule, the resources it checked and how many of them failed, were
// waived, or could not be judged; the rest passed. A resource counts once per rule, however many
// findings it has.
func Summaries(pack *engine.Pack, rep *engine.Report) []RuleSummary {
	type counts struct{ failed, waived, unknown map[string]bool }
	per := map[string]*counts{}
	for _, f := range rep.Findings {
		c := per[f.RuleID]
		if c == nil {
			c = &counts{map[string]bool{}, map[string]bool{}, map[string]bool{}}
			per[f.RuleID] = c
		}
		switch {
		case f.Waiver != nil:
			c.waived[f.URN] = true
		case f.Unknown:
			c.unknown[f.URN] = true
		default:
			c.failed[f.URN] = true
		}
	}
	var out []RuleSummary
	for _, r := range pack.Rules() {
		level, ok := rep.Levels[r.ID]
		if !ok {
			continue
		}
		s := RuleSummary{ID: r.ID, Description: r.Description, Citations: r.Citations, Severity: string(r.Severity),
			Level: string(level), Checked: rep.Checked[r.ID], ConfigRules: r.Scanners.ConfigRules, Prowler: r.Scanners.Prowler}
		if c := per[r.ID]; c != nil {
			s.Failed, s.Waived, s.Unknown = len(c.failed), len(c.waived), len(c.unknown)
		}
		// A stack rule may report on a resource it did not count (a bucket's missing configuration is
		// reported on the bucket, a wrong one on the configuration), so failures can exceed the count.
		if s.Checked < s.Failed+s.Waived+s.Unknown {
			s.Checked = s.Failed + s.Waived + s.Unknown
		}
		s.Passed = s.Checked - s.Failed - s.Waived - s.Unknown
		out = append(out, s)
	}
	return out
}

// Totals counts findings by how they are enforced.
type Totals struct {
	Mandatory int  `json:"mandatory"`
	Advisory  int  `json:"advisory"`
	Waived    int  `json:"waived"`
	Unknown   int  `json:"unknown"`
	Failed    bool `json:"failed"`
}

// Count totals a report's findings.
func Count(rep *engine.Report) Totals {
	var t Totals
	for _, f := range rep.Findings {
		switch {
		case f.Waiver != nil:
			t.Waived++
		case f.Unknown:
			t.Unknown++
		case f.Level == engine.Mandatory:
			t.Mandatory++
		default:
			t.Advisory++
		}
	}
	t.Failed = rep.Failed()
	return t
}

// Scanners says in one line which checks of AWS Config and Prowler test a rule's control, or "" for a
// safeguard no scanner checks.
func Scanners(s engine.Scanners) string {
	var parts []string
	if len(s.ConfigRules) > 0 {
		parts = append(parts, "AWS Config "+strings.Join(s.ConfigRules, ", "))
	}
	if len(s.Prowler) > 0 {
		parts = append(parts, "Prowler "+strings.Join(s.Prowler, ", "))
	}
	return strings.Join(parts, "; ")
}
