package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var iamPasswordPolicy = engine.Rule{
	ID:          "iam-password-policy",
	Description: "The account password policy requires 14+ characters of all classes, remembers 24 and expires at 90 days",
	Citations:   []string{"164.308(a)(5)(ii)(D)", "164.312(d)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"iam-password-policy"},
		Prowler:     []string{"iam_password_policy_minimum_length_14", "iam_password_policy_reuse_24", "iam_password_policy_expires_passwords_within_90_days_or_less", "iam_password_policy_symbol"},
	},
	Fix:   "Set minimumPasswordLength 14, passwordReusePrevention 24, maxPasswordAge 90 and all four require* settings.",
	Types: []string{tPasswordPolicy},
	Resource: func(c *engine.Check, r *engine.Resource) {
		atLeast := func(k string, min float64) {
			v := r.Get(k)
			if v.Unknown() {
				c.Unknown(k)
			} else if n, ok := v.Num(); !ok || n < min {
				c.Fail(k, "%s is %s; set it to at least %v", k, numOrUnset(v), min)
			}
		}
		atLeast("minimumPasswordLength", 14)
		atLeast("passwordReusePrevention", 24)
		switch v := r.Get("maxPasswordAge"); {
		case v.Unknown():
			c.Unknown("maxPasswordAge")
		default:
			if n, ok := v.Num(); !ok || n < 1 || n > 90 {
				c.Fail("maxPasswordAge", "maxPasswordAge is %s; set it to 90 or fewer days", numOrUnset(v))
			}
		}
		for _, k := range []string{"requireLowercaseCharacters", "requireUppercaseCharacters", "requireNumbers", "requireSymbols"} {
			requireTrue(c, r.Get(k), "")
		}
	},
}

func numOrUnset(v engine.V) string {
	if n, ok := v.Num(); ok {
		return fmtNum(n)
	}
	return "not set"
}
