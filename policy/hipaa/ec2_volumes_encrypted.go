package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ec2VolumesEncrypted = engine.Rule{
	ID:          "ec2-volumes-encrypted",
	Description: "An instance's root and EBS volumes are encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"encrypted-volumes"},
		Prowler:     []string{"ec2_ebs_volume_encryption"},
	},
	Fix:   "Give rootBlockDevice and every ebsBlockDevices entry encrypted: true and kmsKeyId set to the EBS key.",
	Types: []string{tInstance},
	Resource: func(c *engine.Check, r *engine.Resource) {
		root := r.Get("rootBlockDevice")
		if root.Missing() {
			c.Fail("rootBlockDevice", "rootBlockDevice is not set, so the root volume takes the AMI's encryption; declare it encrypted with the EBS key")
		} else {
			requireTrue(c, root.Get("encrypted"), " so the root volume is encrypted")
			requireCustomerKey(c, root.Get("kmsKeyId"), "the root volume")
		}
		for _, d := range r.Get("ebsBlockDevices").Items() {
			requireTrue(c, d.Get("encrypted"), " so the volume is encrypted")
			requireCustomerKey(c, d.Get("kmsKeyId"), "the volume")
		}
	},
}
