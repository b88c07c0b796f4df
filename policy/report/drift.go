package report

import (
	"fmt"
	"io"
	"strings"
)

// Drift is where a stack's deployed state and the program's preview of the same stack disagree, by
// resource and property: what an update of the stack from this program would change, and what was
// changed in the stack outside it (once `pulumi refresh` has read it back).
type Drift struct {
	// Against names what the state was compared with.
	Against string `json:"against"`
	// NotComputed says why there is no comparison (the state is of a stack the project does not
	// have); empty when there is one.
	NotComputed string `json:"notComputed,omitempty"`
	// Compared counts the resources both hold.
	Compared int `json:"compared"`
	// DeployedOnly are the resources the state holds that the preview does not declare; NotDeployed the
	// ones the preview declares that the state does not hold.
	DeployedOnly []DriftResource `json:"deployedOnly"`
	NotDeployed  []DriftResource `json:"notDeployed"`
	// Changed are the resources both hold whose inputs differ.
	Changed []ResourceDrift `json:"changed"`
	// ByDependency counts the properties compared by the resources their values are computed from
	// rather than by value, since the preview's values of them are the mocks'; Unknown the properties
	// the preview cannot know and Secret the secret ones, which are not compared.
	ByDependency int `json:"byDependency"`
	Unknown      int `json:"unknown"`
	Secret       int `json:"secret"`
	// Pending are the operations the state's last update left unfinished.
	Pending []string `json:"pending"`
	// PendingDeletion counts the resources the state holds for deletion, which exist but are not
	// audited.
	PendingDeletion int `json:"pendingDeletion"`
}

// DriftResource is a resource only one side holds.
type DriftResource struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
}

// ResourceDrift is a resource both sides hold, and its properties that differ.
type ResourceDrift struct {
	URN        string          `json:"urn"`
	Type       string          `json:"type"`
	Properties []PropertyDrift `json:"properties"`
}

// PropertyDrift is one property that differs: Deployed is its value in the state and Preview in the
// preview, rendered as JSON (long values shortened), empty where that side does not have it. For a
// property compared by dependency they are the URNs its value is computed from.
type PropertyDrift struct {
	Path         string `json:"path"`
	Deployed     string `json:"deployed,omitempty"`
	Preview      string `json:"preview,omitempty"`
	ByDependency bool   `json:"byDependency,omitempty"`
}

// Differs reports whether the drift found anything.
func (d *Drift) Differs() bool {
	return d != nil && (len(d.DeployedOnly) > 0 || len(d.NotDeployed) > 0 || len(d.Changed) > 0 || len(d.Pending) > 0)
}

// summary is the drift's count in one line.
func (d *Drift) summary() string {
	if d.NotComputed != "" {
		return "not computed: " + d.NotComputed
	}
	return fmt.Sprintf("%d resource(s) compared; %d only deployed, %d not deployed, %d changed; %d pending operation(s)",
		d.Compared, len(d.DeployedOnly), len(d.NotDeployed), len(d.Changed), len(d.Pending))
}

// notCompared says what the comparison could not look at.
func (d *Drift) notCompared() string {
	return fmt.Sprintf("%d properties compared by the resources they are computed from (the preview's values of them are the mocks'), %d not known until deployment and %d secret ones not compared; %d resource(s) pending deletion not audited",
		d.ByDependency, d.Unknown, d.Secret, d.PendingDeletion)
}

// side renders one side of a property for people: "(absent)" where it has none.
func side(s string) string {
	if s == "" {
		return "(absent)"
	}
	return s
}

