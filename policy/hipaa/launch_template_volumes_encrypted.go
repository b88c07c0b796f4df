package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var launchTemplateVolumesEncrypted = engine.Rule{
	ID:          "launch-template-volumes-encrypted",
	Description: "A launch template's block devices are encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-launch-templates-ebs-volume-encrypted"},
	},
	Fix:   `Give every blockDeviceMappings entry ebs.encrypted: "true" and ebs.kmsKeyId set to the EBS key.`,
	Types: []string{tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireEncryptedBlockDevices(c, r, "the volume",
			"blockDeviceMappings is empty, so the root volume takes the AMI's encryption; map it encrypted with the EBS key")
	},
}
