package hipaa

import "github.com/hipaa-platform/platform/policy/engine"

var s3Versioning = engine.Rule{
	ID:          "s3-versioning",
	Description: "Every S3 bucket has versioning enabled, so no write or delete loses data",
	Citations:   []string{"164.308(a)(7)(ii)(A)", "164.312(c)(1)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"s3-bucket-versioning-enabled"},
		Prowler:     []string{"s3_bucket_object_versioning"},
	},
	Fix:   "Give the bucket a BucketVersioningV2 with versioningConfiguration.status Enabled.",
	Types: []string{tBucket},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, b := range s.OfType(tBucket) {
			vs := s.Referencing(b, tBucketVersioning, "bucket")
			if len(vs) == 0 {
				if b.Get("versionings", 0, "enabled").True() || b.Get("versioning", "enabled").True() {
					continue // a deployed bucket reports versioning in its own state
				}
				c.FailOn(b.URN, "", "the bucket has no BucketVersioningV2 with status Enabled")
				continue
			}
			for _, v := range vs {
				switch st := v.Get("versioningConfiguration", "status"); {
				case st.Unknown():
					c.UnknownOn(v.URN, st.Path())
				case st.Str() != "Enabled":
					c.FailOn(v.URN, st.Path(), "%s is %q; set it to Enabled", st.Path(), st.Str())
				}
			}
		}
	},
}
