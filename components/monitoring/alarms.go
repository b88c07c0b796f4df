package monitoring

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/naming"
)

// alarm is one CloudWatch alarm, before it is created.
type alarm struct {
	name, description string
	namespace, metric string
	dimensions        pulumi.StringMap
	statistic         string
	period, periods   int
	comparison        string
	threshold         float64
	// missing is how missing data counts: "breaching" where silence itself is the fault (a replica or
	// backup that stopped reporting), "missing" otherwise.
	missing string
	// once notifies when the alarm fires and not when it recovers: an event, not a condition.
	once bool
}

// newAlarms creates every alarm, each notifying the topic when it fires and when it recovers, and
// returns their names.
func newAlarms(ctx *pulumi.Context, name string, a *MonitoringArgs, self pulumi.StringOutput, topic pulumi.StringOutput, parent pulumi.ResourceOption) ([]string, error) {
	var alarms []alarm
	hosts := map[string]pulumi.StringInput{name: self}
	order := []string{name}
	for _, h := range a.Database.Hosts {
		hosts[h.Name] = a.Database.InstanceIds[h.Name]
		order = append(order, h.Name)
	}
	for _, h := range order {
		id := hosts[h]
		alarms = append(alarms,
			alarm{name: h + "-status", description: h + " fails its EC2 status checks (the instance or its host is impaired)",
				namespace: "AWS/EC2", metric: "StatusCheckFailed", dimensions: pulumi.StringMap{"InstanceId": id},
				statistic: "Maximum", period: 60, periods: 2, comparison: "GreaterThanOrEqualToThreshold", threshold: 1, missing: "breaching"},
			alarm{name: h + "-cpu", description: h + " has used more than 80% CPU for 15 minutes",
				namespace: "AWS/EC2", metric: "CPUUtilization", dimensions: pulumi.StringMap{"InstanceId": id},
				statistic: "Average", period: 300, periods: 3, comparison: "GreaterThanThreshold", threshold: 80, missing: "missing"},
			alarm{name: h + "-disk", description: h + "'s root file system is more than 85% full (CloudWatch agent)",
				namespace: "CWAgent", metric: "disk_used_percent", dimensions: pulumi.StringMap{"InstanceId": id, "path": pulumi.String("/")},
				statistic: "Maximum", period: 300, periods: 1, comparison: "GreaterThanThreshold", threshold: 85, missing: "breaching"},
		)
		// Every run of a host's converge unit (at boot, each quarter hour, after each change) publishes
		// Converged; two half-hours without a successful run, or without any run, is a host whose setup
		// has not converged.
		alarms = append(alarms, alarm{name: h + "-converged", description: h + " has not converged to its configuration for 30 minutes (its converge log is in its log group)",
			namespace: converge.Namespace, metric: "Converged", dimensions: pulumi.StringMap{"Host": pulumi.String(h)},
			statistic: "Maximum", period: 900, periods: 2, comparison: "LessThanThreshold", threshold: 1, missing: "breaching"})
		if h != name {
			alarms = append(alarms, alarm{name: h + "-data-disk", description: h + "'s Postgres volume is more than 80% full (CloudWatch agent)",
				namespace: "CWAgent", metric: "disk_used_percent", dimensions: pulumi.StringMap{"InstanceId": id, "path": pulumi.String("/var/lib/postgresql")},
				statistic: "Maximum", period: 300, periods: 1, comparison: "GreaterThanThreshold", threshold: 80, missing: "breaching"})
		}
	}
	// An application tier's hosts publish under the tier's name: the lowest value is the host furthest
	// behind.
	for _, t := range a.Tiers {
		alarms = append(alarms, alarm{name: t + "-converged", description: "a host of " + t + " has not converged for 30 minutes: its container may not run (its converge log is in the tier's log group)",
			namespace: converge.Namespace, metric: "Converged", dimensions: pulumi.StringMap{"Host": pulumi.String(t)},
			statistic: "Minimum", period: 900, periods: 2, comparison: "LessThanThreshold", threshold: 1, missing: "breaching"})
	}
	cluster := pulumi.String(a.Database.Cluster)
	lagged, publisher := a.Database.Hosts[1:], "the primary"
	if a.Database.Patroni {
		// Any host may be the primary, which publishes 0 for itself: every host has its alarm.
		lagged, publisher = a.Database.Hosts, "whichever host is primary"
		alarms = append(alarms, alarm{name: a.Database.Cluster + "-promoted",
			description: "Patroni promoted a member of " + a.Database.Cluster + " to primary (a failover, or a switchover): `platformctl db status` says which, and why the old primary left",
			namespace:   database.MetricsNamespace, metric: "Promotions", dimensions: pulumi.StringMap{"Cluster": cluster},
			statistic: "Sum", period: 60, periods: 1, comparison: "GreaterThanOrEqualToThreshold", threshold: 1, missing: "notBreaching", once: true})
	}
	// The primary rotates the clients' credentials when they are due (a daily check), whether Patroni
	// elects it or it is the cluster's one host; two days past due is a rotation that has stopped happening.
	overdue := database.RotationEveryDays + 2
	for _, c := range database.RotatedCredentials {
		alarms = append(alarms, alarm{name: a.Database.Cluster + "-" + c + "-credential-overdue",
			description: fmt.Sprintf("the %s credential of %s has not rotated for %d days: the primary's hipaa-db-rotate.service journal says why, and platformctl rotate --what %s rotates it now (published by %s)",
				c, a.Database.Cluster, overdue, c, publisher),
			namespace: database.MetricsNamespace, metric: "CredentialAgeSeconds", dimensions: pulumi.StringMap{"Cluster": cluster, "Credential": pulumi.String(c)},
			statistic: "Maximum", period: 300, periods: 3, comparison: "GreaterThanThreshold", threshold: float64(overdue * 86400), missing: "breaching"})
	}
	for _, h := range lagged {
		alarms = append(alarms, alarm{name: h.Name + "-replication-lag",
			description: fmt.Sprintf("%s is more than %d bytes of WAL behind the primary, or not streaming (published by %s)", h.Name, a.Thresholds.ReplicationLagCrit, publisher),
			namespace:   database.MetricsNamespace, metric: "ReplicationLagBytes", dimensions: pulumi.StringMap{"Cluster": cluster, "Replica": pulumi.String(h.Name)},
			statistic: "Maximum", period: 60, periods: 5, comparison: "GreaterThanThreshold", threshold: float64(a.Thresholds.ReplicationLagCrit), missing: "breaching"})
	}
	alarms = append(alarms, alarm{name: a.Database.Cluster + "-backup-age",
		description: fmt.Sprintf("the newest backup of %s is older than %s (published by %s)", a.Database.Cluster, a.Thresholds.BackupMaxAge, a.Database.BackupHost),
		namespace:   database.MetricsNamespace, metric: "BackupAgeSeconds", dimensions: pulumi.StringMap{"Cluster": cluster},
		statistic: "Maximum", period: 300, periods: 2, comparison: "GreaterThanThreshold", threshold: a.Thresholds.BackupMaxAge.Seconds(), missing: "breaching"})
	if d := a.Database.Drill; d != nil {
		alarms = append(alarms,
			alarm{name: a.Database.Cluster + "-drill-failed",
				description: "a restore drill of " + a.Database.Cluster + " failed: its evidence record says at which step (platformctl db drill runs another)",
				namespace:   database.MetricsNamespace, metric: "DrillSucceeded", dimensions: pulumi.StringMap{"Cluster": cluster},
				statistic: "Minimum", period: 3600, periods: 1, comparison: "LessThanThreshold", threshold: 1, missing: "notBreaching"},
			alarm{name: a.Database.Cluster + "-drill-overdue",
				description: fmt.Sprintf("no restore drill of %s has passed for %s: its backups are untested (published by %s)", a.Database.Cluster, d.MaxAge, a.Database.BackupHost),
				namespace:   database.MetricsNamespace, metric: "DrillAgeSeconds", dimensions: pulumi.StringMap{"Cluster": cluster},
				statistic: "Maximum", period: 300, periods: 3, comparison: "GreaterThanThreshold", threshold: d.MaxAge.Seconds(), missing: "breaching"},
			alarm{name: a.Database.Cluster + "-restore-objective",
				description: fmt.Sprintf("a restore drill of %s took longer than the %s restore objective", a.Database.Cluster, d.RestoreObjective),
				namespace:   database.MetricsNamespace, metric: "RestoreSeconds", dimensions: pulumi.StringMap{"Cluster": cluster},
				statistic: "Maximum", period: 3600, periods: 1, comparison: "GreaterThanThreshold", threshold: d.RestoreObjective.Seconds(), missing: "notBreaching"},
		)
	}
	if lb := a.LoadBalancer; lb != nil {
		lbDims := pulumi.StringMap{"LoadBalancer": lb.ArnSuffix}
		alarms = append(alarms,
			alarm{name: name + "-lb-5xx", description: "the load balancer answered more than 10 requests with its own 5xx in 5 minutes",
				namespace: "AWS/ApplicationELB", metric: "HTTPCode_ELB_5XX_Count", dimensions: lbDims,
				statistic: "Sum", period: 300, periods: 1, comparison: "GreaterThanThreshold", threshold: 10, missing: "notBreaching"},
			alarm{name: name + "-target-5xx", description: "the web tier answered more than 10 requests with 5xx in 5 minutes",
				namespace: "AWS/ApplicationELB", metric: "HTTPCode_Target_5XX_Count", dimensions: lbDims,
				statistic: "Sum", period: 300, periods: 1, comparison: "GreaterThanThreshold", threshold: 10, missing: "notBreaching"},
			alarm{name: name + "-unhealthy-targets", description: "a web tier host has failed the load balancer's health check for 2 minutes",
				namespace: "AWS/ApplicationELB", metric: "UnHealthyHostCount", dimensions: pulumi.StringMap{"LoadBalancer": lb.ArnSuffix, "TargetGroup": lb.TargetGroupArnSuffix},
				statistic: "Maximum", period: 60, periods: 2, comparison: "GreaterThanThreshold", threshold: 0, missing: "breaching"},
		)
	}
	var names []string
	for _, al := range alarms {
		recovered := pulumi.Array{topic}
		if al.once {
			recovered = nil
		}
		if _, err := cloudwatch.NewMetricAlarm(ctx, al.name, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(al.name),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dimensions,
			Statistic:          pulumi.String(al.statistic),
			Period:             pulumi.Int(al.period),
			EvaluationPeriods:  pulumi.Int(al.periods),
			ComparisonOperator: pulumi.String(al.comparison),
			Threshold:          pulumi.Float64(al.threshold),
			TreatMissingData:   pulumi.String(al.missing),
			ActionsEnabled:     pulumi.Bool(true),
			AlarmActions:       pulumi.Array{topic},
			// AWS Config's cloudwatch-alarm-action-check, with the HIPAA pack's parameters, asks for an
			// action on INSUFFICIENT_DATA too: an alarm whose data stopped watches nothing.
			InsufficientDataActions: pulumi.Array{topic},
			OkActions:               recovered,
			Tags:                    naming.Tags(a.Tags, al.name),
		}, parent); err != nil {
			return nil, fmt.Errorf("creating alarm %s: %w", al.name, err)
		}
		names = append(names, al.name)
	}
	return names, nil
}
