package hipaa

import (
	"slices"

	"github.com/hipaa-platform/platform/policy/engine"
)

var publicACLs = []string{"public-read", "public-read-write", "authenticated-read"}

var s3PublicAccessBlocked = engine.Rule{
	ID:          "s3-public-access-blocked",
	Description: "Every S3 bucket blocks public access four ways, enforces bucket-owner ownership and has no public ACL",
	Citations:   []string{"164.312(a)(1)", "164.312(e)(1)"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		ConfigRules: []string{"s3-bucket-level-public-access-prohibited", "s3-bucket-acl-prohibited", "s3-bucket-public-read-prohibited", "s3-bucket-public-write-prohibited"},
		Prowler:     []string{"s3_bucket_level_public_access_block", "s3_bucket_acl_prohibited", "s3_bucket_public_access", "s3_bucket_public_write_acl"},
	},
	Fix:   "Give the bucket a BucketPublicAccessBlock with all four settings true, BucketOwnershipControls with BucketOwnerEnforced, and no public ACL.",
	Types: []string{tBucket},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, b := range s.OfType(tBucket) {
			if acl := b.Get("acl").Str(); slices.Contains(publicACLs, acl) {
				c.FailOn(b.URN, "acl", "acl is %s; remove it: buckets are private", acl)
			}
			for _, a := range s.Referencing(b, tBucketACL, "bucket") {
				if acl := a.Get("acl").Str(); slices.Contains(publicACLs, acl) {
					c.FailOn(a.URN, "acl", "acl is %s; remove the ACL: buckets are private", acl)
				}
			}
			blocks := s.Referencing(b, tBucketPAB, "bucket")
			if len(blocks) == 0 {
				c.FailOn(b.URN, "", "the bucket has no BucketPublicAccessBlock")
			}
			for _, pab := range blocks {
				for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
					switch v := pab.Get(k); {
					case v.Unknown():
						c.UnknownOn(pab.URN, k)
					case !v.True():
						c.FailOn(pab.URN, k, "%s is not true; set all four public access blocks to true", k)
					}
				}
			}
			owners := s.Referencing(b, tBucketOwnership, "bucket")
			if len(owners) == 0 {
				c.FailOn(b.URN, "", "the bucket has no BucketOwnershipControls, so ACLs can still grant access")
			}
			for _, o := range owners {
				if v := o.Get("rule", "objectOwnership"); !v.Unknown() && v.Str() != "BucketOwnerEnforced" {
					c.FailOn(o.URN, "rule.objectOwnership", "rule.objectOwnership is %q; set it to BucketOwnerEnforced", v.Str())
				}
			}
		}
	},
}
