package database

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// DrillArgs schedule the cluster's restore drill: a throwaway dedicated host, an Auto Scaling group of
// size zero that a scheduled action raises to one, restores the newest backup to a recent point in
// time, checks it, publishes the result and writes the evidence, and scales itself back to zero.
type DrillArgs struct {
	// Schedule is when a drill starts: the scheduled action's recurrence, a cron expression of five
	// fields in UTC ("0 4 * * 0" is Sundays at 04:00). Required.
	Schedule string
	// EvidenceBucketName, EvidenceBucketArn and EvidenceKeyAlias are the log bucket the evidence records
	// go to, under its retention, and the alias of the key they are encrypted with; EvidenceKeyArn is
	// that key. Required.
	EvidenceBucketName string
	EvidenceBucketArn  pulumi.StringInput
	EvidenceKeyArn     pulumi.StringInput
	EvidenceKeyAlias   string
	// TargetAgeSeconds is how long before a drill its restore's target time is: the restore needs the
	// WAL up to the target archived, and the newest backup done before it. Optional; default 600.
	TargetAgeSeconds int
	// LaunchTags are added to the drill host and its volume, beyond the cluster's Tags: the provider's
	// default tags (the stack's Owner, a demo's ExpiresAt) reach the launch template, not what the group
	// launches. Optional.
	LaunchTags map[string]string
}

// Restore drills: the copy's target time, the canary the primary writes and the drill checks, and
// where the copy is restored on the drill host (its root volume, sized for the whole cluster).
const (
	drillTargetAgeSeconds = 600
	// CanaryTable is the application database's table of the canary rows, one a minute.
	CanaryTable      = "hipaa_canary"
	canaryTolerance  = 120
	drillDir         = "/var/lib/hipaa-drill"
	drillPort        = 55432
	drillMarkerKey   = "drills/last-passed"
	drillEvidenceDir = "drills"
)

var cronFields = regexp.MustCompile(`^[0-9*,/-]+( [0-9*,/-]+){4}$`)

// CheckSchedule checks a drill's schedule: a cron expression of five fields, as an Auto Scaling
// scheduled action's recurrence takes it.
func CheckSchedule(s string) error {
	if !cronFields.MatchString(s) {
		return fmt.Errorf("got %q, want a cron expression of five fields (minute hour day month weekday), such as \"0 4 * * 0\"", s)
	}
	return nil
}

func (d *DrillArgs) validate(name string) error {
	switch {
	case CheckSchedule(d.Schedule) != nil:
		return fmt.Errorf("database %q: Drill.Schedule: %w", name, CheckSchedule(d.Schedule))
	case d.TargetAgeSeconds < 0:
		return fmt.Errorf("database %q: Drill.TargetAgeSeconds %d: want 0 (for %d) or more", name, d.TargetAgeSeconds, drillTargetAgeSeconds)
	case d.EvidenceBucketName == "" || d.EvidenceBucketArn == nil || d.EvidenceKeyArn == nil:
		return fmt.Errorf("database %q: Drill.EvidenceBucketName, EvidenceBucketArn and EvidenceKeyArn are required", name)
	case !regexp.MustCompile(`^arn:[a-z-]+:kms:[a-z0-9-]+:[0-9]{12}:alias/.+$`).MatchString(d.EvidenceKeyAlias):
		return fmt.Errorf("database %q: Drill.EvidenceKeyAlias %q is not a KMS alias ARN", name, d.EvidenceKeyAlias)
	}
	return nil
}

// DrillEvidenceTag is the drill group's tag naming where its evidence records are.
const DrillEvidenceTag = "DrillEvidence"

// DrillGroup is the drill host's Auto Scaling group, named before deployment so that the host may
// scale only its own group and platformctl db drill can raise it.
func DrillGroup(cluster string) string { return cluster + "-drill" }

// DrillEvidence is where a cluster's drills write their evidence records: one JSON record a drill,
// under a date path, in the log bucket.
func DrillEvidence(bucket, cluster string) string {
	return "s3://" + bucket + "/" + drillEvidenceDir + "/" + cluster + "/"
}

// drillMarker is the object a passed drill writes its time to, in the cluster's backup prefix.
func drillMarker(a *ClusterArgs, cluster string) string {
	return "s3://" + a.BackupBucketName + "/" + cluster + "/" + drillMarkerKey
}

