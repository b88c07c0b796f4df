package offline_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
	"github.com/hipaa-platform/platform/internal/placeholder"
)

type parent struct{ pulumi.ResourceState }

func program(ctx *pulumi.Context) error {
	comp := &parent{}
	if err := ctx.RegisterComponentResource("hipaa:test:Parent", "p", comp); err != nil {
		return err
	}
	vpc, err := ec2.NewVpc(ctx, "v", &ec2.VpcArgs{CidrBlock: pulumi.String("10.0.0.0/16")}, pulumi.Parent(comp))
	if err != nil {
		return err
	}
	_, err = ssm.NewParameter(ctx, "pw", &ssm.ParameterArgs{
		Type:        pulumi.String("SecureString"),
		Value:       config.New(ctx, "").RequireSecret("password"),
		Description: vpc.ID().ApplyT(func(id string) string { return "for " + id }).(pulumi.StringOutput),
	}, pulumi.Parent(comp))
	return err
}

var opts = offline.Options{
	Project:    "hipaa",
	Stack:      "unit",
	Config:     map[string]string{"hipaa:password": "hunter2"},
	SecretKeys: []string{"hipaa:password"},
}

func TestRecordsWhatTheEngineWouldReceive(t *testing.T) {
	t.Parallel()
	rs, err := offline.Run(opts, program)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 3 {
		t.Fatalf("got %d resources, want 3", len(rs))
	}
	comp, _ := offlinetest.Named(rs, "hipaa:test:Parent", "p")
	vpc, _ := offlinetest.Named(rs, "aws:ec2/vpc:Vpc", "v")
	param, _ := offlinetest.Named(rs, "aws:ssm/parameter:Parameter", "pw")
	if comp.Custom || !vpc.Custom {
		t.Errorf("custom flags: component %v, vpc %v", comp.Custom, vpc.Custom)
	}
	if want := "urn:pulumi:unit::hipaa::hipaa:test:Parent$aws:ec2/vpc:Vpc::v"; vpc.URN != want {
		t.Errorf("vpc URN = %s, want %s", vpc.URN, want)
	}
	if vpc.Parent != comp.URN || comp.Parent != "urn:pulumi:unit::hipaa::pulumi:pulumi:Stack::hipaa-unit" {
		t.Errorf("parents: vpc %s, component %s", vpc.Parent, comp.Parent)
	}
	if !strings.HasPrefix(vpc.ID, "vpc-") {
		t.Errorf("vpc ID = %s", vpc.ID)
	}
	if deps := param.PropertyDependencies["description"]; len(deps) != 1 || deps[0] != vpc.URN {
		t.Errorf("description depends on %v, want the vpc", deps)
	}
	if param.String("description") != "for "+vpc.ID {
		t.Errorf("description = %q", param.String("description"))
	}
}

func TestSecretsNeverAppearInTheJSON(t *testing.T) {
	t.Parallel()
	rs, err := offline.Run(opts, program)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(func() []offline.JSON {
		var js []offline.JSON
		for _, r := range rs {
			js = append(js, r.JSON())
		}
		return js
	}())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "hunter2") {
		t.Fatalf("the secret leaked into the JSON: %s", out)
	}
	param, _ := offlinetest.Named(rs, "aws:ssm/parameter:Parameter", "pw")
	if got := param.JSON().Inputs["value"]; got != placeholder.Secret {
		t.Errorf("secret value shows as %v, want %q", got, placeholder.Secret)
	}
}

func TestIDsAreDeterministic(t *testing.T) {
	t.Parallel()
	a, err := offline.Run(opts, program)
	if err != nil {
		t.Fatal(err)
	}
	b, err := offline.Run(opts, program)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i].URN != b[i].URN || a[i].ID != b[i].ID {
			t.Errorf("run 1 %s %s, run 2 %s %s", a[i].URN, a[i].ID, b[i].URN, b[i].ID)
		}
	}
}

func TestAnUnmockedFunctionIsAnError(t *testing.T) {
	t.Parallel()
	_, err := offline.Run(opts, func(ctx *pulumi.Context) error {
		_, err := aws.GetBillingServiceAccount(ctx, nil)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "no mock answers the provider function aws:index/getBillingServiceAccount") {
		t.Fatalf("error = %v", err)
	}
}
