package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var cloudtrailBaseline = engine.Rule{
	ID:          "cloudtrail-baseline",
	Description: "The account baseline has a multi-region CloudTrail trail with log file validation, KMS encryption and CloudWatch Logs delivery",
	Citations:   []string{"164.312(b)", "164.312(c)(2)"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		ConfigRules: []string{"multi-region-cloudtrail-enabled", "cloud-trail-log-file-validation-enabled", "cloud-trail-encryption-enabled", "cloud-trail-cloud-watch-logs-enabled"},
		Prowler:     []string{"cloudtrail_multi_region_enabled", "cloudtrail_log_file_validation_enabled", "cloudtrail_kms_encryption_enabled", "cloudtrail_cloudwatch_logging_enabled"},
	},
	Fix:   "In the baseline stack, declare a trail with isMultiRegionTrail, enableLogFileValidation, kmsKeyId and cloudWatchLogsGroupArn.",
	Types: []string{tTrail},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		trails := s.OfType(tTrail)
		if len(trails) == 0 {
			c.FailOn(baselineURN(s), "", "the account baseline has no CloudTrail trail")
		}
		for _, t := range trails {
			for _, k := range []string{"isMultiRegionTrail", "enableLogFileValidation"} {
				if v := t.Get(k); v.Unknown() {
					c.UnknownOn(t.URN, k)
				} else if !v.True() {
					c.FailOn(t.URN, k, "%s is not true", k)
				}
			}
			if v := t.Get("enableLogging"); v.Present() && !v.Unknown() && !v.True() {
				c.FailOn(t.URN, "enableLogging", "enableLogging is false; the trail records nothing")
			}
			if !t.Get("kmsKeyId").Present() {
				c.FailOn(t.URN, "kmsKeyId", "kmsKeyId is not set; encrypt the trail with the logs key")
			}
			if !t.Get("cloudWatchLogsGroupArn").Present() {
				c.FailOn(t.URN, "cloudWatchLogsGroupArn", "cloudWatchLogsGroupArn is not set; deliver the trail to CloudWatch Logs for alerting")
			}
		}
	},
}
