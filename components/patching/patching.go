package patching

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:patching:Patching"

// GroupTag is the tag that puts a host in a patch group; Patch Manager reads it under exactly this key
// ("PatchGroup" or "Patch Group"; only the first works with instance tags in the metadata).
const GroupTag = "PatchGroup"

// Defaults: the window every Sunday at 05:00 UTC for three hours, and the compliance scan every day at
// 03:00 UTC.
const (
	DefaultWindow = "cron(0 5 ? * SUN *)"
	DefaultScan   = "cron(0 3 * * ? *)"
	windowHours   = 3
)

// DebianProduct is Debian 12 as Patch Manager names it in a DEBIAN baseline's PRODUCT filter.
const DebianProduct = "Debian12"

// debianPriorities are every Debian package priority: the rule does not choose by priority, only the
// security repository decides (below).
var debianPriorities = []string{"Required", "Important", "Standard", "Optional", "Extra"}

// PatchingArgs configures a stack's patching.
type PatchingArgs struct {
	// Group is the stack's patch group, the value of every patched host's GroupTag. Required.
	Group string
	// Window is when the maintenance window opens: a Systems Manager cron expression of six fields, in UTC.
	// Optional; default DefaultWindow.
	Window string
	// Scan is when every host of the group reports its patch compliance. Optional; default DefaultScan.
	Scan string
	// InstallHosts are the Name tags of the hosts that install approved updates in the window, one at a
	// time, rebooting when an update needs it: the hosts whose order does not matter (the monitoring host,
	// a lone database host). A cluster's database hosts are scanned, not patched here: their order
	// (replicas, the backup host, a switchover, the primary) is `platformctl db patch`'s. Optional.
	InstallHosts []string
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Patching is a stack's patching.
type Patching struct {
	pulumi.ResourceState

	// BaselineId is the Debian baseline; WindowId the maintenance window.
	BaselineId pulumi.StringOutput `pulumi:"baselineId"`
	WindowId   pulumi.StringOutput `pulumi:"windowId"`
}

// CheckSchedule checks a window's or a scan's schedule: a cron expression of six fields.
func CheckSchedule(s string) error { return check.CronSchedule(s, DefaultWindow) }

func (a *PatchingArgs) validate(name string) error {
	var problems []string
	if a.Group == "" {
		problems = append(problems, "Group is required")
	}
	for _, f := range []struct{ field, v string }{{"Window", a.Window}, {"Scan", a.Scan}} {
		if f.v != "" {
			if err := CheckSchedule(f.v); err != nil {
				problems = append(problems, f.field+": "+err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("patching %q: %s", name, strings.Join(problems, "; "))
	}
	return nil
}

// NewPatching declares a stack's patching.
func NewPatching(ctx *pulumi.Context, name string, args *PatchingArgs, opts ...pulumi.ResourceOption) (*Patching, error) {
	if args == nil {
		return nil, fmt.Errorf("patching %q: args are required", name)
	}
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := *args
	if a.Window == "" {
		a.Window = DefaultWindow
	}
	if a.Scan == "" {
		a.Scan = DefaultScan
	}
	comp := &Patching{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	tags := func(n string) pulumi.StringMap { return naming.Tags(a.Tags, n) }

	// Debian's security updates: with non-security updates off, Patch Manager approves only the versions
	// in the security repository (debian-security), whatever their priority ("How security patches are
	// selected", Patch Manager). No approval delay: ApproveAfterDays is "not supported for Debian Server
	// or Ubuntu Server" (the PatchRule API reference); the window's day is the delay there is.
	baseline, err := ssm.NewPatchBaseline(ctx, name+"-debian12", &ssm.PatchBaselineArgs{
		Name:            pulumi.String(name + "-debian12"),
		Description:     pulumi.String("Debian 12's security updates, for the database and monitoring hosts"),
		OperatingSystem: pulumi.String("DEBIAN"),
		ApprovalRules: ssm.PatchBaselineApprovalRuleArray{ssm.PatchBaselineApprovalRuleArgs{
			PatchFilters: ssm.PatchBaselineApprovalRulePatchFilterArray{
				ssm.PatchBaselineApprovalRulePatchFilterArgs{Key: pulumi.String("PRODUCT"), Values: pulumi.ToStringArray([]string{DebianProduct})},
				ssm.PatchBaselineApprovalRulePatchFilterArgs{Key: pulumi.String("PRIORITY"), Values: pulumi.ToStringArray(debianPriorities)},
			},
			EnableNonSecurity: pulumi.Bool(false),
			ComplianceLevel:   pulumi.String("CRITICAL"),
		}},
		Tags: tags(name + "-debian12"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating %s's patch baseline: %w", name, err)
	}
	if _, err := ssm.NewPatchGroup(ctx, name+"-group", &ssm.PatchGroupArgs{
		BaselineId: baseline.ID(), PatchGroup: pulumi.String(a.Group),
	}, parent); err != nil {
		return nil, fmt.Errorf("registering %s's patch group: %w", name, err)
	}
	group := ssm.AssociationTargetArray{ssm.AssociationTargetArgs{Key: pulumi.String("tag:" + GroupTag), Values: pulumi.ToStringArray([]string{a.Group})}}
	// The scan installs nothing: it records each host's missing and installed updates as its patch
	// compliance, which Systems Manager's compliance view and the pack's audits read.
	if _, err := ssm.NewAssociation(ctx, name+"-scan", &ssm.AssociationArgs{
		AssociationName:    pulumi.String(name + "-patch-scan"),
		Name:               pulumi.String("AWS-RunPatchBaseline"),
		Parameters:         pulumi.StringMap{"Operation": pulumi.String("Scan")},
		ScheduleExpression: pulumi.String(a.Scan),
		Targets:            group,
		ComplianceSeverity: pulumi.String("CRITICAL"),
		MaxConcurrency:     pulumi.String("50%"),
		MaxErrors:          pulumi.String("0"),
		Tags:               tags(name + "-scan"),
	}, parent); err != nil {
		return nil, fmt.Errorf("scheduling %s's compliance scan: %w", name, err)
	}
	window, err := ssm.NewMaintenanceWindow(ctx, name+"-window", &ssm.MaintenanceWindowArgs{
		Name:                     pulumi.String(name + "-patching"),
		Description:              pulumi.String("When the stack's hosts install Debian's security updates"),
		Schedule:                 pulumi.String(a.Window),
		ScheduleTimezone:         pulumi.String("Etc/UTC"),
		Duration:                 pulumi.Int(windowHours),
		Cutoff:                   pulumi.Int(1),
		AllowUnassociatedTargets: pulumi.Bool(false),
		Tags:                     tags(name + "-window"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating %s's maintenance window: %w", name, err)
	}
	if len(a.InstallHosts) > 0 {
		target, err := ssm.NewMaintenanceWindowTarget(ctx, name+"-install", &ssm.MaintenanceWindowTargetArgs{
			WindowId:     window.ID(),
			Name:         pulumi.String(name + "-install"),
			Description:  pulumi.String("The hosts that install updates in the window, in any order"),
			ResourceType: pulumi.String("INSTANCE"),
			Targets: ssm.MaintenanceWindowTargetTargetArray{
				ssm.MaintenanceWindowTargetTargetArgs{Key: pulumi.String("tag:" + GroupTag), Values: pulumi.ToStringArray([]string{a.Group})},
				ssm.MaintenanceWindowTargetTargetArgs{Key: pulumi.String("tag:Name"), Values: pulumi.ToStringArray(a.InstallHosts)},
			},
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("targeting %s's window: %w", name, err)
		}
		if _, err := ssm.NewMaintenanceWindowTask(ctx, name+"-install", &ssm.MaintenanceWindowTaskArgs{
			WindowId:       window.ID(),
			Name:           pulumi.String(name + "-install"),
			Description:    pulumi.String("Install the approved updates, rebooting where one needs it, one host at a time"),
			TaskType:       pulumi.String("RUN_COMMAND"),
			TaskArn:        pulumi.String("AWS-RunPatchBaseline"),
			Priority:       pulumi.Int(1),
			MaxConcurrency: pulumi.String("1"),
			MaxErrors:      pulumi.String("0"),
			CutoffBehavior: pulumi.String("CONTINUE_TASK"),
			Targets: ssm.MaintenanceWindowTaskTargetArray{ssm.MaintenanceWindowTaskTargetArgs{
				Key: pulumi.String("WindowTargetIds"), Values: pulumi.StringArray{target.ID()},
			}},
			TaskInvocationParameters: &ssm.MaintenanceWindowTaskTaskInvocationParametersArgs{
				RunCommandParameters: &ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersArgs{
					Parameters: ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersParameterArray{
						ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersParameterArgs{Name: pulumi.String("Operation"), Values: pulumi.ToStringArray([]string{"Install"})},
						ssm.MaintenanceWindowTaskTaskInvocationParametersRunCommandParametersParameterArgs{Name: pulumi.String("RebootOption"), Values: pulumi.ToStringArray([]string{"RebootIfNeeded"})},
					},
					TimeoutSeconds: pulumi.Int(3600),
				},
			},
		}, parent); err != nil {
			return nil, fmt.Errorf("declaring %s's install task: %w", name, err)
		}
	}
	comp.BaselineId = baseline.ID().ToStringOutput()
	comp.WindowId = window.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"baselineId": comp.BaselineId, "windowId": comp.WindowId}); err != nil {
		return nil, err
	}
	return comp, nil
}
