package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
)

// accountImage finds the newest image the account built whose name matches the pattern configured
// under key (a key of the project's namespace), of the architecture of instanceType: an Arm image for a
// Graviton type, an x86 one for the others.
func (s *stack) accountImage(key, pattern, instanceType string) (pulumi.StringInput, error) {
	arch := check.Architecture(instanceType)
	image, err := ec2.LookupAmi(s.ctx, &ec2.LookupAmiArgs{
		Owners:     []string{"self"},
		MostRecent: pulumi.BoolRef(true),
		Filters: []ec2.GetAmiFilter{
			{Name: "name", Values: []string{pattern}},
			{Name: "architecture", Values: []string{arch}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("finding the account's %s image %q for %s (config %s:%s): %w", arch, pattern, instanceType, s.cfg.Project, key, err)
	}
	return pulumi.String(image.Id), nil
}

// hostImage finds the application hosts' image: the newest Amazon Linux 2023 of instanceType's
// architecture, which has Docker in its repositories and the AWS CLI installed. The web and engine tiers
// reach the package mirror through the NAT gateways; a new image is rolled out by the same instance
// refresh as a release.
func (s *stack) hostImage(instanceType string) (pulumi.StringInput, error) {
	arch := check.Architecture(instanceType)
	image, err := ec2.LookupAmi(s.ctx, &ec2.LookupAmiArgs{
		Owners:     []string{"amazon"},
		MostRecent: pulumi.BoolRef(true),
		Filters: []ec2.GetAmiFilter{
			{Name: "name", Values: []string{"al2023-ami-2023.*-kernel-*-" + arch}},
			{Name: "architecture", Values: []string{arch}},
			{Name: "state", Values: []string{"available"}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("finding the application hosts' Amazon Linux 2023 image for %s: %w", instanceType, err)
	}
	return pulumi.String(image.Id), nil
}
