package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var imagebuilderImagesTested = engine.Rule{
	ID:          "imagebuilder-images-tested",
	Description: "Image builds test each image before distributing it and scan it for vulnerabilities",
	Citations:   []string{"164.308(a)(5)(ii)(B)", "164.308(a)(1)(ii)(B)"},
	Severity:    engine.Medium,
	Fix:         "Leave imageTestsConfiguration.imageTestsEnabled true (its default) and set imageScanningConfiguration.imageScanningEnabled: true.",
	Types:       []string{tImagePipeline, tImage},
	Resource: func(c *engine.Check, r *engine.Resource) {
		// Image Builder tests unless told not to: a missing setting is its default, true.
		if tests := r.Get("imageTestsConfiguration", "imageTestsEnabled"); !tests.Missing() {
			requireTrue(c, tests, " so the image is checked before any host boots from it")
		}
		requireTrue(c, r.Get("imageScanningConfiguration", "imageScanningEnabled"), " so each image is scanned for known vulnerabilities")
	},
}
