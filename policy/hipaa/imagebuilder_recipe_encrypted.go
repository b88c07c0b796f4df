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
		mappings := r.Get("blockDeviceMappings")
		if mappings.Unknown() {
			c.Unknown("blockDeviceMappings")
			return
		}
		items := mappings.Items()
		if len(items) == 0 {
			c.Fail("blockDeviceMappings", "blockDeviceMappings is empty, so the build's volumes take the parent image's encryption; map the root device encrypted with the EBS key")
		}
		for _, m := range items {
			ebs := m.Get("ebs")
			if ebs.Missing() {
				continue // a no-device mapping holds no volume
			}
			requireTrue(c, ebs.Get("encrypted"), ` (the string "true" in pulumi-aws v6) so the build's volume is encrypted`)
			requireCustomerKey(c, ebs.Get("kmsKeyId"), "the build's volume")
		}
	},
}
