package baseline

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// account is the component under test, run as a program of its own.
var account = offlinetest.For(NewAccount, "base")

const (
	logsKey = "arn:aws:kms:us-east-1:123456789012:key/logs"
	ebsKey  = "arn:aws:kms:us-east-1:123456789012:key/ebs"
)

func validArgs() *AccountArgs {
	return &AccountArgs{
		AccountID:        "123456789012",
		Region:           "us-east-1",
		LogsKeyArn:       pulumi.String(logsKey),
		EbsKeyArn:        pulumi.String(ebsKey),
		AccessLogBucket:  pulumi.String("hipaa-unit-logs"),
		LogRetentionDays: 731,
		Sessions:         &Sessions{},
	}
}

func TestBaselineAccountSafeguards(t *testing.T) {
	t.Parallel()
	rs, err := account.Run(t, validArgs())
	if err != nil {
		t.Fatal(err)
	}

	trail := offlinetest.One(t, rs, "aws:cloudtrail/trail:Trail")
	for _, k := range []string{"isMultiRegionTrail", "enableLogFileValidation", "includeGlobalServiceEvents", "enableLogging"} {
		if trail.Value(k) != true {
			t.Errorf("trail %s = %v, want true", k, trail.Value(k))
		}
	}
	if trail.String("kmsKeyId") != logsKey {
		t.Errorf("trail kmsKeyId = %q, want the logs key", trail.String("kmsKeyId"))
	}
	group, _ := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", "base-trail")
	if want := "arn:aws:logs:us-east-1:" + offline.AccountID + ":log-group:" + group.String("name") + ":*"; trail.String("cloudWatchLogsGroupArn") != want {
		t.Errorf("trail delivers to %q, want %q", trail.String("cloudWatchLogsGroupArn"), want)
	}
	if group.String("kmsKeyId") != logsKey || group.Value("retentionInDays") != float64(731) {
		t.Errorf("trail log group key=%q retention=%v", group.String("kmsKeyId"), group.Value("retentionInDays"))
	}
	if p := offlinetest.One(t, rs, "aws:iam/policy:Policy").String("policy"); !strings.Contains(p,
		`"Resource":["arn:aws:logs:us-east-1:123456789012:log-group:/hipaa/base-trail:*"]`) {
		t.Errorf("trail role may write %s, want only its group", p)
	}
	trailBucket := offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2")
	if trail.String("s3BucketName") != trailBucket.ID {
		t.Errorf("trail writes to %q, want its own bucket %q", trail.String("s3BucketName"), trailBucket.ID)
	}
	policy := offlinetest.One(t, rs, "aws:s3/bucketPolicy:BucketPolicy").String("policy")
	if !strings.Contains(policy, `"cloudtrail.amazonaws.com"`) || !strings.Contains(policy, "/AWSLogs/123456789012/*") {
		t.Errorf("trail bucket policy does not admit CloudTrail under AWSLogs/<account>/: %s", policy)
	}
	sse := offlinetest.One(t, rs, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	if sse.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId") != logsKey {
		t.Errorf("trail bucket encryption = %v", sse.Value("rules"))
	}

	if offlinetest.One(t, rs, "aws:ebs/encryptionByDefault:EncryptionByDefault").Value("enabled") != true {
		t.Error("EBS encryption by default is off")
	}
	if got := offlinetest.One(t, rs, "aws:ebs/defaultKmsKey:DefaultKmsKey").String("keyArn"); got != ebsKey {
		t.Errorf("default EBS key = %q, want %q", got, ebsKey)
	}
	pab := offlinetest.One(t, rs, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock")
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.Value(k) != true {
			t.Errorf("account public access block %s = %v", k, pab.Value(k))
		}
	}
	pw := offlinetest.One(t, rs, "aws:iam/accountPasswordPolicy:AccountPasswordPolicy")
	for k, want := range map[string]any{
		"minimumPasswordLength": float64(14), "passwordReusePrevention": float64(24), "maxPasswordAge": float64(90),
		"requireLowercaseCharacters": true, "requireUppercaseCharacters": true, "requireNumbers": true, "requireSymbols": true,
	} {
		if pw.Value(k) != want {
			t.Errorf("password policy %s = %v, want %v", k, pw.Value(k), want)
		}
	}
	if offlinetest.One(t, rs, "aws:guardduty/detector:Detector").Value("enable") != true {
		t.Error("GuardDuty detector not enabled")
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*AccountArgs)
		want   string
	}{
		{"account", func(a *AccountArgs) { a.AccountID = "12" }, `AccountID "12"`},
		{"region", func(a *AccountArgs) { a.Region = "" }, "Region is required"},
		{"logs key", func(a *AccountArgs) { a.LogsKeyArn = nil }, "LogsKeyArn is required"},
		{"ebs key", func(a *AccountArgs) { a.EbsKeyArn = nil }, "EbsKeyArn is required"},
		{"log bucket", func(a *AccountArgs) { a.AccessLogBucket = nil }, "AccessLogBucket is required"},
		{"retention", func(a *AccountArgs) { a.LogRetentionDays = 90 }, "LogRetentionDays: got 90"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			tc.mutate(args)
			account.Refused(t, args, tc.want)
		})
	}
}

