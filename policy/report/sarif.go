package report

import (
	"encoding/json"
	"io"

	"github.com/hipaa-platform/platform/policy/engine"
)

// securitySeverity maps a rule's severity to the score code-scanning tools sort by.
var securitySeverity = map[engine.Severity]string{engine.Critical: "9.5", engine.High: "8.0", engine.Medium: "5.5", engine.Low: "3.0"}

// reporting is a rule's SARIF reporting configuration as it ran: error when mandatory, warning when
// advisory, and not enabled when disabled.
func reporting(levels map[string]engine.Level, id string) map[string]any {
	switch levels[id] {
	case engine.Mandatory:
		return map[string]any{"level": "error"}
	case engine.Advisory:
		return map[string]any{"level": "warning"}
	}
	return map[string]any{"level": "none", "enabled": false}
}

// SARIF writes the findings as SARIF 2.1.0: one result per finding, pointing at the stack's settings
// file, with the resource URN as its logical location; waived findings carry a suppression with the
// waiver's reason.
func SARIF(w io.Writer, a *Audit) error {
	type msg struct {
		Text string `json:"text"`
	}
	rules := []map[string]any{}
	index := map[string]int{}
	for _, r := range a.Pack.Rules() {
		index[r.ID] = len(rules)
		rules = append(rules, map[string]any{
			"id":                   r.ID,
			"shortDescription":     msg{r.Description},
			"fullDescription":      msg{r.Description + ". " + a.Pack.Framework.Name + ": " + a.Pack.Cite(r.Citations) + "."},
			"help":                 msg{r.Fix},
			"defaultConfiguration": reporting(a.Report.Levels, r.ID),
			"properties": map[string]any{
				"tags":              append([]string{"security", "hipaa"}, r.Citations...),
				"security-severity": securitySeverity[r.Severity],
				// The same control's checks in AWS Config and Prowler, for tools that join findings.
				"aws-config-rules": orEmpty(r.Scanners.ConfigRules),
				"prowler-checks":   orEmpty(r.Scanners.Prowler),
			},
		})
	}
	results := []map[string]any{}
	for _, f := range a.Report.Findings {
		level := "error"
		switch {
		case f.Unknown:
			level = "note"
		case f.Level != engine.Mandatory:
			level = "warning"
		}
		res := map[string]any{
			"ruleId":  f.RuleID,
			"level":   level,
			"message": msg{f.Message},
			"locations": []map[string]any{{
				"physicalLocation": map[string]any{
					"artifactLocation": map[string]any{"uri": a.Source},
					"region":           map[string]any{"startLine": 1},
				},
				"logicalLocations": []map[string]any{{"fullyQualifiedName": f.URN, "kind": "resource"}},
			}},
			"partialFingerprints": map[string]any{"resource/v1": f.RuleID + "|" + f.URN + "|" + f.Property},
		}
		if i, ok := index[f.RuleID]; ok {
			res["ruleIndex"] = i
		}
		if f.Property != "" {
			res["properties"] = map[string]any{"property": f.Property}
		}
		if f.Waiver != nil {
			res["suppressions"] = []map[string]any{{"kind": "external", "status": "accepted",
				"justification": f.Waiver.Reason + " (expires " + f.Waiver.Expires + ")"}}
		}
		results = append(results, res)
	}
	if rule, drift := sarifDrift(a.Drift, a.Source); rule != nil {
		rules = append(rules, rule)
		for _, res := range drift {
			res["ruleIndex"] = len(rules) - 1
			results = append(results, res)
		}
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []map[string]any{{
			"tool": map[string]any{"driver": map[string]any{
				"name": a.Pack.Name, "version": a.Pack.Version, "semanticVersion": a.Pack.Version,
				"informationUri": "https://www.hhs.gov/hipaa/for-professionals/security/index.html",
				"rules":          rules,
			}},
			"automationDetails": map[string]any{"id": "hipaa-audit/" + a.Subject},
			"properties": map[string]any{
				"program":       program(a),
				"configuration": nonNil(a.Report.Configuration),
			},
			"results": results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// orEmpty is names, or an empty list for none, so that SARIF's properties are always arrays.
func orEmpty(names []string) []string {
	if names == nil {
		return []string{}
	}
	return names
}
