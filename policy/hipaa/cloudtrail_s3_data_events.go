package hipaa

import (
	"slices"

	"github.com/hipaa-platform/platform/policy/engine"
)

var cloudtrailS3DataEvents = engine.Rule{
	ID:          "cloudtrail-s3-data-events",
	Description: "The account's trail logs every read and write of an S3 object, and still logs every management event",
	Citations:   []string{"164.312(b)", "164.308(a)(1)(ii)(D)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"cloudtrail-s3-dataevents-enabled"},
		Prowler:     []string{"cloudtrail_s3_dataevents_read_enabled", "cloudtrail_s3_dataevents_write_enabled"},
	},
	Fix: "Give the trail advancedEventSelectors: one with eventCategory Management, and one with eventCategory Data and " +
		"resources.type AWS::S3::Object (excluding, with resources.ARN notStartsWiths, only the trail's own bucket).",
	Types: []string{tTrail},
	Stack: func(c *engine.Check, s *engine.Stack) {
		if !isBaseline(s) {
			return
		}
		for _, t := range s.OfType(tTrail) {
			sel := t.Get("advancedEventSelectors")
			if sel.Unknown() {
				c.UnknownOn(t.URN, "advancedEventSelectors")
				continue
			}
			if basic := t.Get("eventSelectors"); len(sel.Items()) == 0 && len(basic.Items()) > 0 {
				checkBasicSelectors(c, t, basic)
				continue
			}
			management, objects := false, false
			for _, one := range sel.Items() {
				fields := map[string]engine.V{}
				for _, f := range one.Get("fieldSelectors").Items() {
					fields[f.Get("field").Str()] = f
				}
				category := fields["eventCategory"].Get("equals").Strs()
				// A selector with only eventCategory Management logs every management event; one that also
				// narrows them (readOnly, eventSource) does not.
				if slices.Contains(category, "Management") && len(fields) == 1 {
					management = true
				}
				if slices.Contains(category, "Data") && slices.Contains(fields["resources.type"].Get("equals").Strs(), "AWS::S3::Object") {
					// Narrowing the objects to some buckets (startsWiths, equals) leaves the others unlogged.
					arn := fields["resources.ARN"]
					if len(arn.Get("startsWiths").Items())+len(arn.Get("equals").Items())+len(arn.Get("endsWiths").Items()) == 0 {
						objects = true
					}
				}
			}
			if len(sel.Items()) > 0 && !management {
				c.FailOn(t.URN, "advancedEventSelectors", "no advanced event selector logs every management event, and with advanced selectors an event that none matches is not logged")
			}
			if !objects {
				c.FailOn(t.URN, "advancedEventSelectors", "the trail does not log S3 object reads and writes (data events) of every bucket")
			}
		}
	},
}

// checkBasicSelectors checks a trail's basic event selectors: management events, and data events of every
// S3 object (the data resource arn:aws:s3 with no bucket).
func checkBasicSelectors(c *engine.Check, t *engine.Resource, basic engine.V) {
	management, objects := false, false
	for _, e := range basic.Items() {
		if v := e.Get("includeManagementEvents"); v.Missing() || v.True() {
			management = true
		}
		for _, d := range e.Get("dataResources").Items() {
			if d.Get("type").Str() == "AWS::S3::Object" && slices.ContainsFunc(d.Get("values").Strs(), func(v string) bool {
				return v == "arn:aws:s3" || v == "arn:aws:s3:::"
			}) {
				objects = true
			}
		}
	}
	if !management {
		c.FailOn(t.URN, "eventSelectors", "no event selector logs management events")
	}
	if !objects {
		c.FailOn(t.URN, "eventSelectors", "the trail does not log S3 object reads and writes (data events) of every bucket")
	}
}
