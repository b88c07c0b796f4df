package kms

import (
	"fmt"
	"regexp"
	"slices"

	awskms "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:kms:Keys"

// DeletionWindowDays is how long a key scheduled for deletion can still be recovered; KMS allows at most
// 30, and anything shorter risks losing data that is still encrypted under the key.
const DeletionWindowDays = 30

// Purposes of the keys, in the order they are created.
const (
	EBS     = "ebs"
	S3      = "s3"
	Logs    = "logs"
	Secrets = "secrets"
)

type purpose struct{ name, description string }

var purposes = []purpose{
	{EBS, "EBS volumes"},
	{S3, "S3 data and backups, and container images"},
	{Logs, "CloudWatch Logs, CloudTrail, S3 access logs and alert notifications"},
	{Secrets, "Secrets Manager secrets and SSM SecureString parameters"},
}

// KeysArgs configures the keys.
type KeysArgs struct {
	// AccountID is the 12-digit AWS account that owns the keys and administers them through IAM. Required.
	AccountID string
	// Region is the AWS region of the keys, used in the logs key's service conditions. Required.
	Region string
	// Partition is the AWS partition. Optional; default "aws".
	Partition string
	// Purposes limits the keys to these purposes (EBS, S3, Logs, Secrets), for a second region that
	// needs only some. Optional; default all of them.
	Purposes []string
	// AutoScalingRole is the account's Auto Scaling service-linked role, when this stack declares it: the
	// EBS key's policy names the role so that Auto Scaling can launch instances with volumes encrypted
	// under it, and KMS refuses a policy naming a role that does not exist (MalformedPolicyDocument), so
	// the keys wait for it. A stack that does not declare the role checks that it exists before it
	// declares its keys. Optional.
	AutoScalingRole pulumi.Resource
	// Tags are added to every key. Optional.
	Tags map[string]string
}

// AutoScalingRoleArn is the ARN of an account's Auto Scaling service-linked role.
func AutoScalingRoleArn(partition, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling", partition, account)
}

// Keys is one customer-managed key per purpose.
type Keys struct {
	pulumi.ResourceState

	// The keys' ARNs; a purpose left out of KeysArgs.Purposes has none.

	// EbsKeyArn encrypts EBS volumes.
	EbsKeyArn pulumi.StringOutput `pulumi:"ebsKeyArn"`
	// S3KeyArn encrypts S3 data and backups, and the container images.
	S3KeyArn pulumi.StringOutput `pulumi:"s3KeyArn"`
	// LogsKeyArn encrypts log groups, the CloudTrail trail, the access-log bucket and the alert topic.
	LogsKeyArn pulumi.StringOutput `pulumi:"logsKeyArn"`
	// SecretsKeyArn encrypts secrets and SecureString parameters.
	SecretsKeyArn pulumi.StringOutput `pulumi:"secretsKeyArn"`

	// AliasArns are the keys' alias ARNs by purpose, known before deployment: configuration that must
	// name a key before the key exists (a host's pgBackRest) names it by alias.
	AliasArns map[string]string
}

var (
	region = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$`)
)

func (a *KeysArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("kms %q: args are required (AccountID, Region)", name)
	}
	if !check.IsAccountID(a.AccountID) {
		return fmt.Errorf("kms %q: AccountID %q is not a 12-digit AWS account ID", name, a.AccountID)
	}
	if !region.MatchString(a.Region) {
		return fmt.Errorf("kms %q: Region %q is not an AWS region name such as us-east-1", name, a.Region)
	}
	for i, p := range a.Purposes {
		if !slices.ContainsFunc(purposes, func(q purpose) bool { return q.name == p }) {
			return fmt.Errorf("kms %q: Purposes[%d] %q is not one of %s, %s, %s, %s", name, i, p, EBS, S3, Logs, Secrets)
		}
	}
	return nil
}

func (a KeysArgs) withDefaults() KeysArgs {
	if a.Partition == "" {
		a.Partition = "aws"
	}
	return a
}

// NewKeys creates the keys and their aliases.
func NewKeys(ctx *pulumi.Context, name string, args *KeysArgs, opts ...pulumi.ResourceOption) (*Keys, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()

	comp := &Keys{AliasArns: map[string]string{}}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	keyOpts := []pulumi.ResourceOption{pulumi.Parent(comp)}
	if a.AutoScalingRole != nil {
		keyOpts = append(keyOpts, pulumi.DependsOn([]pulumi.Resource{a.AutoScalingRole}))
	}
	arns := map[string]pulumi.StringOutput{}
	for _, p := range purposes {
		if a.Purposes != nil && !slices.Contains(a.Purposes, p.name) {
			continue
		}
		keyName := name + "-" + p.name
		key, err := awskms.NewKey(ctx, keyName, &awskms.KeyArgs{
			Description:          pulumi.Sprintf("%s: %s", name, p.description),
			EnableKeyRotation:    pulumi.Bool(true),
			DeletionWindowInDays: pulumi.Int(DeletionWindowDays),
			Policy:               pulumi.String(Policy(p.name, a.Partition, a.AccountID, a.Region)),
			Tags:                 naming.Tags(a.Tags, keyName),
		}, keyOpts...)
		if err != nil {
			return nil, fmt.Errorf("creating %s key: %w", p.name, err)
		}
		if _, err := awskms.NewAlias(ctx, keyName, &awskms.AliasArgs{
			Name:        pulumi.String("alias/" + keyName),
			TargetKeyId: key.KeyId,
		}, pulumi.Parent(comp)); err != nil {
			return nil, fmt.Errorf("creating %s key alias: %w", p.name, err)
		}
		arns[p.name] = key.Arn
		comp.AliasArns[p.name] = fmt.Sprintf("arn:%s:kms:%s:%s:alias/%s", a.Partition, a.Region, a.AccountID, keyName)
	}
	comp.EbsKeyArn = arns[EBS]
	comp.S3KeyArn = arns[S3]
	comp.LogsKeyArn = arns[Logs]
	comp.SecretsKeyArn = arns[Secrets]
	outputs := pulumi.Map{}
	for p, arn := range arns {
		outputs[p+"KeyArn"] = arn
	}
	if err := ctx.RegisterResourceOutputs(comp, outputs); err != nil {
		return nil, err
	}
	return comp, nil
}

// Policy returns the key policy for a purpose. The account administers and uses every key through IAM, so
// each host's role names exactly the keys it may use; the logs key also lets the services that write logs
// encrypt with it, each only for this account's resources; the EBS key lets the Auto Scaling
// service-linked role encrypt the volumes of the instances it launches, and grant that use only to AWS
// resources.
func Policy(purpose, partition, account, region string) string {
	statements := []iampolicy.Statement{
		iampolicy.Allow("AccountAdministersThroughIAM", []string{"kms:*"}, []string{"*"}).
			ForAccount(partition, account),
	}
	if purpose == EBS {
		autoscaling := AutoScalingRoleArn(partition, account)
		use := iampolicy.Allow("AutoScalingEncryptsLaunchedVolumes",
			[]string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}, []string{"*"})
		use.Principal = &iampolicy.Principal{AWS: []string{autoscaling}}
		grant := iampolicy.Allow("AutoScalingGrantsToAttachedVolumes", []string{"kms:CreateGrant"}, []string{"*"}).
			When("Bool", "kms:GrantIsForAWSResource", "true")
		grant.Principal = &iampolicy.Principal{AWS: []string{autoscaling}}
		statements = append(statements, use, grant)
	}
	if purpose == Logs {
		statements = append(statements,
			iampolicy.Allow("CloudWatchLogsEncrypt",
				[]string{"kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"},
				[]string{"*"}).
				ForService(fmt.Sprintf("logs.%s.amazonaws.com", region)).
				When("ArnLike", "kms:EncryptionContext:aws:logs:arn",
					fmt.Sprintf("arn:%s:logs:%s:%s:log-group:*", partition, region, account)),
			iampolicy.Allow("CloudTrailEncrypt", []string{"kms:GenerateDataKey*", "kms:DescribeKey"}, []string{"*"}).
				ForService("cloudtrail.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", account),
			iampolicy.Allow("S3AccessLogDelivery", []string{"kms:GenerateDataKey*", "kms:Decrypt"}, []string{"*"}).
				ForService("logging.s3.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", account),
			// AWS Config delivers the configuration history as its service principal when its recorder uses
			// its service-linked role, which cannot use a key itself (AWS Config Developer Guide,
			// "Permissions for the KMS Key").
			iampolicy.Allow("ConfigDeliveryEncrypt", []string{"kms:GenerateDataKey", "kms:Decrypt"}, []string{"*"}).
				ForService("config.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", account),
			// CloudWatch alarms publish to the alert topic, which this key encrypts.
			iampolicy.Allow("CloudWatchAlarmsNotify", []string{"kms:GenerateDataKey*", "kms:Decrypt"}, []string{"*"}).
				ForService("cloudwatch.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", account),
		)
	}
	return iampolicy.New(statements...).JSON()
}
