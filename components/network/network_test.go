package network

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// vpc is the component under test, run as a program of its own.
var vpc = offlinetest.For(NewVpc, "net")

const keyArn = "arn:aws:kms:us-east-1:123456789012:key/logs"

func validArgs() *VpcArgs {
	return &VpcArgs{
		CidrBlock:            "10.40.0.0/16",
		AvailabilityZones:    []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		AccountID:            "123456789012",
		Region:               "us-east-1",
		FlowLogKmsKeyArn:     pulumi.String(keyArn),
		FlowLogRetentionDays: 365,
		Tags:                 map[string]string{"DataClass": "phi", "Environment": "unit"},
	}
}

func TestVpcIsDedicatedWithDNS(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	vpcs := offlinetest.Of(rs, "aws:ec2/vpc:Vpc")
	if len(vpcs) != 1 {
		t.Fatalf("got %d VPCs, want 1", len(vpcs))
	}
	v := vpcs[0]
	if got := v.String("instanceTenancy"); got != "dedicated" {
		t.Errorf("instanceTenancy = %q, want dedicated", got)
	}
	if v.Value("enableDnsSupport") != true || v.Value("enableDnsHostnames") != true {
		t.Errorf("DNS support/hostnames = %v/%v, want true/true", v.Value("enableDnsSupport"), v.Value("enableDnsHostnames"))
	}
	if got := v.String("cidrBlock"); got != "10.40.0.0/16" {
		t.Errorf("cidrBlock = %q", got)
	}
}

func TestThreeTiersInEveryZoneWithoutOverlap(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	subnets := offlinetest.Of(rs, "aws:ec2/subnet:Subnet")
	if len(subnets) != 9 {
		t.Fatalf("got %d subnets, want 3 tiers x 3 zones", len(subnets))
	}
	perTier := map[string]map[string]bool{}
	var cidrs []netip.Prefix
	vpc := netip.MustParsePrefix("10.40.0.0/16")
	for _, s := range subnets {
		tier := s.String("tags.Tier")
		if perTier[tier] == nil {
			perTier[tier] = map[string]bool{}
		}
		perTier[tier][s.String("availabilityZone")] = true
		if s.Value("mapPublicIpOnLaunch") != false {
			t.Errorf("%s maps public IPs at launch", s.Name)
		}
		p := netip.MustParsePrefix(s.String("cidrBlock"))
		if !vpc.Contains(p.Addr()) {
			t.Errorf("%s: %s is outside the VPC", s.Name, p)
		}
		for _, other := range cidrs {
			if other.Overlaps(p) {
				t.Errorf("%s: %s overlaps %s", s.Name, p, other)
			}
		}
		cidrs = append(cidrs, p)
	}
	for _, tier := range []string{"public", "app", "data"} {
		if len(perTier[tier]) != 3 {
			t.Errorf("tier %s is in zones %v, want all 3", tier, perTier[tier])
		}
	}
}

func TestOnlyPublicSubnetsRouteToTheInternetGateway(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	for _, rt := range offlinetest.Of(rs, "aws:ec2/routeTable:RouteTable") {
		gw := rt.String("routes.0.gatewayId")
		nat := rt.String("routes.0.natGatewayId")
		switch {
		case strings.HasSuffix(rt.Name, "-public"):
			if !strings.HasPrefix(gw, "igw-") {
				t.Errorf("%s: default route via %q, want the internet gateway", rt.Name, gw)
			}
		case strings.HasSuffix(rt.Name, "-data"):
			if rt.Value("routes") != nil {
				t.Errorf("%s: the isolated data tier has routes %v", rt.Name, rt.Value("routes"))
			}
		default:
			if gw != "" || !strings.HasPrefix(nat, "nat-") {
				t.Errorf("%s: app route gateway=%q nat=%q, want only a NAT gateway", rt.Name, gw, nat)
			}
		}
	}
}

func TestNatGatewaysPerZoneOrOne(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		perZone bool
		want    int
	}{{false, 1}, {true, 3}} {
		args := validArgs()
		args.NatGatewayPerZone = tc.perZone
		rs := vpc.MustRun(t, args)
		if got := len(offlinetest.Of(rs, "aws:ec2/natGateway:NatGateway")); got != tc.want {
			t.Errorf("NatGatewayPerZone=%v: %d NAT gateways, want %d", tc.perZone, got, tc.want)
		}
	}
}

