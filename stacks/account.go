package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/baseline"
	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/components/kms"
)

// An account stack (hipaa:accountBaseline) declares its account's singletons, so that no environment's
// destroy can take the account's trail, detector or settings with it: the Auto Scaling service-linked role
// (adopted when it exists), the keys and the log bucket the baseline needs, and the baseline. Those are
// protected. It also builds the account's database and monitoring images, before any environment needs
// one: the image pipelines and their network, which are not protected, since a new image version replaces
// recipes and images, and they hold no data.

// lookUpAccount finds, before an account stack declares anything, the image its pipelines start from and
// the account's Session Manager preferences, which stop the update when they are not the platform's.
func (s *stack) lookUpAccount() (err error) {
	if err := s.lookUpParentImage(); err != nil {
		return err
	}
	s.found.sessions, err = baseline.FindSessionPreferences(s.ctx)
	return err
}

// autoScalingRole declares the account's Auto Scaling service-linked role, adopting the one that exists.
func (s *stack) autoScalingRole() (err error) {
	s.AutoScalingRole, err = baseline.NewAutoScalingRole(s.ctx, s.n.Name("autoscaling"), s.n.Tags(), s.stateful())
	return err
}

// requireAutoScalingRole stops an environment, before it declares anything, in an account whose Auto
// Scaling service-linked role does not exist yet: the environment's EBS key names the role, and KMS
// refuses a key policy naming a role that does not exist.
func (s *stack) requireAutoScalingRole() error {
	role, err := baseline.FindAutoScalingRole(s.ctx)
	if err != nil {
		return err
	}
	if role == nil {
		return fmt.Errorf("account %s has no Auto Scaling service-linked role (%s), which the stack's EBS key must name: "+
			"deploy the account's baseline stack first (platformctl up --stack account-nonprod, or account-prod), which adopts or creates it",
			s.account, baseline.AutoScalingRoleName)
	}
	return nil
}

// accountKeys are the keys of the baseline: the logs key for the trail and the log bucket, the EBS key
// the account encrypts new volumes with by default, and, where the account stack owns the registry, the
// key of its images. They wait for the role the EBS key names.
func (s *stack) accountKeys() (err error) {
	purposes := []string{kms.EBS, kms.Logs}
	if s.cfg.Registry.Owner {
		purposes = append(purposes, kms.S3)
	}
	s.Keys, err = kms.NewKeys(s.ctx, s.n.Name("keys"), &kms.KeysArgs{
		AccountID:       s.account,
		Region:          s.cfg.Region,
		Purposes:        purposes,
		AutoScalingRole: s.AutoScalingRole,
		Tags:            s.n.Tags(),
	}, s.stateful())
	return err
}

// logBucket creates the bucket every other bucket of the stack logs its access to.
func (s *stack) logBucket() (err error) {
	s.Buckets.Logs, err = bucket.NewBucket(s.ctx, s.n.Name("logs"), &bucket.BucketArgs{
		KmsKeyArn:       s.Keys.LogsKeyArn,
		BucketName:      s.bucketName("logs"),
		AccessLogSink:   true,
		AccountID:       s.account,
		Purpose:         "logs",
		ExpireAfterDays: s.cfg.LogRetentionDays,
		ForceDestroy:    s.cfg.ForceDestroy,
		Tags:            s.n.Tags(),
	}, s.stateful())
	return err
}

func (s *stack) baseline() (err error) {
	s.Baseline, err = baseline.NewAccount(s.ctx, s.n.Name("baseline"), &baseline.AccountArgs{
		AccountID:           s.account,
		Region:              s.cfg.Region,
		LogsKeyArn:          s.Keys.LogsKeyArn,
		EbsKeyArn:           s.Keys.EbsKeyArn,
		AccessLogBucket:     s.Buckets.Logs.BucketName,
		LogRetentionDays:    s.cfg.LogRetentionDays,
		Sessions:            s.found.sessions,
		RecorderName:        s.cfg.Compliance.RecorderName,
		OrganizationManaged: s.cfg.Compliance.OrganizationManaged,
		AlertEmails:         s.cfg.Monitoring.AlertEmails,
		Tags:                s.n.Tags(),
	}, s.stateful())
	return err
}

// buildNetwork is where the account's images are built: a VPC of its own (dedicated tenancy, flow logs),
// whose app subnets reach Debian's mirror through NAT, as the environments' app subnets do. The account
// stack runs before any environment, so its builds cannot borrow one of theirs.
func (s *stack) buildNetwork() error { return s.newNetwork("build-vpc") }

// imagePipelines declares the builds of the database and monitoring images, in the build network's first
// app subnet, encrypted with the account's EBS key.
func (s *stack) imagePipelines() (err error) {
	s.ImagePipelines, err = images.NewPipelines(s.ctx, s.n.Name("images"), &images.PipelinesArgs{
		Prefix:                  s.cfg.Project,
		ParentImage:             s.found.parentImage,
		VpcId:                   s.Network.VpcId,
		SubnetId:                s.Network.Tiers.App[0].ID,
		EndpointSecurityGroupId: s.Network.EndpointSecurityGroupId,
		InstanceType:            s.cfg.ImageBuild.InstanceType,
		EbsKeyArn:               s.Keys.EbsKeyArn,
		LogsKeyArn:              s.Keys.LogsKeyArn,
		LogRetentionDays:        s.cfg.LogRetentionDays,
		Schedule:                s.cfg.ImageBuild.Schedule,
		Region:                  s.cfg.Region,
		AccountID:               s.account,
		NetworkPaths:            s.Network.Paths,
		Tags:                    s.n.Tags(),
	})
	return err
}

// exportAccount exports what an account stack declares.
func (s *stack) exportAccount() {
	ctx := s.ctx
	ctx.Export("autoScalingRoleArn", s.AutoScalingRole.Arn)
	keys := pulumi.StringMap{kms.EBS: s.Keys.EbsKeyArn, kms.Logs: s.Keys.LogsKeyArn}
	if s.cfg.Registry.Owner {
		keys[kms.S3] = s.Keys.S3KeyArn
	}
	ctx.Export("kmsKeyArns", keys)
	ctx.Export("buckets", pulumi.StringMap{"logs": s.Buckets.Logs.BucketName, "trail": s.Baseline.TrailBucketName})
	ctx.Export("trailArn", s.Baseline.TrailArn)
	ctx.Export("guardDutyDetectorId", s.Baseline.DetectorId)
	ctx.Export("sessionPreferences", s.Baseline.SessionPreferences)
	ctx.Export("conformancePack", s.Baseline.ConformancePack)
	ctx.Export("securityAlertTopicArn", s.Baseline.AlertTopicArn)
	ctx.Export("imagePipelines", s.ImagePipelines.PipelineArns)
	// The images this version of the recipes built; an environment pins one with hipaa:dbImageId or
	// monitoringImageId.
	ctx.Export("images", s.ImagePipelines.ImageIds)
	ctx.Export("imageVersion", pulumi.String(s.ImagePipelines.Version))
	if s.Registry != nil {
		ctx.Export("repositoryUrl", s.Registry.RepositoryUrl)
		ctx.Export("buildRepositoryUrl", s.Registry.BuildRepositoryUrl)
		if s.Registry.BuildTag != "" {
			ctx.Export("built", pulumi.Map{"tag": pulumi.String(s.Registry.BuildTag), "image": s.Registry.ImageRef})
		}
	}
}
