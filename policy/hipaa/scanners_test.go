package hipaa

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/conformance"
)

// otherConfigRules are the AWS Config managed rules the pack names that are not in AWS's HIPAA conformance
// pack, each with one of AWS's sample conformance packs that holds it (awslabs/aws-config-rules,
// aws-config-conformance-packs/, at b54d4a6).
var otherConfigRules = map[string]string{
	"alb-desync-mode-check":                           "Operational-Best-Practices-For-Networking-and-Content-Delivery-Services",
	"alb-http-drop-invalid-header-enabled":            "Operational-Best-Practices-For-Networking-and-Content-Delivery-Services",
	"backup-recovery-point-minimum-retention-check":   "Operational-Best-Practices-for-ACSC-ISM-Part1",
	"cloudwatch-alarm-action-enabled-check":           "Operational-Best-Practices-for-CloudWatch",
	"cloudwatch-log-group-encrypted":                  "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"cmk-backing-key-rotation-enabled":                "Operational-Best-Practices-For-NIST-800-181",
	"cw-loggroup-retention-period-check":              "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"desired-instance-tenancy":                        "Self-Hosted-AI-ML-Security-Governance-Best-Practices",
	"ec2-instance-detailed-monitoring-enabled":        "Operational-Best-Practices-For-NIST-800-181",
	"ec2-launch-template-imdsv2-check":                "Self-Hosted-AI-ML-Security-Governance-Best-Practices",
	"ec2-launch-template-public-ip-disabled":          "Operational-Best-Practices-for-PCI-DSS-v4.0-excluding-global-resourcetypes",
	"ec2-launch-templates-ebs-volume-encrypted":       "Self-Hosted-AI-ML-Security-Governance-Best-Practices",
	"ecr-private-image-scanning-enabled":              "Operational-Best-Practices-for-AWS-Well-Architected-Security-Pillar",
	"ecr-private-tag-immutability-enabled":            "Operational-Best-Practices-for-Asset-Management",
	"ecr-repository-cmk-encryption-enabled":           "Self-Hosted-AI-ML-Security-Governance-Best-Practices",
	"elbv2-listener-encryption-in-transit":            "Self-Hosted-AI-ML-Security-Governance-Best-Practices",
	"guardduty-malware-protection-enabled":            "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"guardduty-runtime-monitoring-enabled":            "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"guardduty-s3-protection-enabled":                 "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"iam-user-group-membership-check":                 "Operational-Best-Practices-For-NIST-800-181",
	"nacl-no-unrestricted-ssh-rdp":                    "Operational-Best-Practices-For-Networking-and-Content-Delivery-Services",
	"inspector-ec2-scan-enabled":                      "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"inspector-ecr-scan-enabled":                      "AI-ML-Security-Governance-Supporting-Infrastructure-Best-Practices",
	"s3-bucket-level-public-access-prohibited":        "Amazon-Sagemaker-AI-Security-and-Governance-Best-Practices",
	"secretsmanager-scheduled-rotation-success-check": "Operational-Best-Practices-For-Security-Identity-and-Compliance-Services",
	"secretsmanager-secret-periodic-rotation":         "Operational-Best-Practices-For-Security-Identity-and-Compliance-Services",
}

// prowlerChecks are Prowler's AWS check IDs (testdata/prowler-aws-checks.txt says from which commit).
func prowlerChecks(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("testdata/prowler-aws-checks.txt")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			ids[l] = true
		}
	}
	return ids
}

func TestEveryRuleNamesTheScannersChecksThatExist(t *testing.T) {
	t.Parallel()
	prowler := prowlerChecks(t)
	used := map[string]bool{}
	for _, r := range Pack().Rules() {
		for _, c := range r.Scanners.ConfigRules {
			used[c] = true
			if !conformance.Known(c) && otherConfigRules[c] == "" {
				t.Errorf("%s names AWS Config rule %s, which is neither in AWS's HIPAA pack nor among the other known rules", r.ID, c)
			}
		}
		for _, p := range r.Scanners.Prowler {
			if !prowler[p] {
				t.Errorf("%s names Prowler check %s, which Prowler does not have", r.ID, p)
			}
		}
		for _, names := range [][]string{r.Scanners.ConfigRules, r.Scanners.Prowler} {
			if len(slices.Compact(slices.Sorted(slices.Values(names)))) != len(names) {
				t.Errorf("%s names a check twice: %v", r.ID, names)
			}
		}
	}
	for c := range otherConfigRules {
		if !used[c] {
			t.Errorf("otherConfigRules lists %s, which no rule names", c)
		}
	}
}

// The runtime controls' rules name what AWS's scanners check of them; the rules of the platform's own
// safeguards, which no scanner checks, name nothing.
func TestTheRuntimeControlsMapToTheirScanners(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"cloudtrail-s3-data-events": "cloudtrail-s3-dataevents-enabled", "securityhub-enabled": "securityhub-enabled",
		"alarms-have-actions": "cloudwatch-alarm-action-check", "vpc-flow-logs": "vpc-flow-logs-enabled",
	}
	for id, rule := range want {
		if r := Pack().Rule(id); r == nil || !slices.Contains(r.Scanners.ConfigRules, rule) {
			t.Errorf("%s does not name AWS Config's %s", id, rule)
		}
	}
	if r := Pack().Rule("cloudtrail-security-alarms"); len(r.Scanners.Prowler) != len(conformance.TrailAlarms) {
		t.Errorf("cloudtrail-security-alarms names %d Prowler checks, want one per alarm", len(r.Scanners.Prowler))
	}
	for _, id := range []string{"db-tls-only", "phi-stores-protected", "ec2-image-built-by-account"} {
		if r := Pack().Rule(id); len(r.Scanners.ConfigRules)+len(r.Scanners.Prowler) != 0 {
			t.Errorf("%s, a safeguard of the platform's own, names scanners' checks %v", id, r.Scanners)
		}
	}
}
