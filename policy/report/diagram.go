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

// Resource types the diagram draws.
const (
	tVpc          = "aws:ec2/vpc:Vpc"
	tSubnet       = "aws:ec2/subnet:Subnet"
	tGroup        = "aws:ec2/securityGroup:SecurityGroup"
	tGroupRule    = "aws:ec2/securityGroupRule:SecurityGroupRule"
	tIngressRule  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	tEgressRule   = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	tInstance     = "aws:ec2/instance:Instance"
	tASG          = "aws:autoscaling/group:Group"
	tLaunchTmpl   = "aws:ec2/launchTemplate:LaunchTemplate"
	tLoadBalancer = "aws:lb/loadBalancer:LoadBalancer"
	tAlb          = "aws:alb/loadBalancer:LoadBalancer"
)

// Diagram writes a Mermaid flowchart of the network: each VPC with its subnets grouped by tier, each
// host, Auto Scaling group and load balancer in the subnets it is placed in and joined to its security
// groups, and every flow the groups' rules allow, between groups and to the internet and S3. Every
// node has an ID of its own.
func Diagram(w io.Writer, resources []*engine.Resource) error {
	d := &diagram{s: engine.NewStack(resources), used: map[string]bool{}, groups: map[string]string{}, subnets: map[string]string{}}
	d.line("flowchart LR")
	d.line("  internet((Internet))")
	d.networks()
	d.securityGroups()
	d.placed()
	d.flows()
	_, err := io.WriteString(w, d.b.String())
	return err
}

// diagram accumulates the flowchart.
type diagram struct {
	s    *engine.Stack
	b    strings.Builder
	used map[string]bool
	// groups and subnets map a group's or subnet's URN (and a group's ID) to its node.
	groups, subnets map[string]string
}

func (d *diagram) line(format string, v ...any) { fmt.Fprintf(&d.b, format+"\n", v...) }

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// node makes a node ID of its own for a resource: its kind and name, with a number when two would meet.
func (d *diagram) node(kind, name string) string {
	base := kind + "_" + strings.Trim(unsafeID.ReplaceAllString(name, "_"), "_")
	id := base
	for n := 2; d.used[id]; n++ {
		id = fmt.Sprintf("%s_%d", base, n)
	}
	d.used[id] = true
	return id
}

// label quotes text lines for a Mermaid node.
func label(lines ...string) string {
	return `"` + strings.ReplaceAll(strings.Join(lines, "<br/>"), `"`, "'") + `"`
}

