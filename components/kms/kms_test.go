package kms

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// keys is the component under test, run as a program of its own.
var keys = offlinetest.For(NewKeys, "hipaa-unit-keys")

func TestKeysCarryTheEncryptionSafeguards(t *testing.T) {
	t.Parallel()
	rs, err := keys.Run(t, &KeysArgs{AccountID: "123456789012", Region: "us-east-1", Tags: map[string]string{"DataClass": "phi"}})
	if err != nil {
		t.Fatal(err)
	}
	keys := offlinetest.Of(rs, "aws:kms/key:Key")
	if len(keys) != len(purposes) {
		t.Fatalf("got %d keys, want one per purpose (%d)", len(keys), len(purposes))
	}
	for _, k := range keys {
		if k.Value("enableKeyRotation") != true {
			t.Errorf("%s: enableKeyRotation = %v, want true", k.Name, k.Value("enableKeyRotation"))
		}
		if got := k.Value("deletionWindowInDays"); got != float64(30) {
			t.Errorf("%s: deletionWindowInDays = %v, want 30", k.Name, got)
		}
		if k.Value("bypassPolicyLockoutSafetyCheck") == true {
			t.Errorf("%s: bypasses the policy lockout safety check", k.Name)
		}
		if k.String("tags.DataClass") != "phi" || k.String("tags.Name") != k.Name {
			t.Errorf("%s: tags = %v, want DataClass and Name", k.Name, k.Value("tags"))
		}
		assertNoWildcardAllow(t, k.Name, k.String("policy"))
	}
	for _, p := range purposes {
		alias, ok := offlinetest.Named(rs, "aws:kms/alias:Alias", "hipaa-unit-keys-"+p.name)
		if !ok {
			t.Fatalf("no alias for the %s key", p.name)
		}
		if got := alias.String("name"); got != "alias/hipaa-unit-keys-"+p.name {
			t.Errorf("alias name = %q", got)
		}
	}
}

func assertNoWildcardAllow(t *testing.T, name, policy string) {
	t.Helper()
	var doc struct {
		Statement []struct {
			Effect    string
			Principal map[string][]string
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatalf("%s: policy is not JSON: %v", name, err)
	}
	for _, s := range doc.Statement {
		for _, ps := range s.Principal {
			for _, p := range ps {
				if s.Effect == "Allow" && strings.Contains(p, "*") {
					t.Errorf("%s: policy allows principal %q", name, p)
				}
			}
		}
	}
}

func TestLogsKeyAdmitsOnlyThisAccountsLogWriters(t *testing.T) {
	t.Parallel()
	policy := Policy(Logs, "aws", "123456789012", "eu-west-1")
	for _, want := range []string{
		`"logs.eu-west-1.amazonaws.com"`,
		`"arn:aws:logs:eu-west-1:123456789012:log-group:*"`,
		`"cloudtrail.amazonaws.com"`,
		`"logging.s3.amazonaws.com"`,
		`"config.amazonaws.com"`,
		`"aws:SourceAccount":"123456789012"`,
	} {
		if !strings.Contains(policy, want) {
			t.Errorf("logs key policy lacks %s:\n%s", want, policy)
		}
	}
	// Every service the logs key admits is held to this account's resources.
	var doc struct {
		Statement []struct {
			Sid       string
			Principal struct{ Service []string }
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Statement {
		if len(s.Principal.Service) > 0 && s.Condition["StringEquals"]["aws:SourceAccount"] != "123456789012" && s.Condition["ArnLike"] == nil {
			t.Errorf("statement %s admits %v for any account", s.Sid, s.Principal.Service)
		}
	}
	if ebs := Policy(EBS, "aws", "123456789012", "eu-west-1"); strings.Contains(ebs, `"Service"`) {
		t.Errorf("the EBS key admits a service directly: %s", ebs)
	}
}

// Auto Scaling launches the application's instances with volumes encrypted under the EBS key, as its own
// service-linked role; the key must say so, and may let it grant the key only to AWS resources.
func TestEBSKeyLetsAutoScalingEncryptLaunchedVolumes(t *testing.T) {
	t.Parallel()
	var doc struct {
		Statement []struct {
			Sid       string
			Principal map[string][]string
			Action    []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(Policy(EBS, "aws", "123456789012", "us-east-1")), &doc); err != nil {
		t.Fatal(err)
	}
	role := AutoScalingRoleArn("aws", "123456789012")
	var use, grant bool
	for _, s := range doc.Statement {
		if len(s.Principal["AWS"]) != 1 || s.Principal["AWS"][0] != role {
			continue
		}
		switch {
		case slices.Contains(s.Action, "kms:GenerateDataKey*") && slices.Contains(s.Action, "kms:Decrypt"):
			use = true
		case slices.Equal(s.Action, []string{"kms:CreateGrant"}):
			grant = s.Condition["Bool"]["kms:GrantIsForAWSResource"] == "true"
		}
	}
	if !use || !grant {
		t.Errorf("EBS key: Auto Scaling may use it %v, may grant it only to AWS resources %v", use, grant)
	}
	for _, p := range []string{S3, Logs, Secrets} {
		if strings.Contains(Policy(p, "aws", "123456789012", "us-east-1"), "AWSServiceRoleForAutoScaling") {
			t.Errorf("the %s key names Auto Scaling", p)
		}
	}
}

func TestTheKeysWaitForTheRoleTheirPolicyNames(t *testing.T) {
	t.Parallel()
	rs := offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		role, err := iam.NewServiceLinkedRole(ctx, "autoscaling", &iam.ServiceLinkedRoleArgs{AwsServiceName: pulumi.String("autoscaling.amazonaws.com")})
		if err != nil {
			return err
		}
		_, err = NewKeys(ctx, "keys", &KeysArgs{AccountID: "123456789012", Region: "us-east-1", AutoScalingRole: role})
		return err
	})
	role := offlinetest.One(t, rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole")
	for _, k := range offlinetest.Of(rs, "aws:kms/key:Key") {
		if !slices.Contains(k.Options.DependsOn, role.URN) {
			t.Errorf("%s does not wait for the role its policy names", k.Name)
		}
	}
	for _, k := range offlinetest.Of(keys.MustRun(t, &KeysArgs{AccountID: "123456789012", Region: "us-east-1"}), "aws:kms/key:Key") {
		if len(k.Options.DependsOn) != 0 {
			t.Errorf("%s waits for %v without a role to wait for", k.Name, k.Options.DependsOn)
		}
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args *KeysArgs
		want string
	}{
		{"nil args", nil, "args are required"},
		{"short account", &KeysArgs{AccountID: "1234", Region: "us-east-1"}, `AccountID "1234"`},
		{"no region", &KeysArgs{AccountID: "123456789012"}, `Region ""`},
		{"bad region", &KeysArgs{AccountID: "123456789012", Region: "Mars"}, `Region "Mars"`},
		{"bad purpose", &KeysArgs{AccountID: "123456789012", Region: "us-east-1", Purposes: []string{"ecr"}}, `Purposes[0] "ecr" is not one of ebs, s3, logs, secrets`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys.Refused(t, tc.args, tc.want)
		})
	}
}

func TestPurposesLimitTheKeys(t *testing.T) {
	t.Parallel()
	rs := keys.MustRun(t, (&KeysArgs{AccountID: "123456789012", Region: "us-west-2", Purposes: []string{S3}}))
	if key := offlinetest.One(t, rs, "aws:kms/key:Key"); key.Name != "hipaa-unit-keys-s3" {
		t.Errorf("got key %s, want only the S3 key", key.Name)
	}
}
