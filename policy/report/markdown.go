package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

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
	fmt.Fprintf(w, "# %s audit: %s\n\n", a.Pack.DisplayName, a.Subject)
	fmt.Fprintf(w, "- Date: %s\n- Program: %s\n- Policy pack: %s %s, %d rules enabled\n- Resources evaluated: %d\n- Result: %s; %d advisory, %d waived, %d not known until deployment\n\n",
		a.Generated, program(a), a.Pack.Name, a.Pack.Version, len(rep.Levels), rep.Resources, result, t.Advisory, t.Waived, t.Unknown)

	fmt.Fprintln(w, "## Configuration in force")
	fmt.Fprintln(w)
	for _, line := range inForce(rep.Configuration) {
		fmt.Fprintf(w, "- %s\n", mdEscape(line))
	}
	fmt.Fprintln(w)

	sums := Summaries(a.Pack, rep)
	fmt.Fprintln(w, "## Safeguards by citation")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Citation | Safeguard | Rules | Checked | Passed | Failed | Waived |")
	fmt.Fprintln(w, "| --- | --- | --- | ---: | ---: | ---: | ---: |")
	for _, cite := range citations(a.Pack) {
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
		label := a.Pack.Cite([]string{cite})
		fmt.Fprintf(w, "| %s | %s | %s | %d | %d | %d | %d |\n", label, a.Pack.Framework.Sections[cite], strings.Join(ids, ", "), checked, passed, failed, waived)
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

	fmt.Fprintln(w, "\n## The same controls in AWS's scanners")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "What AWS Config (its managed rules, as the HIPAA conformance pack and Security Hub run them) and Prowler")
	fmt.Fprintln(w, "check of each rule's control on the deployed account; a rule with none is a safeguard of the platform's own.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Rule | AWS Config rules | Prowler checks |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, s := range sums {
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", s.ID, codeList(s.ConfigRules), codeList(s.Prowler))
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
		if rule := a.Pack.Rule(f.RuleID); rule != nil {
			fmt.Fprintf(w, "- %s: %s\n- Fix: %s\n", a.Pack.Framework.Name, a.Pack.Cite(rule.Citations), mdEscape(rule.Fix))
			if sc := Scanners(rule.Scanners); sc != "" {
				fmt.Fprintf(w, "- Scanners: %s\n", sc)
			}
		}
		if f.Waiver != nil {
			fmt.Fprintf(w, "- Waiver: %s (expires %s)\n", mdEscape(f.Waiver.Reason), f.Waiver.Expires)
		}
		fmt.Fprintln(w)
	}

	markdownDrift(w, a.Drift)

	fmt.Fprintln(w, "## Contingency plan: restore drills")
	fmt.Fprintln(w)
	if drills := Drills(a.Resources); len(drills) == 0 {
		fmt.Fprintln(w, "No restore drill is declared.")
	} else {
		fmt.Fprintln(w, "Each drill restores the newest backup on a throwaway host, checks it (pgbackrest verify, PostgreSQL answering,")
		fmt.Fprintln(w, "amcheck on every B-tree index, the canary row at the target time) and writes one evidence record (when, which")
		fmt.Fprintln(w, "backup, target time, durations, checks passed) to the log bucket, under its retention:")
		fmt.Fprintln(w)
		for _, d := range drills {
			fmt.Fprintf(w, "- `%s`: `%s`\n", d.Group, d.Evidence)
		}
	}
	fmt.Fprintln(w)

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

// citations lists every cited section, in the order of their labels: 45 CFR by section, then the
// platform's own.
func citations(pack *engine.Pack) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range pack.Rules() {
		for _, c := range r.Citations {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		return strings.Compare(pack.Cite([]string{a}), pack.Cite([]string{b}))
	})
	return out
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// codeList renders names as code, comma-separated; "none" for none.
func codeList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return "`" + strings.Join(names, "`, `") + "`"
}
