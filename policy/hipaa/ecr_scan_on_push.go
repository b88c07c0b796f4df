package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ecrScanOnPush = engine.Rule{
	ID:          "ecr-scan-on-push",
	Description: "Container images are scanned for vulnerabilities when pushed",
	Citations:   []string{"164.308(a)(5)(ii)(B)", "project"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ecr-private-image-scanning-enabled"},
		Prowler:     []string{"ecr_repositories_scan_images_on_push_enabled", "ecr_registry_scan_images_on_push_enabled"},
	},
	Fix:   "Set imageScanningConfiguration.scanOnPush: true.",
	Types: []string{tEcrRepository},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireTrue(c, r.Get("imageScanningConfiguration", "scanOnPush"), " so every pushed image is scanned")
	},
}
