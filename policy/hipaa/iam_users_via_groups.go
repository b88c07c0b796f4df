package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var iamUsersViaGroups = engine.Rule{
	ID:          "iam-users-via-groups",
	Description: "No IAM policy is attached directly to a user; users get permissions through groups",
	Citations:   []string{"164.308(a)(4)(ii)(B)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"iam-user-no-policies-check", "iam-user-group-membership-check"},
		Prowler:     []string{"iam_policy_attached_only_to_group_or_roles"},
	},
	Fix:   "Attach the policy to a group and add the user to it (or, better, use IAM Identity Center).",
	Types: []string{tUserPolicy, tUserPolicyAttach, tPolicyAttachment},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch r.Type {
		case tUserPolicy:
			c.Fail("user", "an inline policy on user %s; attach policies to groups", orUnset(r.Get("user")))
		case tUserPolicyAttach:
			c.Fail("user", "a policy attached to user %s; attach policies to groups", orUnset(r.Get("user")))
		case tPolicyAttachment:
			if users := r.Get("users").Strs(); len(users) > 0 {
				c.Fail("users", "the policy is attached to users %v; attach policies to groups", users)
			}
		}
	},
}
