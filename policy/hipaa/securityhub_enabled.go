package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

var securityhubEnabled = engine.Rule{
	ID:          "securityhub-enabled",
	Description: "The account baseline enables Security Hub with AWS Foundational Security Best Practices",
	Citations:   []string{"164.308(a)(1)(ii)(D)", "164.308(a)(6)(ii)", "164.308(a)(8)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"securityhub-enabled"},
		Prowler:     []string{"securityhub_enabled"},
	},
	Fix: "In the baseline stack, declare an aws.securityhub.Account and an aws.securityhub.StandardsSubscription to " +
		"aws-foundational-security-best-practices; where the organization runs Security Hub for the account, waive this rule with that reason.",
	Types: []string{tSecurityHub, tStandards},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		if len(s.OfType(tSecurityHub)) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline does not enable Security Hub")
			return
		}
		for _, sub := range s.OfType(tStandards) {
			if arn := sub.Get("standardsArn"); arn.Unknown() || strings.Contains(arn.Str(), "/aws-foundational-security-best-practices/") {
				return
			}
		}
		c.FailOn(s.OfType(tSecurityHub)[0].URN, "", "Security Hub runs without AWS Foundational Security Best Practices")
	},
}
