package hipaa

import (
	"slices"

	"github.com/hipaa-platform/platform/policy/engine"
)

var s3BucketTLSOnly = engine.Rule{
	ID:          "s3-bucket-tls-only",
	Description: "Every S3 bucket's policy denies any request made without TLS",
	Citations:   []string{"164.312(e)(1)", "164.312(e)(2)(i)"},
	Severity:    engine.High,
	Scanners: engine.Scanners{
		ConfigRules: []string{"s3-bucket-ssl-requests-only"},
		Prowler:     []string{"s3_bucket_secure_transport_policy"},
	},
	Fix:   `Add a BucketPolicy statement: Effect Deny, Principal "*", Action s3:*, Resource the bucket and bucket/*, Condition Bool aws:SecureTransport "false".`,
	Types: []string{tBucket},
	Stack: func(c *engine.Check, s *engine.Stack) {
		for _, b := range s.OfType(tBucket) {
			policy, owner := b.Get("policy"), b
			if ps := s.Referencing(b, tBucketPolicy, "bucket"); len(ps) > 0 {
				owner = ps[0]
				policy = owner.Get("policy")
			}
			switch {
			case policy.Unknown():
				c.UnknownOn(owner.URN, "policy")
			case !policy.Present():
				c.FailOn(b.URN, "", "the bucket has no bucket policy, so requests over plain HTTP are accepted")
			case !deniesInsecureTransport(c, owner, policy):
				c.FailOn(owner.URN, "policy", "the bucket policy has no Deny of s3:* for every principal when aws:SecureTransport is false")
			}
		}
	},
}

func deniesInsecureTransport(c *engine.Check, r *engine.Resource, doc engine.V) bool {
	statements, ok := statementsOf(c, r, doc)
	if !ok {
		return false
	}
	return slices.ContainsFunc(statements, func(st statement) bool {
		v, ok := st.condition("Bool", "aws:SecureTransport")
		return !st.allows() && st.anyPrincipal() && ok && v == "false" && st.matchesAction("s3:GetObject") && st.matchesAction("s3:PutObject")
	})
}
