package hipaa

import (
	"slices"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var logRetention = engine.Rule{
	ID:          "log-retention",
	Description: "Log groups and log buckets (access logs, the trail's, the load balancers') keep logs at least the minimum retention",
	Citations:   []string{"164.312(b)"},
	Severity:    engine.Medium,
	Fix:         "Set retentionInDays on log groups, and expiration.days of log buckets' lifecycle rules, to at least minimumDays (or leave them unset to keep logs forever).",
	Types:       []string{tLogGroup},
	Params:      []engine.Param{{Name: "minimumDays", Description: "the shortest retention allowed, in days", Default: 365}},
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
		for _, b := range s.OfType(tBucket) {
			if !isLogBucket(s, b) && !isLoadBalancerLogBucket(s, b) {
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

// isLoadBalancerLogBucket reports whether a bucket receives load balancers' access logs: a load balancer
// names it in accessLogs, or it is tagged as the load balancers' log bucket.
func isLoadBalancerLogBucket(s *engine.Stack, b *engine.Resource) bool {
	if b.Tag(naming.PurposeTag).Str() == naming.PurposeLoadBalancerLogs {
		return true
	}
	name := b.Get("bucket").Str()
	for _, typ := range []string{tLoadBalancer, tAlbLoadBalancer} {
		for _, lb := range s.OfType(typ) {
			if slices.Contains(lb.PropertyDependencies["accessLogs"], b.URN) || (name != "" && lb.Get("accessLogs", "bucket").Str() == name) {
				return true
			}
		}
	}
	return false
}
