package hipaa

import (
	"github.com/hipaa-platform/platform/policy/engine"
)

var naclClosed = engine.Rule{
	ID: "nacl-closed",
	Description: "Every VPC's default network ACL is managed and has no entries, and no network ACL admits the world to " +
		"SSH (22) or RDP (3389) or on every protocol",
	Citations: []string{"164.312(a)(1)", "164.312(e)(1)"},
	Severity:  engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"nacl-no-unrestricted-ssh-rdp"},
		Prowler:     []string{"ec2_networkacl_allow_ingress_tcp_port_22", "ec2_networkacl_allow_ingress_tcp_port_3389", "ec2_networkacl_allow_ingress_any_port"},
	},
	Fix: "Declare an aws.ec2.DefaultNetworkAcl for the VPC with no ingress and no egress, give each tier's subnets an " +
		"aws.ec2.NetworkAcl of their own, and let the world in only on the ports a tier serves and its ephemeral ports, cut around 3389.",
	Types: []string{tVpc, tNetworkACL},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, vpc := range s.OfType(tVpc) {
			acls := s.Referencing(vpc, tDefaultNACL, "defaultNetworkAclId")
			if len(acls) == 0 {
				acls = s.Referencing(vpc, tDefaultNACL, "vpcId")
			}
			if len(acls) == 0 {
				c.FailOn(vpc.URN, "", "the VPC's default network ACL is not managed, so it keeps the entries AWS gives it, which admit everything")
			}
			for _, d := range acls {
				for _, k := range []string{"ingress", "egress"} {
					switch v := d.Get(k); {
					case v.Unknown():
						c.UnknownOn(d.URN, k)
					case len(v.Items()) > 0:
						c.FailOn(d.URN, k, "the default network ACL has %d %s entr(ies); remove them", len(v.Items()), k)
					}
				}
			}
		}
		for _, acl := range s.OfType(tNetworkACL) {
			for _, e := range acl.Get("ingress").Items() {
				if e.Get("action").Str() != "allow" || !isWorld(e.Get("cidrBlock").Str()) && !isWorld(e.Get("ipv6CidrBlock").Str()) {
					continue
				}
				proto := e.Get("protocol").Str()
				if proto == "-1" || proto == "all" {
					c.FailOn(acl.URN, e.Path(), "an entry admits the world on every protocol")
					continue
				}
				if proto != "tcp" && proto != "6" {
					continue
				}
				from, _ := e.Get("fromPort").Num()
				to, _ := e.Get("toPort").Num()
				for _, port := range []float64{22, 3389} {
					if from <= port && port <= to {
						c.FailOn(acl.URN, e.Path(), "an entry admits the world to port %v", port)
					}
				}
			}
		}
	},
}
