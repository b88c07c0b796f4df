package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var lbAccessLogging = engine.Rule{
	ID:          "lb-access-logging",
	Description: "Load balancers log every request to S3",
	Citations:   []string{"164.312(b)", "164.308(a)(1)(ii)(D)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"elb-logging-enabled"},
		Prowler:     []string{"elbv2_logging_enabled", "elb_logging_enabled"},
	},
	Fix:   "Set accessLogs.enabled true and accessLogs.bucket to the load balancers' log bucket (SSE-S3, Purpose: lb-logs).",
	Types: []string{tLoadBalancer, tAlbLoadBalancer},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if t := r.Get("loadBalancerType"); t.Present() && !t.Unknown() && t.Str() == "gateway" {
			return // gateway load balancers have no access logs
		}
		requireTrue(c, r.Get("accessLogs", "enabled"), " so every request is recorded")
		if b := r.Get("accessLogs", "bucket"); !b.Unknown() && b.Str() == "" {
			c.Fail(b.Path(), "%s is not set; name the load balancers' log bucket", b.Path())
		}
	},
}
