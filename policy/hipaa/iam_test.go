package hipaa

import (
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

const scopedPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::backups/db/*"]},{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:123456789012:key/1111"}]}`

func TestIamNoAdminWildcards(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &iamNoAdminWildcards, fx{typ: tRolePolicy, name: "db", props: map[string]any{"role": "db", "policy": scopedPolicy}}, []change{
		{"admin", "policy", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, []string{"policy: policy statement 0 allows every action on every resource"}},
		{"decrypt anything", "policy", `{"Statement":[{"Effect":"Allow","Action":["kms:Decrypt"],"Resource":["*"]}]}`, []string{"policy: policy statement 0 allows kms:Decrypt on every key; name the keys"}},
		{"kms star", "policy", `{"Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`, []string{"policy: policy statement 0 allows kms:Decrypt on every key; name the keys"}},
		{"deny is fine", "policy", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, nil},
		{"unknown", "policy", unknown, []string{"policy: policy cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
	testResourceRule(t, &iamNoAdminWildcards, fx{typ: tRolePolicyAttach, name: "ssm", props: map[string]any{
		"role": "web", "policyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}}, []change{
		{"admin attached", "policyArn", "arn:aws:iam::aws:policy/AdministratorAccess", []string{"policyArn: policyArn is arn:aws:iam::aws:policy/AdministratorAccess; grant only what is needed"}},
	})
	testResourceRule(t, &iamNoAdminWildcards, fx{typ: tRole, name: "role", props: map[string]any{
		"inlinePolicies": []any{map[string]any{"name": "x", "policy": scopedPolicy}}}}, []change{
		{"inline admin", "inlinePolicies.0.policy", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			[]string{"inlinePolicies[0].policy: inlinePolicies[0].policy statement 0 allows every action on every resource"}},
		{"managed admin", "managedPolicyArns", []any{"arn:aws:iam::aws:policy/AdministratorAccess"},
			[]string{"managedPolicyArns: the role has arn:aws:iam::aws:policy/AdministratorAccess; grant only what it needs"}},
	})
}

func TestIamUsersViaGroups(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &iamUsersViaGroups, fx{typ: tPolicyAttachment, name: "pa", props: map[string]any{
		"policyArn": "arn:aws:iam::123456789012:policy/read", "groups": []any{"auditors"}}}, []change{
		{"to a user", "users", []any{"alice"}, []string{"users: the policy is attached to users [alice]; attach policies to groups"}},
	})
	r := fx{typ: tUserPolicyAttach, name: "upa", props: map[string]any{"user": "alice", "policyArn": "arn:aws:iam::123456789012:policy/read"}}.resource()
	if got := render(engine.CheckResource(&iamUsersViaGroups, r, engine.Config{})); len(got) != 1 || got[0] != `user: a policy attached to user "alice"; attach policies to groups` {
		t.Errorf("user policy attachment: %q", got)
	}
}

func TestAlarmsHaveActions(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &alarmsHaveActions, fx{typ: tMetricAlarm, name: "cpu", props: map[string]any{
		"alarmActions":            []any{"arn:aws:sns:us-east-1:123456789012:alerts"},
		"insufficientDataActions": []any{"arn:aws:sns:us-east-1:123456789012:alerts"}}}, []change{
		{"no actions", "alarmActions", []any{}, []string{"alarmActions: alarmActions is empty; the alarm would notify nobody"}},
		{"silent when its data stops", "insufficientDataActions", del,
			[]string{"insufficientDataActions: insufficientDataActions is empty; nobody would hear that the alarm's data stopped"}},
		{"disabled", "actionsEnabled", false, []string{"actionsEnabled: actionsEnabled is false; the alarm would notify nobody"}},
		{"unknown topic passes", "alarmActions", []any{unknown}, nil},
	})
}

func TestIamNoInlinePolicies(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &iamNoInlinePolicies, fx{typ: tRole, name: "role", props: map[string]any{"assumeRolePolicy": "{}"}}, []change{
		{"inline", "inlinePolicies", []any{map[string]any{"name": "x", "policy": scopedPolicy}},
			[]string{"inlinePolicies: the role declares 1 inline policies; make them managed policies and attach them"}},
		{"the empty block that removes them", "inlinePolicies", []any{map[string]any{}}, nil},
	})
	r := fx{typ: tRolePolicy, name: "db", props: map[string]any{"role": "db", "policy": scopedPolicy}}.resource()
	if got := render(engine.CheckResource(&iamNoInlinePolicies, r, engine.Config{})); len(got) != 1 || got[0] != `role: an inline policy on role "db"; make it a managed policy and attach it` {
		t.Errorf("role policy: %q", got)
	}
}
