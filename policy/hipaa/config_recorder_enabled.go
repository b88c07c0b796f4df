package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

var configRecorderEnabled = engine.Rule{
	ID: "config-recorder-enabled",
	Description: "The account baseline records every supported resource type, the global ones included, with AWS Config, " +
		"delivers the history encrypted with a customer key, and the recorder runs",
	Citations: []string{"164.312(b)", "164.308(a)(1)(ii)(D)", "164.308(a)(8)"},
	Severity:  engine.High,
	Scanners: engine.Scanners{
		Prowler: []string{"config_recorder_all_regions_enabled"},
	},
	Fix: "In the baseline stack, declare an aws.cfg.Recorder with recordingGroup allSupported and includeGlobalResourceTypes, " +
		"an aws.cfg.DeliveryChannel with s3KmsKeyArn, and an aws.cfg.RecorderStatus with isEnabled; where the organization runs " +
		"the account's recorder (AWS Control Tower), waive this rule with that reason.",
	Types: []string{tRecorder, tDeliveryChannel, tRecorderStatus},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		recorders := s.OfType(tRecorder)
		if len(recorders) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline has no AWS Config recorder, so AWS Config and Security Hub evaluate nothing")
			return
		}
		for _, r := range recorders {
			// allSupported defaults to true; includeGlobalResourceTypes to false.
			if v := r.Get("recordingGroup", "allSupported"); v.Present() && !v.Unknown() && !v.True() {
				c.FailOn(r.URN, "recordingGroup.allSupported", "the recorder records only some resource types")
			}
			if v := r.Get("recordingGroup", "includeGlobalResourceTypes"); v.Unknown() {
				c.UnknownOn(r.URN, "recordingGroup.includeGlobalResourceTypes")
			} else if !v.True() {
				c.FailOn(r.URN, "recordingGroup.includeGlobalResourceTypes", "the recorder does not record IAM's users, roles and policies")
			}
		}
		channels := s.OfType(tDeliveryChannel)
		if len(channels) == 0 {
			c.FailOn(recorders[0].URN, "", "the recorder has no delivery channel, so it cannot start")
		}
		for _, ch := range channels {
			if k := ch.Get("s3KmsKeyArn"); !k.Present() || strings.HasPrefix(k.Str(), "alias/aws/") {
				c.FailOn(ch.URN, "s3KmsKeyArn", "the configuration history is not encrypted with a customer-managed key; set s3KmsKeyArn to the logs key")
			}
		}
		running := false
		for _, st := range s.OfType(tRecorderStatus) {
			if v := st.Get("isEnabled"); v.Unknown() || v.True() {
				running = true
			}
		}
		if !running {
			c.FailOn(recorders[0].URN, "", "no aws.cfg.RecorderStatus starts the recorder; a recorder is created stopped")
		}
	},
}
