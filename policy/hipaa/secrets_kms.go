package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var secretsKms = engine.Rule{
	ID:          "secrets-kms",
	Description: "Secrets Manager secrets and SSM SecureString parameters are encrypted with a customer-managed key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"secretsmanager-using-cmk"},
	},
	Fix:   "Set kmsKeyId (secrets) or keyId (SecureString parameters) to the secrets key.",
	Types: []string{tSecret, tParameter},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch r.Type {
		case tSecret:
			requireCustomerKey(c, r.Get("kmsKeyId"), "the secret")
		case tParameter:
			switch t := r.Get("type"); {
			case t.Unknown():
				c.Unknown("type")
			case t.Str() == "SecureString":
				requireCustomerKey(c, r.Get("keyId"), "the parameter")
			}
		}
	},
}
