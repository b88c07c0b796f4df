package report

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_]`)

// nodeID makes a Mermaid node ID from a URN.
func nodeID(prefix, urn string) string {
	i := strings.LastIndex(urn, "::")
	return prefix + "_" + unsafeID.ReplaceAllString(urn[i+2:], "_")
}

func label(parts ...string) string {
	return `"` + strings.ReplaceAll(strings.Join(parts, "<br/>"), `"`, "'") + `"`
}

// Diagram writes a Mermaid flowchart of the network: VPCs with their subnets grouped by tier, the hosts
// and load balancers placed in them, the security groups and every flow their rules allow.
func Diagram(w io.Writer, resources []*engine.Resource) error {
	s := engine.NewStack(resources)
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	b.WriteString("  internet((Internet))\n")

	subnetNode := map[string]string{}
	for _, vpc := range s.OfType("aws:ec2/vpc:Vpc") {
		fmt.Fprintf(&b, "  subgraph %s[%s]\n", nodeID("vpc", vpc.URN),
			label("VPC "+vpc.Name, vpc.Get("cidrBlock").Str()+", tenancy "+vpc.Get("instanceTenancy").Str()))
		tiers := map[string][]*engine.Resource{}
		for _, sn := range s.Referencing(vpc, "aws:ec2/subnet:Subnet", "vpcId") {
			tier := sn.Tag(naming.TierTag).Str()
			if tier == "" {
				tier = "untiered"
			}
			tiers[tier] = append(tiers[tier], sn)
		}
		for _, tier := range orderTiers(tiers) {
			fmt.Fprintf(&b, "    subgraph %s[%s]\n", nodeID("tier_"+tier, vpc.URN), label(tier+" subnets"))
			for _, sn := range tiers[tier] {
				id := nodeID("subnet", sn.URN)
				subnetNode[sn.URN] = id
				fmt.Fprintf(&b, "      %s[%s]\n", id, label(sn.Get("availabilityZone").Str(), sn.Get("cidrBlock").Str()))
			}
			b.WriteString("    end\n")
		}
		b.WriteString("  end\n")
	}

	groups := map[string]string{}
	for _, g := range s.OfType("aws:ec2/securityGroup:SecurityGroup") {
		id := nodeID("sg", g.URN)
		groups[g.URN] = id
		if gid := g.Get("id").Str(); gid != "" {
			groups[gid] = id
		}
		edge := ""
		if g.Tag(naming.EdgeTag).Str() == naming.EdgeValue {
			edge = " (edge)"
		}
		fmt.Fprintf(&b, "  %s{{%s}}\n", id, label("SG "+g.Name+edge))
	}
	groupOf := func(r *engine.Resource, prop string) string {
		for _, urn := range r.PropertyDependencies[prop] {
			if id, ok := groups[urn]; ok {
				return id
			}
		}
		return groups[r.Get(prop).Str()]
	}

	// Hosts and load balancers: each in the subnets it is placed in, joined to its groups.
	for _, h := range placed(s) {
		id := nodeID("host", h.res.URN)
		fmt.Fprintf(&b, "  %s[/%s/]\n", id, label(h.kind+" "+h.res.Name))
		for _, urn := range h.subnets {
			if sn, ok := subnetNode[urn]; ok {
				fmt.Fprintf(&b, "  %s -.- %s\n", sn, id)
			}
		}
		for _, urn := range h.groups {
			if g, ok := groups[urn]; ok {
				fmt.Fprintf(&b, "  %s -.-|member of| %s\n", id, g)
			}
		}
	}

	// Flows: ingress rules draw source to target; egress rules to the world or S3 draw outward.
	flows := map[string]bool{}
	addFlow := func(from, to string, port string) {
		if from == "" || to == "" {
			return
		}
		flows[fmt.Sprintf("  %s -->|%s| %s\n", from, port, to)] = true
	}
	s3 := false
	for _, r := range s.OfType("aws:ec2/securityGroupRule:SecurityGroupRule") {
		port := portLabel(r)
		switch r.Get("type").Str() {
		case "ingress":
			target := groupOf(r, "securityGroupId")
			if src := groupOf(r, "sourceSecurityGroupId"); src != "" {
				addFlow(src, target, port)
			}
			if worldOpen(r) {
				addFlow("internet", target, port)
			}
		case "egress":
			from := groupOf(r, "securityGroupId")
			if len(r.Get("prefixListIds").Items()) > 0 {
				addFlow(from, "s3", port)
				s3 = true
			}
			if worldOpen(r) {
				addFlow(from, "internet", port)
			}
		}
	}
	if s3 {
		b.WriteString("  s3[(S3 via gateway endpoint)]\n")
	}
	keys := make([]string, 0, len(flows))
	for k := range flows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteString(k)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orderTiers(tiers map[string][]*engine.Resource) []string {
	order := []string{"public", "app", "data"}
	var out []string
	for _, t := range order {
		if _, ok := tiers[t]; ok {
			out = append(out, t)
		}
	}
	var rest []string
	for t := range tiers {
		if !slices.Contains(order, t) {
			rest = append(rest, t)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func portLabel(r *engine.Resource) string {
	from, _ := r.Get("fromPort").Num()
	to, _ := r.Get("toPort").Num()
	if from == to {
		return fmt.Sprintf("%v", from)
	}
	return fmt.Sprintf("%v-%v", from, to)
}

func worldOpen(r *engine.Resource) bool {
	for _, c := range append(r.Get("cidrBlocks").Strs(), r.Get("ipv6CidrBlocks").Strs()...) {
		if c == "0.0.0.0/0" || c == "::/0" {
			return true
		}
	}
	return false
}

type host struct {
	res     *engine.Resource
	kind    string
	subnets []string
	groups  []string
}

// placed lists the instances, auto scaling groups and load balancers, with the subnets and groups
// their properties were computed from.
func placed(s *engine.Stack) []host {
	var out []host
	add := func(typ, kind, subnetProp, groupProp string) {
		for _, r := range s.OfType(typ) {
			out = append(out, host{res: r, kind: kind, subnets: r.PropertyDependencies[subnetProp], groups: r.PropertyDependencies[groupProp]})
		}
	}
	add("aws:ec2/instance:Instance", "host", "subnetId", "vpcSecurityGroupIds")
	add("aws:autoscaling/group:Group", "auto scaling group", "vpcZoneIdentifiers", "")
	add("aws:lb/loadBalancer:LoadBalancer", "load balancer", "subnets", "securityGroups")
	// An auto scaling group takes its groups from its launch template.
	for i := range out {
		if out[i].kind != "auto scaling group" {
			continue
		}
		for _, urn := range out[i].res.PropertyDependencies["launchTemplate"] {
			if lt := s.ByURN(urn); lt != nil {
				out[i].groups = append(out[i].groups, lt.PropertyDependencies["vpcSecurityGroupIds"]...)
			}
		}
	}
	return out
}
