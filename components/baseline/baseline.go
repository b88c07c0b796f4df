package baseline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudtrail"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/conformance"
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
	// RecorderName is the name of the region's AWS Config recorder and delivery channel, which the baseline
	// declares, taking over the account's recorder of that name if there is one. Optional; default
	// "default", the name AWS Config's console gives them.
	RecorderName string
	// OrganizationManaged are services the account's organization sets up for it, which the baseline then
	// leaves alone: "config" (the recorder and delivery channel, as AWS Control Tower runs them),
	// "securityhub", "inspector". Optional; default none.
	OrganizationManaged []string
	// AlertEmails are subscribed to the account's security alerts (the trail's alarms). Optional.
	AlertEmails []string
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
	// ConformancePack is the name of the account's HIPAA conformance pack.
	ConformancePack pulumi.StringOutput `pulumi:"conformancePack"`
	// AlertTopicArn is the topic of the account's security alerts.
	AlertTopicArn pulumi.StringOutput `pulumi:"alertTopicArn"`

	// Recording is what records the account's resources for AWS Config (empty where the organization
	// runs the recorder): a conformance pack of the same stack waits for it.
	Recording []pulumi.Resource
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
	if a.RecorderName != "" {
		if err := check.ConfigRecorderName(a.RecorderName); err != nil {
			return fmt.Errorf("baseline %q: RecorderName: %w", name, err)
		}
	}
	for i, s := range a.OrganizationManaged {
		if !slices.Contains(OrganizationServices, s) {
			return fmt.Errorf("baseline %q: OrganizationManaged[%d] %q is not one of %s", name, i, s, strings.Join(OrganizationServices, ", "))
		}
	}
	return nil
}

func (a AccountArgs) withDefaults() AccountArgs {
	if a.RecorderName == "" {
		a.RecorderName = DefaultRecorderName
	}
	return a
}

