package report

import (
	"github.com/hipaa-platform/platform/policy/engine"
)

// drillEvidenceTag is the tag of a restore drill's Auto Scaling group that names where its evidence
// records are (the database component's DrillEvidenceTag).
const drillEvidenceTag = "DrillEvidence"

// Drill is one cluster's restore drill as the audit reports it.
type Drill struct {
	// Group is the drill host's Auto Scaling group; Evidence where its records are.
	Group    string `json:"group"`
	Evidence string `json:"evidence"`
}

// Drills are the restore drills the resources declare, in the order declared: the evidence that the
// contingency plan is tested (45 CFR 164.308(a)(7)(ii)(D)) is where they say.
func Drills(resources []*engine.Resource) []Drill {
	var out []Drill
	for _, r := range resources {
		if r.Type != tASG {
			continue
		}
		for _, tag := range r.Get("tags").Items() {
			if tag.Get("key").Str() == drillEvidenceTag {
				out = append(out, Drill{Group: r.Get("name").Str(), Evidence: tag.Get("value").Str()})
			}
		}
	}
	return out
}

// Reads says which resources a report in format draws on beyond the findings: the Auto Scaling groups,
// for their drill evidence, and for Markdown every resource, for the diagram.
func Reads(format string) func(*engine.Resource) bool {
	if format == "markdown" {
		return func(*engine.Resource) bool { return true }
	}
	return func(r *engine.Resource) bool { return r.Type == tASG }
}
