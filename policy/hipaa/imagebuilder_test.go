package hipaa

import "testing"

func TestImagebuilderRules(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &imagebuilderRecipeEncrypted, fx{typ: tImageRecipe, name: "db", props: map[string]any{
		"blockDeviceMappings": []any{map[string]any{"deviceName": "/dev/xvda", "ebs": map[string]any{"encrypted": "true", "kmsKeyId": testKey}}},
	}}, []change{
		{"unencrypted", "blockDeviceMappings.0.ebs.encrypted", "false", []string{`blockDeviceMappings[0].ebs.encrypted: blockDeviceMappings[0].ebs.encrypted is false; set it to true (the string "true" in pulumi-aws v6) so the build's volume is encrypted`}},
		{"aws key", "blockDeviceMappings.0.ebs.kmsKeyId", "alias/aws/ebs", []string{"blockDeviceMappings[0].ebs.kmsKeyId: blockDeviceMappings[0].ebs.kmsKeyId is alias/aws/ebs, an AWS-managed key; set it to a customer-managed KMS key"}},
		{"no mapping", "blockDeviceMappings", del, []string{"blockDeviceMappings: blockDeviceMappings is empty, so the build's volumes take the parent image's encryption; map the root device encrypted with the EBS key"}},
	})
	testResourceRule(t, &imagebuilderDistributionPrivate, fx{typ: tImageDistribution, name: "db", props: map[string]any{
		"distributions": []any{map[string]any{"region": "us-east-1", "amiDistributionConfiguration": map[string]any{"name": "hipaa-postgres-15-{{ imagebuilder:buildDate }}", "kmsKeyId": testKey}}},
	}}, []change{
		{"no key", "distributions.0.amiDistributionConfiguration.kmsKeyId", del, []string{"distributions[0].amiDistributionConfiguration.kmsKeyId: distributions[0].amiDistributionConfiguration.kmsKeyId is not set, so the image's snapshots is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
		{"public", "distributions.0.amiDistributionConfiguration.launchPermission", map[string]any{"userGroups": []any{"all"}}, []string{"distributions[0].amiDistributionConfiguration.launchPermission.userGroups: distributions[0].amiDistributionConfiguration.launchPermission.userGroups includes all, which makes the image public; share it with named accounts, or not at all"}},
	})
	for _, typ := range []string{tImagePipeline, tImage} {
		testResourceRule(t, &imagebuilderImagesTested, fx{typ: typ, name: "db", props: map[string]any{
			"imageScanningConfiguration": map[string]any{"imageScanningEnabled": true},
		}}, []change{
			{"tests off", "imageTestsConfiguration", map[string]any{"imageTestsEnabled": false}, []string{"imageTestsConfiguration.imageTestsEnabled: imageTestsConfiguration.imageTestsEnabled is false; set it to true so the image is checked before any host boots from it"}},
			{"not scanned", "imageScanningConfiguration", del, []string{"imageScanningConfiguration.imageScanningEnabled: imageScanningConfiguration.imageScanningEnabled is not set; set it to true so each image is scanned for known vulnerabilities"}},
		})
	}
}
