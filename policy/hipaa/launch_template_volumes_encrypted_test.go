package hipaa

import "testing"

func TestLaunchTemplateVolumesEncrypted(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &launchTemplateVolumesEncrypted, fx{typ: tLaunchTemplate, name: "web", props: map[string]any{
		"blockDeviceMappings": []any{map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"encrypted": "true", "kmsKeyId": testKey}}},
	}}, []change{
		{"string false", "blockDeviceMappings.0.ebs.encrypted", "false", []string{`blockDeviceMappings[0].ebs.encrypted: blockDeviceMappings[0].ebs.encrypted is false; set it to true (the string "true" in pulumi-aws v6) so the volume is encrypted`}},
		{"no key", "blockDeviceMappings.0.ebs.kmsKeyId", del, []string{"blockDeviceMappings[0].ebs.kmsKeyId: blockDeviceMappings[0].ebs.kmsKeyId is not set, so the volume is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
		{"no mappings", "blockDeviceMappings", []any{}, []string{"blockDeviceMappings: blockDeviceMappings is empty, so the root volume takes the AMI's encryption; map it encrypted with the EBS key"}},
		{"unknown mappings", "blockDeviceMappings", unknown, []string{"blockDeviceMappings: blockDeviceMappings cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
}
