package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var ec2DetailedMonitoring = engine.Rule{
	ID:          "ec2-detailed-monitoring",
	Description: "Instances and launch templates have detailed (one-minute) monitoring",
	Citations:   []string{"164.312(b)"},
	Severity:    engine.Low,
	Scanners: engine.Scanners{
		ConfigRules: []string{"ec2-instance-detailed-monitoring-enabled"},
		Prowler:     []string{"ec2_instance_detailed_monitoring_enabled"},
	},
	Fix:   "Set monitoring: true on instances, monitoring.enabled: true on launch templates.",
	Types: []string{tInstance, tLaunchTemplate},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if r.Type == tInstance {
			requireTrue(c, r.Get("monitoring"), " for one-minute metrics")
			return
		}
		requireTrue(c, r.Get("monitoring", "enabled"), " for one-minute metrics")
	},
}
