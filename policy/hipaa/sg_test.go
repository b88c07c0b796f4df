package hipaa

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

func TestSgNoPublicAdminPorts(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &sgNoPublicAdminPorts, fx{typ: tSecurityGroupRule, name: "edge", props: map[string]any{
		"type": "ingress", "protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": []any{"0.0.0.0/0"}}}, []change{
		{"ssh", "fromPort", 22.0, []string{"fromPort: ingress from the world on ports 22-443 covers 22 (SSH), 23 (Telnet), 135 (RPC), 139 (NetBIOS); admit only named security groups there"}},
		{"upper range", "toPort", 65535.0, []string{"fromPort: ingress from the world on ports 443-65535 covers " + allAdminFrom(445) + "; admit only named security groups there"}},
		{"all protocols", "protocol", "-1", []string{"fromPort: ingress from the world on ports 0-65535 covers " + allAdminFrom(0) + "; admit only named security groups there"}},
		{"postgres over ipv6", "cidrBlocks", []any{"10.0.0.0/8"}, nil},
		{"unknown ports", "fromPort", unknown, []string{"fromPort: fromPort cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
	testResourceRule(t, &sgNoPublicAdminPorts, fx{typ: tSecurityGroup, name: "sg", props: map[string]any{
		"ingress": []any{map[string]any{"protocol": "tcp", "fromPort": 5432.0, "toPort": 5432.0, "cidrBlocks": []any{"10.0.0.0/16"}}}}}, []change{
		{"postgres to the world over ipv6", "ingress.0.ipv6CidrBlocks", []any{"::/0"}, []string{"ingress[0].fromPort: ingress from the world on ports 5432 covers 5432 (PostgreSQL); admit only named security groups there"}},
	})
	testResourceRule(t, &sgNoPublicAdminPorts, fx{typ: tIngressRule, name: "vpc-rule", props: map[string]any{
		"ipProtocol": "tcp", "fromPort": 3389.0, "toPort": 3389.0, "cidrIpv4": "10.1.0.0/16"}}, []change{
		{"rdp to the world", "cidrIpv4", "0.0.0.0/0", []string{"fromPort: ingress from the world on ports 3389 covers 3389 (RDP); admit only named security groups there"}},
	})
}

func allAdminFrom(min int) string {
	var out []string
	for _, p := range adminPortList {
		if p >= min {
			out = append(out, fmt.Sprintf("%d (%s)", p, adminPorts[p]))
		}
	}
	return strings.Join(out, ", ")
}

func TestAWorldOpenRangeCoversSSH(t *testing.T) {
	t.Parallel()
	r := fx{typ: tSecurityGroupRule, name: "all", props: map[string]any{"type": "ingress", "protocol": "tcp",
		"fromPort": 0.0, "toPort": 65535.0, "cidrBlocks": []any{"0.0.0.0/0"}}}.resource()
	got := render(engine.CheckResource(&sgNoPublicAdminPorts, r, engine.Config{}))
	if len(got) != 1 || !strings.Contains(got[0], "22 (SSH)") {
		t.Errorf("0-65535 to the world: %q, want one finding naming 22 (SSH)", got)
	}
}

func edgeStack() stackFixture {
	return stackFixture{
		{typ: tSecurityGroup, name: "alb", props: map[string]any{"id": "sg-alb", "tags": map[string]any{"Exposure": "edge"}}},
		{typ: tSecurityGroup, name: "app", props: map[string]any{"id": "sg-app"}},
		{typ: tSecurityGroupRule, name: "world-to-alb", props: map[string]any{"type": "ingress", "protocol": "tcp",
			"fromPort": 443.0, "toPort": 443.0, "cidrBlocks": []any{"0.0.0.0/0"}, "securityGroupId": "sg-alb"},
			deps: map[string][]string{"securityGroupId": {"alb"}}},
		{typ: tSecurityGroupRule, name: "alb-to-app", props: map[string]any{"type": "ingress", "protocol": "tcp",
			"fromPort": 443.0, "toPort": 443.0, "sourceSecurityGroupId": "sg-alb", "securityGroupId": "sg-app"},
			deps: map[string][]string{"securityGroupId": {"app"}}},
	}
}

func TestSgIngressAuthorizedOnly(t *testing.T) {
	t.Parallel()
	testStackRule(t, &sgIngressAuthorizedOnly, edgeStack(), []change{
		{"world into a non-edge group", "alb:tags.Exposure", "internal", []string{"cidrBlocks: ingress from the world into alb, which is not tagged Exposure: edge"}},
		{"world on 8443", "world-to-alb:fromPort", 8443.0, []string{"fromPort: ingress from the world on ports 8443-443; edge groups may open only [80 443]"}},
		{"app opened to the world", "alb-to-app:cidrBlocks", []any{"::/0"}, []string{"cidrBlocks: ingress from the world into app, which is not tagged Exposure: edge"}},
		{"undeclared group", "-alb", nil, []string{"securityGroupId: ingress from the world into a security group this stack does not declare; it cannot be shown to be an edge group"}},
	})
}

func TestDefaultSgClosed(t *testing.T) {
	t.Parallel()
	testStackRule(t, &defaultSgClosed, stackFixture{
		{typ: tVpc, name: "vpc", props: map[string]any{"instanceTenancy": "dedicated"}},
		{typ: tDefaultSG, name: "default", props: map[string]any{"vpcId": "vpc-1"}, deps: map[string][]string{"vpcId": {"vpc"}}},
	}, []change{
		{"not managed", "-default", nil, []string{": the VPC's default security group is not managed, so it keeps the rules AWS gives it"}},
		{"ingress left", "default:ingress", []any{map[string]any{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "self": true}},
			[]string{"ingress: the default security group has 1 ingress rule(s); remove them"}},
	})
}

func TestNoUnrestrictedIgwRoute(t *testing.T) {
	t.Parallel()
	testStackRule(t, &noUnrestrictedIgwRoute, stackFixture{
		{typ: tInternetGateway, name: "igw"},
		{typ: tSubnet, name: "public-a", props: map[string]any{"tags": map[string]any{"Tier": "public"}}},
		{typ: tSubnet, name: "app-a", props: map[string]any{"tags": map[string]any{"Tier": "app"}}},
		{typ: tRouteTable, name: "public", props: map[string]any{"routes": []any{map[string]any{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}}},
			deps: map[string][]string{"routes": {"igw"}}},
		{typ: tRouteTable, name: "app", props: map[string]any{"routes": []any{map[string]any{"cidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"}}}},
		{typ: tRouteAssoc, name: "assoc-public-a", props: map[string]any{"subnetId": "subnet-p", "routeTableId": "rtb-p"},
			deps: map[string][]string{"subnetId": {"public-a"}, "routeTableId": {"public"}}},
		{typ: tRouteAssoc, name: "assoc-app-a", props: map[string]any{"subnetId": "subnet-a", "routeTableId": "rtb-a"},
			deps: map[string][]string{"subnetId": {"app-a"}, "routeTableId": {"app"}}},
	}, []change{
		{"private subnet to the internet gateway", "app:routes.0", map[string]any{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-0abc"},
			[]string{"routes: a default route to an internet gateway serves subnet app-a, which is not tagged Tier: public"}},
	})
}
