package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// Write renders the audit in a format of Formats.
func Write(w io.Writer, format string, a *Audit) error {
	switch format {
	case "text":
		return Text(w, a)
	case "json":
		return JSON(w, a)
	case "markdown":
		return Markdown(w, a)
	case "sarif":
		return SARIF(w, a)
	}
	return fmt.Errorf("unknown format %q; want one of %s", format, strings.Join(Formats, ", "))
}

// Text writes the findings for a terminal: blocking ones first, then waived, advisory and unknown ones.
func Text(w io.Writer, a *Audit) error {
	rep := a.Report
	t := Count(rep)
	fmt.Fprintf(w, "%s audit of %s: %d resources, %d rules\n", a.Pack.Framework.Name, a.Subject, rep.Resources, len(rep.Levels))
	fmt.Fprintf(w, "program: %s\n", program(a))
	fmt.Fprintln(w, "configuration in force:")
	for _, line := range inForce(rep.Configuration) {
		fmt.Fprintf(w, "  %s\n", line)
	}
	fmt.Fprintln(w)
	sections := []struct {
		title string
		keep  func(engine.Finding) bool
	}{
		{"FAIL", engine.Finding.Blocking},
		{"WAIVED", func(f engine.Finding) bool { return f.Waiver != nil }},
		{"ADVISORY", func(f engine.Finding) bool { return f.Waiver == nil && !f.Unknown && f.Level != engine.Mandatory }},
		{"UNKNOWN", func(f engine.Finding) bool { return f.Waiver == nil && f.Unknown }},
	}
	for _, s := range sections {
		for _, f := range rep.Findings {
			if !s.keep(f) {
				continue
			}
			rule := a.Pack.Rule(f.RuleID)
			fmt.Fprintf(w, "%-8s %s", s.title, f.RuleID)
			if rule != nil {
				fmt.Fprintf(w, " [%s] %s", rule.Severity, a.Pack.Cite(rule.Citations))
			}
			fmt.Fprintf(w, "\n         %s\n", f.URN)
			if f.Property != "" {
				fmt.Fprintf(w, "         property: %s\n", f.Property)
			}
			fmt.Fprintf(w, "         %s\n", f.Message)
			if rule != nil && s.title != "UNKNOWN" {
				fmt.Fprintf(w, "         fix: %s\n", rule.Fix)
			}
			if rule != nil {
				if sc := Scanners(rule.Scanners); sc != "" {
					fmt.Fprintf(w, "         scanners: %s\n", sc)
				}
			}
			if f.Waiver != nil {
				fmt.Fprintf(w, "         waived until %s: %s\n", f.Waiver.Expires, f.Waiver.Reason)
			}
			fmt.Fprintln(w)
		}
	}
	for _, d := range Drills(a.Resources) {
		fmt.Fprintf(w, "restore drill evidence of %s: %s\n", d.Group, d.Evidence)
	}
	textDrift(w, a.Drift)
	result := "PASS"
	if t.Failed {
		result = "FAIL"
	}
	_, err := fmt.Fprintf(w, "%s: %d mandatory violation(s), %d advisory, %d waived, %d not known until deployment\n",
		result, t.Mandatory, t.Advisory, t.Waived, t.Unknown)
	return err
}

// JSON writes the whole evaluation for scripts.
func JSON(w io.Writer, a *Audit) error {
	findings := a.Report.Findings
	if findings == nil {
		findings = []engine.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Subject       string           `json:"subject"`
		Commit        string           `json:"commit,omitempty"`
		Generated     string           `json:"generated"`
		Pack          string           `json:"pack"`
		Resources     int              `json:"resources"`
		Configuration engine.InForce   `json:"configuration"`
		Totals        Totals           `json:"totals"`
		Rules         []RuleSummary    `json:"rules"`
		Findings      []engine.Finding `json:"findings"`
		Drills        []Drill          `json:"drills"`
		Drift         *Drift           `json:"drift,omitempty"`
	}{a.Subject, a.Commit, a.Generated, a.Pack.Name + " " + a.Pack.Version, a.Report.Resources, nonNil(a.Report.Configuration),
		Count(a.Report), Summaries(a.Pack, a.Report), findings, append([]Drill{}, Drills(a.Resources)...), nonNilDrift(a.Drift)})
}

// nonNil gives the configuration's lists as [] rather than null, for scripts.
func nonNil(c engine.InForce) engine.InForce {
	if c.Disabled == nil {
		c.Disabled = []string{}
	}
	if c.Advisory == nil {
		c.Advisory = []string{}
	}
	if c.Parameters == nil {
		c.Parameters = []engine.ParamSetting{}
	}
	if c.Waivers == nil {
		c.Waivers = []engine.WaiverUse{}
	}
	return c
}

// nonNilDrift gives the drift's lists as [] rather than null, for scripts.
func nonNilDrift(d *Drift) *Drift {
	if d == nil {
		return nil
	}
	c := *d
	for _, list := range []*[]DriftResource{&c.DeployedOnly, &c.NotDeployed} {
		if *list == nil {
			*list = []DriftResource{}
		}
	}
	if c.Changed == nil {
		c.Changed = []ResourceDrift{}
	}
	if c.Pending == nil {
		c.Pending = []string{}
	}
	return &c
}
