package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/policy/hipaa"
)

// safeguards names the sections of 45 CFR Part 164 the pack cites.
var safeguards = map[string]string{
	"164.308(a)(1)(ii)(B)": "Risk management",
	"164.308(a)(1)(ii)(D)": "Information system activity review",
	"164.308(a)(3)(i)":     "Workforce security",
	"164.308(a)(4)(ii)(B)": "Access authorization",
	"164.308(a)(5)(ii)(B)": "Protection from malicious software",
	"164.308(a)(5)(ii)(D)": "Password management",
	"164.308(a)(6)(i)":     "Security incident procedures",
	"164.308(a)(6)(ii)":    "Response and reporting",
	"164.308(a)(7)(ii)(A)": "Data backup plan",
	"164.310(d)(2)(iv)":    "Data backup and storage",
	"164.312(a)(1)":        "Access control",
	"164.312(a)(2)(iv)":    "Encryption and decryption",
	"164.312(b)":           "Audit controls",
	"164.312(c)(1)":        "Integrity",
	"164.312(c)(2)":        "Mechanism to authenticate ePHI",
	"164.312(d)":           "Person or entity authentication",
	"164.312(e)(1)":        "Transmission security",
	"164.312(e)(2)(i)":     "Integrity controls (transmission)",
	"164.312(e)(2)(ii)":    "Encryption (transmission)",
	"project":              "Platform safeguards beyond the rule (dedicated hardware, registry hygiene, tagging)",
}

// Markdown writes a report an auditor can file: the result, each HIPAA citation with the rules that
// enforce it and what they found, every finding with its fix, the waivers in force, and a diagram of
// the network and data flows drawn from the resources themselves.
func Markdown(w io.Writer, a *Audit) error {
	rep := a.Report
	t := Count(rep)
	result := "**PASS**: no mandatory violation"
	if t.Failed {
		result = fmt.Sprintf("**FAIL**: %d mandatory violation(s)", t.Mandatory)
	}
	fmt.Fprintf(w, "# HIPAA Security Rule audit: %s\n\n", a.Subject)
	fmt.Fprintf(w, "- Date: %s\n- Policy pack: %s %s, %d rules enabled\n- Resources evaluated: %d\n- Result: %s; %d advisory, %d waived, %d not known until deployment\n\n",
		a.Generated, hipaa.PackName, hipaa.PackVersion, len(rep.Levels), rep.Resources, result, t.Advisory, t.Waived, t.Unknown)

	sums := Summaries(rep)
	fmt.Fprintln(w, "## Safeguards by citation")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Citation | Safeguard | Rules | Checked | Passed | Failed | Waived |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: |")
	for _, cite := range citations() {
		var ids []string
		var checked, passed, failed, waived int
		for _, s := range sums {
			if slices.Contains(s.Citations, cite) {
				ids = append(ids, "`"+s.ID+"`")
				checked, passed, failed, waived = checked+s.Checked, passed+s.Passed, failed+s.Failed, waived+s.Waived
			}
		}
		if len(ids) == 0 {
			continue
		}
		label := "45 CFR " + cite
		if cite == "project" {
			label = "platform"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %d |\n", label, safeguards[cite], strings.Join(ids, ", "), checked, passed, failed, waived)
	}
	fmt.Fprintln(w, "\nCounts are resource checks: a resource checked by two rules counts twice.")

	fmt.Fprintln(w, "\n## Rules")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Rule | What a compliant stack has | Severity | Enforcement | Checked | Passed | Failed | Waived |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |")
	for _, s := range sums {
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %d | %d | %d | %d |\n", s.ID, mdEscape(s.Description), s.Severity, s.Level,
			s.Checked, s.Passed, s.Failed, s.Waived)
	}

	fmt.Fprintln(w, "\n## Findings")
	fmt.Fprintln(w)
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "None.")
	}
	for _, f := range rep.Findings {
		state := "advisory"
		switch {
		case f.Waiver != nil:
			state = "waived until " + f.Waiver.Expires
		case f.Unknown:
			state = "not known until deployment"
		case f.Blocking():
			state = "**violation**"
		}
		fmt.Fprintf(w, "### `%s` (%s)\n\n- Resource: `%s`\n", f.RuleID, state, f.URN)
		if f.Property != "" {
			fmt.Fprintf(w, "- Property: `%s`\n", f.Property)
		}
		fmt.Fprintf(w, "- Finding: %s\n", mdEscape(f.Message))
		if rule := hipaa.RuleByID(f.RuleID); rule != nil {
			fmt.Fprintf(w, "- HIPAA: %s\n- Fix: %s\n", hipaa.Cite(rule.Citations), mdEscape(rule.Fix))
		}
		if f.Waiver != nil {
			fmt.Fprintf(w, "- Waiver: %s (expires %s)\n", mdEscape(f.Waiver.Reason), f.Waiver.Expires)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintln(w, "## Network and data flows")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Drawn from the resources evaluated above, so it matches what is declared: the VPC, its subnets by tier")
	fmt.Fprintln(w, "and zone, the hosts and load balancers in them, and which security group may reach which, on what port.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "```mermaid")
	if err := Diagram(w, a.Resources); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "```")
	return err
}

// citations lists every cited section in order.
func citations() []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range hipaa.Rules() {
		for _, c := range r.Citations {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "project": // the platform's own safeguards come last
			return 1
		case b == "project":
			return -1
		}
		return strings.Compare(a, b)
	})
	return out
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
