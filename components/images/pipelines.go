package images

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/imagebuilder"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// PipelinesType is the component's type token.
const PipelinesType = "hipaa:images:Pipelines"

// ImageBuilderInstanceProfilePolicy is the AWS-managed policy a build instance needs to run Image Builder's
// components and send their logs ("Prepare to build custom images with Image Builder", Image Builder User
// Guide): it reads the components, AWSTOE from Image Builder's buckets, and writes /aws/imagebuilder/* logs.
const ImageBuilderInstanceProfilePolicy = "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder"

// DefaultSchedule rebuilds the images every Sunday at 06:00 UTC, with the week's Debian security updates:
// an Image Builder cron expression, which has six fields.
const DefaultSchedule = "cron(0 6 ? * sun *)"

// DefaultInstanceType builds and tests the images.
const DefaultInstanceType = "m6i.large"

// Name parts of each role's image: {Prefix}-postgres-15-{build date}, the pattern the stacks'
// hipaa:dbImageName matches, and {Prefix}-nagios-4-{build date}, monitoringImageName's.
var imageNames = map[string]string{"db": "postgres-15", "monitoring": "nagios-4"}

// ImageName is the name pattern of the images a role's pipeline produces, for the stacks' look-up.
func ImageName(prefix, role string) string {
	return prefix + "-" + imageNames[role] + "-*"
}

