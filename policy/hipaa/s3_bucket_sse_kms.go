package hipaa

import (
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var s3BucketSseKms = engine.Rule{
	ID:          "s3-bucket-sse-kms",
	Description: "Every S3 bucket encrypts by default with SSE-KMS and a customer-managed key; the load balancers' log bucket (tagged Purpose: lb-logs) with SSE-S3, the only encryption Elastic Load Balancing delivers to",
	Citations:   []string{"164.312(a)(2)(iv)", "164.312(c)(2)"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		ConfigRules: []string{"s3-default-encryption-kms", "s3-bucket-server-side-encryption-enabled"},
		Prowler:     []string{"s3_bucket_kms_encryption", "s3_bucket_default_encryption"},
	},
	Fix:   "Give the bucket a BucketServerSideEncryptionConfigurationV2 with sseAlgorithm aws:kms and kmsMasterKeyId set to the S3 key.",
	Types: []string{tBucket},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, b := range s.OfType(tBucket) {
			rules := b.Get("serverSideEncryptionConfigurations", 0, "rules") // a deployed bucket's state
			owner := b
			if configs := s.Referencing(b, tBucketSSE, "bucket"); len(configs) > 0 {
				owner = configs[0]
				rules = owner.Get("rules")
			} else if rules.Missing() {
				c.FailOn(b.URN, "", "the bucket has no BucketServerSideEncryptionConfigurationV2; objects would be encrypted with S3-managed keys only")
				continue
			}
			if rules.Unknown() {
				c.UnknownOn(owner.URN, rules.Path())
				continue
			}
			lbLogs := b.Tag(naming.PurposeTag).Str() == naming.PurposeLoadBalancerLogs
			for _, rule := range rules.Items() {
				def := rule.Get("applyServerSideEncryptionByDefault")
				switch alg := def.Get("sseAlgorithm"); {
				case alg.Unknown():
					c.UnknownOn(owner.URN, alg.Path())
				case lbLogs && alg.Str() == "AES256":
				case lbLogs:
					c.FailOn(owner.URN, alg.Path(), "%s is %q; set it to AES256, the only encryption load balancers deliver to", alg.Path(), alg.Str())
				case alg.Str() != "aws:kms" && alg.Str() != "aws:kms:dsse":
					c.FailOn(owner.URN, alg.Path(), "%s is %q; set it to aws:kms", alg.Path(), alg.Str())
				case !def.Get("kmsMasterKeyId").Present():
					c.FailOn(owner.URN, def.Get("kmsMasterKeyId").Path(), "%s is not set, so the AWS-managed aws/s3 key is used; set it to the S3 key", def.Get("kmsMasterKeyId").Path())
				}
			}
		}
	},
}
