package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var noUnrestrictedIgwRoute = engine.Rule{
	ID:          "no-unrestricted-igw-route",
	Description: "A default route to an internet gateway exists only in route tables of public subnets",
	Citations:   []string{"164.312(e)(1)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"no-unrestricted-route-to-igw"},
	},
	Fix:   "Route private subnets' default traffic through a NAT gateway (or nowhere); associate internet-gateway route tables only with subnets tagged Tier: public.",
	Types: []string{tRouteTable, tRoute},
	Stack: func(c *engine.Check, s *engine.Stack) {
		igws := map[string]bool{}
		for _, g := range s.OfType(tInternetGateway) {
			igws[g.URN] = true
		}
		toIGW := func(r *engine.Resource, route engine.V, depKey string) bool {
			if !isWorld(route.Get("cidrBlock").Str()) && !isWorld(route.Get("destinationCidrBlock").Str()) &&
				!isWorld(route.Get("ipv6CidrBlock").Str()) && !isWorld(route.Get("destinationIpv6CidrBlock").Str()) {
				return false
			}
			if strings.HasPrefix(route.Get("gatewayId").Str(), "igw-") {
				return true
			}
			for _, urn := range r.PropertyDependencies[depKey] {
				if igws[urn] {
					return true
				}
			}
			return false
		}
		check := func(table *engine.Resource, source *engine.Resource) {
			for _, a := range s.Referencing(table, tRouteAssoc, "routeTableId") {
				for _, urn := range a.PropertyDependencies["subnetId"] {
					if sn := s.ByURN(urn); sn != nil && sn.Tag(naming.TierTag).Str() != naming.TierPublic {
						c.FailOn(source.URN, "routes", "a default route to an internet gateway serves subnet %s, which is not tagged %s: %s", sn.Name, naming.TierTag, naming.TierPublic)
					}
				}
			}
		}
		for _, rt := range s.OfType(tRouteTable) {
			for _, route := range rt.Get("routes").Items() {
				if toIGW(rt, route, "routes") {
					check(rt, rt)
					break
				}
			}
		}
		for _, r := range s.OfType(tRoute) {
			if !toIGW(r, r.Root(), "gatewayId") {
				continue
			}
			for _, urn := range r.PropertyDependencies["routeTableId"] {
				if rt := s.ByURN(urn); rt != nil {
					check(rt, r)
				}
			}
		}
	},
}