func TestDefaultSecurityGroupHasNoRules(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	groups := offlinetest.Of(rs, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
	if len(groups) != 1 {
		t.Fatalf("got %d default security groups, want 1 taken over", len(groups))
	}
	if in, eg := groups[0].Value("ingress"), groups[0].Value("egress"); in != nil || eg != nil {
		t.Errorf("default security group ingress=%v egress=%v, want none", in, eg)
	}
}

func TestFlowLogsOfAllTrafficToAnEncryptedRetainedGroup(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	logs := offlinetest.Of(rs, "aws:ec2/flowLog:FlowLog")
	if len(logs) != 1 {
		t.Fatalf("got %d flow logs, want 1", len(logs))
	}
	fl := logs[0]
	vpc := offlinetest.Of(rs, "aws:ec2/vpc:Vpc")[0]
	if fl.String("trafficType") != "ALL" || fl.String("vpcId") != vpc.ID {
		t.Errorf("flow log trafficType=%q vpcId=%q, want ALL of %s", fl.String("trafficType"), fl.String("vpcId"), vpc.ID)
	}
	group, ok := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
	if !ok {
		t.Fatal("no flow-log group")
	}
	if want := "arn:aws:logs:us-east-1:" + offline.AccountID + ":log-group:" + group.String("name"); fl.String("logDestination") != want {
		t.Errorf("flow log goes to %q, want the flow-log group %q", fl.String("logDestination"), want)
	}
	if deps := fl.PropertyDependencies["logDestination"]; len(deps) != 1 || deps[0] != group.URN {
		t.Errorf("flow log's logDestination depends on %v, want the group %s", deps, group.URN)
	}
	if group.String("kmsKeyId") != keyArn {
		t.Errorf("flow-log group kmsKeyId = %q, want %q", group.String("kmsKeyId"), keyArn)
	}
	if group.Value("retentionInDays") != float64(365) {
		t.Errorf("flow-log group retention = %v, want 365", group.Value("retentionInDays"))
	}
	if p, _ := offlinetest.Named(rs, "aws:iam/policy:Policy", "net-flow-logs"); !strings.Contains(p.String("policy"),
		`"Resource":["arn:aws:logs:us-east-1:123456789012:log-group:/hipaa/net/flow-logs","arn:aws:logs:us-east-1:123456789012:log-group:/hipaa/net/flow-logs:*"]`) {
		t.Errorf("flow-log role may write %s, want only its group", p.String("policy"))
	}
	role, _ := offlinetest.Named(rs, "aws:iam/role:Role", "net-flow-logs")
	if trust := role.String("assumeRolePolicy"); !strings.Contains(trust, "vpc-flow-logs.amazonaws.com") || !strings.Contains(trust, "123456789012") {
		t.Errorf("flow-log role trust = %s, want the flow-log service for this account only", trust)
	}
}

func TestEndpointsKeepAWSTrafficInTheVpc(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	services := map[string]string{}
	for _, e := range offlinetest.Of(rs, "aws:ec2/vpcEndpoint:VpcEndpoint") {
		svc := strings.TrimPrefix(e.String("serviceName"), "com.amazonaws.us-east-1.")
		services[svc] = e.String("vpcEndpointType")
		if e.String("vpcEndpointType") == "Interface" && e.Value("privateDnsEnabled") != true {
			t.Errorf("%s: private DNS off, so hosts would still resolve the public endpoint", e.Name)
		}
	}
	if services["s3"] != "Gateway" {
		t.Errorf("S3 endpoint type = %q, want Gateway", services["s3"])
	}
	for _, svc := range []string{"ecr.api", "ecr.dkr", "ssm", "ssmmessages", "ec2messages", "logs", "kms", "secretsmanager"} {
		if services[svc] != "Interface" {
			t.Errorf("no interface endpoint for %s (have %v)", svc, services)
		}
	}
}

func TestSubnetCarving(t *testing.T) {
	t.Parallel()
	vpc := netip.MustParsePrefix("10.10.0.0/16")
	for _, tc := range []struct {
		slot, zone int
		want       string
	}{
		{publicSlot, 0, "10.10.0.0/21"},
		{publicSlot, 5, "10.10.40.0/21"},
		{appSlot, 0, "10.10.64.0/21"},
		{dataSlot, 2, "10.10.144.0/21"},
	} {
		if got := Subnet(vpc, tc.slot, tc.zone).String(); got != tc.want {
			t.Errorf("Subnet(slot %d, zone %d) = %s, want %s", tc.slot, tc.zone, got, tc.want)
		}
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*VpcArgs)
		want   string
	}{
		{"public cidr", func(a *VpcArgs) { a.CidrBlock = "8.8.0.0/16" }, "CidrBlock"},
		{"bad cidr", func(a *VpcArgs) { a.CidrBlock = "10.0.0/16" }, `CidrBlock: got "10.0.0/16"`},
		{"too small", func(a *VpcArgs) { a.CidrBlock = "10.0.0.0/24" }, "CidrBlock"},
		{"one zone", func(a *VpcArgs) { a.AvailabilityZones = a.AvailabilityZones[:1] }, "AvailabilityZones: got 1, want 2 to 6"},
		{"seven zones", func(a *VpcArgs) {
			a.AvailabilityZones = []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f", "us-east-1g"}
		}, "AvailabilityZones: got 7"},
		{"zone twice", func(a *VpcArgs) { a.AvailabilityZones[2] = "us-east-1a" }, "AvailabilityZones[2]"},
		{"zone name", func(a *VpcArgs) { a.AvailabilityZones[1] = "b" }, "AvailabilityZones[1]"},
		{"no key", func(a *VpcArgs) { a.FlowLogKmsKeyArn = nil }, "FlowLogKmsKeyArn"},
		{"short retention", func(a *VpcArgs) { a.FlowLogRetentionDays = 30 }, "FlowLogRetentionDays: got 30"},
		{"odd retention", func(a *VpcArgs) { a.FlowLogRetentionDays = 366 }, "FlowLogRetentionDays: got 366"},
		{"account", func(a *VpcArgs) { a.AccountID = "x" }, "AccountID"},
		{"region", func(a *VpcArgs) { a.Region = "" }, "Region"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			tc.mutate(args)
			vpc.Refused(t, args, tc.want)
		})
	}
}

