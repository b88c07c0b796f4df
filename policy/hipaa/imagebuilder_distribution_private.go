package hipaa

import (
	"slices"

	"github.com/hipaa-platform/platform/policy/engine"
)

var imagebuilderDistributionPrivate = engine.Rule{
	ID:          "imagebuilder-distribution-private",
	Description: "An image distribution encrypts its AMIs with a customer-managed KMS key and shares them with no one",
	Citations:   []string{"164.312(a)(2)(iv)", "164.312(a)(1)"},
	Severity:    engine.High,
	Fix:         "Set each distribution's amiDistributionConfiguration.kmsKeyId to the EBS key, and give it no launchPermission userGroups all.",
	Types:       []string{tImageDistribution},
	Resource: func(c *engine.Check, r *engine.Resource) {
		for _, d := range r.Get("distributions").Items() {
			ami := d.Get("amiDistributionConfiguration")
			if ami.Missing() {
				continue // a container distribution makes no AMI
			}
			requireCustomerKey(c, ami.Get("kmsKeyId"), "the image's snapshots")
			if groups := ami.Get("launchPermission", "userGroups"); slices.Contains(groups.Strs(), "all") {
				c.Fail(groups.Path(), "%s includes all, which makes the image public; share it with named accounts, or not at all", groups.Path())
			}
		}
	},
}
