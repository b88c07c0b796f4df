package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ebsEncryptionByDefault = engine.Rule{
	ID:          "ebs-encryption-by-default",
	Description: "The account baseline turns on EBS encryption by default with a customer-managed default key",
	Citations:   []string{"164.312(a)(2)(iv)", "164.312(c)(1)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-ebs-encryption-by-default"},
		Prowler:     []string{"ec2_ebs_default_encryption"},
	},
	Fix:   "In the baseline stack, declare aws.ebs.EncryptionByDefault (enabled) and aws.ebs.DefaultKmsKey with the EBS key.",
	Types: []string{tEncryptionDefault, tDefaultKmsKey},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		defaults := s.OfType(tEncryptionDefault)
		if len(defaults) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline has no aws:ebs/encryptionByDefault, so volumes created outside this program may be unencrypted")
		}
		for _, d := range defaults {
			if v := d.Get("enabled"); v.Present() && !v.Unknown() && !v.True() {
				c.FailOn(d.URN, "enabled", "enabled is false; EBS encryption by default must be on")
			}
		}
		keys := s.OfType(tDefaultKmsKey)
		if len(keys) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline has no aws:ebs/defaultKmsKey, so default encryption uses the AWS-managed key")
		}
		for _, k := range keys {
			if !k.Get("keyArn").Present() {
				c.FailOn(k.URN, "keyArn", "keyArn is not set; set it to the EBS key")
			}
		}
	},
}

// baselineURN names the resource a finding about a missing baseline piece is reported on: the first
// baseline singleton present.
func baselineURN(s *engine.Stack) string {
	for _, t := range baselineTypes {
		if rs := s.OfType(t); len(rs) > 0 {
			if rs[0].Parent != "" {
				return rs[0].Parent
			}
			return rs[0].URN
		}
	}
	return ""
}
