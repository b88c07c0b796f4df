package baseline

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
)

// An account's singletons (its Auto Scaling service-linked role and its GuardDuty detector in a region)
// usually exist before the platform's first deployment: Auto Scaling creates its role with the first
// group anyone launches, and an organization that enables GuardDuty for its members creates their
// detectors. Creating either a second time fails (IAM: "has been taken in this account"; GuardDuty: "a
// detector already exists for the current account"), so each is looked up first and adopted with the
// import resource option when it exists, or created when it does not. Once adopted or created it is in
// the stack's state under the ID it is looked up by, and the engine treats a resource whose import ID
// matches its state like any other (pulumi/pulumi developer-docs/architecture/import.md), so the next
// update finds it and changes nothing.

// AutoScalingService is the service whose role the EBS keys' policies name.
const AutoScalingService = "autoscaling.amazonaws.com"

// AutoScalingRoleName is the name AWS gives the Auto Scaling service-linked role without a custom suffix,
// the role Auto Scaling launches instances as.
const AutoScalingRoleName = "AWSServiceRoleForAutoScaling"

// autoScalingRolePath is the path of every Auto Scaling service-linked role.
const autoScalingRolePath = "/aws-service-role/" + AutoScalingService + "/"

// ServiceRole is a service-linked role found in the account.
type ServiceRole struct {
	Arn, Description string
	Tags             map[string]string
}

// FindAutoScalingRole looks the account's Auto Scaling service-linked role up; nil when the account has
// none. iam.getRoles answers an empty list, not an error, when nothing matches.
func FindAutoScalingRole(ctx *pulumi.Context) (*ServiceRole, error) {
	roles, err := iam.GetRoles(ctx, &iam.GetRolesArgs{
		PathPrefix: pulumi.StringRef(autoScalingRolePath),
		NameRegex:  pulumi.StringRef("^" + AutoScalingRoleName + "$"),
	})
	if err != nil {
		return nil, fmt.Errorf("looking up the Auto Scaling service-linked role: %w", err)
	}
	if len(roles.Names) == 0 {
		return nil, nil
	}
	role, err := iam.LookupRole(ctx, &iam.LookupRoleArgs{Name: roles.Names[0]})
	if err != nil {
		return nil, fmt.Errorf("reading the Auto Scaling service-linked role: %w", err)
	}
	return &ServiceRole{Arn: role.Arn, Description: role.Description, Tags: role.Tags}, nil
}

// autoScalingRoleDescription is the description of the role when the baseline creates it.
const autoScalingRoleDescription = "Auto Scaling, which the EBS keys let encrypt the volumes of the instances it launches"

// NewAutoScalingRole declares the account's Auto Scaling service-linked role: the existing one adopted
// as it is (its description and tags kept, so that adopting it changes nothing), or a new one. It is
// retained when the stack is destroyed: every Auto Scaling group in the account, the platform's or not,
// launches as this role.
func NewAutoScalingRole(ctx *pulumi.Context, name string, tags map[string]string, opts ...pulumi.ResourceOption) (*iam.ServiceLinkedRole, error) {
	existing, err := FindAutoScalingRole(ctx)
	if err != nil {
		return nil, err
	}
	args := &iam.ServiceLinkedRoleArgs{
		AwsServiceName: pulumi.String(AutoScalingService),
		Description:    pulumi.String(autoScalingRoleDescription),
		Tags:           naming.Tags(tags, name),
	}
	opts = append(opts, pulumi.RetainOnDelete(true))
	if existing != nil {
		ctx.Log.Info(fmt.Sprintf("adopting the account's Auto Scaling service-linked role %s", existing.Arn), nil)
		args.Description = pulumi.String(existing.Description)
		args.Tags = pulumi.ToStringMap(merged(existing.Tags, naming.TagMap(tags, name)))
		opts = append(opts, pulumi.Import(pulumi.ID(existing.Arn)))
	}
	role, err := iam.NewServiceLinkedRole(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("declaring the Auto Scaling service-linked role: %w", err)
	}
	return role, nil
}

// noDetector is how the AWS provider's guardduty.getDetector fails when the region has no detector: its
// lookup lists the detectors and asserts a single one (terraform-provider-aws
// internal/service/guardduty/detector_data_source.go, "reading this account's single GuardDuty
// Detector", and tfresource.AssertSingleValueResult, whose error for an empty list is "empty result").
const noDetector = "single GuardDuty Detector: empty result"

// findDetector looks the region's GuardDuty detector up; nil when there is none. Any other failure (no
// permission, throttling) is an error: guessing "none" there would try to create a second detector.
func findDetector(ctx *pulumi.Context) (*guardduty.LookupDetectorResult, error) {
	d, err := guardduty.LookupDetector(ctx, &guardduty.LookupDetectorArgs{})
	if err != nil {
		if strings.Contains(err.Error(), noDetector) {
			return nil, nil
		}
		return nil, fmt.Errorf("looking up the region's GuardDuty detector: %w", err)
	}
	return d, nil
}

// findingFrequency is how often a detector the baseline creates publishes updates of open findings.
const findingFrequency = "FIFTEEN_MINUTES"

// newDetector declares the region's GuardDuty detector, enabled: the existing one adopted with its
// finding frequency (which an organization's administrator sets for its members, who cannot change it)
// and its tags, or a new one. It is retained when the stack is destroyed: deleting a detector disables
// GuardDuty in the region and deletes its findings.
func newDetector(ctx *pulumi.Context, name string, tags map[string]string, opts ...pulumi.ResourceOption) (*guardduty.Detector, error) {
	existing, err := findDetector(ctx)
	if err != nil {
		return nil, err
	}
	args := &guardduty.DetectorArgs{
		Enable:                     pulumi.Bool(true),
		FindingPublishingFrequency: pulumi.String(findingFrequency),
		Tags:                       naming.Tags(tags, name),
	}
	opts = append(opts, pulumi.RetainOnDelete(true))
	if existing != nil {
		ctx.Log.Info(fmt.Sprintf("adopting the region's GuardDuty detector %s (%s)", existing.Id, existing.Status), nil)
		args.FindingPublishingFrequency = pulumi.String(existing.FindingPublishingFrequency)
		args.Tags = pulumi.ToStringMap(merged(existing.Tags, naming.TagMap(tags, name)))
		opts = append(opts, pulumi.Import(pulumi.ID(existing.Id)))
	}
	d, err := guardduty.NewDetector(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("enabling GuardDuty: %w", err)
	}
	return d, nil
}

// merged is the tags a resource already has, with the platform's added.
func merged(have, add map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range have {
		out[k] = v
	}
	for k, v := range add {
		out[k] = v
	}
	return out
}
