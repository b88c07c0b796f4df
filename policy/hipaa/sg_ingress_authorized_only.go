package hipaa

import (
	"fmt"
	"slices"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var sgIngressAuthorizedOnly = engine.Rule{
	ID:          "sg-ingress-authorized-only",
	Description: "World-open ingress exists only on the allowed ports of security groups marked as edge",
	Citations:   []string{"164.312(e)(1)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"vpc-sg-open-only-to-authorized-ports"},
		Prowler:     []string{"ec2_securitygroup_allow_ingress_from_internet_to_any_port", "ec2_securitygroup_allow_ingress_from_internet_to_all_ports"},
	},
	Fix:    `Open the world only to the load balancer's group (tagged Exposure: edge) on the allowed ports; admit everything else by security group.`,
	Types:  []string{tSecurityGroup, tSecurityGroupRule, tIngressRule},
	Params: []engine.Param{{Name: "ports", Description: "ports that edge groups may open to the world (80 only serves a redirect, which lb-https-only checks)", Default: []int{80, 443}}},
	Stack: func(c *engine.Check, s *engine.Stack) {
		allowed := c.Ints("ports")
		groupsByID := map[string]*engine.Resource{}
		for _, g := range s.OfType(tSecurityGroup) {
			if id := g.Get("id").Str(); id != "" {
				groupsByID[id] = g
			}
		}
		for _, typ := range []string{tSecurityGroup, tSecurityGroupRule, tIngressRule} {
			for _, r := range s.OfType(typ) {
				for _, p := range ingresses(r) {
					if !p.world() {
						continue
					}
					group := r
					if r.Type != tSecurityGroup {
						group = nil
						for _, urn := range r.PropertyDependencies["securityGroupId"] {
							if g := s.ByURN(urn); g != nil && g.Type == tSecurityGroup {
								group = g
							}
						}
						if group == nil {
							group = groupsByID[p.group]
						}
					}
					switch {
					case group == nil:
						c.FailOn(r.URN, "securityGroupId", "ingress from the world into a security group this stack does not declare; it cannot be shown to be an edge group")
					case group.Tag(naming.EdgeTag).Unknown():
						c.UnknownOn(group.URN, "tags."+naming.EdgeTag)
					case group.Tag(naming.EdgeTag).Str() != naming.EdgeValue:
						c.FailOn(r.URN, p.prop("cidrBlocks"), "ingress from the world into %s, which is not tagged %s: %s", group.Name, naming.EdgeTag, naming.EdgeValue)
					case p.unknown:
						c.UnknownOn(r.URN, p.prop("fromPort"))
					case p.from != p.to || !slices.Contains(allowed, p.from):
						c.FailOn(r.URN, p.prop("fromPort"), "ingress from the world on ports %s; edge groups may open only %s", p.ports(), fmt.Sprint(allowed))
					}
				}
			}
		}
	},
}