// networks draws each VPC with its subnets, by tier and zone.
func (d *diagram) networks() {
	for _, vpc := range d.s.OfType(tVpc) {
		tenancy := vpc.Get("instanceTenancy").Str()
		if tenancy == "" {
			tenancy = "default"
		}
		vpcID := d.node("vpc", vpc.Name)
		d.line("  subgraph %s[%s]", vpcID, label("VPC "+vpc.Name, orUnknown(vpc.Get("cidrBlock").Str()), tenancy+" tenancy"))
		tiers := map[string][]*engine.Resource{}
		for _, sn := range d.s.Referencing(vpc, tSubnet, "vpcId") {
			tier := sn.Tag(naming.TierTag).Str()
			if tier == "" {
				tier = "untiered"
			}
			tiers[tier] = append(tiers[tier], sn)
		}
		for _, tier := range orderTiers(tiers) {
			d.line("    subgraph %s[%s]", d.node("tier_"+tier, vpc.Name), label(tier+" subnets"))
			for _, sn := range tiers[tier] {
				id := d.node("subnet", sn.Name)
				d.subnets[sn.URN] = id
				d.line("      %s[%s]", id, label(orUnknown(sn.Get("availabilityZone").Str()), orUnknown(sn.Get("cidrBlock").Str())))
			}
			d.line("    end")
		}
		d.line("  end")
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
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

// securityGroups draws each group, marking the edge ones.
func (d *diagram) securityGroups() {
	for _, g := range d.s.OfType(tGroup) {
		id := d.node("sg", g.Name)
		d.groups[g.URN] = id
		if gid := g.Get("id").Str(); gid != "" {
			d.groups[gid] = id
		}
		edge := ""
		if g.Tag(naming.EdgeTag).Str() == naming.EdgeValue {
			edge = " (edge)"
		}
		d.line("  %s{{%s}}", id, label("SG "+g.Name+edge))
	}
}

// placement is one host, Auto Scaling group or load balancer: where it runs and its groups.
type placement struct {
	res             *engine.Resource
	kind, shape     string
	subnets, groups []string
}

// placed draws each host, Auto Scaling group and load balancer, joined to its subnets and groups.
func (d *diagram) placed() {
	for _, p := range d.placements() {
		id := d.node(p.kind, p.res.Name)
		d.line("  %s%s", id, fmt.Sprintf(p.shape, label(p.res.Name, kindLabel[p.kind])))
		for _, sn := range dedupe(d.lookup(d.subnets, p.subnets)) {
			d.line("  %s -.- %s", sn, id)
		}
		for _, g := range dedupe(d.lookup(d.groups, p.groups)) {
			d.line("  %s -.-|member of| %s", id, g)
		}
	}
}

var kindLabel = map[string]string{"host": "host", "asg": "Auto Scaling group", "lb": "load balancer"}

// placements lists what runs in the subnets, with the subnets and groups its properties name: by
// dependency in a preview, by ID in a deployed stack's state. An Auto Scaling group takes its groups
// from its launch template.
func (d *diagram) placements() []placement {
	var out []placement
	for _, r := range d.s.OfType(tInstance) {
		out = append(out, placement{res: r, kind: "host", shape: "[/%s/]",
			subnets: refs(r, "subnetId"), groups: refs(r, "vpcSecurityGroupIds", "securityGroups")})
	}
	for _, r := range d.s.OfType(tASG) {
		p := placement{res: r, kind: "asg", shape: "[[%s]]", subnets: refs(r, "vpcZoneIdentifiers")}
		for _, urn := range r.PropertyDependencies["launchTemplate"] {
			if lt := d.s.ByURN(urn); lt != nil && lt.Type == tLaunchTmpl {
				p.groups = append(p.groups, refs(lt, "vpcSecurityGroupIds", "networkInterfaces")...)
			}
		}
		out = append(out, p)
	}
	for _, typ := range []string{tLoadBalancer, tAlb} {
		for _, r := range d.s.OfType(typ) {
			out = append(out, placement{res: r, kind: "lb", shape: "[%s]", subnets: refs(r, "subnets"), groups: refs(r, "securityGroups")})
		}
	}
	return out
}

// refs are what the named properties refer to: the URNs they were computed from, and the strings they
// hold (IDs, in a deployed stack's state), at any depth.
func refs(r *engine.Resource, props ...string) []string {
	var out []string
	for _, p := range props {
		out = append(out, r.PropertyDependencies[p]...)
		out = append(out, texts(r.Get(p))...)
	}
	return out
}

// texts are the string values at and below v (an array's, and its elements' securityGroups).
func texts(v engine.V) []string {
	if s := v.Str(); s != "" {
		return []string{s}
	}
	var out []string
	for _, item := range v.Items() {
		if item.Str() != "" {
			out = append(out, item.Str())
			continue
		}
		out = append(out, texts(item.Get("securityGroups"))...)
	}
	return out
}

func (d *diagram) lookup(nodes map[string]string, keys []string) []string {
	var out []string
	for _, k := range keys {
		if id, ok := nodes[k]; ok {
			out = append(out, id)
		}
	}
	return out
}

func dedupe(ids []string) []string {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// flows draws every flow the rules allow, once per source, destination and ports: separate rules,
// the aws.vpc rule resources and the groups' own inline rules.
func (d *diagram) flows() {
	flows := map[string]bool{}
	s3 := false
	add := func(from, to, ports string) {
		if from == "" || to == "" {
			return
		}
		if to == "s3" {
			s3 = true
		}
		flows[fmt.Sprintf("  %s -->|%s| %s", from, ports, to)] = true
	}
	for _, r := range d.s.OfType(tGroupRule) {
		group, peer := d.group(r, "securityGroupId"), d.group(r, "sourceSecurityGroupId")
		d.rule(add, r.Get("type").Str(), group, peer, r.Root(), len(r.Get("prefixListIds").Items()) > 0)
	}
	for _, typ := range []string{tIngressRule, tEgressRule} {
		direction := "ingress"
		if typ == tEgressRule {
			direction = "egress"
		}
		for _, r := range d.s.OfType(typ) {
			ports := r.Root()
			world := r.Get("cidrIpv4").Str() == "0.0.0.0/0" || r.Get("cidrIpv6").Str() == "::/0"
			from, to := d.group(r, "referencedSecurityGroupId"), d.group(r, "securityGroupId")
			if direction == "egress" {
				from, to = to, from
			}
			if world {
				if direction == "ingress" {
					from = "internet"
				} else {
					to = "internet"
				}
			}
			if r.Get("prefixListId").Str() != "" && direction == "egress" {
				to = "s3"
			}
			add(from, to, portLabel(ports))
		}
	}
	for _, g := range d.s.OfType(tGroup) {
		id := d.groups[g.URN]
		for _, direction := range []string{"ingress", "egress"} {
			for _, rule := range g.Get(direction).Items() {
				var peers []string
				for _, sg := range rule.Get("securityGroups").Strs() {
					if node, ok := d.groups[sg]; ok {
						peers = append(peers, node)
					}
				}
				if len(peers) == 0 {
					peers = []string{""}
				}
				for _, peer := range peers {
					d.rule(add, direction, id, peer, rule, len(rule.Get("prefixListIds").Items()) > 0)
				}
			}
		}
	}
	if s3 {
		d.line("  s3[(S3 via gateway endpoint)]")
	}
	keys := make([]string, 0, len(flows))
	for k := range flows {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		d.line("%s", k)
	}
}

// rule draws one rule of group, whose other side is peer (a group's node, or empty), v holding its
// ports and CIDR blocks.
func (d *diagram) rule(add func(from, to, ports string), direction, group, peer string, v engine.V, toS3 bool) {
	ports := portLabel(v)
	world := worldOpen(v)
	switch direction {
	case "ingress":
		add(peer, group, ports)
		if world {
			add("internet", group, ports)
		}
	case "egress":
		add(group, peer, ports)
		if toS3 {
			add(group, "s3", ports)
		}
		if world {
			add(group, "internet", ports)
		}
	}
}

// group is the node of the group a rule's property names.
func (d *diagram) group(r *engine.Resource, prop string) string {
	for _, urn := range r.PropertyDependencies[prop] {
		if id, ok := d.groups[urn]; ok {
			return id
		}
	}
	return d.groups[r.Get(prop).Str()]
}

func portLabel(v engine.V) string {
	from, _ := v.Get("fromPort").Num()
	to, _ := v.Get("toPort").Num()
	if from == to {
		return fmt.Sprintf("%v", from)
	}
	return fmt.Sprintf("%v-%v", from, to)
}

func worldOpen(v engine.V) bool {
	for _, c := range append(v.Get("cidrBlocks").Strs(), v.Get("ipv6CidrBlocks").Strs()...) {
		if c == "0.0.0.0/0" || c == "::/0" {
			return true
		}
	}
	return false
}
