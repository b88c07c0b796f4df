package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/internal/conformance"
	"github.com/hipaa-platform/platform/policy/engine"
)

var cloudtrailSecurityAlarms = engine.Rule{
	ID: "cloudtrail-security-alarms",
	Description: "The trail's log group has the metric filters and alarms of Security Hub's CloudWatch.1 to CloudWatch.14 " +
		"(root use, unauthorized calls, changes to IAM policies, the trail, AWS Config, keys, buckets, security groups, " +
		"network ACLs, gateways, route tables and VPCs, console sign-ins), each alarm notifying someone",
	Citations: []string{"164.308(a)(1)(ii)(D)", "164.308(a)(6)(ii)", "164.312(b)"},
	Severity:  engine.High,
	Scanners: engine.Scanners{
		Prowler: trailAlarmChecks(),
	},
	Fix: "For each pattern of conformance.TrailAlarms, declare an aws.cloudwatch.LogMetricFilter on the trail's log group " +
		"and an aws.cloudwatch.MetricAlarm on its metric with alarmActions (the baseline declares them).",
	Types: []string{tMetricFilter},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) || len(s.OfType(tTrail)) == 0 {
			return
		}
		// metric is namespace/name; alarmed holds the metrics an alarm with an action watches.
		alarmed := map[string]bool{}
		for _, a := range s.OfType(tMetricAlarm) {
			if v := a.Get("alarmActions"); v.Unknown() || len(v.Items()) > 0 {
				alarmed[a.Get("namespace").Str()+"/"+a.Get("metricName").Str()] = true
			}
		}
		filters := map[string][]*engine.Resource{}
		for _, f := range s.OfType(tMetricFilter) {
			p := compactPattern(f.Get("pattern").Str())
			filters[p] = append(filters[p], f)
		}
		for _, want := range conformance.TrailAlarms {
			var found, alarm bool
			for _, f := range filters[compactPattern(want.Pattern)] {
				found = true
				m := f.Get("metricTransformation")
				if m.Unknown() || alarmed[m.Get("namespace").Str()+"/"+m.Get("name").Str()] {
					alarm = true
				}
			}
			switch {
			case !found:
				c.FailOn(baselineURN(s), "", "no metric filter on the trail's log group matches %s's pattern (%s)", want.Control, want.Name)
			case !alarm:
				c.FailOn(filters[compactPattern(want.Pattern)][0].URN, "", "no alarm with an action watches %s's metric (%s)", want.Control, want.Name)
			}
		}
	},
}

// compactPattern is a filter pattern without its spaces outside quotes, so that two spellings of one
// pattern compare equal.
func compactPattern(p string) string {
	var b strings.Builder
	quoted := false
	for _, r := range p {
		if r == '"' {
			quoted = !quoted
		}
		if r == ' ' && !quoted {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// trailAlarmChecks are Prowler's checks of the trail's alarms, one per alarm.
func trailAlarmChecks() []string {
	var out []string
	for _, a := range conformance.TrailAlarms {
		out = append(out, a.Prowler)
	}
	return out
}
