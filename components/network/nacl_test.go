package network

import (
	"slices"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

func TestEveryTierHasANetworkACLAndTheDefaultIsClosed(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	def := offlinetest.One(t, rs, "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl")
	if def.Value("ingress") != nil || def.Value("egress") != nil || !slices.Contains(def.Options.IgnoreChanges, "subnetIds") {
		t.Errorf("default ACL %v ignoring %v; want no entry at all", def.Inputs, def.Options.IgnoreChanges)
	}
	acls := offlinetest.Of(rs, "aws:ec2/networkAcl:NetworkAcl")
	if len(acls) != 3 {
		t.Fatalf("%d network ACLs, want one per tier", len(acls))
	}
	subnets := map[string]bool{}
	for _, s := range offlinetest.Of(rs, "aws:ec2/subnet:Subnet") {
		subnets[s.URN] = false
	}
	for _, acl := range acls {
		if !slices.Contains(def.Options.DependsOn, acl.URN) {
			t.Errorf("the default ACL is closed before %s takes its subnets", acl.Name)
		}
		for _, urn := range acl.PropertyDependencies["subnetIds"] {
			subnets[urn] = true
		}
		worldPorts := map[int]bool{}
		for _, e := range acl.Value("ingress").([]any) {
			e := e.(map[string]any)
			if e["action"] != "allow" {
				t.Errorf("%s: entry %v", acl.Name, e)
			}
			if e["cidrBlock"] != world {
				continue
			}
			if e["protocol"] == "-1" {
				t.Errorf("%s admits the world on every protocol", acl.Name)
			}
			if e["protocol"] == "tcp" {
				from, to := int(e["fromPort"].(float64)), int(e["toPort"].(float64))
				for _, p := range []int{22, 3389, 5432, 443, 80, 1024, 32768, 65535} {
					if from <= p && p <= to {
						worldPorts[p] = true
					}
				}
			}
		}
		public := acl.Name == "net-public"
		if worldPorts[22] || worldPorts[3389] || !public && worldPorts[5432] {
			t.Errorf("%s admits the world to SSH, RDP or Postgres: %v", acl.Name, worldPorts)
		}
		if !worldPorts[32768] || !worldPorts[65535] || worldPorts[1024] != public {
			t.Errorf("%s lets replies in on %v; want the NAT's and load balancer's range on the public tier, Linux's elsewhere", acl.Name, worldPorts)
		}
		if worldPorts[443] != public || worldPorts[80] != public {
			t.Errorf("%s admits the world to 443 and 80: %v, want only the public tier", acl.Name, worldPorts)
		}
		if acl.String("egress.0.protocol") != "-1" || acl.String("egress.0.cidrBlock") != world {
			t.Errorf("%s egress %v", acl.Name, acl.Value("egress"))
		}
	}
	for urn, covered := range subnets {
		if !covered {
			t.Errorf("subnet %s has no network ACL of its own, and the default passes nothing", urn)
		}
	}
}
