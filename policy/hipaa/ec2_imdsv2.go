package hipaa

var ec2Imdsv2 = Rule{
	ID:          "ec2-imdsv2",
	Description: "Instances and launch templates require IMDSv2 session tokens",
	Citations:   []string{"164.312(a)(1)"},
	Severity:    High,
	Fix:         `Set metadataOptions.httpTokens to "required".`,
	Types:       []string{tInstance, tLaunchTemplate},
	Resource: func(c *Check, r *Resource) {
		switch v := r.Get("metadataOptions", "httpTokens"); {
		case v.Unknown():
			c.Unknown(v.Path())
		case v.Str() != "required":
			c.Fail(v.Path(), "metadataOptions.httpTokens is %s; set it to \"required\" so instance credentials cannot be stolen through IMDSv1", orUnset(v))
		}
	},
}
