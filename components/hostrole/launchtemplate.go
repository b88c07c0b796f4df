package hostrole

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LaunchTemplate describes the hosts an Auto Scaling group launches under the role.
type LaunchTemplate struct {
	// Description says whose hosts they are. Required.
	Description pulumi.StringInput
	// Ami and InstanceType make the hosts; InstanceType must run with dedicated tenancy. Required.
	Ami          pulumi.StringInput
	InstanceType string
	// SecurityGroupId admits their traffic. Required.
	SecurityGroupId pulumi.StringInput
	// EbsKeyArn encrypts their root volumes of RootVolumeGiB. Required.
	EbsKeyArn     pulumi.StringInput
	RootVolumeGiB int
	// UserData is their first boot's setup, base64-encoded. Required.
	UserData pulumi.StringInput
	// LaunchTags tag each host and its root volume; Tags the template itself.
	LaunchTags, Tags pulumi.StringMap
	// ImageBuilderArn is the Image Builder image Ami was made as (the AMI's Ec2ImageBuilderArn tag), for
	// an image the account built, which each host records; empty for another. Optional.
	ImageBuilderArn string
}

// NewLaunchTemplate creates the template with the safeguards every launched host of the platform has,
// which are therefore not arguments, as NewInstance gives them to a host with a fixed address: dedicated
// tenancy, IMDSv2 only (hop limit 1), no public IP, one-minute monitoring, a root volume encrypted with
// the EBS key and deleted with the host, and this role's instance profile. Each change is a new version,
// made the default. It is created after the role's policies: its hosts call AWS as they boot.
func (r *Role) NewLaunchTemplate(ctx *pulumi.Context, name string, l LaunchTemplate, opts ...pulumi.ResourceOption) (*ec2.LaunchTemplate, error) {
	t, err := ec2.NewLaunchTemplate(ctx, name, &ec2.LaunchTemplateArgs{
		Description:        l.Description,
		ImageId:            l.Ami,
		InstanceType:       pulumi.String(l.InstanceType),
		Placement:          ec2.LaunchTemplatePlacementArgs{Tenancy: pulumi.String("dedicated")},
		IamInstanceProfile: ec2.LaunchTemplateIamInstanceProfileArgs{Arn: r.Profile.Arn},
		MetadataOptions: ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint: pulumi.String("enabled"), HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		Monitoring: ec2.LaunchTemplateMonitoringArgs{Enabled: pulumi.Bool(true)},
		NetworkInterfaces: ec2.LaunchTemplateNetworkInterfaceArray{
			ec2.LaunchTemplateNetworkInterfaceArgs{
				DeviceIndex: pulumi.Int(0), AssociatePublicIpAddress: pulumi.String("false"), DeleteOnTermination: pulumi.String("true"),
				SecurityGroups: pulumi.StringArray{l.SecurityGroupId},
			},
		},
		BlockDeviceMappings: ec2.LaunchTemplateBlockDeviceMappingArray{
			ec2.LaunchTemplateBlockDeviceMappingArgs{
				DeviceName: pulumi.String("/dev/xvda"),
				Ebs: ec2.LaunchTemplateBlockDeviceMappingEbsArgs{
					Encrypted: pulumi.String("true"), KmsKeyId: l.EbsKeyArn, VolumeType: pulumi.String("gp3"),
					VolumeSize: pulumi.Int(l.RootVolumeGiB), DeleteOnTermination: pulumi.String("true"),
				},
			},
		},
		UserData: l.UserData,
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: withImage(l.LaunchTags, l.ImageBuilderArn)},
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: l.LaunchTags},
		},
		UpdateDefaultVersion: pulumi.Bool(true),
		Tags:                 l.Tags,
	}, append(opts, pulumi.DependsOn(r.Permissions()))...)
	if err != nil {
		return nil, fmt.Errorf("creating the launch template %s: %w", name, err)
	}
	return t, nil
}