// PipelinesArgs configures the image builds of one account.
type PipelinesArgs struct {
	// Prefix starts the name of every recipe, component and image: the project. Required.
	Prefix string
	// ParentImage is the Debian 12 AMI the images start from. Required.
	ParentImage pulumi.StringInput
	// VpcId and SubnetId place the build and test instances: a subnet whose egress reaches Debian's
	// mirror and AWS (an app subnet, through NAT), never a data subnet. Required.
	VpcId, SubnetId pulumi.StringInput
	// EndpointSecurityGroupId guards the VPC's interface endpoints (Systems Manager, CloudWatch Logs), which
	// the builds reach through their private DNS names; the component admits its build group to it.
	// Required.
	EndpointSecurityGroupId pulumi.StringInput
	// NetworkPaths are the routes and endpoints the builds reach Debian's mirror and AWS through
	// (network.Vpc.Paths): no build starts before them. Optional.
	NetworkPaths []pulumi.Resource
	// InstanceType builds and tests the images; a type that runs with dedicated tenancy. Optional; default
	// DefaultInstanceType.
	InstanceType string
	// EbsKeyArn encrypts the build's volumes and the images' snapshots. Required.
	EbsKeyArn pulumi.StringInput
	// LogsKeyArn encrypts the builds' log groups, kept LogRetentionDays (at least 365). Required.
	LogsKeyArn       pulumi.StringInput
	LogRetentionDays int
	// Schedule is when the pipelines build new images: an Image Builder cron expression of six fields.
	// Optional; default DefaultSchedule.
	Schedule string
	// Region and AccountID are where the images are built. Required.
	Region, AccountID string
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Pipelines are the image builds of an account: for each role, a recipe of the build's components, a
// pipeline that rebuilds it on a schedule, and the image of the recipe's version built once at deployment,
// so that an account's first environment finds an image.
type Pipelines struct {
	pulumi.ResourceState

	// PipelineArns are the pipelines, by role.
	PipelineArns pulumi.StringMapOutput `pulumi:"pipelineArns"`
	// ImageIds are the AMIs built at deployment for the recipes' version, by role.
	ImageIds pulumi.StringMapOutput `pulumi:"imageIds"`
	// Version is the recipes' and components' version, derived from the build's files: a changed file is
	// a new version, and so a new recipe and a new image.
	Version string
}

// CheckSchedule checks an Image Builder schedule: a cron expression of six fields ("Use cron expressions
// in Image Builder", Image Builder User Guide; the five-field form it once took is refused).
func CheckSchedule(s string) error { return check.CronSchedule(s, DefaultSchedule) }

func (a *PipelinesArgs) validate(name string) error {
	var problems []string
	if a.Prefix == "" {
		problems = append(problems, "Prefix is required")
	}
	inputs := []struct {
		field string
		v     pulumi.StringInput
	}{
		{"ParentImage", a.ParentImage}, {"VpcId", a.VpcId}, {"SubnetId", a.SubnetId},
		{"EndpointSecurityGroupId", a.EndpointSecurityGroupId}, {"EbsKeyArn", a.EbsKeyArn}, {"LogsKeyArn", a.LogsKeyArn},
	}
	for _, in := range inputs {
		if in.v == nil {
			problems = append(problems, in.field+" is required")
		}
	}
	if !check.IsAccountID(a.AccountID) {
		problems = append(problems, fmt.Sprintf("AccountID %q: want 12 digits", a.AccountID))
	}
	if err := check.Region(a.Region); err != nil {
		problems = append(problems, fmt.Sprintf("Region: %v", err))
	}
	if err := check.LogRetention(a.LogRetentionDays); err != nil {
		problems = append(problems, fmt.Sprintf("LogRetentionDays: %v", err))
	}
	if a.InstanceType != "" {
		if err := check.DedicatedInstanceType(a.InstanceType); err != nil {
			problems = append(problems, fmt.Sprintf("InstanceType: %v", err))
		}
	}
	if a.Schedule != "" {
		if err := CheckSchedule(a.Schedule); err != nil {
			problems = append(problems, fmt.Sprintf("Schedule: %v", err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("image pipelines %q: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

func (a PipelinesArgs) withDefaults() PipelinesArgs {
	if a.InstanceType == "" {
		a.InstanceType = DefaultInstanceType
	}
	if a.Schedule == "" {
		a.Schedule = DefaultSchedule
	}
	return a
}

// Version is the version of the build's components and recipes: 1.0.N, N from a hash of every file the
// build embeds. Image Builder's versions are major.minor.patch, and every argument of a component or a
// recipe but its tags replaces it (the provider's ForceNew), so the version must change with the content,
// or the replacement would collide with the version that exists.
func Version() (string, error) {
	h := sha256.New()
	for _, name := range Components() {
		doc, err := ComponentDocument("", name)
		if err != nil {
			return "", err
		}
		h.Write([]byte(doc))
	}
	// The patch number is at most 2^30-1, inside the range of every integer Image Builder parses.
	return fmt.Sprintf("1.0.%d", binary.BigEndian.Uint32(h.Sum(nil))&(1<<30-1)), nil
}

// NewPipelines declares the image builds of an account.
func NewPipelines(ctx *pulumi.Context, name string, args *PipelinesArgs, opts ...pulumi.ResourceOption) (*Pipelines, error) {
	if args == nil {
		return nil, fmt.Errorf("image pipelines %q: args are required", name)
	}
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	version, err := Version()
	if err != nil {
		return nil, err
	}
	docs := map[string]string{}
	for _, c := range Components() {
		if docs[c], err = ComponentDocument(a.Prefix, c); err != nil {
			return nil, err
		}
	}
	comp := &Pipelines{Version: version}
	if err := ctx.RegisterComponentResource(PipelinesType, name, comp, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, name: name, a: a, version: version, parent: pulumi.Parent(comp)}
	if err := b.infrastructure(); err != nil {
		return nil, err
	}
	if err := b.components(docs); err != nil {
		return nil, err
	}
	pipelines, images := pulumi.StringMap{}, pulumi.StringMap{}
	for _, role := range Roles {
		p, img, err := b.role(role)
		if err != nil {
			return nil, err
		}
		pipelines[role] = p.Arn
		images[role] = img
	}
	comp.PipelineArns = pipelines.ToStringMapOutput()
	comp.ImageIds = images.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"pipelineArns": comp.PipelineArns, "imageIds": comp.ImageIds, "version": pulumi.String(version),
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// builder declares one account's image builds.
type builder struct {
	ctx     *pulumi.Context
	name    string
	a       PipelinesArgs
	version string
	parent  pulumi.ResourceOption

	infra        *imagebuilder.InfrastructureConfiguration
	componentArn map[string]pulumi.StringOutput
	// ready is what a build needs before it starts: the instance's permissions, the endpoints' rule and
	// the network's paths.
	ready []pulumi.Resource
}

func (b *builder) tags(n string) pulumi.StringMap { return naming.Tags(b.a.Tags, n) }

// infrastructure is where and as whom the builds run: a group that sends HTTPS out and admits nothing, the
// instance's role, and the infrastructure configuration.
func (b *builder) infrastructure() error {
	ctx, a, name := b.ctx, b.a, b.name
	// Egress is HTTPS only: Debian's mirror (install rewrites apt's sources to https), the agents' buckets
	// and AWS's APIs, the interface endpoints among them. The time service and the VPC's resolver are
	// link-local and the VPC's, which security groups do not filter.
	sg, err := ec2.NewSecurityGroup(ctx, name+"-build", &ec2.SecurityGroupArgs{
		VpcId:       a.VpcId,
		Description: pulumi.String("Image Builder build and test instances: HTTPS out, nothing in"),
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
			CidrBlocks:  pulumi.StringArray{pulumi.String("0.0.0.0/0")},
			Description: pulumi.String("HTTPS: Debian's mirror, the agents' buckets, AWS APIs"),
		}},
		Tags: b.tags(name + "-build"),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("creating %s's build security group: %w", name, err)
	}
	endpoints, err := ec2.NewSecurityGroupRule(ctx, name+"-build-to-endpoints", &ec2.SecurityGroupRuleArgs{
		Type: pulumi.String("ingress"), SecurityGroupId: a.EndpointSecurityGroupId, SourceSecurityGroupId: sg.ID(),
		Protocol: pulumi.String("tcp"), FromPort: pulumi.Int(443), ToPort: pulumi.Int(443),
		Description: pulumi.String("Image builds reach Systems Manager and CloudWatch Logs"),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("admitting %s's builds to the endpoints: %w", name, err)
	}
	// The instance writes only its build's logs; Image Builder's managed policy does the rest.
	logs := iampolicy.New(iampolicy.Allow("BuildLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		[]string{iampolicy.LogGroupArn(a.Region, a.AccountID, logGroupPrefix+a.Prefix+"-*") + ":*"})).JSON()
	role, err := hostrole.New(ctx, name+"-build", "Image Builder's build and test instances", pulumi.String(logs), a.Tags, b.parent)
	if err != nil {
		return err
	}
	managed, err := iam.NewRolePolicyAttachment(ctx, name+"-build-imagebuilder", &iam.RolePolicyAttachmentArgs{
		Role: role.Role.Name, PolicyArn: pulumi.String(ImageBuilderInstanceProfilePolicy),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("attaching Image Builder's policy to %s: %w", name, err)
	}
	b.ready = append(append(role.Permissions(), managed, endpoints), a.NetworkPaths...)
	b.infra, err = imagebuilder.NewInfrastructureConfiguration(ctx, name, &imagebuilder.InfrastructureConfigurationArgs{
		Name:                       pulumi.String(a.Prefix + "-images"),
		Description:                pulumi.String("Where the platform's host images are built and tested: an app subnet, HTTPS out only"),
		InstanceProfileName:        role.Profile.Name,
		InstanceTypes:              pulumi.StringArray{pulumi.String(a.InstanceType)},
		SubnetId:                   a.SubnetId,
		SecurityGroupIds:           pulumi.StringArray{sg.ID()},
		TerminateInstanceOnFailure: pulumi.Bool(true),
		Placement:                  &imagebuilder.InfrastructureConfigurationPlacementArgs{Tenancy: pulumi.String("dedicated")},
		InstanceMetadataOptions: &imagebuilder.InfrastructureConfigurationInstanceMetadataOptionsArgs{
			HttpTokens: pulumi.String("required"), HttpPutResponseHopLimit: pulumi.Int(1),
		},
		ResourceTags: b.tags(name + "-build"),
		Tags:         b.tags(name),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("creating %s's infrastructure configuration: %w", name, err)
	}
	return nil
}

// components declares the build's components, one version each per content.
func (b *builder) components(docs map[string]string) error {
	b.componentArn = map[string]pulumi.StringOutput{}
	for _, d := range documents {
		c := d.name
		n := b.name + "-" + c
		comp, err := imagebuilder.NewComponent(b.ctx, n, &imagebuilder.ComponentArgs{
			Name:        pulumi.String(b.a.Prefix + "-" + c),
			Description: pulumi.String(d.description),
			Platform:    pulumi.String("Linux"),
			Version:     pulumi.String(b.version),
			Data:        pulumi.String(docs[c]),
			// A replaced version stays in Image Builder, where the images built with it still name it.
			SkipDestroy: pulumi.Bool(true),
			Tags:        b.tags(n),
		}, b.parent)
		if err != nil {
			return fmt.Errorf("creating the image component %s: %w", c, err)
		}
		b.componentArn[c] = comp.Arn
	}
	return nil
}

// logGroupPrefix is where Image Builder sends a build's logs: /aws/imagebuilder/{recipe name} ("Monitor
// Image Builder with CloudWatch Logs", Image Builder User Guide).
const logGroupPrefix = "/aws/imagebuilder/"

// role declares one role's recipe, its log group, its distribution, its pipeline and its first image.
func (b *builder) role(role string) (*imagebuilder.ImagePipeline, pulumi.StringOutput, error) {
	ctx, a, name := b.ctx, b.a, b.name+"-"+role
	recipeName := a.Prefix + "-" + imageNames[role]
	logs, err := cloudwatch.NewLogGroup(ctx, name+"-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(logGroupPrefix + recipeName),
		KmsKeyId:        a.LogsKeyArn,
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            b.tags(name + "-logs"),
	}, b.parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating %s's build log group: %w", name, err)
	}
	var components imagebuilder.ImageRecipeComponentArray
	for _, c := range Components() {
		components = append(components, imagebuilder.ImageRecipeComponentArgs{
			ComponentArn: b.componentArn[c],
			Parameters: imagebuilder.ImageRecipeComponentParameterArray{
				imagebuilder.ImageRecipeComponentParameterArgs{Name: pulumi.String(RoleParameter), Value: pulumi.String(role)},
			},
		})
	}
	recipe, err := imagebuilder.NewImageRecipe(ctx, name, &imagebuilder.ImageRecipeArgs{
		Name:        pulumi.String(recipeName),
		Description: pulumi.String(fmt.Sprintf("The %s hosts' image: Debian 12, the packages pinned in components/images/files/packages, hardened", role)),
		Version:     pulumi.String(b.version),
		ParentImage: a.ParentImage,
		Components:  components,
		BlockDeviceMappings: imagebuilder.ImageRecipeBlockDeviceMappingArray{imagebuilder.ImageRecipeBlockDeviceMappingArgs{
			// Debian's EC2 images boot from /dev/xvda.
			DeviceName: pulumi.String("/dev/xvda"),
			Ebs: &imagebuilder.ImageRecipeBlockDeviceMappingEbsArgs{
				Encrypted: pulumi.String("true"), KmsKeyId: a.EbsKeyArn, VolumeType: pulumi.String("gp3"),
				VolumeSize: pulumi.Int(RootVolumeGiB), DeleteOnTermination: pulumi.String("true"),
			},
		}},
		// Image Builder installs the Systems Manager agent itself only on the systems it supports, which
		// Debian is not; the user data installs it as the User Guide's "userDataOverride" says, and it
		// stays on the image, since the hosts are reached through Session Manager.
		UserDataBase64:      pulumi.String(base64.StdEncoding.EncodeToString([]byte(SSMAgentUserData(a.Region)))),
		SystemsManagerAgent: &imagebuilder.ImageRecipeSystemsManagerAgentArgs{UninstallAfterBuild: pulumi.Bool(false)},
		WorkingDirectory:    pulumi.String("/var/tmp"),
		Tags:                b.tags(name),
		// A replaced version is left in Image Builder, not deleted: the images the pipeline built with it
		// still name it, which would make its deletion fail (ResourceDependencyException), and an image's
		// recipe stays on record for an audit. Versions cost nothing.
	}, b.parent, pulumi.RetainOnDelete(true))
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating %s's recipe: %w", name, err)
	}
	amiTags := naming.TagMap(a.Tags, recipeName)
	amiTags["Role"] = role
	amiTags["ImageVersion"] = b.version
	distribution, err := imagebuilder.NewDistributionConfiguration(ctx, name, &imagebuilder.DistributionConfigurationArgs{
		Name:        pulumi.String(recipeName),
		Description: pulumi.String(fmt.Sprintf("The %s image, in this account and region only, encrypted with the EBS key", role)),
		Distributions: imagebuilder.DistributionConfigurationDistributionArray{imagebuilder.DistributionConfigurationDistributionArgs{
			Region: pulumi.String(a.Region),
			AmiDistributionConfiguration: &imagebuilder.DistributionConfigurationDistributionAmiDistributionConfigurationArgs{
				Name:     pulumi.String(recipeName + "-{{ imagebuilder:buildDate }}"),
				KmsKeyId: a.EbsKeyArn,
				AmiTags:  pulumi.ToStringMap(amiTags),
			},
		}},
		Tags: b.tags(name),
	}, b.parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating %s's distribution: %w", name, err)
	}
	tests := 60 // minutes, Image Builder's least
	// No build starts before its log group, which Image Builder would otherwise create unencrypted, and
	// what the instance needs.
	afterReady := pulumi.DependsOn(append([]pulumi.Resource{logs}, b.ready...))
	pipeline, err := imagebuilder.NewImagePipeline(ctx, name, &imagebuilder.ImagePipelineArgs{
		Name:                           pulumi.String(recipeName),
		Description:                    pulumi.String(fmt.Sprintf("Rebuilds the %s image with the week's Debian updates, tests and scans it", role)),
		ImageRecipeArn:                 recipe.Arn,
		InfrastructureConfigurationArn: b.infra.Arn,
		DistributionConfigurationArn:   distribution.Arn,
		ImageTestsConfiguration: &imagebuilder.ImagePipelineImageTestsConfigurationArgs{
			ImageTestsEnabled: pulumi.Bool(true), TimeoutMinutes: pulumi.Int(tests),
		},
		ImageScanningConfiguration: &imagebuilder.ImagePipelineImageScanningConfigurationArgs{ImageScanningEnabled: pulumi.Bool(true)},
		// The recipe's components are fixed versions and its parent is an AMI, so "dependency updates"
		// would never start a build: the schedule alone does, and each build takes the mirror's updates.
		Schedule: &imagebuilder.ImagePipelineScheduleArgs{
			ScheduleExpression:              pulumi.String(a.Schedule),
			PipelineExecutionStartCondition: pulumi.String("EXPRESSION_MATCH_ONLY"),
		},
		EnhancedImageMetadataEnabled: pulumi.Bool(true),
		Status:                       pulumi.String("ENABLED"),
		Tags:                         b.tags(name),
	}, b.parent, afterReady)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating %s's pipeline: %w", name, err)
	}
	// The recipe's version, built once now: the account's environments find it before the schedule's
	// first build. Deleting an image resource leaves its AMI (DeleteImage: "does not delete the underlying
	// resources, like the AMI or snapshot"), so a stack pinned to it keeps it when the next version
	// replaces this one.
	image, err := imagebuilder.NewImage(ctx, name, &imagebuilder.ImageArgs{
		ImageRecipeArn:                 recipe.Arn,
		InfrastructureConfigurationArn: b.infra.Arn,
		DistributionConfigurationArn:   distribution.Arn,
		ImageTestsConfiguration: &imagebuilder.ImageImageTestsConfigurationArgs{
			ImageTestsEnabled: pulumi.Bool(true), TimeoutMinutes: pulumi.Int(tests),
		},
		ImageScanningConfiguration:   &imagebuilder.ImageImageScanningConfigurationArgs{ImageScanningEnabled: pulumi.Bool(true)},
		EnhancedImageMetadataEnabled: pulumi.Bool(true),
		Tags:                         b.tags(name),
	}, b.parent, afterReady, pulumi.Timeouts(&pulumi.CustomTimeouts{Create: (2 * time.Hour).String()}))
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating %s's first image: %w", name, err)
	}
	ami := image.OutputResources.ApplyT(func(out []imagebuilder.ImageOutputResource) (string, error) {
		for _, o := range out {
			for _, ami := range o.Amis {
				if ami.Image != nil {
					return *ami.Image, nil
				}
			}
		}
		return "", fmt.Errorf("image build %s produced no AMI", name)
	}).(pulumi.StringOutput)
	return pipeline, ami, nil
}

// RootVolumeGiB is the images' root volume. The database's data is on its own volume.
const RootVolumeGiB = 16

// SSMAgentUserData is the build instance's user data: it installs the Systems Manager agent from the
// region's bucket, the way "Manually install SSM Agent on Debian Server instances" (Systems Manager User
// Guide) does, before Image Builder reaches the instance through it.
func SSMAgentUserData(region string) string {
	// Python's urllib checks the server's certificate; curl may not be on the parent image yet, python3 is
	// (cloud-init runs on it).
	return fmt.Sprintf(`#!/bin/bash
set -euo pipefail
deb=/var/tmp/amazon-ssm-agent.deb
python3 -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
  https://s3.%[1]s.amazonaws.com/amazon-ssm-%[1]s/latest/debian_amd64/amazon-ssm-agent.deb "$deb"
dpkg -i "$deb"
rm -f "$deb"
systemctl enable --now amazon-ssm-agent
`, region)
}
