package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ecrRepositoryKms = engine.Rule{
	ID:          "ecr-repository-kms",
	Description: "Container repositories are encrypted with KMS and a customer-managed key",
	Citations:   []string{"164.312(a)(2)(iv)", "project"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ecr-repository-cmk-encryption-enabled"},
	},
	Fix:   "Set encryptionConfigurations to [{encryptionType: KMS, kmsKey: <the S3 or a registry key>}].",
	Types: []string{tEcrRepository},
	Resource: func(c *engine.Check, r *engine.Resource) {
		enc := r.Get("encryptionConfigurations", 0)
		switch t := enc.Get("encryptionType"); {
		case t.Unknown():
			c.Unknown(t.Path())
		case t.Str() != "KMS":
			c.Fail(t.Path(), "%s is %s; set it to KMS", t.Path(), orUnset(t))
		default:
			requireCustomerKey(c, enc.Get("kmsKey"), "the repository")
		}
	},
}
