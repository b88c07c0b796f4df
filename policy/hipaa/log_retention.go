package hipaa

import (
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var logRetention = engine.Rule{
	ID:          "log-retention",
	Description: "Log groups and log buckets (access logs, the trail's, the load balancers') keep logs at least the minimum retention",
	Citations:   []string{"164.312(b)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"cw-loggroup-retention-period-check"},
		Prowler:     []string{"cloudwatch_log_group_retention_policy_specific_days_enabled"},
	},
	Fix:    "Set retentionInDays on log groups, and expiration.days of log buckets' lifecycle rules, to at least minimumDays (or leave them unset to keep logs forever).",
	Types:  []string{tLogGroup},
	Params: []engine.Param{{Name: "minimumDays", Description: "the shortest retention allowed, in days", Default: 365}},
	Stack: func(c *engine.Check, s *engine.Stack) {
		min := c.Int("minimumDays")
		for _, g := range s.OfType(tLogGroup) {
			switch v := g.Get("retentionInDays"); {
			case v.Unknown():
				c.UnknownOn(g.URN, "retentionInDays")
			default:
				// 0 or unset keeps logs forever.
				if days, ok := v.Num(); ok && days > 0 && days < float64(min) {
					c.FailOn(g.URN, "retentionInDays", "retentionInDays is %v; set it to at least %d", days, min)
				}
			}
		}
		lbLogs := loadBalancerLogBuckets(s)
		for _, b := range s.OfType(tBucket) {
			if !isLogBucket(s, b) && !lbLogs.has(b) {
				continue
			}
			for _, lc := range s.Referencing(b, tBucketLifecycle, "bucket") {
				for _, rule := range lc.Get("rules").Items() {
					if rule.Get("status").Str() == "Disabled" {
						continue
					}
					exp := rule.Get("expiration", "days")
					if days, ok := exp.Num(); ok && days > 0 && days < float64(min) {
						c.FailOn(lc.URN, exp.Path(), "%s is %v on a log bucket; set it to at least %d", exp.Path(), days, min)
					}
				}
			}
		}
	},
}

// logTargets are the buckets load balancers name for their access logs, by URN (in a preview) and by
// name (in a deployed stack's state).
type logTargets map[string]bool

// has reports whether a bucket receives load balancers' access logs: a load balancer names it, or it is
// tagged as the load balancers' log bucket.
func (t logTargets) has(b *engine.Resource) bool {
	name := b.Get("bucket").Str()
	return t[b.URN] || (name != "" && t[name]) || b.Tag(naming.PurposeTag).Str() == naming.PurposeLoadBalancerLogs
}

// loadBalancerLogBuckets collects, once per stack, the buckets its load balancers log to.
func loadBalancerLogBuckets(s *engine.Stack) logTargets {
	t := logTargets{}
	for _, typ := range []string{tLoadBalancer, tAlbLoadBalancer} {
		for _, lb := range s.OfType(typ) {
			for _, urn := range lb.PropertyDependencies["accessLogs"] {
				t[urn] = true
			}
			if name := lb.Get("accessLogs", "bucket").Str(); name != "" {
				t[name] = true
			}
		}
	}
	return t
}