// NewAccount creates the baseline.
func NewAccount(ctx *pulumi.Context, name string, args *AccountArgs, opts ...pulumi.ResourceOption) (*Account, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()

	comp := &Account{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	// Everything the baseline declares is retained when the stack is destroyed: deleting it would turn
	// EBS encryption by default off, lift the account's S3 public access block and its password policy,
	// disable GuardDuty, and stop the trail and delete its log group.
	retain := pulumi.RetainOnDelete(true)

	trail, trailBucket, trailGroup, err := auditTrail(ctx, name, &a, parent, retain)
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
	if err := guardDutyFeatures(ctx, name+"-guardduty", detector, parent, retain); err != nil {
		return nil, err
	}
	sessions, err := newSessionPreferences(ctx, name, &a, parent, retain)
	if err != nil {
		return nil, err
	}
	var recording []pulumi.Resource
	if !a.organizationRuns(OrgConfig) {
		status, err := configRecorder(ctx, name, &a, trailBucket, parent, retain)
		if err != nil {
			return nil, err
		}
		recording = append(recording, status)
	}
	pack, err := conformancePack(ctx, name, &a, trailBucket.BucketName, recording, conformance.InlineLimit, parent, retain)
	if err != nil {
		return nil, err
	}
	if !a.organizationRuns(OrgSecurityHub) {
		if err := securityHub(ctx, name, &a, recording, parent, retain); err != nil {
			return nil, err
		}
	}
	if !a.organizationRuns(OrgInspector) {
		if err := inspector(ctx, name, &a, parent, retain); err != nil {
			return nil, err
		}
	}
	topic, err := securityAlarms(ctx, name, &a, trailGroup.Name, parent, retain)
	if err != nil {
		return nil, err
	}

	comp.TrailArn = trail.Arn
	comp.TrailBucketName = trailBucket.BucketName
	comp.DetectorId = detector.ID().ToStringOutput()
	comp.SessionPreferences = sessions.Name
	comp.ConformancePack = pack.Name
	comp.Recording = recording
	comp.AlertTopicArn = topic.Arn
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"trailArn":           comp.TrailArn,
		"trailBucketName":    comp.TrailBucketName,
		"detectorId":         comp.DetectorId,
		"sessionPreferences": comp.SessionPreferences,
		"conformancePack":    comp.ConformancePack,
		"alertTopicArn":      comp.AlertTopicArn,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// auditTrail records every management event in every region, and every read and write of an S3 object
// but the trail's own, into a bucket of its own and a log group, both encrypted with the logs key and kept
// for the retention, with digest files that prove no log was altered. AWS Config delivers its history to
// the same bucket, under its own prefix.
func auditTrail(ctx *pulumi.Context, name string, a *AccountArgs, parent, retain pulumi.ResourceOption) (*cloudtrail.Trail, *bucket.Bucket, *cloudwatch.LogGroup, error) {
	trailName := name + "-trail"
	writers := []bucket.Writer{{Service: "cloudtrail.amazonaws.com", Prefix: "AWSLogs/" + a.AccountID + "/"}}
	if !a.organizationRuns(OrgConfig) {
		writers = append(writers, ConfigWriter(a.AccountID))
	}
	trailBucket, err := bucket.NewBucket(ctx, trailName, &bucket.BucketArgs{
		BucketName:      trailName + "-" + a.AccountID,
		Purpose:         "audit",
		KmsKeyArn:       a.LogsKeyArn,
		AccessLogBucket: a.AccessLogBucket,
		AccountID:       a.AccountID,
		Writers:         writers,
		ExpireAfterDays: a.LogRetentionDays,
		Tags:            a.Tags,
	}, parent)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating trail bucket: %w", err)
	}
	groupName := "/hipaa/" + trailName
	group, err := cloudwatch.NewLogGroup(ctx, trailName, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(groupName),
		KmsKeyId:        a.LogsKeyArn,
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            naming.Tags(a.Tags, trailName),
	}, parent, retain)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating trail log group: %w", err)
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
		return nil, nil, nil, fmt.Errorf("creating trail role: %w", err)
	}
	_, rolePolicy, err := hostrole.Grant(ctx, trailName, role, "Lets CloudTrail write "+trailName+"'s log group",
		pulumi.String(iampolicy.New(iampolicy.Allow("WriteTrailLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents"},
			[]string{iampolicy.LogGroupArn(a.Region, a.AccountID, groupName) + ":*"})).JSON()),
		a.Tags, parent, retain, pulumi.DependsOn([]pulumi.Resource{group}))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("granting the trail role: %w", err)
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
		AdvancedEventSelectors:     eventSelectors(iampolicy.Partition(a.Region), trailName+"-"+a.AccountID),
		Tags:                       naming.Tags(a.Tags, trailName),
	}, parent, retain, pulumi.DependsOn(append([]pulumi.Resource{rolePolicy}, trailBucket.Ready...)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating trail: %w", err)
	}
	return trail, trailBucket, group, nil
}

// eventSelectors are the trail's advanced event selectors: every management event, and the S3 data events
// (each object read and write, which AWS Config's cloudtrail-s3-dataevents-enabled and the PHI buckets'
// audit ask for) of every bucket but the trail's own, whose every delivery would otherwise be logged in a
// delivery of its own. With advanced selectors an event no selector matches is not logged
// (PutEventSelectors), so management events need a selector of their own.
func eventSelectors(partition, trailBucket string) cloudtrail.TrailAdvancedEventSelectorArray {
	return cloudtrail.TrailAdvancedEventSelectorArray{
		cloudtrail.TrailAdvancedEventSelectorArgs{
			Name: pulumi.String("Management events"),
			FieldSelectors: cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray{
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("eventCategory"), Equals: pulumi.ToStringArray([]string{"Management"})},
			},
		},
		cloudtrail.TrailAdvancedEventSelectorArgs{
			Name: pulumi.String("S3 object events, but the trail's own bucket"),
			FieldSelectors: cloudtrail.TrailAdvancedEventSelectorFieldSelectorArray{
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("eventCategory"), Equals: pulumi.ToStringArray([]string{"Data"})},
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("resources.type"), Equals: pulumi.ToStringArray([]string{"AWS::S3::Object"})},
				cloudtrail.TrailAdvancedEventSelectorFieldSelectorArgs{Field: pulumi.String("resources.ARN"), NotStartsWiths: pulumi.ToStringArray([]string{"arn:" + partition + ":s3:::" + trailBucket + "/"})},
			},
		},
	}
}
