package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

// iamNoInlinePolicies follows AWS Config's iam-no-inline-policy-check, a rule of AWS's HIPAA conformance
// pack, which reports every user, role and group with an inline policy: a managed policy is versioned,
// can be reviewed and attached on its own, and shows in IAM's access analysis as one thing.
var iamNoInlinePolicies = engine.Rule{
	ID:          "iam-no-inline-policies",
	Description: "No role, user or group has an inline policy; permissions are customer managed policies, attached",
	Citations:   []string{"164.308(a)(4)(ii)(B)", "164.312(a)(1)"},
	Severity:    engine.Low,
	Scanners: engine.Scanners{
		ConfigRules: []string{"iam-no-inline-policy-check"},
	},
	Fix:   "Write the permissions as an aws.iam.Policy and attach it with an aws.iam.RolePolicyAttachment (components/hostrole.Grant).",
	Types: []string{tRolePolicy, tUserPolicy, tGroupPolicy, tRole},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch r.Type {
		case tRolePolicy:
			c.Fail("role", "an inline policy on role %s; make it a managed policy and attach it", orUnset(r.Get("role")))
		case tUserPolicy:
			c.Fail("user", "an inline policy on user %s; make it a managed policy and attach it to a group", orUnset(r.Get("user")))
		case tGroupPolicy:
			c.Fail("group", "an inline policy on group %s; make it a managed policy and attach it", orUnset(r.Get("group")))
		case tRole:
			// An empty block is no policy: it makes the role's inline policies exclusively the program's,
			// none (the provider's iam.Role documentation). In a deployed role's outputs the blocks are
			// the inline policies the role has, made by the program or not.
			n := 0
			for _, p := range r.Get("inlinePolicies").Items() {
				if p.Get("policy").Str() != "" || p.Get("policy").Unknown() {
					n++
				}
			}
			if n > 0 {
				c.Fail("inlinePolicies", "the role declares %d inline policies; make them managed policies and attach them", n)
			}
		}
	},
}
