package hipaa

import (
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var noPublicIP = engine.Rule{
	ID:          "no-public-ip",
	Description: "Instances and launch templates get no public IP; only public subnets map public IPs",
	Citations:   []string{"164.312(a)(1)", "164.312(e)(1)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-instance-no-public-ip", "ec2-launch-template-public-ip-disabled", "subnet-auto-assign-public-ip-disabled"},
		Prowler:     []string{"ec2_instance_public_ip", "ec2_launch_template_no_public_ip", "vpc_subnet_no_public_ip_by_default"},
	},
	Fix:   "Remove associatePublicIpAddress; keep hosts in private subnets behind the load balancer; set mapPublicIpOnLaunch only on subnets tagged Tier: public.",
	Types: []string{tInstance, tLaunchTemplate, tSubnet},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch r.Type {
		case tInstance:
			if v := r.Get("associatePublicIpAddress"); v.True() {
				c.Fail("associatePublicIpAddress", "associatePublicIpAddress is true; hosts take no public IP")
			}
		case tLaunchTemplate:
			for _, ni := range r.Get("networkInterfaces").Items() {
				if v := ni.Get("associatePublicIpAddress"); v.True() {
					c.Fail(v.Path(), "%s is true; hosts take no public IP", v.Path())
				}
			}
		case tSubnet:
			if r.Get("mapPublicIpOnLaunch").True() && r.Tag(naming.TierTag).Str() != naming.TierPublic {
				c.Fail("mapPublicIpOnLaunch", "mapPublicIpOnLaunch is true on a subnet not tagged %s: %s", naming.TierTag, naming.TierPublic)
			}
		}
	},
}
