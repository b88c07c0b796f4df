package backup

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

var plan = offlinetest.For(NewPlan, "hipaa-unit-backup")

const key = "arn:aws:kms:us-east-1:123456789012:key/ebs"

func validArgs() *PlanArgs {
	return &PlanArgs{
		AccountID: "123456789012", Region: "us-east-1", KmsKeyArn: pulumi.String(key), RetentionDays: 35,
		Instances: []pulumi.StringInput{pulumi.String("i-0001"), pulumi.String("i-0002")},
		Tags:      map[string]string{"DataClass": "phi"},
	}
}

func TestTheHostsAreBackedUpIntoAVaultNoOneCanEmpty(t *testing.T) {
	t.Parallel()
	rs := plan.MustRun(t, validArgs())
	vault := offlinetest.One(t, rs, "aws:backup/vault:Vault")
	if vault.String("kmsKeyArn") != key || !vault.Options.RetainOnDelete || vault.Value("forceDestroy") == true {
		t.Errorf("vault key %q retained %v; want the customer key, kept when the stack goes", vault.String("kmsKeyArn"), vault.Options.RetainOnDelete)
	}
	var doc struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS []string }
			Action    []string
		}
	}
	policy := offlinetest.One(t, rs, "aws:backup/vaultPolicy:VaultPolicy")
	if err := json.Unmarshal([]byte(policy.String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 || doc.Statement[0].Effect != "Deny" || !slices.Equal(doc.Statement[0].Principal.AWS, []string{"*"}) ||
		!slices.Equal(doc.Statement[0].Action, ProtectedActions) || !policy.Options.RetainOnDelete {
		t.Errorf("vault policy %s; want everyone refused deleting or shortening a recovery point", policy.String("policy"))
	}
	if n := len(offlinetest.Of(rs, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")); n != 0 {
		t.Errorf("%d vault locks in a stack that does not lock its backups", n)
	}
	p := offlinetest.One(t, rs, "aws:backup/plan:Plan")
	if p.String("rules.0.schedule") != DefaultSchedule || p.Value("rules.0.lifecycle.deleteAfter") != float64(35) ||
		!slices.Contains(p.PropertyDependencies["rules"], vault.URN) {
		t.Errorf("plan rule %v; want daily into the vault, kept 35 days", p.Value("rules"))
	}
	sel := offlinetest.One(t, rs, "aws:backup/selection:Selection")
	want := []any{"arn:aws:ec2:us-east-1:123456789012:instance/i-0001", "arn:aws:ec2:us-east-1:123456789012:instance/i-0002"}
	if !slices.Equal(sel.Value("resources").([]any), want) || !slices.Contains(sel.PropertyDependencies["planId"], p.URN) {
		t.Errorf("selection %v; want both hosts in the plan", sel.Value("resources"))
	}
	role := offlinetest.One(t, rs, "aws:iam/role:Role")
	if !strings.Contains(role.String("assumeRolePolicy"), `"backup.amazonaws.com"`) || !slices.Contains(sel.PropertyDependencies["iamRoleArn"], role.URN) {
		t.Errorf("selection role %v trusted by %s", sel.PropertyDependencies["iamRoleArn"], role.String("assumeRolePolicy"))
	}
	var attached []string
	for _, a := range offlinetest.Of(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		attached = append(attached, a.String("policyArn"))
		if !slices.Contains(sel.Options.DependsOn, a.URN) {
			t.Errorf("the selection does not wait for %s", a.String("policyArn"))
		}
	}
	if slices.Sort(attached); !slices.Equal(attached, []string{BackupPolicy, RestorePolicy}) {
		t.Errorf("the backup role has %v", attached)
	}
}

func TestALockedStackLocksItsVaultInComplianceMode(t *testing.T) {
	t.Parallel()
	args := validArgs()
	args.Lock = true
	lock := offlinetest.One(t, plan.MustRun(t, args), "aws:backup/vaultLockConfiguration:VaultLockConfiguration")
	if lock.Value("minRetentionDays") != float64(35) || lock.Value("changeableForDays") != float64(lockCoolingOffDays) || !lock.Options.RetainOnDelete {
		t.Errorf("lock %v; want compliance mode after 3 days, nothing kept less than the retention", lock.Inputs)
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for want, mutate := range map[string]func(*PlanArgs){
		`AccountID "1"`:              func(a *PlanArgs) { a.AccountID = "1" },
		"Region is required":         func(a *PlanArgs) { a.Region = "" },
		"KmsKeyArn is required":      func(a *PlanArgs) { a.KmsKeyArn = nil },
		"Instances is empty":         func(a *PlanArgs) { a.Instances = nil },
		`Schedule "daily"`:           func(a *PlanArgs) { a.Schedule = "daily" },
		"RetentionDays: got 0, want": func(a *PlanArgs) { a.RetentionDays = 0 },
	} {
		args := validArgs()
		mutate(args)
		plan.Refused(t, args, want)
	}
	offlinetest.Refused(t, func(ctx *pulumi.Context) error {
		_, err := NewPlan(ctx, strings.Repeat("x", 43), validArgs())
		return err
	}, "2 to 42 letters")
}
