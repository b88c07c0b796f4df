package baseline

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:baseline:Account"

// PasswordPolicy is the IAM password policy the baseline sets.
var PasswordPolicy = iam.AccountPasswordPolicyArgs{
	MinimumPasswordLength:      pulumi.Int(14),
	PasswordReusePrevention:    pulumi.Int(24),
	MaxPasswordAge:             pulumi.Int(90),
	RequireLowercaseCharacters: pulumi.Bool(true),
	RequireUppercaseCharacters: pulumi.Bool(true),
	RequireNumbers:             pulumi.Bool(true),
	RequireSymbols:             pulumi.Bool(true),
	AllowUsersToChangePassword: pulumi.Bool(true),
}

// AccountArgs configures the baseline.
type AccountArgs struct {
	// AccountID is the 12-digit account the baseline covers. Required.
	AccountID string
	// Region is the region of the trail's log group. Required.
	Region string
	// LogsKeyArn encrypts the trail, its log group and its bucket. Required.
	LogsKeyArn pulumi.StringInput
	// EbsKeyArn becomes the account's default EBS key. Required.
	EbsKeyArn pulumi.StringInput
	// AccessLogBucket is the name of the bucket that receives the trail bucket's access logs. Required.
	AccessLogBucket pulumi.StringInput
	// LogRetentionDays is how long the trail's logs are kept, in CloudWatch Logs and in S3; a CloudWatch
	// Logs retention of at least 365. Required.
	LogRetentionDays int
	// Sessions is what FindSessionPreferences found of the account's Session Manager preferences, which
	// the baseline adopts or creates. Required.
	Sessions *Sessions
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Account is the account-wide baseline.
type Account struct {
	pulumi.ResourceState

	// TrailArn is the CloudTrail trail's ARN.
	TrailArn pulumi.StringOutput `pulumi:"trailArn"`
	// TrailBucketName is the bucket the trail delivers to.
	TrailBucketName pulumi.StringOutput `pulumi:"trailBucketName"`
	// DetectorId is the GuardDuty detector's ID.
	DetectorId pulumi.StringOutput `pulumi:"detectorId"`
	// SessionPreferences is the name of the account's Session Manager preferences document.
	SessionPreferences pulumi.StringOutput `pulumi:"sessionPreferences"`
}

func (a *AccountArgs) validate(name string) error {
	switch {
	case a == nil:
		return fmt.Errorf("baseline %q: args are required", name)
	case !check.IsAccountID(a.AccountID):
		return fmt.Errorf("baseline %q: AccountID %q is not a 12-digit AWS account ID", name, a.AccountID)
	case a.Region == "":
		return fmt.Errorf("baseline %q: Region is required", name)
	case a.LogsKeyArn == nil:
		return fmt.Errorf("baseline %q: LogsKeyArn is required: the trail is always encrypted", name)
	case a.EbsKeyArn == nil:
		return fmt.Errorf("baseline %q: EbsKeyArn is required for EBS encryption by default", name)
	case a.AccessLogBucket == nil:
		return fmt.Errorf("baseline %q: AccessLogBucket is required: the trail bucket's access is logged", name)
	case a.Sessions == nil:
		return fmt.Errorf("baseline %q: Sessions is required: what FindSessionPreferences found of the account's Session Manager preferences", name)
	}
	if err := check.LogRetention(a.LogRetentionDays); err != nil {
		return fmt.Errorf("baseline %q: LogRetentionDays: %w", name, err)
	}
	return nil
}

// NewAccount creates the baseline.
func NewAccount(ctx *pulumi.Context, name string, args *AccountArgs, opts ...pulumi.ResourceOption) (*Account, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := *args

	comp := &Account{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	// Everything the baseline declares is retained when the stack is destroyed: deleting it would turn
	// EBS encryption by default off, lift the account's S3 public access block and its password policy,
	// disable GuardDuty, and stop the trail and delete its log group.
	retain := pulumi.RetainOnDelete(true)

	trail, trailBucket, err := auditTrail(ctx, name, &a, parent, retain)
	if err != nil {
		return nil, err
	}

	encryption, err := ebs.NewEncryptionByDefault(ctx, name+"-ebs-encryption", &ebs.EncryptionByDefaultArgs{
		Enabled: pulumi.Bool(true),
	}, parent, retain)
	if err != nil {
		return nil, fmt.Errorf("enabling EBS encryption by default: %w", err)
	}
	if _, err := ebs.NewDefaultKmsKey(ctx, name+"-ebs-key", &ebs.DefaultKmsKeyArgs{
		KeyArn: a.EbsKeyArn,
	}, parent, retain, pulumi.DependsOn([]pulumi.Resource{encryption})); err != nil {
		return nil, fmt.Errorf("setting default EBS key: %w", err)
	}
	if _, err := s3.NewAccountPublicAccessBlock(ctx, name+"-s3-public-access", &s3.AccountPublicAccessBlockArgs{
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent, retain); err != nil {
		return nil, fmt.Errorf("blocking public S3 access account-wide: %w", err)
	}
	policy := PasswordPolicy
	if _, err := iam.NewAccountPasswordPolicy(ctx, name+"-password-policy", &policy, parent, retain); err != nil {
		return nil, fmt.Errorf("setting password policy: %w", err)
	}
	detector, err := newDetector(ctx, name+"-guardduty", a.Tags, parent)
	if err != nil {
		return nil, err
	}
	sessions, err := newSessionPreferences(ctx, name, &a, parent, retain)
	if err != nil {
		return nil, err
	}

	comp.TrailArn = trail.Arn
	comp.TrailBucketName = trailBucket.BucketName
	comp.DetectorId = detector.ID().ToStringOutput()
	comp.SessionPreferences = sessions.Name
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"trailArn":           comp.TrailArn,
		"trailBucketName":    comp.TrailBucketName,
		"detectorId":         comp.DetectorId,
		"sessionPreferences": comp.SessionPreferences,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// auditTrail records every API call in every region into a bucket of its own and a log group, both
// encrypted with the logs key and kept for the retention, with digest files that prove no log was altered.
func auditTrail(ctx *pulumi.Context, name string, a *AccountArgs, parent, retain pulumi.ResourceOption) (*cloudtrail.Trail, *bucket.Bucket, error) {
	trailName := name + "-trail"
	trailBucket, err := bucket.NewBucket(ctx, trailName, &bucket.BucketArgs{
		BucketName:      trailName + "-" + a.AccountID,
		Purpose:         "audit",
		KmsKeyArn:       a.LogsKeyArn,
		AccessLogBucket: a.AccessLogBucket,
		AccountID:       a.AccountID,
		Writers:         []bucket.Writer{{Service: "cloudtrail.amazonaws.com", Prefix: "AWSLogs/" + a.AccountID + "/"}},
		ExpireAfterDays: a.LogRetentionDays,
		Tags:            a.Tags,
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating trail bucket: %w", err)
	}
	groupName := "/hipaa/" + trailName
	group, err := cloudwatch.NewLogGroup(ctx, trailName, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(groupName),
		KmsKeyId:        a.LogsKeyArn,
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            naming.Tags(a.Tags, trailName),
	}, parent, retain)
	if err != nil {
		return nil, nil, fmt.Errorf("creating trail log group: %w", err)
	}
	role, err := iam.NewRole(ctx, trailName, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.New(
			iampolicy.Allow("CloudTrailAssume", []string{"sts:AssumeRole"}, nil).
				ForService("cloudtrail.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", a.AccountID),
		).JSON()),
		Description: pulumi.String("Lets CloudTrail write " + trailName + "'s log group"),
		Tags:        naming.Tags(a.Tags, trailName),
	}, parent, retain)
	if err != nil {
		return nil, nil, fmt.Errorf("creating trail role: %w", err)
	}
	rolePolicy, err := iam.NewRolePolicy(ctx, trailName, &iam.RolePolicyArgs{
		Role: role.ID(),
		Policy: pulumi.String(iampolicy.New(iampolicy.Allow("WriteTrailLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			[]string{iampolicy.LogGroupArn(a.Region, a.AccountID, groupName) + ":*"})).JSON()),
	}, parent, retain, pulumi.DependsOn([]pulumi.Resource{group}))
	if err != nil {
		return nil, nil, fmt.Errorf("creating trail role policy: %w", err)
	}
	trail, err := cloudtrail.NewTrail(ctx, trailName, &cloudtrail.TrailArgs{
		S3BucketName:               trailBucket.BucketName,
		IsMultiRegionTrail:         pulumi.Bool(true),
		IncludeGlobalServiceEvents: pulumi.Bool(true),
		EnableLogFileValidation:    pulumi.Bool(true),
		EnableLogging:              pulumi.Bool(true),
		KmsKeyId:                   a.LogsKeyArn,
		CloudWatchLogsGroupArn:     pulumi.Sprintf("%s:*", group.Arn),
		CloudWatchLogsRoleArn:      role.Arn,
		Tags:                       naming.Tags(a.Tags, trailName),
	}, parent, retain, pulumi.DependsOn(append([]pulumi.Resource{rolePolicy}, trailBucket.Ready...)))
	if err != nil {
		return nil, nil, fmt.Errorf("creating trail: %w", err)
	}
	return trail, trailBucket, nil
}
