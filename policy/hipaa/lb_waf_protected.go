package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var lbWafProtected = engine.Rule{
	ID:          "lb-waf-protected",
	Description: "Every internet-facing application load balancer is behind an AWS WAF web ACL that has rules and logs its requests",
	Citations:   []string{"164.308(a)(5)(ii)(B)", "164.312(a)(1)", "164.312(b)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"alb-waf-enabled", "wafv2-logging-enabled"},
		Prowler:     []string{"elbv2_waf_acl_attached", "wafv2_webacl_logging_enabled", "wafv2_webacl_with_rules"},
	},
	Fix: "Associate an aws.wafv2.WebAcl (REGIONAL, with AWS's managed rule groups and a rate limit) with the load balancer " +
		"(aws.wafv2.WebAclAssociation) and log it (aws.wafv2.WebAclLoggingConfiguration to an aws-waf-logs- log group).",
	Types: []string{tLoadBalancer, tAlbLoadBalancer, tWebACL},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, typ := range []string{tLoadBalancer, tAlbLoadBalancer} {
			for _, lb := range s.OfType(typ) {
				if t := lb.Get("loadBalancerType"); t.Present() && !t.Unknown() && t.Str() != "application" {
					continue // AWS WAF protects application load balancers only
				}
				if internal := lb.Get("internal"); internal.Unknown() || internal.True() {
					continue
				}
				assocs := s.Referencing(lb, tWebACLAssoc, "resourceArn")
				if len(assocs) == 0 {
					c.FailOn(lb.URN, "", "the internet-facing load balancer is not behind an AWS WAF web ACL")
					continue
				}
				for _, a := range assocs {
					checkWebACL(c, s, a)
				}
			}
		}
	},
}

// checkWebACL checks the web ACL an association puts in front of a load balancer: it has rules, and it
// logs.
func checkWebACL(c *engine.Check, s *engine.Stack, assoc *engine.Resource) {
	var acl *engine.Resource
	for _, urn := range assoc.PropertyDependencies["webAclArn"] {
		if r := s.ByURN(urn); r != nil && r.Type == tWebACL {
			acl = r
		}
	}
	if acl == nil {
		for _, r := range s.OfType(tWebACL) {
			if arn := r.Get("arn").Str(); arn != "" && arn == assoc.Get("webAclArn").Str() {
				acl = r
			}
		}
	}
	if acl == nil {
		c.FailOn(assoc.URN, "webAclArn", "the web ACL is not one of this stack's, so its rules and logging cannot be shown")
		return
	}
	if rules := acl.Get("rules"); !rules.Unknown() && len(rules.Items()) == 0 && !acl.Get("ruleJson").Present() {
		c.FailOn(acl.URN, "rules", "the web ACL has no rules, so it blocks nothing")
	}
	if len(s.Referencing(acl, tWebACLLogging, "resourceArn")) == 0 {
		c.FailOn(acl.URN, "", "the web ACL does not log its requests (no aws.wafv2.WebAclLoggingConfiguration)")
	}
}
