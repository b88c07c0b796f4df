package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var launchTemplateVolumesEncrypted = engine.Rule{
	ID:          "launch-template-volumes-encrypted",
	Description: "A launch template's block devices are encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.High,
	Fix:         `Give every blockDeviceMappings entry ebs.encrypted: "true" and ebs.kmsKeyId set to the EBS key.`,
	Types:       []string{tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		mappings := r.Get("blockDeviceMappings")
		if mappings.Unknown() {
			c.Unknown("blockDeviceMappings")
			return
		}
		items := mappings.Items()
		if len(items) == 0 {
			c.Fail("blockDeviceMappings", "blockDeviceMappings is empty, so the root volume takes the AMI's encryption; map it encrypted with the EBS key")
		}
		for _, m := range items {
			ebs := m.Get("ebs")
			if ebs.Missing() {
				continue // instance-store or no-device mappings hold no EBS volume
			}
			requireTrue(c, ebs.Get("encrypted"), " (the string \"true\" in pulumi-aws v6) so the volume is encrypted")
			requireCustomerKey(c, ebs.Get("kmsKeyId"), "the volume")
		}
	},
}
