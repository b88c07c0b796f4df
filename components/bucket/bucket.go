package bucket

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:bucket:Bucket"

// Defaults.
const (
	defaultNoncurrentVersionDays = 90
	abortMultipartDays           = 7
)

// AccessLogService is the S3 service principal that delivers server access logs.
const AccessLogService = "logging.s3.amazonaws.com"

// ObjectLock keeps every object version for a fixed time from its creation.
type ObjectLock struct {
	// Mode is COMPLIANCE (nobody, root included, can shorten it) or GOVERNANCE (principals with
	// s3:BypassGovernanceRetention can). Required.
	Mode string
	// Days is how long each version is locked, at least the platform's minimum backup retention. Required.
	Days int
}

// Writer is an AWS service allowed to deliver objects into the bucket, such as CloudTrail.
type Writer struct {
	// Service is the service principal, such as cloudtrail.amazonaws.com. Required unless Principal is
	// set.
	Service string
	// Principal is an AWS account principal ARN that delivers for a service in older regions (Elastic
	// Load Balancing's regional account). Optional; it may only put objects under Prefix.
	Principal string
	// Prefix is the key prefix it may write under, ending in "/", or empty for the whole bucket.
	Prefix string
	// ListsBucket lets the service list the bucket too, as AWS Config does to check that it exists.
	// Optional; only with Service.
	ListsBucket bool
}

