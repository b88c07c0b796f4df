package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var s3AccessLogging = engine.Rule{
	ID:          "s3-access-logging",
	Description: "Every data bucket logs its access to the log bucket (the log bucket itself excepted)",
	Citations:   []string{"164.312(b)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"s3-bucket-logging-enabled"},
		Prowler:     []string{"s3_bucket_server_access_logging_enabled"},
	},
	Fix:   "Give the bucket a BucketLoggingV2 whose targetBucket is the stack's log bucket.",
	Types: []string{tBucket},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, b := range s.OfType(tBucket) {
			if isLogBucket(s, b) {
				continue
			}
			logs := s.Referencing(b, tBucketLogging, "bucket")
			if len(logs) == 0 && b.Get("loggings", 0, "targetBucket").Missing() && b.Get("logging", "targetBucket").Missing() {
				c.FailOn(b.URN, "", "the bucket does not log its access; add a BucketLoggingV2 targeting the log bucket")
			}
			for _, l := range logs {
				if !l.Get("targetBucket").Present() {
					c.FailOn(l.URN, "targetBucket", "targetBucket is not set")
				}
			}
		}
	},
}

// isLogBucket reports whether a bucket receives logs: other buckets' access logs or a CloudTrail trail's.
func isLogBucket(s *engine.Stack, b *engine.Resource) bool {
	return len(s.Referencing(b, tBucketLogging, "targetBucket")) > 0 || len(s.Referencing(b, tTrail, "s3BucketName")) > 0
}
