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

func TestEc2ImageBuiltByAccount(t *testing.T) {
	t.Parallel()
	const built = "arn:aws:imagebuilder:us-east-1:123456789012:image/hipaa-postgres-15/1.0.0/4"
	testResourceRule(t, &ec2ImageBuiltByAccount, fx{typ: tInstance, name: "db-0", props: map[string]any{
		"ami": "ami-0123", "tags": map[string]any{"Role": "database", ImageBuilderArnTag: built},
	}}, []change{
		{"no record", "tags." + ImageBuilderArnTag, del, []string{"tags: the database host has no record of an image the account built (tag Ec2ImageBuilderArn): it may boot from a public image"}},
		{"aws managed", "tags." + ImageBuilderArnTag, "arn:aws:imagebuilder:us-east-1:aws:image/debian-12-x86/x.x.x",
			[]string{`tags.Ec2ImageBuilderArn: "arn:aws:imagebuilder:us-east-1:aws:image/debian-12-x86/x.x.x" is not an Image Builder image of an account`}},
		{"not an image", "tags." + ImageBuilderArnTag, "ami-0123", []string{`tags.Ec2ImageBuilderArn: "ami-0123" is not an Image Builder image of an account`}},
		{"unknown", "tags." + ImageBuilderArnTag, unknown, []string{"tags.Ec2ImageBuilderArn: tags.Ec2ImageBuilderArn cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
		// The web and engine tiers run Amazon Linux, patched as a new image.
		{"another role", "tags", map[string]any{"Role": "web"}, nil},
	})
	testResourceRule(t, &ec2ImageBuiltByAccount, fx{typ: tLaunchTemplate, name: "db-drill", props: map[string]any{
		"imageId": "ami-0123", "tagSpecifications": []any{
			map[string]any{"resourceType": "instance", "tags": map[string]any{"Role": "database-drill", ImageBuilderArnTag: built}},
			map[string]any{"resourceType": "volume", "tags": map[string]any{"Role": "database-drill"}},
		},
	}}, []change{
		{"no record", "tagSpecifications.0.tags." + ImageBuilderArnTag, del,
			[]string{"tagSpecifications[0].tags: the database-drill host has no record of an image the account built (tag Ec2ImageBuilderArn): it may boot from a public image"}},
	})
}
