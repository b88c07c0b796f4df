package hipaa

var ecrImmutableTags = Rule{
	ID:          "ecr-immutable-tags",
	Description: "Container image tags are immutable, so a released tag always means the same image",
	Citations:   []string{"164.312(c)(1)", "project"},
	Severity:    Medium,
	Fix:         "Set imageTagMutability: IMMUTABLE.",
	Types:       []string{tEcrRepository},
	Resource: func(c *Check, r *Resource) {
		switch v := r.Get("imageTagMutability"); {
		case v.Unknown():
			c.Unknown("imageTagMutability")
		case v.Str() != "IMMUTABLE":
			c.Fail("imageTagMutability", "imageTagMutability is %s; set it to IMMUTABLE", orUnset(v))
		}
	},
}
