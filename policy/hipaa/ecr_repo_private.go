package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ecrRepoPrivate = engine.Rule{
	ID:          "ecr-repo-private",
	Description: `No repository policy allows the principal "*"`,
	Citations:   []string{"164.312(a)(1)", "project"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		Prowler: []string{"ecr_repositories_not_publicly_accessible"},
	},
	Fix:   "Name the accounts or roles that may pull in the repository policy.",
	Types: []string{tEcrPolicy},
	Resource: func(c *engine.Check, r *engine.Resource) {
		failWildcardAllow(c, r, r.Get("policy"), "accounts that may pull")
	},
}
