package backup

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:backup:Plan"

// The AWS managed policies that let AWS Backup back up and restore the resources it is given.
const (
	BackupPolicy  = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
	RestorePolicy = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
)

// DefaultSchedule is when the plan backs up: daily at 05:00 UTC, after the night's base backup.
const DefaultSchedule = "cron(0 5 * * ? *)"

// lockCoolingOffDays is how long a vault lock may still be changed or removed after it is set: AWS
// Backup's shortest, three days (PutBackupVaultLockConfiguration, ChangeableForDays), after which the lock
// is in compliance mode and no one, the root user included, can remove it or shorten a recovery point.
const lockCoolingOffDays = 3

// ProtectedActions are what the vault's policy refuses everyone: deleting a recovery point, shortening
// its lifecycle, and changing the policy itself (AWS Config's backup-recovery-point-manual-deletion-disabled).
var ProtectedActions = []string{"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle", "backup:PutBackupVaultAccessPolicy"}

// PlanArgs configures the plan.
type PlanArgs struct {
	// AccountID and Region are where the hosts run, to name their ARNs. Required.
	AccountID, Region string
	// KmsKeyArn encrypts the vault. Required.
	KmsKeyArn pulumi.StringInput
	// RetentionDays is how long a recovery point is kept. Required; the stack's backup retention.
	RetentionDays int
	// Lock locks the vault in compliance mode, so that no recovery point is deleted before RetentionDays.
	// Optional; default false. Once its three days of cooling off pass, the lock cannot be removed and
	// the vault cannot be deleted while it holds recovery points.
	Lock bool
	// Instances are the IDs of the hosts to back up, each with its attached volumes. Required, at least one.
	Instances []pulumi.StringInput
	// Schedule is the plan's cron expression. Optional; default DefaultSchedule.
	Schedule string
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Plan is a stack's AWS Backup plan.
type Plan struct {
	pulumi.ResourceState

	// VaultName is the vault the recovery points are kept in.
	VaultName pulumi.StringOutput `pulumi:"vaultName"`
	// PlanId is the plan's ID.
	PlanId pulumi.StringOutput `pulumi:"planId"`
}

var (
	schedule = regexp.MustCompile(`^cron\([^()]+\)$`)
	// backupName is what AWS Backup takes as the name of a plan and a selection (1 to 50 characters) and,
	// with Pulumi's suffix of 8, a vault (2 to 50), kept to letters, digits, hyphens and underscores.
	backupName = regexp.MustCompile(`^[A-Za-z0-9_-]{2,42}$`)
)

func (a *PlanArgs) validate(name string) error {
	switch {
	case a == nil:
		return fmt.Errorf("backup %q: args are required", name)
	case !backupName.MatchString(name):
		return fmt.Errorf("backup %q: the name must be 2 to 42 letters, digits, hyphens and underscores: AWS Backup takes 50 for a vault, which is the name and Pulumi's suffix of 8", name)
	case !check.IsAccountID(a.AccountID):
		return fmt.Errorf("backup %q: AccountID %q is not a 12-digit AWS account ID", name, a.AccountID)
	case a.Region == "":
		return fmt.Errorf("backup %q: Region is required", name)
	case a.KmsKeyArn == nil:
		return fmt.Errorf("backup %q: KmsKeyArn is required: the vault is always encrypted with a customer key", name)
	case len(a.Instances) == 0:
		return fmt.Errorf("backup %q: Instances is empty; name at least one host to back up", name)
	case a.Schedule != "" && !schedule.MatchString(a.Schedule):
		return fmt.Errorf("backup %q: Schedule %q is not a cron expression such as %s", name, a.Schedule, DefaultSchedule)
	}
	if err := check.BackupRetention(a.RetentionDays); err != nil {
		return fmt.Errorf("backup %q: RetentionDays: %w", name, err)
	}
	return nil
}

// NewPlan creates the vault, its policy and lock, the plan and its selection of the hosts.
func NewPlan(ctx *pulumi.Context, name string, args *PlanArgs, opts ...pulumi.ResourceOption) (*Plan, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := *args
	if a.Schedule == "" {
		a.Schedule = DefaultSchedule
	}
	comp := &Plan{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	partition := iampolicy.Partition(a.Region)

	// The vault, its policy and its lock outlive the stack: destroying an environment must not take its
	// recovery points before their retention (nor can it: AWS Backup refuses to delete a vault that holds
	// any, and the policy refuses to delete them). Its name is Pulumi's, the component's and a random
	// suffix, so the stack can be made again beside the vault it left.
	keep := pulumi.RetainOnDelete(true)
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{
		KmsKeyArn: a.KmsKeyArn,
		Tags:      naming.Tags(a.Tags, name),
	}, parent, keep)
	if err != nil {
		return nil, fmt.Errorf("creating the backup vault: %w", err)
	}
	policy := vault.Arn.ApplyT(func(arn string) string {
		return iampolicy.New(iampolicy.Deny("NoManualDeletion", ProtectedActions, []string{arn}).ForAnyAWS()).JSON()
	}).(pulumi.StringOutput)
	if _, err := backup.NewVaultPolicy(ctx, name, &backup.VaultPolicyArgs{
		BackupVaultName: vault.Name, Policy: policy,
	}, parent, keep); err != nil {
		return nil, fmt.Errorf("setting the backup vault's policy: %w", err)
	}
	if a.Lock {
		if _, err := backup.NewVaultLockConfiguration(ctx, name, &backup.VaultLockConfigurationArgs{
			BackupVaultName:   vault.Name,
			MinRetentionDays:  pulumi.Int(a.RetentionDays),
			ChangeableForDays: pulumi.Int(lockCoolingOffDays),
		}, parent, keep); err != nil {
			return nil, fmt.Errorf("locking the backup vault: %w", err)
		}
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(iampolicy.New(
			iampolicy.Allow("BackupAssume", []string{"sts:AssumeRole"}, nil).
				ForService("backup.amazonaws.com").
				When("StringEquals", "aws:SourceAccount", a.AccountID),
		).JSON()),
		Description: pulumi.String("Lets AWS Backup back up and restore " + name + "'s hosts"),
		Tags:        naming.Tags(a.Tags, name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the backup role: %w", err)
	}
	var attached []pulumi.Resource
	for _, p := range []struct{ suffix, arn string }{{"backup", BackupPolicy}, {"restore", RestorePolicy}} {
		at, err := iam.NewRolePolicyAttachment(ctx, name+"-"+p.suffix, &iam.RolePolicyAttachmentArgs{
			Role: role.Name, PolicyArn: pulumi.String(p.arn),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("attaching %s: %w", p.arn, err)
		}
		attached = append(attached, at)
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{
		Name: pulumi.String(name),
		Rules: backup.PlanRuleArray{
			backup.PlanRuleArgs{
				RuleName:          pulumi.String("daily"),
				TargetVaultName:   vault.Name,
				Schedule:          pulumi.String(a.Schedule),
				StartWindow:       pulumi.Int(60),
				CompletionWindow:  pulumi.Int(360),
				Lifecycle:         backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(a.RetentionDays)},
				RecoveryPointTags: naming.Tags(a.Tags, name),
			},
		},
		Tags: naming.Tags(a.Tags, name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the backup plan: %w", err)
	}
	resources := pulumi.StringArray{}
	for _, id := range a.Instances {
		resources = append(resources, pulumi.Sprintf("arn:%s:ec2:%s:%s:instance/%s", partition, a.Region, a.AccountID, id))
	}
	if _, err := backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name:       pulumi.String(name),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  resources,
	}, parent, pulumi.DependsOn(attached)); err != nil {
		return nil, fmt.Errorf("selecting the hosts to back up: %w", err)
	}

	comp.VaultName = vault.Name
	comp.PlanId = plan.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"vaultName": comp.VaultName, "planId": comp.PlanId}); err != nil {
		return nil, err
	}
	return comp, nil
}
