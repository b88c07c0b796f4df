package hipaa

import (
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/policy/engine"
)

var backupRetention = engine.Rule{
	ID:          "backup-retention",
	Description: "The backup bucket keeps backups at least the minimum retention and cannot lose them early",
	Citations:   []string{"164.308(a)(7)(ii)(A)", "164.310(d)(2)(iv)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"s3-bucket-default-lock-enabled"},
		Prowler:     []string{"s3_bucket_object_lock"},
	},
	Fix:    "Lock backups with S3 object lock for at least minimumDays, or keep noncurrent versions at least that long and expire nothing sooner.",
	Types:  []string{tBucket},
	Params: []engine.Param{{Name: "minimumDays", Description: "the shortest backup retention allowed, in days", Default: 30}},
	Stack: func(c *engine.Check, s *engine.Stack) {
		min := float64(c.Int("minimumDays"))
		for _, b := range s.OfType(tBucket) {
			if b.Tag(naming.PurposeTag).Str() != naming.PurposeBackups {
				continue
			}
			locked := false
			for _, l := range s.Referencing(b, tBucketObjectLock, "bucket") {
				ret := l.Get("rule", "defaultRetention")
				days, _ := ret.Get("days").Num()
				if years, ok := ret.Get("years").Num(); ok {
					days = years * 365
				}
				if ret.Get("days").Unknown() || ret.Get("years").Unknown() {
					c.UnknownOn(l.URN, "rule.defaultRetention")
					locked = true
				} else if days >= min {
					locked = true
				} else {
					c.FailOn(l.URN, "rule.defaultRetention.days", "object lock keeps backups %s days; set it to at least %s", fmtNum(days), fmtNum(min))
				}
			}
			kept := false
			for _, lc := range s.Referencing(b, tBucketLifecycle, "bucket") {
				for _, rule := range lc.Get("rules").Items() {
					if rule.Get("status").Str() == "Disabled" {
						continue
					}
					if d, ok := rule.Get("expiration", "days").Num(); ok && d > 0 && d < min {
						c.FailOn(lc.URN, rule.Get("expiration", "days").Path(), "backups expire after %s days; keep them at least %s", fmtNum(d), fmtNum(min))
					}
					nc := rule.Get("noncurrentVersionExpiration", "noncurrentDays")
					if d, ok := nc.Num(); ok && d < min {
						c.FailOn(lc.URN, nc.Path(), "overwritten or deleted backups are purged after %s days; keep them at least %s", fmtNum(d), fmtNum(min))
					} else if ok {
						kept = true
					}
				}
			}
			if !locked && !kept {
				c.FailOn(b.URN, "", "the backup bucket has neither object lock nor a lifecycle that keeps deleted backups %s days", fmtNum(min))
			}
		}
	},
}
