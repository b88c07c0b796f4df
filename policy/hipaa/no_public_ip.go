package hipaa

import "github.com/hipaa-platform/platform/internal/naming"

// TierTag names a subnet's tier; only subnets of TierPublic may map public IPs.
const TierTag, TierPublic = naming.TierTag, naming.TierPublic

var noPublicIP = Rule{
	ID:          "no-public-ip",
	Description: "Instances and launch templates get no public IP; only public subnets map public IPs",
	Citations:   []string{"164.312(a)(1)", "164.312(e)(1)"},
	Severity:    High,
	Fix:         "Remove associatePublicIpAddress; keep hosts in private subnets behind the load balancer; set mapPublicIpOnLaunch only on subnets tagged Tier: public.",
	Types:       []string{tInstance, tLaunchTemplate, tSubnet},
	Resource: func(c *Check, r *Resource) {
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
			if r.Get("mapPublicIpOnLaunch").True() && r.Tag(TierTag).Str() != TierPublic {
				c.Fail("mapPublicIpOnLaunch", "mapPublicIpOnLaunch is true on a subnet not tagged %s: %s", TierTag, TierPublic)
			}
		}
	},
}
