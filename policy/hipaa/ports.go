package hipaa

import (
	"fmt"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// ingress is one ingress permission, whichever resource declared it.
type ingress struct {
	owner    *engine.Resource
	path     string // property path, for messages
	group    string // the security group's ID or a reference to it, when declared apart from the group
	from, to int    // inclusive port range; 0-65535 for all
	cidrs    []string
	unknown  bool
}

// ingresses lists the ingress permissions a resource declares: a security group's inline rules, a
// SecurityGroupRule of type ingress, or a SecurityGroupIngressRule.
func ingresses(r *engine.Resource) []ingress {
	var out []ingress
	switch r.Type {
	case tSecurityGroup:
		for _, in := range r.Get("ingress").Items() {
			out = append(out, permission(r, in.Path(), in.Get("protocol"), in.Get("fromPort"), in.Get("toPort"),
				append(in.Get("cidrBlocks").Strs(), in.Get("ipv6CidrBlocks").Strs()...)))
		}
	case tSecurityGroupRule:
		if t := r.Get("type").Str(); t == "ingress" {
			p := permission(r, "", r.Get("protocol"), r.Get("fromPort"), r.Get("toPort"),
				append(r.Get("cidrBlocks").Strs(), r.Get("ipv6CidrBlocks").Strs()...))
			p.group = r.Get("securityGroupId").Str()
			out = append(out, p)
		}
	case tIngressRule:
		cidrs := append(r.Get("cidrIpv4").Strs(), r.Get("cidrIpv6").Strs()...)
		p := permission(r, "", r.Get("ipProtocol"), r.Get("fromPort"), r.Get("toPort"), cidrs)
		p.group = r.Get("securityGroupId").Str()
		out = append(out, p)
	}
	return out
}

func permission(r *engine.Resource, path string, protocol, from, to engine.V, cidrs []string) ingress {
	p := ingress{owner: r, path: path, cidrs: cidrs}
	if protocol.Unknown() || from.Unknown() || to.Unknown() {
		p.unknown = true
		return p
	}
	proto := strings.ToLower(protocol.Str())
	if proto == "-1" || proto == "all" {
		p.from, p.to = 0, 65535
		return p
	}
	f, _ := from.Num()
	t, ok := to.Num()
	if !ok {
		t = f
	}
	p.from, p.to = int(f), int(t)
	if p.from < 0 { // ICMP and "any" use -1
		p.from, p.to = 0, 65535
	}
	return p
}

func (p ingress) world() bool {
	for _, c := range p.cidrs {
		if isWorld(c) {
			return true
		}
	}
	return false
}

func (p ingress) covers(port int) bool { return p.from <= port && port <= p.to }

func (p ingress) prop(name string) string {
	if p.path == "" {
		return name
	}
	return p.path + "." + name
}

func (p ingress) ports() string {
	if p.from == p.to {
		return fmt.Sprint(p.from)
	}
	return fmt.Sprintf("%d-%d", p.from, p.to)
}
