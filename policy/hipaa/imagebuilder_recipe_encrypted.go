package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var imagebuilderRecipeEncrypted = engine.Rule{
	ID:          "imagebuilder-recipe-encrypted",
	Description: "An image recipe builds on volumes encrypted with a customer-managed KMS key",
	Citations:   []string{"164.312(a)(2)(iv)"},
	Severity:    engine.High,
	Fix:         `Give the recipe a blockDeviceMappings entry for the root device with ebs.encrypted: "true" and ebs.kmsKeyId set to the EBS key.`,
	Types:       []string{tImageRecipe},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireEncryptedBlockDevices(c, r, "the build's volume",
			"blockDeviceMappings is empty, so the build's volumes take the parent image's encryption; map the root device encrypted with the EBS key")
	},
}
