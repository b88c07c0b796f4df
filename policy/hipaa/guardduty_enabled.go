package hipaa

var guarddutyEnabled = Rule{
	ID:          "guardduty-enabled",
	Description: "The account baseline enables a GuardDuty detector",
	Citations:   []string{"164.308(a)(1)(ii)(D)", "164.308(a)(6)(ii)"},
	Severity:    High,
	Fix:         "In the baseline stack, declare an aws.guardduty.Detector with enable: true.",
	Types:       []string{tDetector},
	Stack: func(c *Check, s *Stack) {
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
