package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ec2InstanceProfile = engine.Rule{
	ID:          "ec2-instance-profile",
	Description: "Every instance and launch template runs with an instance profile",
	Citations:   []string{"164.308(a)(3)(i)", "164.312(a)(1)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-instance-profile-attached"},
		Prowler:     []string{"ec2_instance_profile_attached"},
	},
	Fix:   "Give the host an instance profile whose role allows only what it needs (and SSM), instead of keys on disk.",
	Types: []string{tInstance, tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch r.Type {
		case tInstance:
			if !r.Get("iamInstanceProfile").Present() {
				c.Fail("iamInstanceProfile", "iamInstanceProfile is not set")
			}
		case tLaunchTemplate:
			p := r.Get("iamInstanceProfile")
			if !p.Get("name").Present() && !p.Get("arn").Present() {
				c.Fail("iamInstanceProfile", "iamInstanceProfile has neither name nor arn")
			}
		}
	},
}
