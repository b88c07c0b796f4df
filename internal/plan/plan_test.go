package plan

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hipaa-platform/platform/internal/offline"
)

// res is a custom resource of the hand-made graphs: urn is its name.
func res(typ, name string, deps ...string) offline.Resource {
	return offline.Resource{URN: name, Type: typ, Name: name, Custom: true, ID: "id-" + name, Dependencies: deps, Inputs: resource.PropertyMap{}}
}

func with(r offline.Resource, inputs map[string]any) offline.Resource {
	r.Inputs = resource.NewPropertyMapFromMap(inputs)
	return r
}

// TestTheCriticalPathOfASmallGraph: worked by hand. The VPC (2 s) is under everything; the NAT gateway
// (120 s) and the load balancer (180 s) are created side by side; the listener (3 s) waits for the
// component that holds the subnet and the load balancer, so for the load balancer; the role is adopted
// (1 s); the key pair is made locally (0 s). Longest chain: VPC 2, load balancer 180, listener 3 = 185 s.
func TestTheCriticalPathOfASmallGraph(t *testing.T) {
	component := offline.Resource{URN: "front", Type: "hipaa:app:Tier", Name: "front"}
	lb := res("aws:lb/loadBalancer:LoadBalancer", "lb", "vpc")
	lb.Parent = "front"
	subnet := res("aws:ec2/subnet:Subnet", "subnet", "vpc")
	subnet.Parent = "front"
	role := res("aws:iam/role:Role", "role")
	role.Options.Import = "existing-role"
	listener := res("aws:lb/listener:Listener", "listener", "role", "key")
	listener.Options.DependsOn = []string{"front"}
	rs := []offline.Resource{
		res("aws:ec2/vpc:Vpc", "vpc"), component, subnet, lb,
		res("aws:ec2/natGateway:NatGateway", "nat", "subnet"),
		role, res("tls:index/privateKey:PrivateKey", "key"), listener,
	}
	p := CriticalPath(rs)
	var names []string
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "vpc lb listener" || p.Total != 185 {
		t.Errorf("path %q in %d s, want vpc lb listener in 185 s", got, p.Total)
	}
	if d := p.Dominant(1); len(d) != 1 || d[0].Name != "lb" || d[0].Source == "" {
		t.Errorf("dominant %+v, want the load balancer with its source", d)
	}
	if done := p.Steps[1].Done; done != 182 {
		t.Errorf("the load balancer finishes at %d s, want 182", done)
	}
}

// TestAGroupWaitsForItsTargetsToBeHealthy: a group that waits for the load balancer takes launch,
// converge and the target group's healthy threshold times its interval.
func TestAGroupWaitsForItsTargetsToBeHealthy(t *testing.T) {
	tg := with(res("aws:lb/targetGroup:TargetGroup", "tg"), map[string]any{"healthCheck": map[string]any{"healthyThreshold": 2, "interval": 15}})
	g := with(res("aws:autoscaling/group:Group", "g", "tg"), map[string]any{"waitForElbCapacity": 3})
	if p := CriticalPath([]offline.Resource{tg, g}); p.Total != 1+60+120+30 {
		t.Errorf("total %d s, want %d", p.Total, 1+60+120+30)
	}
}

func TestVCPUsAndTheirQuotas(t *testing.T) {
	for typ, want := range map[string]int{"c6i.large": 2, "m6i.xlarge": 4, "r6i.2xlarge": 8, "c6i.24xlarge": 96, "t3.micro": 2, "m6g.medium": 1} {
		if got, err := VCPUs(typ); err != nil || got != want {
			t.Errorf("VCPUs(%s) = %d, %v; want %d", typ, got, err, want)
		}
	}
	if _, err := VCPUs("m5.metal"); err == nil || !strings.Contains(err.Error(), "metal") {
		t.Errorf("m5.metal: %v", err)
	}
	for typ, code := range map[string]string{"m6i.large": "L-1216C47A", "g5.xlarge": "L-DB2E81BA", "inf2.xlarge": "L-1945791B", "x2idn.16xlarge": "L-7295265B", "p4d.24xlarge": "L-417A185B", "dl1.24xlarge": "L-6E869C2A"} {
		if got := vcpuQuota(typ).Code; got != code {
			t.Errorf("%s counts against %s, want %s", typ, got, code)
		}
	}
}