func TestTheFixedBlockOfEveryPrivateSubnetLeavesAWSsAddressesAlone(t *testing.T) {
	t.Parallel()
	for _, cidr := range []string{"10.40.0.0/16", "10.40.0.0/20"} { // the largest and smallest VPCs
		args := validArgs()
		args.CidrBlock = cidr
		rs := vpc.MustRun(t, args)
		subnets := map[string]netip.Prefix{}
		for _, s := range offlinetest.Of(rs, "aws:ec2/subnet:Subnet") {
			subnets[s.ID] = netip.MustParsePrefix(s.String("cidrBlock"))
		}
		reservations := offlinetest.Of(rs, "aws:ec2/subnetCidrReservation:SubnetCidrReservation")
		if len(reservations) != 2*len(args.AvailabilityZones) {
			t.Errorf("%s: %d reservations, want one per app and data subnet", cidr, len(reservations))
		}
		for _, r := range reservations {
			subnet, block := subnets[r.String("subnetId")], netip.MustParsePrefix(r.String("cidrBlock"))
			first, last := subnet.Masked().Addr(), lastAddr(subnet)
			reservedByAWS := []netip.Addr{first, first.Next(), first.Next().Next(), first.Next().Next().Next(), last}
			for _, a := range reservedByAWS {
				if block.Contains(a) {
					t.Errorf("%s: reservation %s of subnet %s holds %s, which AWS keeps", cidr, block, subnet, a)
				}
			}
			if !subnet.Contains(block.Addr()) || !subnet.Contains(lastAddr(block)) || r.String("reservationType") != "explicit" {
				t.Errorf("%s: reservation %s (%s) is not an explicit block inside %s", cidr, block, r.String("reservationType"), subnet)
			}
		}
	}
	s := SubnetInfo{CIDR: netip.MustParsePrefix("10.40.128.0/21")}
	if a, err := s.Fixed(0); err != nil || a.String() != "10.40.128.16" {
		t.Errorf("Fixed(0) = %v, %v; want 10.40.128.16", a, err)
	}
	if a, err := s.Fixed(15); err != nil || a.String() != "10.40.128.31" {
		t.Errorf("Fixed(15) = %v, %v; want 10.40.128.31", a, err)
	}
	if _, err := s.Fixed(16); err == nil {
		t.Error("Fixed(16) is outside the block and was accepted")
	}
	if _, err := (SubnetInfo{CIDR: netip.MustParsePrefix("10.40.128.0/27")}).Fixed(0); err == nil {
		t.Error("a /27, whose last address is in the block, was accepted")
	}
}

// lastAddr is a block's last address.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}
