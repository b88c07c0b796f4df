package hipaa

var ecrRepoPrivate = Rule{
	ID:          "ecr-repo-private",
	Description: `No repository policy allows the principal "*"`,
	Citations:   []string{"164.312(a)(1)", "project"},
	Severity:    Critical,
	Fix:         "Name the accounts or roles that may pull in the repository policy.",
	Types:       []string{tEcrPolicy},
	Resource: func(c *Check, r *Resource) {
		failWildcardAllow(c, r.Get("policy"), "accounts that may pull")
	},
}
