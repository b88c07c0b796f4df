// Package hipaatest holds what the policy pack's, the analyzer's, the audit's and the fleet's tests share:
// a program that breaks the rules it is known to break, and the Pulumi CLI built from its Go module
// (PulumiCLI, LocalPulumi) with a local file:// backend for the Automation API.
package hipaatest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NonCompliantFails are the rules NonCompliant breaks, exactly.
var NonCompliantFails = []string{
	"dedicated-tenancy", "default-sg-closed", "kms-key-rotation", "log-group-kms", "nacl-closed", "s3-access-logging",
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

// LocalPulumi prepares the Pulumi CLI for the Automation API under dir: the command (the CLI linked
// into the bin/ layout auto.NewPulumiCommand expects) and the environment of a local file:// backend
// in dir/state, with its own PULUMI_HOME (dir/home) and a test passphrase. Outside CI a missing CLI
// skips the test.
func LocalPulumi(t testing.TB, dir string) (auto.PulumiCommand, map[string]string) {
	t.Helper()
	cli := PulumiCLI(t)
	root := filepath.Join(dir, "cli")
	for _, d := range []string{filepath.Join(root, "bin"), filepath.Join(dir, "state"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(cli, filepath.Join(root, "bin", "pulumi")); err != nil {
		t.Fatal(err)
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	return cmd, map[string]string{
		"PULUMI_HOME": filepath.Join(dir, "home"), "PULUMI_BACKEND_URL": "file://" + filepath.Join(dir, "state"),
		"PULUMI_CONFIG_PASSPHRASE": "test-only-passphrase", "PULUMI_SKIP_UPDATE_CHECK": "true",
	}
}
