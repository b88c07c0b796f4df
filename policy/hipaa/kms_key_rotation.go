package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var kmsKeyRotation = engine.Rule{
	ID:          "kms-key-rotation",
	Description: "Symmetric customer-managed KMS keys rotate their key material",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"cmk-backing-key-rotation-enabled"},
		Prowler:     []string{"kms_cmk_rotation_enabled"},
	},
	Fix:   "Set enableKeyRotation: true on the key.",
	Types: []string{tKmsKey},
	Resource: func(c *engine.Check, r *engine.Resource) {
		spec := r.Get("customerMasterKeySpec").Str()
		if s := r.Get("keySpec").Str(); s != "" {
			spec = s
		}
		if spec != "" && spec != "SYMMETRIC_DEFAULT" {
			return // KMS rotates only symmetric encryption keys
		}
		requireTrue(c, r.Get("enableKeyRotation"), " so the key material rotates yearly")
	},
}