func TestTheBaselineAdoptsTheDetectorThatExists(t *testing.T) {
	t.Parallel()
	rs := account.MustRun(t, validArgs())
	d := offlinetest.One(t, rs, "aws:guardduty/detector:Detector")
	if d.Options.Import != offline.DetectorID || d.ID != offline.DetectorID {
		t.Errorf("detector import %q, ID %q; want the existing %s adopted", d.Options.Import, d.ID, offline.DetectorID)
	}
	// An organization's administrator sets its members' frequency, which they cannot change: adopting
	// keeps it.
	if d.String("findingPublishingFrequency") != "SIX_HOURS" || d.Value("enable") != true {
		t.Errorf("adopted detector frequency %q enable %v; want the existing frequency, enabled", d.String("findingPublishingFrequency"), d.Value("enable"))
	}
	if !d.Options.RetainOnDelete {
		t.Error("the detector is not retained; deleting it would disable GuardDuty and delete its findings")
	}
}

func TestTheBaselineCreatesTheDetectorThatIsMissing(t *testing.T) {
	t.Parallel()
	rs, err := offlinetest.RunIn(t, offline.Account{NoDetector: true}, account.Program(validArgs()))
	if err != nil {
		t.Fatal(err)
	}
	d := offlinetest.One(t, rs, "aws:guardduty/detector:Detector")
	if d.Options.Import != "" || d.String("findingPublishingFrequency") != "FIFTEEN_MINUTES" {
		t.Errorf("new detector import %q frequency %q; want a new one publishing every fifteen minutes", d.Options.Import, d.String("findingPublishingFrequency"))
	}
}

func TestALookupThatFailsIsNotTakenForAMissingSingleton(t *testing.T) {
	t.Parallel()
	for _, program := range []pulumi.RunFunc{
		account.Program(validArgs()),
		func(ctx *pulumi.Context) error { _, err := NewAutoScalingRole(ctx, "autoscaling", nil); return err },
	} {
		rs, err := offlinetest.RunIn(t, offline.Account{LookupsFail: "AccessDeniedException: not authorized"}, program)
		if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
			t.Errorf("error = %v, want the lookup's own", err)
		}
		for _, r := range rs {
			if r.Type == "aws:guardduty/detector:Detector" || r.Type == "aws:iam/serviceLinkedRole:ServiceLinkedRole" {
				t.Errorf("%s %s declared although its lookup failed", r.Type, r.Name)
			}
		}
	}
}

func TestEverySettingOfTheAccountIsRetained(t *testing.T) {
	t.Parallel()
	for _, r := range account.MustRun(t, validArgs()) {
		if r.Custom && r.Parent != "" && strings.HasSuffix(r.Parent, "::base") && !r.Options.RetainOnDelete {
			t.Errorf("%s %s is deleted with the stack", r.Type, r.Name)
		}
	}
}

func TestTheAutoScalingRoleIsAdoptedAsItIsOrCreated(t *testing.T) {
	t.Parallel()
	program := func(ctx *pulumi.Context) error {
		_, err := NewAutoScalingRole(ctx, "autoscaling", map[string]string{"Project": "hipaa"})
		return err
	}
	rs, err := offlinetest.RunIn(t, offline.Account{}, program)
	if err != nil {
		t.Fatal(err)
	}
	role := offlinetest.One(t, rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole")
	if role.Options.Import != offline.AutoScalingRoleArn || !strings.HasPrefix(role.String("description"), "Default Service-Linked Role") {
		t.Errorf("role import %q description %q; want the existing role adopted with its description", role.Options.Import, role.String("description"))
	}
	if !role.Options.RetainOnDelete || role.String("awsServiceName") != AutoScalingService {
		t.Errorf("role retained %v service %q", role.Options.RetainOnDelete, role.String("awsServiceName"))
	}
	rs, err = offlinetest.RunIn(t, offline.Fresh, program)
	if err != nil {
		t.Fatal(err)
	}
	if role := offlinetest.One(t, rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole"); role.Options.Import != "" {
		t.Errorf("a fresh account's role is imported from %q", role.Options.Import)
	}
}