// newDrill creates the drill host's role, launch template, group of size zero and schedule. p are the
// first host's parameters, whose repository the drill reads.
func newDrill(ctx *pulumi.Context, name string, a *ClusterArgs, p hostconfig.Params, parent pulumi.ResourceOption) (*autoscaling.Group, error) {
	d := a.Drill
	host, group := name+"-drill", DrillGroup(name)
	p.Name, p.Role, p.HA, p.Monitoring, p.CanaryTable, p.Rotation = host, hostconfig.Primary, nil, nil, "", nil
	p.Backup.Scheduled, p.Backup.FromStandby, p.Backup.Peers, p.Backup.TLSServer = false, false, nil, nil
	p.Drill = &hostconfig.Drill{
		Cluster: name, Namespace: MetricsNamespace, Dir: drillDir, Port: drillPort,
		TargetAgeSeconds: cmp.Or(d.TargetAgeSeconds, drillTargetAgeSeconds), CanaryTable: CanaryTable, CanaryToleranceSeconds: canaryTolerance,
		EvidenceBucket: d.EvidenceBucketName, EvidencePrefix: drillEvidenceDir + "/" + name, EvidenceKeyID: d.EvidenceKeyAlias,
		AsPostgres: "runuser -u postgres --", Group: group,
		MarkerBucket: a.BackupBucketName, MarkerKey: name + "/" + drillMarkerKey,
	}
	userData, err := hostconfig.DrillHost(p)
	if err != nil {
		return nil, err
	}
	partition := iampolicy.Partition(a.Region)
	policy := pulumi.All(a.BackupBucketArn, a.BackupKeyArn, d.EvidenceBucketArn, d.EvidenceKeyArn).ApplyT(func(v []any) string {
		bucket, backupKey, evidence, evidenceKey := v[0].(string), v[1].(string), v[2].(string), v[3].(string)
		return iampolicy.New(
			// The repository, read only; its one write is the time a drill passed.
			iampolicy.Allow("ListBackupBucket", []string{"s3:ListBucket"}, []string{bucket}),
			iampolicy.Allow("ReadBackups", []string{"s3:GetObject"}, []string{bucket + "/" + name + "/pgbackrest/*"}),
			iampolicy.Allow("MarkPassedDrill", []string{"s3:PutObject"}, []string{bucket + "/" + name + "/" + drillMarkerKey}),
			iampolicy.Allow("UseBackupKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{backupKey}).
				When("StringEquals", "kms:ViaService", "s3."+a.Region+".amazonaws.com"),
			// Its evidence, written and never read back or deleted.
			iampolicy.Allow("WriteEvidence", []string{"s3:PutObject"}, []string{evidence + "/" + drillEvidenceDir + "/" + name + "/*"}),
			iampolicy.Allow("EncryptEvidence", []string{"kms:GenerateDataKey"}, []string{evidenceKey}).
				When("StringEquals", "kms:ViaService", "s3."+a.Region+".amazonaws.com"),
			iampolicy.Allow("PublishDrillMetrics", []string{"cloudwatch:PutMetricData"}, []string{"*"}).
				When("StringEquals", "cloudwatch:namespace", MetricsNamespace),
			// Its own group back to zero, and no other: the group's name is fixed before deployment.
			iampolicy.Allow("ScaleInOwnGroup", []string{"autoscaling:SetDesiredCapacity"},
				[]string{fmt.Sprintf("arn:%s:autoscaling:%s:*:autoScalingGroup:*:autoScalingGroupName/%s", partition, a.Region, group)}),
		).JSON()
	}).(pulumi.StringOutput)
	identity, err := hostrole.New(ctx, host, "restore drill host of "+name, policy, a.Tags, parent)
	if err != nil {
		return nil, err
	}
	// Its role in the template too, beside the group's (which wins, and is the same), for the checks of
	// what a host of the template boots from.
	launched := naming.Tags(a.Tags, host)
	launched[naming.RoleTag] = pulumi.String("database-drill")
	for k, v := range d.LaunchTags {
		launched[k] = pulumi.String(v)
	}
	template, err := identity.NewLaunchTemplate(ctx, host, hostrole.LaunchTemplate{
		Description: pulumi.String("restore drill host of " + name),
		Ami:         a.AmiId, InstanceType: a.InstanceType, SecurityGroupId: a.SecurityGroupId,
		// The copy is restored onto the root volume: room for the whole cluster's data.
		EbsKeyArn: a.EbsKeyArn, RootVolumeGiB: rootVolumeGiB + a.Volume.SizeGiB,
		UserData:   pulumi.String(userData),
		LaunchTags: launched, Tags: naming.Tags(a.Tags, host), ImageBuilderArn: a.ImageBuilderArn,
	}, parent)
	if err != nil {
		return nil, err
	}
	var subnets pulumi.StringArray
	for _, s := range a.Subnets {
		subnets = append(subnets, s.ID)
	}
	// The group names where its evidence is, for the audit report; its hosts carry their name and role.
	tags := autoscaling.GroupTagArray{}
	for _, t := range [][2]string{{"Name", host}, {naming.RoleTag, "database-drill"}, {DrillEvidenceTag, DrillEvidence(d.EvidenceBucketName, name)}} {
		tags = append(tags, autoscaling.GroupTagArgs{Key: pulumi.String(t[0]), Value: pulumi.String(t[1]), PropagateAtLaunch: pulumi.Bool(t[0] != DrillEvidenceTag)})
	}
	// The host calls AWS from its first boot: it waits for its permissions and the network's paths. The
	// group's size is the schedule's and the host's own to change, never an update's.
	after := append(identity.Permissions(), a.NetworkPaths...)
	g, err := autoscaling.NewGroup(ctx, group, &autoscaling.GroupArgs{
		Name:               pulumi.String(group),
		MinSize:            pulumi.Int(0),
		MaxSize:            pulumi.Int(1),
		DesiredCapacity:    pulumi.Int(0),
		VpcZoneIdentifiers: subnets,
		LaunchTemplate: autoscaling.GroupLaunchTemplateArgs{
			Id:      template.ID(),
			Version: template.LatestVersion.ApplyT(func(v int) string { return strconv.Itoa(v) }).(pulumi.StringOutput),
		},
		HealthCheckType: pulumi.String("EC2"),
		Tags:            tags,
	}, parent, pulumi.IgnoreChanges([]string{"desiredCapacity"}), pulumi.DependsOn(after))
	if err != nil {
		return nil, fmt.Errorf("creating the drill's Auto Scaling group: %w", err)
	}
	if _, err := autoscaling.NewSchedule(ctx, group, &autoscaling.ScheduleArgs{
		AutoscalingGroupName: g.Name,
		ScheduledActionName:  pulumi.String(group + "-scheduled"),
		Recurrence:           pulumi.String(d.Schedule),
		TimeZone:             pulumi.String("Etc/UTC"),
		MinSize:              pulumi.Int(0),
		MaxSize:              pulumi.Int(1),
		DesiredCapacity:      pulumi.Int(1),
	}, parent); err != nil {
		return nil, fmt.Errorf("scheduling the drill: %w", err)
	}
	return g, nil
}
