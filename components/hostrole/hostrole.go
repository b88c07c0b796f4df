// Package hostrole creates the identity of an EC2 host or fleet: a role only EC2 may assume, its one
// policy of its own, Session Manager in place of SSH, and the instance profile that carries the role; and
// the hosts that run under it, with fixed addresses or from a launch template. Every tier's hosts get
// theirs here, so that none is made differently.
package hostrole

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// SessionManagerPolicy is the AWS-managed policy that lets Session Manager reach a host.
const SessionManagerPolicy = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

// SessionLogGroup is the account's log group of Session Manager sessions, which the account stack's
// preferences name and every host's role may write; SessionUser is the user every session's shell runs
// as, which the host images make (components/images/files/image.sh, SESSION_USER).
const (
	SessionLogGroup = "/session-manager/sessions"
	SessionUser     = "hipaa-session"
)

// WriteSessionLogs lets a host's Systems Manager agent stream its sessions to the account's session log
// group, in the region and account of the host's own log group (ownLogGroupArn), and check, as the agent
// does before every session, that the group is encrypted (DescribeLogGroups, which names no single group:
// "Create a custom IAM role for Session Manager", Systems Manager User Guide).
func WriteSessionLogs(ownLogGroupArn string) []iampolicy.Statement {
	i := strings.Index(ownLogGroupArn, ":log-group:")
	if i < 0 {
		return nil // not a log group's ARN: no session logging, which the agent then refuses to start
	}
	prefix := ownLogGroupArn[:i+len(":log-group:")]
	group := prefix + SessionLogGroup
	return []iampolicy.Statement{
		iampolicy.Allow("WriteSessionLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []string{group, group + ":*"}),
		iampolicy.Allow("CheckSessionLogEncryption", []string{"logs:DescribeLogGroups"}, []string{prefix + "*"}),
	}
}

// Trust is the trust policy of a host role: only EC2 may assume it.
func Trust() string {
	return iampolicy.New(iampolicy.Allow("EC2Assume", []string{"sts:AssumeRole"}, nil).ForService("ec2.amazonaws.com")).JSON()
}

// Role is a host's role and instance profile, and the policies that give the role its permissions.
type Role struct {
	Role    *iam.Role
	Profile *iam.InstanceProfile
	// Policy is the role's own managed policy, and Attachment attaches it; SessionManager attaches
	// Session Manager's.
	Policy         *iam.Policy
	Attachment     *iam.RolePolicyAttachment
	SessionManager *iam.RolePolicyAttachment
}

// New creates the role named name with its policy (Grant), Session Manager, and the instance profile.
func New(ctx *pulumi.Context, name, description string, policy pulumi.StringInput, tags map[string]string, opts ...pulumi.ResourceOption) (*Role, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(Trust()),
		Description:      pulumi.String(description),
		Tags:             naming.Tags(tags, name),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating %s's role: %w", name, err)
	}
	own, attached, err := Grant(ctx, name, role, description, policy, tags, opts...)
	if err != nil {
		return nil, err
	}
	ssm, err := iam.NewRolePolicyAttachment(ctx, name+"-ssm", &iam.RolePolicyAttachmentArgs{
		Role: role.Name, PolicyArn: pulumi.String(SessionManagerPolicy),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("attaching Session Manager to %s: %w", name, err)
	}
	profile, err := iam.NewInstanceProfile(ctx, name, &iam.InstanceProfileArgs{Role: role.Name, Tags: naming.Tags(tags, name)}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating %s's instance profile: %w", name, err)
	}
	return &Role{Role: role, Profile: profile, Policy: own, Attachment: attached, SessionManager: ssm}, nil
}

// Grant gives role the permissions of policy as a customer managed policy of its own, named like the
// role, and attaches it; every role the program makes, a host's or a service's, gets its permissions
// this way. Not inline: AWS Config's iam-no-inline-policy-check, in AWS's HIPAA conformance pack, reports
// every role with an inline policy. A managed policy holds 6,144 characters ("IAM and AWS STS quotas",
// IAM User Guide); the largest the program writes, a database host's, is under 3,000. The attachment is
// what a user of the role waits for.
func Grant(ctx *pulumi.Context, name string, role *iam.Role, description string, policy pulumi.StringInput, tags map[string]string, opts ...pulumi.ResourceOption) (*iam.Policy, *iam.RolePolicyAttachment, error) {
	own, err := iam.NewPolicy(ctx, name, &iam.PolicyArgs{
		Description: pulumi.String(description),
		Policy:      policy,
		Tags:        naming.Tags(tags, name),
	}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating %s's policy: %w", name, err)
	}
	attached, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{Role: role.Name, PolicyArn: own.Arn}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("attaching %s's policy: %w", name, err)
	}
	return own, attached, nil
}

