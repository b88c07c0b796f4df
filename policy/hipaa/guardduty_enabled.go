package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var guarddutyEnabled = engine.Rule{
	ID:          "guardduty-enabled",
	Description: "The account baseline enables a GuardDuty detector",
	Citations:   []string{"164.308(a)(1)(ii)(D)", "164.308(a)(6)(ii)"},
	Severity:    engine.High,
	Fix:         "In the baseline stack, declare an aws.guardduty.Detector with enable: true.",
	Types:       []string{tDetector},
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
		}
	},
}
