package hipaa

import "testing"

func TestEc2VolumesEncrypted(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &ec2VolumesEncrypted, fx{typ: tInstance, name: "db", props: map[string]any{
		"rootBlockDevice": map[string]any{"encrypted": true, "kmsKeyId": testKey},
		"ebsBlockDevices": []any{map[string]any{"deviceName": "/dev/xvdf", "encrypted": true, "kmsKeyId": testKey}},
	}}, []change{
		{"no root device", "rootBlockDevice", del, []string{"rootBlockDevice: rootBlockDevice is not set, so the root volume takes the AMI's encryption; declare it encrypted with the EBS key"}},
		{"root unencrypted", "rootBlockDevice.encrypted", false, []string{"rootBlockDevice.encrypted: rootBlockDevice.encrypted is false; set it to true so the root volume is encrypted"}},
		{"root aws key", "rootBlockDevice.kmsKeyId", del, []string{"rootBlockDevice.kmsKeyId: rootBlockDevice.kmsKeyId is not set, so the root volume is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
		{"data unencrypted", "ebsBlockDevices.0.encrypted", false, []string{"ebsBlockDevices[0].encrypted: ebsBlockDevices[0].encrypted is false; set it to true so the volume is encrypted"}},
		{"data no key", "ebsBlockDevices.0.kmsKeyId", "", []string{"ebsBlockDevices[0].kmsKeyId: ebsBlockDevices[0].kmsKeyId is not set, so the volume is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
	})
}
