package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var lbDropInvalidHeaders = engine.Rule{
	ID:          "lb-drop-invalid-headers",
	Description: "Application load balancers drop requests with invalid HTTP headers and mitigate request desync",
	Citations:   []string{"164.312(c)(1)", "164.312(e)(1)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"alb-http-drop-invalid-header-enabled", "alb-desync-mode-check"},
		Prowler:     []string{"elbv2_alb_drop_invalid_header_fields_enabled", "elbv2_desync_mitigation_mode"},
	},
	Fix:   `Set dropInvalidHeaderFields true and leave desyncMitigationMode "defensive" or set it to "strictest".`,
	Types: []string{tLoadBalancer, tAlbLoadBalancer},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if t := r.Get("loadBalancerType"); t.Present() && !t.Unknown() && t.Str() != "application" {
			return // only application load balancers parse HTTP
		}
		requireTrue(c, r.Get("dropInvalidHeaderFields"), " so malformed headers cannot smuggle requests to the hosts")
		if m := r.Get("desyncMitigationMode"); m.Present() && !m.Unknown() && m.Str() == "monitor" {
			c.Fail(m.Path(), `desyncMitigationMode is "monitor", which lets desync requests through; use "defensive" or "strictest"`)
		}
	},
}
