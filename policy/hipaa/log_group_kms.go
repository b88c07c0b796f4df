package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var logGroupKms = engine.Rule{
	ID:          "log-group-kms",
	Description: "CloudWatch log groups are encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"cloudwatch-log-group-encrypted"},
		Prowler:     []string{"cloudwatch_log_group_kms_encryption_enabled"},
	},
	Fix:   "Set kmsKeyId on the log group to the logs key (its policy must admit logs.<region>.amazonaws.com).",
	Types: []string{tLogGroup},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireCustomerKey(c, r.Get("kmsKeyId"), "the log group")
	},
}
