package hipaa_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/hipaa"
)

// stackResources previews a stack of the repository under mocks, as the analyzer would see it.
func stackResources(t testing.TB, stack string) []*hipaa.Resource {
	t.Helper()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := preview.Stack(p, stack)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*hipaa.Resource, 0, len(rs))
	for _, r := range rs {
		if !r.Custom {
			continue
		}
		out = append(out, hipaa.FromPropertyMap(r.URN, r.Type, r.Name, r.Parent, r.Inputs, r.Dependencies, r.PropertyDependencies))
	}
	return out
}

func TestEveryStackPassesEveryMandatoryRule(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	names, _ := p.Stacks()
	for _, stack := range names {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rep := hipaa.Evaluate(stackResources(t, stack), hipaa.Config{})
			for _, f := range rep.Findings {
				t.Errorf("%s %s %s: %s", f.RuleID, f.URN, f.Property, f.Message)
			}
		})
	}
}

// nonCompliant is a program that gets wrong what the platform's components get right.
func nonCompliant(ctx *pulumi.Context) error {
	vpc, err := ec2.NewVpc(ctx, "shared-vpc", &ec2.VpcArgs{CidrBlock: pulumi.String("10.0.0.0/16")})
	if err != nil {
		return err
	}
	if _, err := ec2.NewSecurityGroup(ctx, "bastion", &ec2.SecurityGroupArgs{
		VpcId: vpc.ID(),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(0), ToPort: pulumi.Int(65535),
			CidrBlocks: pulumi.StringArray{pulumi.String("0.0.0.0/0")},
		}},
	}); err != nil {
		return err
	}
	if _, err := kms.NewKey(ctx, "key", &kms.KeyArgs{DeletionWindowInDays: pulumi.Int(30)}); err != nil {
		return err
	}
	if _, err := cloudwatch.NewLogGroup(ctx, "app-logs", &cloudwatch.LogGroupArgs{RetentionInDays: pulumi.Int(400)}); err != nil {
		return err
	}
	_, err = s3.NewBucketV2(ctx, "uploads", &s3.BucketV2Args{Tags: pulumi.StringMap{"DataClass": pulumi.String("phi")}})
	return err
}

func TestANonCompliantProgramFailsExactlyTheExpectedRules(t *testing.T) {
	t.Parallel()
	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, nonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	var resources []*hipaa.Resource
	for _, r := range rs {
		resources = append(resources, hipaa.FromPropertyMap(r.URN, r.Type, r.Name, r.Parent, r.Inputs, r.Dependencies, r.PropertyDependencies))
	}
	rep := hipaa.Evaluate(resources, hipaa.Config{})
	failed := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Blocking() {
			failed[f.RuleID] = true
		}
	}
	want := []string{
		"dedicated-tenancy", "default-sg-closed", "kms-key-rotation", "log-group-kms", "s3-access-logging",
		"s3-bucket-sse-kms", "s3-bucket-tls-only", "s3-public-access-blocked", "s3-versioning",
		"sg-ingress-authorized-only", "sg-no-public-admin-ports", "vpc-flow-logs",
	}
	if got := slices.Sorted(maps.Keys(failed)); !slices.Equal(got, want) {
		t.Errorf("failed rules:\n got %v\nwant %v", got, want)
	}
}
