package hipaa

import "testing"

const testKey = "arn:aws:kms:us-east-1:123456789012:key/1111"

func TestEbsVolumeEncrypted(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &ebsVolumeEncrypted, fx{typ: tVolume, name: "vol", props: map[string]any{
		"encrypted": true, "kmsKeyId": testKey, "size": 100.0,
	}}, []change{
		{"not encrypted", "encrypted", false, []string{"encrypted: encrypted is false; set it to true so the volume is encrypted at rest"}},
		{"encryption unset", "encrypted", del, []string{"encrypted: encrypted is not set; set it to true so the volume is encrypted at rest"}},
		{"no key", "kmsKeyId", del, []string{"kmsKeyId: kmsKeyId is not set, so the volume is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
		{"aws key", "kmsKeyId", "alias/aws/ebs", []string{"kmsKeyId: kmsKeyId is alias/aws/ebs, an AWS-managed key; set it to a customer-managed KMS key"}},
		{"unknown", "encrypted", unknown, []string{"encrypted: encrypted cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
		{"key unknown passes", "kmsKeyId", unknown, nil},
	})
}
