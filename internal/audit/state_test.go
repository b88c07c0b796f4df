package audit

import (
	"fmt"
	"strings"
	"testing"
)

// stateDoc is a small export of the form `pulumi stack export` prints: the root stack, a provider, a
// role whose outputs hold an inline policy its inputs do not declare, an instance whose userData
// output is the provider's hash of its input, a secret, a resource pending deletion, and a pending
// operation.
const stateDoc = `{
  "version": 3,
  "deployment": {
    "manifest": {"time": "2026-12-01T00:00:00Z", "magic": "", "version": "v3.274.1"},
    "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:abc"}},
    "resources": [
      {"urn": "urn:pulumi:prod::hipaa::pulumi:pulumi:Stack::hipaa-prod", "custom": false, "type": "pulumi:pulumi:Stack"},
      {"urn": "urn:pulumi:prod::hipaa::pulumi:providers:aws::default_6_83_4", "custom": true, "id": "p1",
       "type": "pulumi:providers:aws", "inputs": {"region": "us-east-1"}, "outputs": {"region": "us-east-1"}},
      {"urn": "urn:pulumi:prod::hipaa::aws:iam/role:Role::web", "custom": true, "id": "web", "type": "aws:iam/role:Role",
       "inputs": {"__defaults": ["name"], "name": "web-1234567", "assumeRolePolicy": "{}"},
       "outputs": {"__meta": "{}", "name": "web-1234567", "assumeRolePolicy": "{\"Version\":\"2012-10-17\"}", "arn": "arn:aws:iam::210987654321:role/web-1234567",
         "inlinePolicies": [{"name": "added-by-hand", "policy": "{\"Statement\":[]}"}]},
       "protect": true, "provider": "urn:pulumi:prod::hipaa::pulumi:providers:aws::default_6_83_4::p1"},
      {"urn": "urn:pulumi:prod::hipaa::aws:ec2/instance:Instance::db-0", "custom": true, "id": "i-1", "type": "aws:ec2/instance:Instance",
       "inputs": {"userData": "#cloud-config\n", "password": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "plaintext": "\"hunter2-plaintext\""}},
       "outputs": {"userData": "0123456789abcdef0123456789abcdef01234567", "password": {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:Zm9v"}},
       "dependencies": ["urn:pulumi:prod::hipaa::aws:iam/role:Role::web"], "propertyDependencies": {"iamInstanceProfile": ["urn:pulumi:prod::hipaa::aws:iam/role:Role::web"]}},
      {"urn": "urn:pulumi:prod::hipaa::aws:ec2/instance:Instance::db-0", "custom": true, "id": "i-0", "type": "aws:ec2/instance:Instance",
       "inputs": {}, "outputs": {}, "delete": true}
    ],
    "pending_operations": [{"resource": {"urn": "urn:pulumi:prod::hipaa::aws:ec2/instance:Instance::db-1", "custom": true, "type": "aws:ec2/instance:Instance"}, "type": "creating"}]
  }
}`

// TestAStateIsReadAsTheRulesSeeIt: custom resources only, inputs first and the outputs they lack
// beside them, secrets as secrets whatever the export carries, pending work counted.
func TestAStateIsReadAsTheRulesSeeIt(t *testing.T) {
	t.Parallel()
	s, err := ReadState(strings.NewReader(stateDoc))
	if err != nil {
		t.Fatal(err)
	}
	if s.Stack != "prod" || s.Project != "hipaa" || len(s.Resources) != 3 || s.Skipped != 1 {
		t.Fatalf("stack %q project %q, %d resources, %d skipped; want prod, hipaa, 3 (provider, role, instance), 1", s.Stack, s.Project, len(s.Resources), s.Skipped)
	}
	if want := []string{"creating urn:pulumi:prod::hipaa::aws:ec2/instance:Instance::db-1"}; len(s.Pending) != 1 || s.Pending[0] != want[0] {
		t.Errorf("pending %q, want %q", s.Pending, want)
	}
	role, db := s.Resources[1], s.Resources[2]
	if role.Name != "web" || !role.Options.Protect || role.Get("assumeRolePolicy").Str() != "{}" {
		t.Errorf("role %s: protect %v, assumeRolePolicy %q; want its input, not its output", role.Name, role.Options.Protect, role.Get("assumeRolePolicy").Str())
	}
	if got := role.Get("inlinePolicies", 0, "name").Str(); got != "added-by-hand" {
		t.Errorf("the role's inline policy, only in its outputs, reads %q", got)
	}
	if !role.Get("__meta").Missing() {
		t.Error("the bridge's __meta is read as a property")
	}
	if got := db.Get("userData").Str(); got != "#cloud-config\n" {
		t.Errorf("userData reads %q; want the input, not the provider's hash of it", got)
	}
	if pw := db.Props.Get("password"); !pw.Secret() {
		t.Errorf("password is not a secret")
	}
	if got := s.Inputs[role.URN].Len(); got != 3 {
		t.Errorf("the role's inputs alone have %d properties, want 3", got)
	}
	if len(db.PropertyDependencies["iamInstanceProfile"]) != 1 || len(db.Dependencies) != 1 {
		t.Errorf("dependencies %v %v", db.Dependencies, db.PropertyDependencies)
	}
	for _, r := range s.Resources {
		for k, v := range r.Props.All {
			if strings.Contains(fmt.Sprint(v), "hunter2") {
				t.Errorf("%s.%s holds the secret's plaintext", r.Name, k)
			}
		}
	}
}

// TestWhatIsNotAnExportIsRefusedSayingWhatItIs: every other form names itself, or where it breaks.
func TestWhatIsNotAnExportIsRefusedSayingWhatItIs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, doc, want string }{
		{"empty", "", "the file is empty; want the output of pulumi stack export"},
		{"a preview", `[{"urn": "u", "type": "t"}]`, "this is a resource array, as platformctl preview --json writes; audit it with --resources"},
		{"a checkpoint", `{"version": 3, "checkpoint": {}}`, "this is a checkpoint of the file backend, not an export"},
		{"an old version", `{"version": 2, "deployment": {}}`, "the state is of version 2; this audit reads version 3"},
		{"no deployment", `{"version": 3}`, `no "deployment"`},
		{"a string", `"state"`, "the document is a JSON string; want the object pulumi stack export prints"},
		{"two stacks", `{"version": 3, "deployment": {"resources": [
			{"urn": "urn:pulumi:dev::hipaa::aws:s3/bucketV2:BucketV2::a", "type": "aws:s3/bucketV2:BucketV2", "custom": true},
			{"urn": "urn:pulumi:prod::hipaa::aws:s3/bucketV2:BucketV2::b", "type": "aws:s3/bucketV2:BucketV2", "custom": true}]}}`,
			"deployment.resources[1] (urn:pulumi:prod::hipaa::aws:s3/bucketV2:BucketV2::b) is of stack prod of project hipaa, the state's earlier resources of stack dev of project hipaa"},
		{"no urn", `{"version": 3, "deployment": {"resources": [{"type": "t"}]}}`, "deployment.resources[0] has no urn or type"},
		{"junk after", `{"version": 3, "deployment": {}} {}`, "more after the state's object"},
		{"truncated", `{"version": 3, "deployment": {"resources": [{"urn": "u"`, "malformed JSON at line 1, column"},
		{"wrong kind", `{"version": 3, "deployment": {"resources": [{"urn": 7}]}}`, "urn is a JSON number; want a string"},
	} {
		_, err := ReadState(strings.NewReader(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
}
