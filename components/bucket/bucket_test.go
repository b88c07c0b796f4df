package bucket

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// bucket is the component under test, run as a program of its own.
var bucket = offlinetest.For(NewBucket, "b")

const keyArn = "arn:aws:kms:us-east-1:123456789012:key/s3"

func dataArgs() *BucketArgs {
	return &BucketArgs{
		KmsKeyArn:       pulumi.String(keyArn),
		AccessLogBucket: pulumi.String("hipaa-unit-logs"),
		Purpose:         "data",
		Tags:            map[string]string{"DataClass": "phi"},
	}
}

func TestBucketIsEncryptedVersionedPrivateAndLogged(t *testing.T) {
	t.Parallel()
	rs := bucket.MustRun(t, dataArgs())
	b := offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2")
	if b.String("tags.DataClass") != "phi" || b.String("tags."+naming.PurposeTag) != "data" {
		t.Errorf("bucket tags = %v, want DataClass", b.Value("tags"))
	}
	joined := func(r offline.Resource) {
		t.Helper()
		if r.String("bucket") != b.ID {
			t.Errorf("%s configures bucket %q, want %q", r.Type, r.String("bucket"), b.ID)
		}
		if deps := r.PropertyDependencies["bucket"]; len(deps) != 1 || deps[0] != b.URN {
			t.Errorf("%s: bucket depends on %v, want %s", r.Type, deps, b.URN)
		}
	}

	sse := offlinetest.One(t, rs, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	joined(sse)
	if sse.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") != "aws:kms" ||
		sse.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId") != keyArn ||
		sse.Value("rules.0.bucketKeyEnabled") != true {
		t.Errorf("encryption = %v, want aws:kms with %s and a bucket key", sse.Value("rules"), keyArn)
	}

	v := offlinetest.One(t, rs, "aws:s3/bucketVersioningV2:BucketVersioningV2")
	joined(v)
	if v.String("versioningConfiguration.status") != "Enabled" {
		t.Errorf("versioning = %v", v.Value("versioningConfiguration"))
	}

	pab := offlinetest.One(t, rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	joined(pab)
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if pab.Value(k) != true {
			t.Errorf("public access block %s = %v, want true", k, pab.Value(k))
		}
	}

	own := offlinetest.One(t, rs, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
	joined(own)
	if own.String("rule.objectOwnership") != "BucketOwnerEnforced" {
		t.Errorf("ownership = %v", own.Value("rule"))
	}

	logging := offlinetest.One(t, rs, "aws:s3/bucketLoggingV2:BucketLoggingV2")
	joined(logging)
	if logging.String("targetBucket") != "hipaa-unit-logs" || logging.String("targetPrefix") != "s3/b/" {
		t.Errorf("logging to %s/%s", logging.String("targetBucket"), logging.String("targetPrefix"))
	}

	lc := offlinetest.One(t, rs, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
	joined(lc)
	if lc.Value("rules.0.noncurrentVersionExpiration.noncurrentDays") != float64(90) || lc.Value("rules.0.expiration") != nil {
		t.Errorf("lifecycle = %v, want noncurrent versions kept 90 days and current ones kept", lc.Value("rules"))
	}
	if len(offlinetest.Of(rs, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")) != 0 {
		t.Error("object lock configured without being asked for")
	}
}

type statement struct {
	Sid       string
	Effect    string
	Principal map[string][]string
	Action    []string
	Resource  []string
	Condition map[string]map[string]string
}

func policy(t *testing.T, rs []offline.Resource) []statement {
	t.Helper()
	p := offlinetest.One(t, rs, "aws:s3/bucketPolicy:BucketPolicy")
	var doc struct{ Statement []statement }
	if err := json.Unmarshal([]byte(p.String("policy")), &doc); err != nil {
		t.Fatalf("policy is not JSON: %v", err)
	}
	return doc.Statement
}

func TestPolicyDeniesAnyRequestWithoutTLS(t *testing.T) {
	t.Parallel()
	rs := bucket.MustRun(t, dataArgs())
	b := offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2")
	arn := "arn:aws:s3:::" + b.ID
	var insecure, oldTLS bool
	for _, s := range policy(t, rs) {
		if s.Effect != "Deny" {
			t.Errorf("data bucket policy allows %v to %v", s.Action, s.Principal)
			continue
		}
		covers := len(s.Resource) == 2 && s.Resource[0] == arn && s.Resource[1] == arn+"/*" &&
			len(s.Action) == 1 && s.Action[0] == "s3:*" && s.Principal["AWS"][0] == "*"
		if covers && s.Condition["Bool"]["aws:SecureTransport"] == "false" {
			insecure = true
		}
		if covers && s.Condition["NumericLessThan"]["s3:TlsVersion"] == "1.2" {
			oldTLS = true
		}
	}
	if !insecure || !oldTLS {
		t.Errorf("policy denies plain HTTP: %v, TLS < 1.2: %v; want both", insecure, oldTLS)
	}
}

func TestAGivenNameIsUsedAndKnownToThePolicy(t *testing.T) {
	t.Parallel()
	args := dataArgs()
	args.BucketName = "hipaa-unit-data-123456789012"
	rs := bucket.MustRun(t, args)
	if got := offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2").String("bucket"); got != args.BucketName {
		t.Errorf("bucket = %q, want %q", got, args.BucketName)
	}
	p := offlinetest.One(t, rs, "aws:s3/bucketPolicy:BucketPolicy")
	if !strings.Contains(p.String("policy"), `"arn:aws:s3:::hipaa-unit-data-123456789012/*"`) || len(p.PropertyDependencies["policy"]) != 0 {
		t.Errorf("the policy is not written from the given name: %s (depends on %v)", p.String("policy"), p.PropertyDependencies["policy"])
	}
}

func TestLogSinkAdmitsS3LogDeliveryAndDoesNotLogItself(t *testing.T) {
	t.Parallel()
	rs := bucket.MustRun(t, &BucketArgs{
		KmsKeyArn:       pulumi.String(keyArn),
		AccessLogSink:   true,
		AccountID:       "123456789012",
		ExpireAfterDays: 365,
		Purpose:         "logs",
	})
	if n := len(offlinetest.Of(rs, "aws:s3/bucketLoggingV2:BucketLoggingV2")); n != 0 {
		t.Errorf("the log bucket logs its own access (%d logging configs)", n)
	}
	var write bool
	for _, s := range policy(t, rs) {
		if s.Effect == "Allow" && s.Principal["Service"][0] == AccessLogService && s.Action[0] == "s3:PutObject" &&
			s.Condition["StringEquals"]["aws:SourceAccount"] == "123456789012" {
			write = true
		}
	}
	if !write {
		t.Error("S3 log delivery may not write, or may write for any account")
	}
	lc := offlinetest.One(t, rs, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
	if lc.Value("rules.0.expiration.days") != float64(365) {
		t.Errorf("log expiry = %v, want 365", lc.Value("rules.0.expiration"))
	}
}

func TestLoadBalancerLogBucketIsSSES3AndWritableOnlyUnderItsPrefix(t *testing.T) {
	t.Parallel()
	const elb = "arn:aws:iam::127311923021:root"
	rs := bucket.MustRun(t, &BucketArgs{
		LoadBalancerLogs: true,
		AccessLogBucket:  pulumi.String("hipaa-unit-logs"),
		AccountID:        "123456789012",
		Writers:          []Writer{{Principal: elb, Prefix: "alb/AWSLogs/123456789012/"}},
		Purpose:          naming.PurposeLoadBalancerLogs,
	})
	sse := offlinetest.One(t, rs, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
	if got := sse.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"); got != "AES256" {
		t.Errorf("sseAlgorithm = %q, want AES256, the only encryption load balancers deliver to", got)
	}
	var write bool
	for _, s := range policy(t, rs) {
		if s.Effect == "Allow" && len(s.Principal["AWS"]) == 1 && s.Principal["AWS"][0] == elb {
			write = s.Action[0] == "s3:PutObject" && len(s.Resource) == 1 && strings.HasSuffix(s.Resource[0], "/alb/AWSLogs/123456789012/*")
		}
	}
	if !write {
		t.Error("the load balancing account may not write, or may write outside its prefix")
	}
	if got := offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2").String("tags.Purpose"); got != naming.PurposeLoadBalancerLogs {
		t.Errorf("Purpose tag = %q", got)
	}
}

func TestObjectLockKeepsBackupsForTheirRetention(t *testing.T) {
	t.Parallel()
	args := dataArgs()
	args.ObjectLock = &ObjectLock{Mode: "COMPLIANCE", Days: 90}
	rs := bucket.MustRun(t, args)
	if offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2").Value("objectLockEnabled") != true {
		t.Error("bucket created without object lock enabled")
	}
	lock := offlinetest.One(t, rs, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")
	if lock.String("rule.defaultRetention.mode") != "COMPLIANCE" || lock.Value("rule.defaultRetention.days") != float64(90) {
		t.Errorf("lock = %v", lock.Value("rule"))
	}
	lc := offlinetest.One(t, rs, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2")
	if lc.Value("rules.0.noncurrentVersionExpiration.noncurrentDays") != float64(90) {
		t.Errorf("noncurrent versions expire before the lock: %v", lc.Value("rules.0.noncurrentVersionExpiration"))
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*BucketArgs)
		want   string
	}{
		{"no key", func(a *BucketArgs) { a.KmsKeyArn = nil }, "KmsKeyArn is required"},
		{"no log target", func(a *BucketArgs) { a.AccessLogBucket = nil }, "set exactly one of AccessLogBucket"},
		{"sink and target", func(a *BucketArgs) { a.AccessLogSink = true; a.AccountID = "123456789012" }, "set exactly one of AccessLogBucket"},
		{"writer without account", func(a *BucketArgs) { a.Writers = []Writer{{Service: "cloudtrail.amazonaws.com"}} }, `AccountID ""`},
		{"bad writer", func(a *BucketArgs) {
			a.AccountID = "123456789012"
			a.Writers = []Writer{{Service: "*"}}
		}, `Writers[0].Service "*"`},
		{"wildcard prefix", func(a *BucketArgs) {
			a.AccountID = "123456789012"
			a.Writers = []Writer{{Service: "cloudtrail.amazonaws.com", Prefix: "a/*/"}}
		}, `Writers[0].Prefix "a/*/"`},
		{"bad name", func(a *BucketArgs) { a.BucketName = "Hipaa_Backups" }, `BucketName "Hipaa_Backups" must be 3 to 63`},
		{"no purpose", func(a *BucketArgs) { a.Purpose = "" }, `Purpose ""`},
		{"lb logs with a key", func(a *BucketArgs) { a.LoadBalancerLogs = true; a.Purpose = naming.PurposeLoadBalancerLogs }, "KmsKeyArn must be empty with LoadBalancerLogs"},
		{"lb logs purpose", func(a *BucketArgs) { a.LoadBalancerLogs = true; a.KmsKeyArn = nil }, `Purpose "data" with LoadBalancerLogs`},
		{"reserved purpose", func(a *BucketArgs) { a.Purpose = naming.PurposeLoadBalancerLogs }, "reserved for the LoadBalancerLogs bucket"},
		{"principal and service", func(a *BucketArgs) {
			a.AccountID = "123456789012"
			a.Writers = []Writer{{Service: "cloudtrail.amazonaws.com", Principal: "arn:aws:iam::127311923021:root", Prefix: "x/"}}
		}, `Writers[0].Principal`},
		{"principal without prefix", func(a *BucketArgs) {
			a.AccountID = "123456789012"
			a.Writers = []Writer{{Principal: "arn:aws:iam::127311923021:root"}}
		}, `Writers[0].Prefix is required with Principal`},
		{"negative expiry", func(a *BucketArgs) { a.ExpireAfterDays = -1 }, "ExpireAfterDays -1"},
		{"negative noncurrent", func(a *BucketArgs) { a.NoncurrentVersionDays = -1 }, "NoncurrentVersionDays -1"},
		{"lock mode", func(a *BucketArgs) { a.ObjectLock = &ObjectLock{Mode: "strict", Days: 90} }, `ObjectLock.Mode: got "strict", want one of COMPLIANCE, GOVERNANCE`},
		{"lock too short", func(a *BucketArgs) { a.ObjectLock = &ObjectLock{Mode: "COMPLIANCE", Days: 7} }, "ObjectLock.Days: got 7, want 30 to 3653"},
		{"expiry before lock", func(a *BucketArgs) {
			a.ObjectLock = &ObjectLock{Mode: "COMPLIANCE", Days: 90}
			a.ExpireAfterDays = 60
		}, "ExpireAfterDays 60 is shorter than ObjectLock.Days 90"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := dataArgs()
			tc.mutate(args)
			bucket.Refused(t, args, tc.want)
		})
	}
}
