package hipaa

import (
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// inspectorScans are what Amazon Inspector must scan: the hosts and the container images.
var inspectorScans = []string{"EC2", "ECR"}

var inspectorEnabled = engine.Rule{
	ID:          "inspector-enabled",
	Description: "The account baseline has Amazon Inspector scan the hosts (EC2) and the container images (ECR) for vulnerabilities",
	Citations:   []string{"164.308(a)(1)(ii)(A)", "164.308(a)(5)(ii)(B)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"inspector-ec2-scan-enabled", "inspector-ecr-scan-enabled"},
		Prowler:     []string{"inspector2_is_enabled"},
	},
	Fix: "In the baseline stack, declare an aws.inspector2.Enabler with resourceTypes EC2 and ECR for the account; where " +
		"the organization's delegated administrator runs Inspector, waive this rule with that reason.",
	Types: []string{tInspector},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		enablers := s.OfType(tInspector)
		if len(enablers) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline does not enable Amazon Inspector")
			return
		}
		scanned := map[string]bool{}
		for _, e := range enablers {
			types := e.Get("resourceTypes")
			if types.Unknown() {
				c.UnknownOn(e.URN, "resourceTypes")
				return
			}
			for _, t := range types.Strs() {
				scanned[t] = true
			}
		}
		var missing []string
		for _, t := range inspectorScans {
			if !scanned[t] {
				missing = append(missing, t)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			c.FailOn(enablers[0].URN, "resourceTypes", "Inspector does not scan %s", strings.Join(missing, " or "))
		}
	},
}