// textDrift writes the drift section of the text report.
func textDrift(w io.Writer, d *Drift) {
	if d == nil {
		return
	}
	fmt.Fprintf(w, "DRIFT against %s: %s\n", d.Against, d.summary())
	if d.NotComputed != "" {
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintf(w, "         %s\n", d.notCompared())
	for _, r := range d.DeployedOnly {
		fmt.Fprintf(w, "  deployed only  %s\n", r.URN)
	}
	for _, r := range d.NotDeployed {
		fmt.Fprintf(w, "  not deployed   %s\n", r.URN)
	}
	for _, r := range d.Changed {
		fmt.Fprintf(w, "  changed        %s\n", r.URN)
		for _, p := range r.Properties {
			how := ""
			if p.ByDependency {
				how = " (computed from)"
			}
			fmt.Fprintf(w, "                 %s%s: deployed %s, preview %s\n", p.Path, how, side(p.Deployed), side(p.Preview))
		}
	}
	for _, op := range d.Pending {
		fmt.Fprintf(w, "  pending        %s\n", op)
	}
	fmt.Fprintln(w)
}

// markdownDrift writes the drift section of the Markdown report.
func markdownDrift(w io.Writer, d *Drift) {
	if d == nil {
		return
	}
	fmt.Fprintln(w, "## Drift")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The deployed state against %s: %s.\n\n", mdEscape(d.Against), d.summary())
	if d.NotComputed != "" {
		return
	}
	fmt.Fprintf(w, "Not compared: %s.\n\n", d.notCompared())
	if !d.Differs() {
		fmt.Fprintln(w, "No drift.")
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintln(w, "| Resource | Property | Deployed | Preview |")
	fmt.Fprintln(w, "| --- | --- | --- | --- |")
	cell := func(s string) string { return "`" + mdEscape(strings.ReplaceAll(side(s), "`", "'")) + "`" }
	for _, r := range d.DeployedOnly {
		fmt.Fprintf(w, "| `%s` | (the resource) | deployed | (absent) |\n", r.URN)
	}
	for _, r := range d.NotDeployed {
		fmt.Fprintf(w, "| `%s` | (the resource) | (absent) | declared |\n", r.URN)
	}
	for _, r := range d.Changed {
		for _, p := range r.Properties {
			path := "`" + p.Path + "`"
			if p.ByDependency {
				path += " (computed from)"
			}
			fmt.Fprintf(w, "| `%s` | %s | %s | %s |\n", r.URN, path, cell(p.Deployed), cell(p.Preview))
		}
	}
	for _, op := range d.Pending {
		fmt.Fprintf(w, "| %s | (pending operation) | | |\n", mdEscape(op))
	}
	fmt.Fprintln(w)
}

// sarifDrift is the drift as SARIF results of a rule of its own, at level note: drift is not a
// violation, but code-scanning tools show it beside the findings.
func sarifDrift(d *Drift, source string) (rule map[string]any, results []map[string]any) {
	if d == nil || d.NotComputed != "" {
		return nil, nil
	}
	type msg struct {
		Text string `json:"text"`
	}
	rule = map[string]any{
		"id":                   DriftRuleID,
		"shortDescription":     msg{"The deployed state differs from the program's preview of the same stack"},
		"fullDescription":      msg{"A resource or property the deployed state and the program's preview of the same stack disagree on: what an update would change, or what was changed outside the program."},
		"help":                 msg{"Run pulumi refresh to read the stack back, then pulumi preview to see what an update from the program would do."},
		"defaultConfiguration": map[string]any{"level": "note"},
	}
	add := func(urn, property, text string) {
		res := map[string]any{
			"ruleId": DriftRuleID, "level": "note", "message": msg{text},
			"locations": []map[string]any{{
				"physicalLocation": map[string]any{"artifactLocation": map[string]any{"uri": source}, "region": map[string]any{"startLine": 1}},
				"logicalLocations": []map[string]any{{"fullyQualifiedName": urn, "kind": "resource"}},
			}},
			"partialFingerprints": map[string]any{"resource/v1": DriftRuleID + "|" + urn + "|" + property},
		}
		if property != "" {
			res["properties"] = map[string]any{"property": property}
		}
		results = append(results, res)
	}
	for _, r := range d.DeployedOnly {
		add(r.URN, "", "deployed, but not declared by the program")
	}
	for _, r := range d.NotDeployed {
		add(r.URN, "", "declared by the program, but not deployed")
	}
	for _, r := range d.Changed {
		for _, p := range r.Properties {
			add(r.URN, p.Path, fmt.Sprintf("%s: deployed %s, preview %s", p.Path, side(p.Deployed), side(p.Preview)))
		}
	}
	return rule, results
}

// DriftRuleID is the SARIF rule of drift results.
const DriftRuleID = "deployed-state-drift"
