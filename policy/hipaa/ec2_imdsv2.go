package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ec2Imdsv2 = engine.Rule{
	ID:          "ec2-imdsv2",
	Description: "Instances and launch templates require IMDSv2 session tokens",
	Citations:   []string{"164.312(a)(1)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-imdsv2-check", "ec2-launch-template-imdsv2-check"},
		Prowler:     []string{"ec2_instance_imdsv2_enabled", "ec2_launch_template_imdsv2_required"},
	},
	Fix:   `Set metadataOptions.httpTokens to "required".`,
	Types: []string{tInstance, tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch v := r.Get("metadataOptions", "httpTokens"); {
		case v.Unknown():
			c.Unknown(v.Path())
		case v.Str() != "required":
			c.Fail(v.Path(), "metadataOptions.httpTokens is %s; set it to \"required\" so instance credentials cannot be stolen through IMDSv1", orUnset(v))
		}
	},
}