// BucketArgs configures the bucket.
type BucketArgs struct {
	// BucketName is the bucket's globally unique name: 3 to 63 lower-case letters, digits and hyphens.
	// Optional; by default Pulumi names it after the resource with a random suffix. A name given here is
	// known before deployment, so the bucket policy, and everything that names the bucket, can be
	// checked in a preview.
	BucketName string
	// KmsKeyArn is the customer-managed key that encrypts every object. Required unless
	// LoadBalancerLogs is set.
	KmsKeyArn pulumi.StringInput
	// LoadBalancerLogs makes this the load balancers' access-log bucket. Elastic Load Balancing delivers
	// access logs only to buckets encrypted with S3-managed keys, so this bucket, and only this one, is
	// encrypted with SSE-S3 (AES-256) and KmsKeyArn must be empty; Purpose must be PurposeLoadBalancerLogs,
	// which the policy pack's s3-bucket-sse-kms accepts for that reason alone. Optional; default false.
	LoadBalancerLogs bool
	// AccessLogBucket is the name of the bucket that receives this bucket's access logs. Required unless
	// AccessLogSink is set.
	AccessLogBucket pulumi.StringInput
	// AccessLogSink marks the platform's log bucket: it receives the access logs of the other buckets and
	// does not log its own access (that would log without end). Optional; default false.
	AccessLogSink bool
	// AccountID is the 12-digit account whose services alone may write here. Required when AccessLogSink
	// is set or Writers is not empty.
	AccountID string
	// Writers are AWS services that deliver objects into the bucket. Optional.
	Writers []Writer
	// ExpireAfterDays deletes objects this many days after creation; 0 keeps them until deleted.
	// Optional; default 0.
	ExpireAfterDays int
	// NoncurrentVersionDays deletes a version this many days after it was overwritten or deleted.
	// Optional; default 90.
	NoncurrentVersionDays int
	// ObjectLock locks every version for a time. Optional; default none. Cannot be added to an existing
	// bucket.
	ObjectLock *ObjectLock
	// ForceDestroy lets a destroy empty the bucket first, for throw-away demo stacks. Optional; default
	// false.
	ForceDestroy bool
	// Purpose says what the bucket holds (logs, data, backups, audit) and is tagged as Purpose, so that
	// audits know which retention applies. Required.
	Purpose string
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Bucket is one S3 bucket with its configuration.
type Bucket struct {
	pulumi.ResourceState

	// BucketName is the bucket's name.
	BucketName pulumi.StringOutput `pulumi:"bucketName"`
	// Arn is the bucket's ARN.
	Arn pulumi.StringOutput `pulumi:"arn"`
	// Ready are the bucket and every configuration the component gives it (policy, encryption, public
	// access block, ownership, versioning, logging, lifecycle). A service that writes into the bucket
	// (CloudTrail, a load balancer's access logs) depends on these: AWS checks the bucket policy when
	// the writer is created. Depending on the component instead does not wait for them in the Go SDK,
	// whose children register concurrently with the component's dependents (pulumi/pulumi#7833).
	Ready []pulumi.Resource
}

var (
	servicePrin = regexp.MustCompile(`^[a-z0-9.-]+\.amazonaws\.com$`)
	accountPrin = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:root$`)
	purpose     = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)
	bucketName  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
)

func (a *BucketArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("bucket %q: args are required", name)
	}
	switch {
	case a.LoadBalancerLogs && a.KmsKeyArn != nil:
		return fmt.Errorf("bucket %q: KmsKeyArn must be empty with LoadBalancerLogs: load balancers deliver only to SSE-S3 buckets", name)
	case a.LoadBalancerLogs && a.Purpose != naming.PurposeLoadBalancerLogs:
		return fmt.Errorf("bucket %q: Purpose %q with LoadBalancerLogs; want %q", name, a.Purpose, naming.PurposeLoadBalancerLogs)
	case !a.LoadBalancerLogs && a.Purpose == naming.PurposeLoadBalancerLogs:
		return fmt.Errorf("bucket %q: Purpose %q is reserved for the LoadBalancerLogs bucket", name, a.Purpose)
	case !a.LoadBalancerLogs && a.KmsKeyArn == nil:
		return fmt.Errorf("bucket %q: KmsKeyArn is required: every bucket is encrypted with a customer key", name)
	}
	if a.AccessLogSink == (a.AccessLogBucket != nil) {
		return fmt.Errorf("bucket %q: set exactly one of AccessLogBucket (where this bucket's access is logged) and AccessLogSink (this is the log bucket)", name)
	}
	if (a.AccessLogSink || len(a.Writers) > 0) && !check.IsAccountID(a.AccountID) {
		return fmt.Errorf("bucket %q: AccountID %q is not a 12-digit AWS account ID; it is required with AccessLogSink or Writers", name, a.AccountID)
	}
	for i, w := range a.Writers {
		switch {
		case w.Principal != "" && (w.Service != "" || !accountPrin.MatchString(w.Principal)):
			return fmt.Errorf("bucket %q: Writers[%d].Principal %q must be an account principal ARN (arn:aws:iam::123456789012:root), set instead of Service", name, i, w.Principal)
		case w.Principal != "" && w.Prefix == "":
			return fmt.Errorf("bucket %q: Writers[%d].Prefix is required with Principal: an account writes only under its prefix", name, i)
		case w.Principal != "" && w.ListsBucket:
			return fmt.Errorf("bucket %q: Writers[%d].ListsBucket is only for a Service", name, i)
		case w.Principal == "" && !servicePrin.MatchString(w.Service):
			return fmt.Errorf("bucket %q: Writers[%d].Service %q is not a service principal such as cloudtrail.amazonaws.com", name, i, w.Service)
		}
		if w.Prefix != "" && (!strings.HasSuffix(w.Prefix, "/") || strings.ContainsAny(w.Prefix, "*?")) {
			return fmt.Errorf("bucket %q: Writers[%d].Prefix %q must end in / and hold no wildcard", name, i, w.Prefix)
		}
	}
	if a.BucketName != "" && !bucketName.MatchString(a.BucketName) {
		return fmt.Errorf("bucket %q: BucketName %q must be 3 to 63 lower-case letters, digits and hyphens, starting and ending with a letter or digit", name, a.BucketName)
	}
	if !purpose.MatchString(a.Purpose) {
		return fmt.Errorf("bucket %q: Purpose %q must be a short lower-case word such as logs, data or backups", name, a.Purpose)
	}
	if a.ExpireAfterDays < 0 {
		return fmt.Errorf("bucket %q: ExpireAfterDays %d is negative; want 0 (keep) or a number of days", name, a.ExpireAfterDays)
	}
	if a.NoncurrentVersionDays < 0 {
		return fmt.Errorf("bucket %q: NoncurrentVersionDays %d is negative; want 0 (default 90) or a number of days", name, a.NoncurrentVersionDays)
	}
	if l := a.ObjectLock; l != nil {
		if err := check.OneOf(l.Mode, "COMPLIANCE", "GOVERNANCE"); err != nil {
			return fmt.Errorf("bucket %q: ObjectLock.Mode: %w", name, err)
		}
		if err := check.BackupRetention(l.Days); err != nil {
			return fmt.Errorf("bucket %q: ObjectLock.Days: %w", name, err)
		}
		if a.ExpireAfterDays != 0 && a.ExpireAfterDays < l.Days {
			return fmt.Errorf("bucket %q: ExpireAfterDays %d is shorter than ObjectLock.Days %d; want 0 or at least %d", name, a.ExpireAfterDays, l.Days, l.Days)
		}
	}
	return nil
}

func (a BucketArgs) withDefaults() BucketArgs {
	if a.NoncurrentVersionDays == 0 {
		a.NoncurrentVersionDays = defaultNoncurrentVersionDays
	}
	if l := a.ObjectLock; l != nil && a.NoncurrentVersionDays < l.Days {
		a.NoncurrentVersionDays = l.Days
	}
	if a.AccessLogSink {
		a.Writers = append([]Writer{{Service: AccessLogService}}, a.Writers...)
	}
	return a
}

// NewBucket creates the bucket and its configuration.
func NewBucket(ctx *pulumi.Context, name string, args *BucketArgs, opts ...pulumi.ResourceOption) (*Bucket, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()

	comp := &Bucket{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	tags := naming.Tags(a.Tags, name)
	tags[naming.PurposeTag] = pulumi.String(a.Purpose)
	var physical pulumi.StringPtrInput
	if a.BucketName != "" {
		physical = pulumi.String(a.BucketName)
	}
	keep := func(r pulumi.Resource) { comp.Ready = append(comp.Ready, r) }
	b, err := s3.NewBucketV2(ctx, name, &s3.BucketV2Args{
		Bucket:            physical,
		ObjectLockEnabled: pulumi.Bool(a.ObjectLock != nil),
		ForceDestroy:      pulumi.Bool(a.ForceDestroy),
		Tags:              tags,
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating bucket: %w", err)
	}
	keep(b)
	ownership, err := s3.NewBucketOwnershipControls(ctx, name, &s3.BucketOwnershipControlsArgs{
		Bucket: b.ID(),
		Rule:   s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("setting ownership: %w", err)
	}
	keep(ownership)
	block, err := s3.NewBucketPublicAccessBlock(ctx, name, &s3.BucketPublicAccessBlockArgs{
		Bucket:                b.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("blocking public access: %w", err)
	}
	keep(block)
	sse, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, name, &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: b.ID(),
		Rules:  s3.BucketServerSideEncryptionConfigurationV2RuleArray{encryption(a)},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("setting encryption: %w", err)
	}
	keep(sse)
	versioning, err := s3.NewBucketVersioningV2(ctx, name, &s3.BucketVersioningV2Args{
		Bucket: b.ID(),
		VersioningConfiguration: s3.BucketVersioningV2VersioningConfigurationArgs{
			Status: pulumi.String("Enabled"),
		},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("enabling versioning: %w", err)
	}
	keep(versioning)
	// The public access block goes first: a policy PUT before it could be judged public and refused.
	policy, err := s3.NewBucketPolicy(ctx, name, &s3.BucketPolicyArgs{
		Bucket: b.ID(),
		Policy: policyOf(a, b),
	}, parent, pulumi.DependsOn([]pulumi.Resource{block}))
	if err != nil {
		return nil, fmt.Errorf("setting bucket policy: %w", err)
	}
	keep(policy)
	if !a.AccessLogSink {
		logging, err := s3.NewBucketLoggingV2(ctx, name, &s3.BucketLoggingV2Args{
			Bucket:       b.ID(),
			TargetBucket: a.AccessLogBucket,
			TargetPrefix: pulumi.String("s3/" + name + "/"),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("enabling access logging: %w", err)
		}
		keep(logging)
	}
	if a.ObjectLock != nil {
		lock, err := s3.NewBucketObjectLockConfigurationV2(ctx, name, &s3.BucketObjectLockConfigurationV2Args{
			Bucket:            b.ID(),
			ObjectLockEnabled: pulumi.String("Enabled"),
			Rule: s3.BucketObjectLockConfigurationV2RuleArgs{
				DefaultRetention: s3.BucketObjectLockConfigurationV2RuleDefaultRetentionArgs{
					Mode: pulumi.String(a.ObjectLock.Mode),
					Days: pulumi.Int(a.ObjectLock.Days),
				},
			},
		}, parent, pulumi.DependsOn([]pulumi.Resource{versioning}))
		if err != nil {
			return nil, fmt.Errorf("setting object lock: %w", err)
		}
		keep(lock)
	}
	rules, err := s3.NewBucketLifecycleConfigurationV2(ctx, name, &s3.BucketLifecycleConfigurationV2Args{
		Bucket: b.ID(),
		Rules:  lifecycle(a),
	}, parent, pulumi.DependsOn([]pulumi.Resource{versioning}))
	if err != nil {
		return nil, fmt.Errorf("setting lifecycle: %w", err)
	}
	keep(rules)

	comp.BucketName = b.ID().ToStringOutput()
	comp.Arn = b.Arn
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"bucketName": comp.BucketName,
		"arn":        comp.Arn,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// policyOf builds the bucket policy from the bucket's name when it is given, so that a preview can
// check it, or from its ARN once known.
func policyOf(a BucketArgs, b *s3.BucketV2) pulumi.StringInput {
	if a.BucketName != "" {
		return pulumi.String(Policy("arn:aws:s3:::"+a.BucketName, a.AccountID, a.Writers))
	}
	return b.Arn.ApplyT(func(arn string) string { return Policy(arn, a.AccountID, a.Writers) }).(pulumi.StringOutput)
}

// encryption is SSE-KMS with the customer key, or for the load balancers' log bucket SSE-S3.
func encryption(a BucketArgs) s3.BucketServerSideEncryptionConfigurationV2RuleArgs {
	if a.LoadBalancerLogs {
		return s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String("AES256"),
			},
		}
	}
	return s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
		ApplyServerSideEncryptionByDefault: s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
			SseAlgorithm:   pulumi.String("aws:kms"),
			KmsMasterKeyId: a.KmsKeyArn,
		},
		BucketKeyEnabled: pulumi.Bool(true),
	}
}

func lifecycle(a BucketArgs) s3.BucketLifecycleConfigurationV2RuleArray {
	rule := s3.BucketLifecycleConfigurationV2RuleArgs{
		Id:     pulumi.String("retention"),
		Status: pulumi.String("Enabled"),
		Filter: s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String("")},
		AbortIncompleteMultipartUpload: s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
			DaysAfterInitiation: pulumi.Int(abortMultipartDays),
		},
		NoncurrentVersionExpiration: s3.BucketLifecycleConfigurationV2RuleNoncurrentVersionExpirationArgs{
			NoncurrentDays: pulumi.Int(a.NoncurrentVersionDays),
		},
	}
	if a.ExpireAfterDays > 0 {
		rule.Expiration = s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(a.ExpireAfterDays)}
	}
	return s3.BucketLifecycleConfigurationV2RuleArray{rule}
}

// Policy returns the bucket policy: deny every request that does not use TLS 1.2 or newer, whoever
// makes it, and let each writer service put objects under its prefix, only on behalf of this account.
func Policy(bucketArn, account string, writers []Writer) string {
	all := []string{bucketArn, bucketArn + "/*"}
	statements := []iampolicy.Statement{
		iampolicy.Deny("DenyInsecureTransport", []string{"s3:*"}, all).
			ForAnyAWS().When("Bool", "aws:SecureTransport", "false"),
		iampolicy.Deny("DenyOutdatedTLS", []string{"s3:*"}, all).
			ForAnyAWS().When("NumericLessThan", "s3:TlsVersion", "1.2"),
	}
	for i, w := range writers {
		if w.Principal != "" {
			write := iampolicy.Allow(fmt.Sprintf("Account%dWrite", i), []string{"s3:PutObject"}, []string{bucketArn + "/" + w.Prefix + "*"})
			write.Principal = &iampolicy.Principal{AWS: []string{w.Principal}}
			statements = append(statements, write)
			continue
		}
		sid := strings.ReplaceAll(strings.TrimSuffix(w.Service, ".amazonaws.com"), ".", "")
		check := []string{"s3:GetBucketAcl"}
		if w.ListsBucket {
			check = append(check, "s3:ListBucket")
		}
		statements = append(statements,
			iampolicy.Allow(sid+"AclCheck", check, []string{bucketArn}).
				ForService(w.Service).When("StringEquals", "aws:SourceAccount", account),
			iampolicy.Allow(sid+"Write", []string{"s3:PutObject"}, []string{bucketArn + "/" + w.Prefix + "*"}).
				ForService(w.Service).When("StringEquals", "aws:SourceAccount", account),
		)
	}
	return iampolicy.New(statements...).JSON()
}