// TestUsageCountsEachGroupAtItsSurge: by hand, one m6i.large host (2 vCPUs) and a group of at most 3
// c6i.2xlarge (8 vCPUs) that a refresh may take to 200%: 2 + 6 x 8 = 50 vCPUs; two NAT gateways in one
// zone and one in another: 2 per zone; two ingress rules of one group, one with two CIDRs: 3.
func TestUsageCountsEachGroupAtItsSurge(t *testing.T) {
	rs := []offline.Resource{
		with(res("aws:ec2/instance:Instance", "host"), map[string]any{"instanceType": "m6i.large", "tenancy": "dedicated", "rootBlockDevice": map[string]any{"volumeSize": 30}, "vpcSecurityGroupIds": []any{"sg-1", "sg-2"}}),
		with(res("aws:ec2/launchTemplate:LaunchTemplate", "lt"), map[string]any{"instanceType": "c6i.2xlarge", "placement": map[string]any{"tenancy": "dedicated"}}),
		with(res("aws:autoscaling/group:Group", "group"), map[string]any{"launchTemplate": map[string]any{"id": "id-lt"}, "maxSize": 3, "instanceRefresh": map[string]any{"preferences": map[string]any{"maxHealthyPercentage": 200}}}),
		with(res("aws:ec2/subnet:Subnet", "a"), map[string]any{"availabilityZone": "us-east-1a"}),
		with(res("aws:ec2/subnet:Subnet", "b"), map[string]any{"availabilityZone": "us-east-1b"}),
		with(res("aws:ec2/natGateway:NatGateway", "nat1"), map[string]any{"subnetId": "id-a"}),
		with(res("aws:ec2/natGateway:NatGateway", "nat2"), map[string]any{"subnetId": "id-a"}),
		with(res("aws:ec2/natGateway:NatGateway", "nat3"), map[string]any{"subnetId": "id-b"}),
		with(res("aws:ec2/securityGroup:SecurityGroup", "db"), nil),
		with(res("aws:ec2/securityGroupRule:SecurityGroupRule", "r1"), map[string]any{"securityGroupId": "id-db", "type": "ingress", "cidrBlocks": []any{"10.0.0.0/24", "10.0.1.0/24"}}),
		with(res("aws:ec2/securityGroupRule:SecurityGroupRule", "r2"), map[string]any{"securityGroupId": "id-db", "type": "ingress", "sourceSecurityGroupId": "sg-app"}),
		with(res("aws:ec2/securityGroupRule:SecurityGroupRule", "r3"), map[string]any{"securityGroupId": "id-db", "type": "egress", "cidrBlocks": []any{"0.0.0.0/0"}}),
		with(res("aws:ec2/vpc:Vpc", "vpc"), nil),
	}
	p, err := Make("hand", "us-east-1", rs)
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]Use{}
	for _, u := range p.Uses {
		used[u.Quota.Code] = u
	}
	for code, want := range map[string]int{"L-1216C47A": 50, "L-FE5A380F": 2, "L-0EA8095F": 3, "L-E79EC296": 2, "L-2AFB9258": 2, "L-F678F1CE": 1} {
		if got := used[code].Used; got != want {
			t.Errorf("%s (%s) uses %d, want %d", code, used[code].Quota.Name, got, want)
		}
	}
	if u := used["L-FE5A380F"]; u.Where != "us-east-1a" {
		t.Errorf("NAT gateways counted in %q, want us-east-1a", u.Where)
	}
	if !used["L-1216C47A"].Exceeds() || used["L-F678F1CE"].Exceeds() {
		t.Error("50 vCPUs exceed the default of 5, one VPC does not exceed 5")
	}
	if p.Dedicated != 1+6 || strings.Join(p.Zones, ",") != "us-east-1a,us-east-1b" {
		t.Errorf("dedicated %d, zones %v", p.Dedicated, p.Zones)
	}

	// Two such stacks in one account: the region's quotas add up, per-zone ones do not.
	sum := map[string]int{}
	for _, u := range Sum([]Plan{p, p}) {
		sum[u.Quota.Code] = u.Used
	}
	if sum["L-1216C47A"] != 100 || sum["L-F678F1CE"] != 2 || sum["L-FE5A380F"] != 2 {
		t.Errorf("together: %v", sum)
	}
}

// TestTheOnlineComparisons: what Check reports once it has the account's values.
func TestTheOnlineComparisons(t *testing.T) {
	uses := []Use{{Quota: quotaStandardVCPU, Used: 50}, {Quota: quotaVPC, Used: 3}}
	got := tooLittle(uses, map[string]float64{"L-1216C47A": 32, "L-F678F1CE": 5})
	if len(got) != 1 || !strings.Contains(got[0], "the stacks use 50, the account allows 32") {
		t.Errorf("tooLittle = %q", got)
	}
	missing := notIn([]string{"us-east-1a", "us-east-1b", "us-east-1c"}, []string{"m6i.large", "r6i.2xlarge"},
		map[string][]string{"m6i.large": {"us-east-1a", "us-east-1b", "us-east-1c"}, "r6i.2xlarge": {"us-east-1a"}}, "%s is not offered in %s")
	if len(missing) != 1 || missing[0] != "r6i.2xlarge is not offered in us-east-1b, us-east-1c" {
		t.Errorf("notIn = %q", missing)
	}
}
