package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Buckets are the stack's buckets.
type Buckets struct {
	// Logs receives every other bucket's access logs (in an account stack, the trail bucket's).
	Logs *bucket.Bucket
	// LoadBalancerLogs receives the load balancers' access logs, the one bucket with SSE-S3.
	LoadBalancerLogs *bucket.Bucket
	// Data holds the application's files; Backups the database's.
	Data, Backups *bucket.Bucket
}

// names are the buckets' names by purpose, as the stack exports them.
func (b Buckets) names() pulumi.StringMap {
	return pulumi.StringMap{
		"logs":                         b.Logs.BucketName,
		naming.PurposeLoadBalancerLogs: b.LoadBalancerLogs.BucketName,
		"data":                         b.Data.BucketName,
		naming.PurposeBackups:          b.Backups.BucketName,
	}
}

// bucketName is a bucket's global name: the stack-qualified name and the account, so the same stack in
// two accounts does not collide, and the name is known before deployment.
func (s *stack) bucketName(name string) string {
	return s.n.Name(name) + "-" + s.account
}

// buckets creates the log bucket first, since every other bucket logs its access there, then the load
// balancers' log bucket, the data and the backup buckets.
func (s *stack) buckets() (err error) {
	cfg := s.cfg
	if err := s.logBucket(); err != nil {
		return err
	}
	if s.Buckets.LoadBalancerLogs, err = s.loadBalancerLogs(); err != nil {
		return err
	}
	if s.Buckets.Data, err = bucket.NewBucket(s.ctx, s.n.Name("data"), &bucket.BucketArgs{
		BucketName:      s.bucketName("data"),
		Purpose:         "data",
		KmsKeyArn:       s.Keys.S3KeyArn,
		AccessLogBucket: s.Buckets.Logs.BucketName,
		ForceDestroy:    cfg.ForceDestroy,
		Tags:            s.n.Tags(),
	}, s.stateful()); err != nil {
		return err
	}
	var lock *bucket.ObjectLock
	if cfg.BackupObjectLock {
		lock = &bucket.ObjectLock{Mode: "COMPLIANCE", Days: cfg.BackupRetentionDays}
	}
	s.Buckets.Backups, err = bucket.NewBucket(s.ctx, s.n.Name(naming.PurposeBackups), &bucket.BucketArgs{
		BucketName:            s.bucketName(naming.PurposeBackups),
		Purpose:               naming.PurposeBackups,
		KmsKeyArn:             s.Keys.S3KeyArn,
		AccessLogBucket:       s.Buckets.Logs.BucketName,
		NoncurrentVersionDays: cfg.BackupRetentionDays,
		ObjectLock:            lock,
		ForceDestroy:          cfg.ForceDestroy,
		Tags:                  s.n.Tags(),
	}, s.stateful())
	return err
}

// loadBalancerLogPrefix is where the web tier's load balancer writes its access logs.
const loadBalancerLogPrefix = "web"

// loadBalancerLogs creates the bucket the load balancer logs to. Elastic Load Balancing writes as the
// region's load balancing account where the region has one, else as its log delivery service.
func (s *stack) loadBalancerLogs() (*bucket.Bucket, error) {
	prefix := fmt.Sprintf("%s/AWSLogs/%s/", loadBalancerLogPrefix, s.account)
	writers := []bucket.Writer{{Service: "logdelivery.elasticloadbalancing.amazonaws.com", Prefix: prefix}}
	if elbAccount, err := elb.GetServiceAccount(s.ctx, &elb.GetServiceAccountArgs{Region: pulumi.StringRef(s.cfg.Region)}); err == nil {
		writers = append(writers, bucket.Writer{Principal: elbAccount.Arn, Prefix: prefix})
	}
	return bucket.NewBucket(s.ctx, s.n.Name(naming.PurposeLoadBalancerLogs), &bucket.BucketArgs{
		BucketName:       s.bucketName(naming.PurposeLoadBalancerLogs),
		LoadBalancerLogs: true,
		Purpose:          naming.PurposeLoadBalancerLogs,
		AccessLogBucket:  s.Buckets.Logs.BucketName,
		AccountID:        s.account,
		Writers:          writers,
		ExpireAfterDays:  s.cfg.LogRetentionDays,
		ForceDestroy:     s.cfg.ForceDestroy,
		Tags:             s.n.Tags(),
	}, s.stateful())
}
