package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

var iamNoAdminWildcards = engine.Rule{
	ID:          "iam-no-admin-wildcards",
	Description: `IAM policies allow no "*" action on "*" resources, no kms:Decrypt on every key, and no AdministratorAccess`,
	Citations:   []string{"164.308(a)(4)(ii)(B)", "164.312(a)(1)"},
	Severity:    engine.Critical,
	Scanners: engine.Scanners{
		ConfigRules: []string{"iam-policy-no-statements-with-admin-access", "iam-customer-policy-blocked-kms-actions", "iam-inline-policy-blocked-kms-actions"},
		Prowler:     []string{"iam_customer_attached_policy_no_administrative_privileges", "iam_customer_unattached_policy_no_administrative_privileges", "iam_inline_policy_no_administrative_privileges", "iam_aws_attached_policy_no_administrative_privileges"},
	},
	Fix:   "Name the actions and the resources (bucket prefixes, key ARNs) each role needs; never attach AdministratorAccess.",
	Types: []string{tIamPolicy, tRolePolicy, tUserPolicy, tGroupPolicy, tRole, tRolePolicyAttach, tUserPolicyAttach, tPolicyAttachment},
	Resource: func(c *engine.Check, r *engine.Resource) {
		switch r.Type {
		case tRole:
			for _, p := range r.Get("inlinePolicies").Items() {
				checkIdentityPolicy(c, r, p.Get("policy"))
			}
			for _, arn := range r.Get("managedPolicyArns").Strs() {
				if isAdminPolicy(arn) {
					c.Fail("managedPolicyArns", "the role has %s; grant only what it needs", arn)
				}
			}
		case tRolePolicyAttach, tUserPolicyAttach, tPolicyAttachment:
			if arn := r.Get("policyArn").Str(); isAdminPolicy(arn) {
				c.Fail("policyArn", "policyArn is %s; grant only what is needed", arn)
			}
		default:
			checkIdentityPolicy(c, r, r.Get("policy"))
		}
	},
}

func isAdminPolicy(arn string) bool {
	return strings.HasSuffix(arn, ":policy/AdministratorAccess") || strings.HasSuffix(arn, ":policy/PowerUserAccess")
}

func checkIdentityPolicy(c *engine.Check, r *engine.Resource, doc engine.V) {
	if doc.Unknown() {
		c.Unknown(doc.Path())
		return
	}
	statements, _ := statementsOf(c, r, doc)
	for i, st := range statements {
		if !st.allows() || len(st.Conditions) > 0 {
			continue
		}
		allResources := false
		for _, res := range st.Resources {
			if res == "*" {
				allResources = true
			}
		}
		if !allResources {
			continue
		}
		for _, a := range st.Actions {
			if a == "*" || a == "*:*" {
				c.Fail(doc.Path(), "%s statement %d allows every action on every resource", doc.Path(), i)
			}
		}
		if st.matchesAction("kms:Decrypt") && !containsAction(st.Actions, "*") {
			c.Fail(doc.Path(), "%s statement %d allows kms:Decrypt on every key; name the keys", doc.Path(), i)
		}
	}
}

func containsAction(actions []string, a string) bool {
	for _, x := range actions {
		if x == a || x == "*:*" {
			return true
		}
	}
	return false
}
