package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var alarmsHaveActions = engine.Rule{
	ID:          "alarms-have-actions",
	Description: "Every metric alarm notifies someone when it fires and when its data stops",
	Citations:   []string{"164.312(b)", "164.308(a)(6)(i)"},
	Severity:    engine.Medium,
	Scanners: engine.Scanners{
		ConfigRules: []string{"cloudwatch-alarm-action-check", "cloudwatch-alarm-action-enabled-check"},
		Prowler:     []string{"cloudwatch_alarm_actions_enabled", "cloudwatch_alarm_actions_alarm_state_configured"},
	},
	Fix:   "Give the alarm alarmActions and insufficientDataActions (the alerting SNS topic) and leave actionsEnabled on.",
	Types: []string{tMetricAlarm},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if v := r.Get("actionsEnabled"); v.Present() && !v.Unknown() && !v.True() {
			c.Fail("actionsEnabled", "actionsEnabled is false; the alarm would notify nobody")
		}
		switch v := r.Get("alarmActions"); {
		case v.Unknown():
			c.Unknown("alarmActions")
		case len(v.Items()) == 0:
			c.Fail("alarmActions", "alarmActions is empty; the alarm would notify nobody")
		}
		// AWS Config's cloudwatch-alarm-action-check runs in the HIPAA conformance pack with
		// insufficientDataActionRequired: an alarm whose metric stopped arriving must say so.
		switch v := r.Get("insufficientDataActions"); {
		case v.Unknown():
			c.Unknown("insufficientDataActions")
		case len(v.Items()) == 0:
			c.Fail("insufficientDataActions", "insufficientDataActions is empty; nobody would hear that the alarm's data stopped")
		}
	},
}
