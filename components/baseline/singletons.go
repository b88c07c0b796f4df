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

// A LinkedRole is a service-linked role: one per account and service, named by AWS.
type LinkedRole struct {
	// Service is the service that assumes it, such as autoscaling.amazonaws.com.
	Service string
	// Name is the name AWS gives the role without a custom suffix.
	Name string
	// Description is the role's description when the baseline creates it.
	Description string
}

// path is where IAM keeps the role: /aws-service-role/<service>/.
func (r LinkedRole) path() string { return "/aws-service-role/" + r.Service + "/" }

// Arn is the role's ARN, known before the role exists.
func (r LinkedRole) Arn(partition, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, account, r.path(), r.Name)
}

// AutoScalingService is the service whose role the EBS keys' policies name.
const AutoScalingService = "autoscaling.amazonaws.com"

// AutoScalingRoleName is the name AWS gives the Auto Scaling service-linked role without a custom suffix,
// the role Auto Scaling launches instances as.
const AutoScalingRoleName = "AWSServiceRoleForAutoScaling"

// AutoScalingRole is the role Auto Scaling launches instances as. It is retained when the stack is
// destroyed: every Auto Scaling group in the account, the platform's or not, launches as this role.
var AutoScalingRole = LinkedRole{
	Service:     AutoScalingService,
	Name:        AutoScalingRoleName,
	Description: "Auto Scaling, which the EBS keys let encrypt the volumes of the instances it launches",
}

// ConfigRole is the role AWS Config records the account's resources as. Security Hub's control Config.1
// asks that the recorder use it, rather than a role of the account's own. It cannot write to S3 or use a
// key itself (AWS Config Developer Guide, "Permissions for the Amazon S3 Bucket" and "Permissions for the
// KMS Key"), so AWS Config delivers as its service principal, which the trail bucket's policy and the logs
// key's policy admit.
var ConfigRole = LinkedRole{
	Service:     "config.amazonaws.com",
	Name:        "AWSServiceRoleForConfig",
	Description: "AWS Config, which records the account's resources for the HIPAA conformance pack and Security Hub",
}

// ServiceRole is a service-linked role found in the account.
type ServiceRole struct {
	Arn, Description string
	Tags             map[string]string
}

// FindAutoScalingRole looks the account's Auto Scaling service-linked role up; nil when the account has
// none.
func FindAutoScalingRole(ctx *pulumi.Context) (*ServiceRole, error) {
	return FindRole(ctx, AutoScalingRole)
}

// FindRole looks a service-linked role up; nil when the account has none. iam.getRoles answers an empty
// list, not an error, when nothing matches.
func FindRole(ctx *pulumi.Context, r LinkedRole) (*ServiceRole, error) {
	roles, err := iam.GetRoles(ctx, &iam.GetRolesArgs{
		PathPrefix: pulumi.StringRef(r.path()),
		NameRegex:  pulumi.StringRef("^" + r.Name + "$"),
	})
	if err != nil {
		return nil, fmt.Errorf("looking up the %s service-linked role: %w", r.Service, err)
	}
	if len(roles.Names) == 0 {
		return nil, nil
	}
	role, err := iam.LookupRole(ctx, &iam.LookupRoleArgs{Name: roles.Names[0]})
	if err != nil {
		return nil, fmt.Errorf("reading the %s service-linked role: %w", r.Service, err)
	}
	return &ServiceRole{Arn: role.Arn, Description: role.Description, Tags: role.Tags}, nil
}

// NewAutoScalingRole declares the account's Auto Scaling service-linked role (NewRole).
func NewAutoScalingRole(ctx *pulumi.Context, name string, tags map[string]string, opts ...pulumi.ResourceOption) (*iam.ServiceLinkedRole, error) {
	return NewRole(ctx, name, AutoScalingRole, tags, opts...)
}

// NewRole declares a service-linked role: the existing one adopted as it is (its description and tags
// kept, so that adopting it changes nothing), or a new one. It is retained when the stack is destroyed:
// the service uses it for everything it does in the account, the platform's or not.
func NewRole(ctx *pulumi.Context, name string, r LinkedRole, tags map[string]string, opts ...pulumi.ResourceOption) (*iam.ServiceLinkedRole, error) {
	existing, err := FindRole(ctx, r)
	if err != nil {
		return nil, err
	}
	args := &iam.ServiceLinkedRoleArgs{
		AwsServiceName: pulumi.String(r.Service),
		Description:    pulumi.String(r.Description),
		Tags:           naming.Tags(tags, name),
	}
	opts = append(opts, pulumi.RetainOnDelete(true))
	if existing != nil {
		ctx.Log.Info(fmt.Sprintf("adopting the account's %s service-linked role %s", r.Service, existing.Arn), nil)
		args.Description = pulumi.String(existing.Description)
		args.Tags = pulumi.ToStringMap(merged(existing.Tags, naming.TagMap(tags, name)))
		opts = append(opts, pulumi.Import(pulumi.ID(existing.Arn)))
	}
	role, err := iam.NewServiceLinkedRole(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("declaring the %s service-linked role: %w", r.Service, err)
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
