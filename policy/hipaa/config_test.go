package hipaa

import (
	"strings"
	"testing"
)

// TestEveryRuleIsComplete: the pack is built (engine.NewPack refuses a rule without a description,
// citations, severity or fix, or listed twice), every rule names the types it looks at, and every
// citation is a section of the Security Rule or the platform's own.
func TestEveryRuleIsComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range mustPack().Rules() {
		if len(r.Types) == 0 {
			t.Errorf("%s names no types", r.ID)
		}
		for _, c := range r.Citations {
			if c != Platform && !strings.HasPrefix(c, "164.3") || Sections[c] == "" {
				t.Errorf("%s cites %q, which is not a named section", r.ID, c)
			}
		}
		seen[r.ID] = true
	}
	// The 39 of HIPAA-RULES.md, the load balancer's logging and header hygiene, which AWS's HIPAA
	// conformance pack checks too (elb-logging-enabled, alb-http-drop-invalid-header-enabled), and the
	// protection of PHI stores, the 3 of the host images' builds (encrypted, private, tested and
	// scanned), the hosts' boot from them, Session Manager's preferences, the patching of long-lived
	// hosts, the database's audit log and the rotation of generated passwords; and the runtime controls
	// that AWS's own scanners run on (AWS Config and its HIPAA conformance pack, Security Hub, Inspector,
	// the trail's S3 data events and its CIS alarms, AWS WAF in front of the load balancer, AWS Backup of
	// the database hosts, closed network ACLs, endpoints held to the account, no inline IAM policies).
	if len(seen) != 61 {
		t.Errorf("%d rules, want the 39 of HIPAA-RULES.md, the 2 load balancer rules, phi-stores-protected, the 3 image build rules, ec2-image-built-by-account, ssm-session-preferences, ssm-hosts-patched, db-logs-shipped, secrets-passwords-rotated and the 11 runtime controls", len(seen))
	}
}