// Permissions are what a host launched under the role needs to exist before it boots: the role's
// policies. The instance profile names only the role, so nothing else makes a host wait for them, and a
// host that boots first fails its first calls with AccessDenied.
func (r *Role) Permissions() []pulumi.Resource {
	return []pulumi.Resource{r.Policy, r.Attachment, r.SessionManager}
}

// Instance is one host with a fixed address.
type Instance struct {
	// Ami and InstanceType make the host; InstanceType must run with dedicated tenancy. Required.
	Ami          pulumi.StringInput
	InstanceType string
	// SubnetId and PrivateIp place it; SecurityGroupId admits its traffic. Required.
	SubnetId, SecurityGroupId pulumi.StringInput
	PrivateIp                 string
	// EbsKeyArn encrypts its root volume of RootVolumeGiB. Required.
	EbsKeyArn     pulumi.StringInput
	RootVolumeGiB int
	// UserDataBase64 is its first boot's setup. Later setups reach the running host another way
	// (Systems Manager), so a change of it changes nothing on the instance.
	UserDataBase64 string
	// WaitFor are what the host reads as it boots, beyond its role's permissions: the secret versions
	// its setup fetches. Optional.
	WaitFor []pulumi.Resource
	// Tags are the instance's; the root volume is tagged Name <name>-root.
	Tags     pulumi.StringMap
	BaseTags map[string]string
	// ImageBuilderArn is the Image Builder image Ami was made as (the AMI's Ec2ImageBuilderArn tag), for
	// an image the account built; empty for another. Optional.
	ImageBuilderArn string
}

// NewInstance creates the host with the safeguards every host of the platform has, which are therefore
// not arguments: dedicated tenancy, IMDSv2 only (hop limit 1), no public IP, one-minute monitoring, a
// root volume encrypted with the EBS key, and this role's instance profile. It is created after the role's
// policies and what else it reads at boot. Updates never stop or replace it on their own:
//   - a new image is not a reason to replace a running host, so the AMI's changes are ignored;
//   - a change of user data would stop and start the instance (the provider's Instance.userData: "Updates
//     to this field will trigger a stop/start of the EC2 instance by default"), so user data changes
//     are ignored: it only brings the host up the first time;
//   - the host records the image it booted from as its ImageBuilderArn tag (naming.ImageBuilderArnTag),
//     which is therefore kept as it was at launch too: a host's image changes with a replacement or a
//     patch, not with the pinned image;
//   - the root volume is tagged through rootBlockDevice.tags, not volumeTags, which would also tag the
//     attached data volumes and fight their own tags on every update (the provider's note on volumeTags).
//
// A replacement that does happen (a new instance type in another family, a new subnet) deletes the host
// before it creates the new one: the fixed address is the old host's until it is gone.
func (r *Role) NewInstance(ctx *pulumi.Context, name string, i Instance, opts ...pulumi.ResourceOption) (*ec2.Instance, error) {
	wait := append(r.Permissions(), i.WaitFor...)
	inst, err := ec2.NewInstance(ctx, name, &ec2.InstanceArgs{
		Ami:                      i.Ami,
		InstanceType:             pulumi.String(i.InstanceType),
		Tenancy:                  pulumi.String("dedicated"),
		SubnetId:                 i.SubnetId,
		PrivateIp:                pulumi.String(i.PrivateIp),
		VpcSecurityGroupIds:      pulumi.StringArray{i.SecurityGroupId},
		IamInstanceProfile:       r.Profile.Name,
		AssociatePublicIpAddress: pulumi.Bool(false),
		Monitoring:               pulumi.Bool(true),
		MetadataOptions: ec2.InstanceMetadataOptionsArgs{
			HttpTokens: pulumi.String("required"), HttpEndpoint: pulumi.String("enabled"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		RootBlockDevice: ec2.InstanceRootBlockDeviceArgs{
			Encrypted: pulumi.Bool(true), KmsKeyId: i.EbsKeyArn, VolumeType: pulumi.String("gp3"), VolumeSize: pulumi.Int(i.RootVolumeGiB),
			Tags: naming.Tags(i.BaseTags, name+"-root"),
		},
		UserDataBase64: pulumi.String(i.UserDataBase64),
		Tags:           withImage(i.Tags, i.ImageBuilderArn),
	}, append(opts,
		pulumi.IgnoreChanges([]string{"ami", "userData", "userDataBase64", "tags." + naming.ImageBuilderArnTag}),
		pulumi.DeleteBeforeReplace(true),
		pulumi.DependsOn(wait))...)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", name, err)
	}
	return inst, nil
}

// withImage is a host's tags with the Image Builder image it boots from (naming.ImageBuilderArnTag),
// when there is one; a tag of the caller's own of that name wins.
func withImage(tags pulumi.StringMap, imageBuilderArn string) pulumi.StringMap {
	if imageBuilderArn == "" {
		return tags
	}
	out := pulumi.StringMap{naming.ImageBuilderArnTag: pulumi.String(imageBuilderArn)}
	for k, v := range tags {
		out[k] = v
	}
	return out
}
