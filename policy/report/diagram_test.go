package report

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hipaa-platform/platform/policy/engine"
)

func res(typ, name string, props map[string]any, pdeps map[string][]string) *engine.Resource {
	urn := "urn:pulumi:dev::hipaa::" + typ + "::" + name
	return engine.FromPropertyMap(urn, typ, name, "", resource.NewPropertyMapFromMap(props), nil, pdeps)
}

func urn(typ, name string) string { return "urn:pulumi:dev::hipaa::" + typ + "::" + name }

func TestDiagramPlacesHostsAndDrawsFlows(t *testing.T) {
	t.Parallel()
	const (
		vpcT = "aws:ec2/vpc:Vpc"
		snT  = "aws:ec2/subnet:Subnet"
		sgT  = "aws:ec2/securityGroup:SecurityGroup"
		rule = "aws:ec2/securityGroupRule:SecurityGroupRule"
	)
	rs := []*engine.Resource{
		res(vpcT, "vpc", map[string]any{"cidrBlock": "10.0.0.0/16", "instanceTenancy": "dedicated"}, nil),
		res(snT, "data-a", map[string]any{"vpcId": "vpc-1", "availabilityZone": "us-east-1a", "cidrBlock": "10.0.128.0/21",
			"tags": map[string]any{"Tier": "data"}}, map[string][]string{"vpcId": {urn(vpcT, "vpc")}}),
		res(sgT, "db", map[string]any{}, nil),
		res(sgT, "app", map[string]any{}, nil),
		res("aws:ec2/instance:Instance", "db-primary", map[string]any{}, map[string][]string{
			"subnetId": {urn(snT, "data-a")}, "vpcSecurityGroupIds": {urn(sgT, "db")}}),
		res(rule, "app-to-db", map[string]any{"type": "ingress", "fromPort": 5432.0, "toPort": 5432.0},
			map[string][]string{"securityGroupId": {urn(sgT, "db")}, "sourceSecurityGroupId": {urn(sgT, "app")}}),
	}
	var b strings.Builder
	if err := Diagram(&b, rs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		`subgraph vpc_vpc["VPC vpc<br/>10.0.0.0/16, tenancy dedicated"]`,
		`subgraph tier_data_vpc["data subnets"]`,
		`subnet_data_a["us-east-1a<br/>10.0.128.0/21"]`,
		`host_db_primary[/"host db-primary"/]`,
		"subnet_data_a -.- host_db_primary",
		"host_db_primary -.-|member of| sg_db",
		"sg_app -->|5432| sg_db",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("diagram lacks %q:\n%s", want, out)
		}
	}
}
