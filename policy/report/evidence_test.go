package report_test

import (
	"testing"

	"github.com/hipaa-platform/platform/policy/report"
)

// TestTheAuditNamesWhereTheDrillsEvidenceIs reads prod's declared resources: its drill group names
// the log bucket's drills prefix, and the report lists it.
func TestTheAuditNamesWhereTheDrillsEvidenceIs(t *testing.T) {
	t.Parallel()
	drills := report.Drills(prodResources(t))
	want := report.Drill{Group: "hipaa-prod-db-drill", Evidence: "s3://hipaa-prod-logs-123456789012/drills/hipaa-prod-db/"}
	if len(drills) != 1 || drills[0] != want {
		t.Errorf("drills %v, want %v", drills, want)
	}
	other := res("aws:autoscaling/group:Group", "web", map[string]any{"name": "web", "tags": []any{map[string]any{"key": "Name", "value": "web"}}}, nil)
	if got := report.Drills(append(prodResources(t), other)); len(got) != 1 {
		t.Errorf("a group without the tag is taken for a drill: %v", got)
	}
}
