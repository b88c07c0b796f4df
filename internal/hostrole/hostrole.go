// Package hostrole creates the identity of an EC2 host or fleet: a role only EC2 may assume, its one
// inline policy, Session Manager in place of SSH, and the instance profile that carries the role. Every
// tier's hosts get theirs here, so that none is made differently.
package hostrole

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// SessionManagerPolicy is the AWS-managed policy that lets Session Manager reach a host.
const SessionManagerPolicy = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

// Trust is the trust policy of a host role: only EC2 may assume it.
func Trust() string {
	return iampolicy.New(iampolicy.Allow("EC2Assume", []string{"sts:AssumeRole"}, nil).ForService("ec2.amazonaws.com")).JSON()
}

// Role is a host's role and instance profile.
type Role struct {
	Role    *iam.Role
	Profile *iam.InstanceProfile
}

// New creates the role named name with the inline policy, Session Manager, and the instance profile.
func New(ctx *pulumi.Context, name, description string, policy pulumi.StringInput, tags map[string]string, opts ...pulumi.ResourceOption) (*Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(Trust()),
		Description:      pulumi.String(description),
		Tags:             naming.Tags(tags, name),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating %s's role: %w", name, err)
	}
	if _, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role.ID(), Policy: policy}, opts...); err != nil {
		return nil, fmt.Errorf("creating %s's policy: %w", name, err)
	}
	if _, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(SessionManagerPolicy),
	}, opts...); err != nil {
		return nil, fmt.Errorf("attaching Session Manager to %s: %w", name, err)
	}
	profile, err := iam.NewInstanceProfile(ctx, name, &iam.InstanceProfileArgs{Role: role.Name, Tags: naming.Tags(tags, name)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating %s's instance profile: %w", name, err)
	}
	return &Role{Role: role, Profile: profile}, nil
}
