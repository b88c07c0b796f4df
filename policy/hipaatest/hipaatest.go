// Package hipaatest holds programs and fixtures that the policy pack's tests, the analyzer's tests and
// the audit's tests share.
package hipaatest

import (
	"os"
	"os/exec"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NonCompliantFails are the rules NonCompliant breaks, exactly.
var NonCompliantFails = []string{
	"dedicated-tenancy", "default-sg-closed", "kms-key-rotation", "log-group-kms", "s3-access-logging",
	"s3-bucket-sse-kms", "s3-bucket-tls-only", "s3-public-access-blocked", "s3-versioning",
	"sg-ingress-authorized-only", "sg-no-public-admin-ports", "vpc-flow-logs",
}

// NonCompliant is a program that gets wrong what the platform's components get right.
func NonCompliant(ctx *pulumi.Context) error {
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

// PulumiCLI returns the Pulumi CLI built from its Go module, which .ci/run names in HIPAA_PULUMI_CLI
// (or one on the PATH). Outside CI a missing CLI skips the test; in CI it fails it.
func PulumiCLI(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("HIPAA_PULUMI_CLI"); p != "" {
		return p
	}
	if p, err := exec.LookPath("pulumi"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI must provide the Pulumi CLI in HIPAA_PULUMI_CLI (see .ci/run)")
	}
	t.Skip("no Pulumi CLI: build it as .ci/run does and set HIPAA_PULUMI_CLI")
	return ""
}
