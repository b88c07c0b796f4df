package hipaa

var ecrRepoPrivate = Rule{
	ID:          "ecr-repo-private",
	Description: `No repository policy allows the principal "*"`,
	Citations:   []string{"164.312(a)(1)", "project"},
	Severity:    Critical,
	Fix:         "Name the accounts or roles that may pull in the repository policy.",
	Types:       []string{tEcrPolicy},
	Resource: func(c *Check, r *Resource) {
		policy := r.Get("policy")
		if policy.Unknown() {
			c.Unknown("policy")
			return
		}
		statements, _ := parsePolicy(policy.Str())
		for i, st := range statements {
			if st.allows() && st.anyPrincipal() {
				c.Fail("policy", "policy statement %d allows the principal \"*\"; name the accounts that may pull", i)
			}
		}
	},
}
