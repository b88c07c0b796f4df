package hipaa

import (
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// perimeterServices are the endpoint services whose endpoints the rule asks a policy of: those that take
// one (AWS PrivateLink Guide) and that the platform's hosts use.
var perimeterServices = []string{"s3", "ecr.api", "ecr.dkr", "ssm", "logs", "monitoring", "kms", "secretsmanager"}

var vpcEndpointPerimeter = engine.Rule{
	ID: "vpc-endpoint-perimeter",
	Description: "Every VPC endpoint of a service that takes a policy has one, and a statement that admits every action " +
		"holds it to the account's principals and to named resource accounts",
	Citations: []string{"164.312(a)(1)", "164.312(e)(1)"},
	Severity:  engine.Medium,
	Scanners: engine.Scanners{
		Prowler: []string{"vpc_endpoint_connections_trust_boundaries"},
	},
	Fix: "Give the endpoint a policy whose Allow of every action carries StringEquals aws:PrincipalAccount (the account) and " +
		"aws:ResourceAccount (the account, or an account the hosts pull releases from), as components/network does.",
	Types: []string{tVpcEndpoint},
	Resource: func(c *engine.Check, r *engine.Resource) {
		svc := r.Get("serviceName")
		if svc.Unknown() {
			return
		}
		// com.amazonaws.<region>.<service>, where the service may itself hold a dot (ecr.api).
		name := svc.Str()
		if parts := strings.SplitN(name, ".", 4); len(parts) == 4 && parts[0] == "com" && parts[1] == "amazonaws" {
			name = parts[3]
		}
		if !slices.Contains(perimeterServices, name) {
			return
		}
		doc := r.Get("policy")
		switch {
		case doc.Unknown():
			c.Unknown("policy")
			return
		case !doc.Present():
			c.Fail("policy", "the %s endpoint has no policy, so it admits any principal to any account's resources", name)
			return
		}
		statements, ok := statementsOf(c, r, doc)
		if !ok {
			c.Fail("policy", "the endpoint's policy does not read as a policy document")
			return
		}
		for i, s := range statements {
			if s.Effect != "Allow" || !slices.Contains(s.Actions, "*") {
				continue
			}
			for _, key := range []string{"aws:PrincipalAccount", "aws:ResourceAccount"} {
				if !conditioned(s, key) {
					c.Fail("policy", "statement %d admits every action without a condition on %s", i, key)
				}
			}
		}
	},
}

// conditioned reports whether a statement holds a key to values with StringEquals.
func conditioned(s statement, key string) bool {
	for op, kv := range s.Conditions {
		if strings.HasPrefix(op, "StringEquals") {
			for k := range kv {
				if strings.EqualFold(k, key) {
					return true
				}
			}
		}
	}
	return false
}
