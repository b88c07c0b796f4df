package hipaa

import (
	"slices"
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

const tlsPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":{"AWS":["*"]},"Action":["s3:*"],"Resource":["arn:aws:s3:::data","arn:aws:s3:::data/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

// bucketStack is a data bucket that logs to a log bucket, each with its full configuration.
func bucketStack() stackFixture {
	on := func(name, bucket string, typ string, props map[string]any) fx {
		props["bucket"] = bucket
		return fx{typ: typ, name: name, props: props, deps: map[string][]string{"bucket": {bucket}}}
	}
	var s stackFixture
	for _, b := range []string{"data", "logs"} {
		s = append(s,
			fx{typ: tBucket, name: b, props: map[string]any{"tags": map[string]any{"DataClass": "phi", "Purpose": b}}},
			on(b+"-sse", b, tBucketSSE, map[string]any{"rules": []any{map[string]any{
				"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "aws:kms", "kmsMasterKeyId": testKey},
				"bucketKeyEnabled":                   true}}}),
			on(b+"-versioning", b, tBucketVersioning, map[string]any{"versioningConfiguration": map[string]any{"status": "Enabled"}}),
			on(b+"-pab", b, tBucketPAB, map[string]any{"blockPublicAcls": true, "blockPublicPolicy": true, "ignorePublicAcls": true, "restrictPublicBuckets": true}),
			on(b+"-ownership", b, tBucketOwnership, map[string]any{"rule": map[string]any{"objectOwnership": "BucketOwnerEnforced"}}),
			on(b+"-policy", b, tBucketPolicy, map[string]any{"policy": tlsPolicy}),
			on(b+"-lifecycle", b, tBucketLifecycle, map[string]any{"rules": []any{map[string]any{"id": "retention", "status": "Enabled",
				"noncurrentVersionExpiration": map[string]any{"noncurrentDays": 90.0}}}}),
		)
	}
	logging := on("data-logging", "data", tBucketLogging, map[string]any{"targetBucket": "logs", "targetPrefix": "s3/data/"})
	logging.deps["targetBucket"] = []string{"logs"}
	return append(s, logging)
}

func TestS3BucketSseKms(t *testing.T) {
	t.Parallel()
	// The load balancers' log bucket is the one bucket allowed S3-managed keys.
	stack := append(bucketStack(),
		fx{typ: tBucket, name: "lb-logs", props: map[string]any{"tags": map[string]any{"Purpose": "lb-logs"}}},
		fx{typ: tBucketSSE, name: "lb-logs-sse", props: map[string]any{"bucket": "lb-logs", "rules": []any{map[string]any{
			"applyServerSideEncryptionByDefault": map[string]any{"sseAlgorithm": "AES256"}}}},
			deps: map[string][]string{"bucket": {"lb-logs"}}},
	)
	testStackRule(t, &s3BucketSseKms, stack, []change{
		{"AES256 on a bucket not for load balancer logs", "lb-logs:tags.Purpose", "logs",
			[]string{`rules[0].applyServerSideEncryptionByDefault.sseAlgorithm: rules[0].applyServerSideEncryptionByDefault.sseAlgorithm is "AES256"; set it to aws:kms`}},
		{"load balancer logs unencrypted", "lb-logs-sse:rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "none",
			[]string{`rules[0].applyServerSideEncryptionByDefault.sseAlgorithm: rules[0].applyServerSideEncryptionByDefault.sseAlgorithm is "none"; set it to AES256, the only encryption load balancers deliver to`}},
		{"no encryption", "-data-sse", nil, []string{": the bucket has no BucketServerSideEncryptionConfigurationV2; objects would be encrypted with S3-managed keys only"}},
		{"AES256", "data-sse:rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", "AES256",
			[]string{`rules[0].applyServerSideEncryptionByDefault.sseAlgorithm: rules[0].applyServerSideEncryptionByDefault.sseAlgorithm is "AES256"; set it to aws:kms`}},
		{"aws/s3 key", "data-sse:rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId", del,
			[]string{"rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId: rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId is not set, so the AWS-managed aws/s3 key is used; set it to the S3 key"}},
		{"unknown algorithm", "data-sse:rules.0.applyServerSideEncryptionByDefault.sseAlgorithm", unknown,
			[]string{"rules[0].applyServerSideEncryptionByDefault.sseAlgorithm: rules[0].applyServerSideEncryptionByDefault.sseAlgorithm cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
}

func TestS3BucketTLSOnly(t *testing.T) {
	t.Parallel()
	testStackRule(t, &s3BucketTLSOnly, bucketStack(), []change{
		{"no policy", "-logs-policy", nil, []string{": the bucket has no bucket policy, so requests over plain HTTP are accepted"}},
		{"allow only", "data-policy:policy", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*","Resource":"*"}]}`,
			[]string{"policy: the bucket policy has no Deny of s3:* for every principal when aws:SecureTransport is false"}},
		{"deny only puts", "data-policy:policy", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			[]string{"policy: the bucket policy has no Deny of s3:* for every principal when aws:SecureTransport is false"}},
	})
}

func TestS3PublicAccessBlocked(t *testing.T) {
	t.Parallel()
	testStackRule(t, &s3PublicAccessBlocked, bucketStack(), []change{
		{"no block", "-data-pab", nil, []string{": the bucket has no BucketPublicAccessBlock"}},
		{"policy block off", "data-pab:blockPublicPolicy", false, []string{"blockPublicPolicy: blockPublicPolicy is not true; set all four public access blocks to true"}},
		{"no ownership", "-data-ownership", nil, []string{": the bucket has no BucketOwnershipControls, so ACLs can still grant access"}},
		{"object writer", "data-ownership:rule.objectOwnership", "ObjectWriter", []string{`rule.objectOwnership: rule.objectOwnership is "ObjectWriter"; set it to BucketOwnerEnforced`}},
		{"public acl", "data:acl", "public-read", []string{"acl: acl is public-read; remove it: buckets are private"}},
	})
}

func TestS3Versioning(t *testing.T) {
	t.Parallel()
	testStackRule(t, &s3Versioning, bucketStack(), []change{
		{"none", "-data-versioning", nil, []string{": the bucket has no BucketVersioningV2 with status Enabled"}},
		{"suspended", "data-versioning:versioningConfiguration.status", "Suspended", []string{`versioningConfiguration.status: versioningConfiguration.status is "Suspended"; set it to Enabled`}},
	})
}

func TestS3AccessLogging(t *testing.T) {
	t.Parallel()
	testStackRule(t, &s3AccessLogging, bucketStack(), []change{
		{"data not logged", "-data-logging", nil, []string{
			": the bucket does not log its access; add a BucketLoggingV2 targeting the log bucket",
			": the bucket does not log its access; add a BucketLoggingV2 targeting the log bucket"}},
	})
}

func TestLogRetention(t *testing.T) {
	t.Parallel()
	base := append(bucketStack(), fx{typ: tLogGroup, name: "flow", props: map[string]any{"retentionInDays": 365.0, "kmsKeyId": testKey}})
	base = base.with("logs-lifecycle:rules.0.expiration", map[string]any{"days": 400.0})
	testStackRule(t, &logRetention, base, []change{
		{"short group", "flow:retentionInDays", 90.0, []string{"retentionInDays: retentionInDays is 90; set it to at least 365"}},
		{"forever is fine", "flow:retentionInDays", del, nil},
		{"short log bucket", "logs-lifecycle:rules.0.expiration.days", 30.0, []string{"rules[0].expiration.days: rules[0].expiration.days is 30 on a log bucket; set it to at least 365"}},
		{"data bucket may expire", "data-lifecycle:rules.0.expiration", map[string]any{"days": 30.0}, nil},
		{"load balancers' log bucket by tag", "data:tags.Purpose", "lb-logs", nil},
	})
	// The load balancers' log bucket is a log bucket, whether tagged or named by a load balancer.
	lbLogs := append(base.with("data-lifecycle:rules.0.expiration", map[string]any{"days": 30.0}),
		fx{typ: tLoadBalancer, name: "web", props: map[string]any{"accessLogs": map[string]any{"bucket": "data-bucket", "enabled": true}}})
	lbLogs = lbLogs.with("data:bucket", "data-bucket")
	want := []string{"rules[0].expiration.days: rules[0].expiration.days is 30 on a log bucket; set it to at least 365"}
	for name, stack := range map[string]stackFixture{"named by a load balancer": lbLogs, "tagged": base.with("data-lifecycle:rules.0.expiration", map[string]any{"days": 30.0}).with("data:tags.Purpose", "lb-logs")} {
		if got := render(engine.CheckStack(&logRetention, stack.stack(), engine.Config{})); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	cfg, err := Pack().ParseConfig([]byte(`{"log-retention": {"minimumDays": 731}}`))
	if err != nil {
		t.Fatal(err)
	}
	got := render(engine.CheckStack(&logRetention, base.stack(), cfg))
	want = []string{"retentionInDays: retentionInDays is 365; set it to at least 731",
		"rules[0].expiration.days: rules[0].expiration.days is 400 on a log bucket; set it to at least 731"}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("with minimumDays 731: %q, want %q", got, want)
	}
}

func TestBackupRetention(t *testing.T) {
	t.Parallel()
	base := append(bucketStack().with("data:tags.Purpose", "backups"),
		fx{typ: tBucketObjectLock, name: "data-lock", props: map[string]any{"bucket": "data", "objectLockEnabled": "Enabled",
			"rule": map[string]any{"defaultRetention": map[string]any{"mode": "COMPLIANCE", "days": 35.0}}}, deps: map[string][]string{"bucket": {"data"}}})
	testStackRule(t, &backupRetention, base, []change{
		{"short lock", "data-lock:rule.defaultRetention.days", 7.0, []string{"rule.defaultRetention.days: object lock keeps backups 7 days; set it to at least 30"}},
		{"lifecycle alone keeps them", "-data-lock", nil, nil},
		{"purged early", "data-lifecycle:rules.0.noncurrentVersionExpiration.noncurrentDays", 7.0,
			[]string{"rules[0].noncurrentVersionExpiration.noncurrentDays: overwritten or deleted backups are purged after 7 days; keep them at least 30"}},
		{"expired early", "data-lifecycle:rules.0.expiration", map[string]any{"days": 14.0},
			[]string{"rules[0].expiration.days: backups expire after 14 days; keep them at least 30"}},
	})
	unprotected := base.with("-data-lock", nil).with("-data-lifecycle", nil)
	if got := render(engine.CheckStack(&backupRetention, unprotected.stack(), engine.Config{})); len(got) != 1 ||
		got[0] != ": the backup bucket has neither object lock nor a lifecycle that keeps deleted backups 30 days" {
		t.Errorf("no lock, no lifecycle: %q", got)
	}
}
