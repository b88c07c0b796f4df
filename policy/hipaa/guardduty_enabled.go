package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

// guardDutyPlans are the protection plans that apply to the platform: S3 (the PHI buckets), EBS malware
// scans (the hosts' volumes) and runtime monitoring (the hosts).
var guardDutyPlans = []string{"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RUNTIME_MONITORING"}

var guarddutyEnabled = engine.Rule{
	ID:          "guardduty-enabled",
	Description: "The account baseline enables a GuardDuty detector with its S3, EBS malware and runtime monitoring protection plans",
	Citations:   []string{"164.308(a)(1)(ii)(D)", "164.308(a)(6)(ii)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"guardduty-enabled-centralized", "guardduty-s3-protection-enabled", "guardduty-malware-protection-enabled", "guardduty-runtime-monitoring-enabled"},
		Prowler:     []string{"guardduty_is_enabled", "guardduty_s3_protection_enabled", "guardduty_ec2_malware_protection_enabled"},
	},
	Fix: "In the baseline stack, declare an aws.guardduty.Detector with enable: true, and an aws.guardduty.DetectorFeature " +
		"with status ENABLED for each of S3_DATA_EVENTS, EBS_MALWARE_PROTECTION and RUNTIME_MONITORING.",
	Types: []string{tDetector, tDetectorFeature},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		detectors := s.OfType(tDetector)
		if len(detectors) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline has no GuardDuty detector")
		}
		for _, d := range detectors {
			if v := d.Get("enable"); v.Present() && !v.Unknown() && !v.True() {
				c.FailOn(d.URN, "enable", "enable is false; GuardDuty must run")
			}
			enabled := map[string]bool{}
			for _, f := range s.Referencing(d, tDetectorFeature, "detectorId") {
				if st := f.Get("status"); st.Unknown() || st.Str() == "ENABLED" {
					enabled[f.Get("name").Str()] = true
				}
			}
			for _, plan := range guardDutyPlans {
				if !enabled[plan] {
					c.FailOn(d.URN, "", "GuardDuty's %s protection plan is not enabled", plan)
				}
			}
		}
	},
}
