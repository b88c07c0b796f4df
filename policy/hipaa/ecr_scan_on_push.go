package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ecrScanOnPush = engine.Rule{
	ID:          "ecr-scan-on-push",
	Description: "Container images are scanned for vulnerabilities when pushed",
	Citations:   []string{"164.308(a)(5)(ii)(B)", "project"},
	Severity:    engine.Medium,
	Fix:         "Set imageScanningConfiguration.scanOnPush: true.",
	Types:       []string{tEcrRepository},
	Resource: func(c *engine.Check, r *engine.Resource) {
		requireTrue(c, r.Get("imageScanningConfiguration", "scanOnPush"), " so every pushed image is scanned")
	},
}
