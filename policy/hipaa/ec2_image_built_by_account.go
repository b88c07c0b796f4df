package hipaa

import (
	"regexp"
	"slices"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

// ImageBuilderArnTag records on a host the Image Builder image it booted from.
const ImageBuilderArnTag = naming.ImageBuilderArnTag

// builtImageRoles are the hosts that must boot from the account's own images: the ones that hold or watch
// PHI on an image the platform hardens (the web and engine tiers run Amazon Linux and the released
// container, patched as a new image).
var builtImageRoles = []string{"database", "database-drill", "monitoring"}

// accountImageArn is an Image Builder image of an account: AWS's own managed images have "aws" where an
// account's ID is.
var accountImageArn = regexp.MustCompile(`^arn:aws[a-z-]*:imagebuilder:[a-z0-9-]+:[0-9]{12}:image/[a-z0-9_-]+/`)

var ec2ImageBuiltByAccount = engine.Rule{
	ID: "ec2-image-built-by-account",
	Description: "Database and monitoring hosts boot from an image the account's Image Builder pipeline built and tested, " +
		"not a public or hand-made one",
	Citations: []string{"164.308(a)(5)(ii)(B)", "164.312(c)(1)", "164.308(a)(1)(ii)(B)"},
	Severity:  engine.High,
	Fix: "Boot the host from an image of the account's pipelines (components/images) and tag the instance, or the launch " +
		"template's instances, " + ImageBuilderArnTag + " with the image's ARN, the tag Image Builder gave the AMI.",
	Types: []string{tInstance, tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		tags, path := r.Get("tags"), "tags"
		if r.Type == tLaunchTemplate {
			tags, path = engine.V{}, ""
			for _, spec := range r.Get("tagSpecifications").Items() {
				if spec.Get("resourceType").Str() == "instance" {
					tags, path = spec.Get("tags"), spec.Get("tags").Path()
				}
			}
		}
		role := tags.Get("Role")
		if role.Unknown() || !slices.Contains(builtImageRoles, role.Str()) {
			return
		}
		arn := tags.Get(ImageBuilderArnTag)
		switch {
		case arn.Unknown():
			c.Unknown(arn.Path())
		case arn.Str() == "":
			c.Fail(path, "the %s host has no record of an image the account built (tag %s): it may boot from a public image", role.Str(), ImageBuilderArnTag)
		case !accountImageArn.MatchString(arn.Str()):
			c.Fail(arn.Path(), "%q is not an Image Builder image of an account", arn.Str())
		}
	},
}
