package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var defaultSgClosed = engine.Rule{
	ID:          "default-sg-closed",
	Description: "Every VPC's default security group is managed and has no rules",
	Citations:   []string{"164.312(e)(1)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"vpc-default-security-group-closed"},
		Prowler:     []string{"ec2_securitygroup_default_restrict_traffic"},
	},
	Fix:   "Declare an aws.ec2.DefaultSecurityGroup for the VPC with no ingress and no egress.",
	Types: []string{tVpc},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, vpc := range s.OfType(tVpc) {
			groups := s.Referencing(vpc, tDefaultSG, "vpcId")
			if len(groups) == 0 {
				c.FailOn(vpc.URN, "", "the VPC's default security group is not managed, so it keeps the rules AWS gives it")
			}
			for _, g := range groups {
				for _, k := range []string{"ingress", "egress"} {
					switch v := g.Get(k); {
					case v.Unknown():
						c.UnknownOn(g.URN, k)
					case len(v.Items()) > 0:
						c.FailOn(g.URN, k, "the default security group has %d %s rule(s); remove them", len(v.Items()), k)
					}
				}
			}
		}
	},
}
