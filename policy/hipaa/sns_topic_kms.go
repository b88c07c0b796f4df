package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var snsTopicKms = engine.Rule{
	ID:          "sns-topic-kms",
	Description: "SNS topics are encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"sns-encrypted-kms"},
		Prowler:     []string{"sns_topics_kms_encryption_at_rest_enabled"},
	},
	Fix:   "Set kmsMasterKeyId on the topic to a customer-managed key that admits the services that publish to it.",
	Types: []string{tTopic},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireCustomerKey(c, r.Get("kmsMasterKeyId"), "the topic")
	},
}
