package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ecrImmutableTags = engine.Rule{
	ID:          "ecr-immutable-tags",
	Description: "Container image tags are immutable, so a released tag always means the same image",
	Citations:   []string{"164.312(c)(1)", "project"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ecr-private-tag-immutability-enabled"},
		Prowler:     []string{"ecr_repositories_tag_immutability"},
	},
	Fix:   "Set imageTagMutability: IMMUTABLE.",
	Types: []string{tEcrRepository},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch v := r.Get("imageTagMutability"); {
		case v.Unknown():
			c.Unknown("imageTagMutability")
		case v.Str() != "IMMUTABLE":
			c.Fail("imageTagMutability", "imageTagMutability is %s; set it to IMMUTABLE", orUnset(v))
		}
	},
}
