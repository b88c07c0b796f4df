package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ebsVolumeEncrypted = engine.Rule{
	ID:          "ebs-volume-encrypted",
	Description: "EBS volumes are encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)", "164.312(e)(2)(ii)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"encrypted-volumes"},
		Prowler:     []string{"ec2_ebs_volume_encryption"},
	},
	Fix:   "Set encrypted: true and kmsKeyId to the stack's EBS key.",
	Types: []string{tVolume},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireTrue(c, r.Get("encrypted"), " so the volume is encrypted at rest")
		requireCustomerKey(c, r.Get("kmsKeyId"), "the volume")
	},
}
