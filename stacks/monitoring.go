package stacks

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/monitoring"
)

// monitoring creates the Nagios host, the alarms and the alert topic, watching the database and the
// web tier's load balancer.
func (s *stack) monitoring() error {
	db := s.Database
	ids := map[string]pulumi.StringInput{}
	for h, id := range db.InstanceIds {
		ids[h] = id
	}
	var err error
	s.Monitoring, err = monitoring.NewMonitoring(s.ctx, s.MonitoringHost.Name, &monitoring.MonitoringArgs{
		InstanceType:     s.cfg.InstanceTypes.Monitoring,
		AmiId:            s.found.monitoringImage,
		ImageBuilderArn:  s.found.monitoringImageArn,
		Subnet:           s.Network.Tiers.App[0],
		SecurityGroupId:  s.Groups.Monitoring,
		EbsKeyArn:        s.Keys.EbsKeyArn,
		SecretsKeyArn:    s.Keys.SecretsKeyArn,
		AlertsKeyArn:     s.Keys.LogsKeyArn,
		LogsKeyArn:       s.Keys.LogsKeyArn,
		LogRetentionDays: s.cfg.LogRetentionDays,
		NetworkPaths:     s.Network.Paths,
		Database: monitoring.Database{
			Hosts:          db.Hosts,
			InstanceIds:    ids,
			BackupHost:     db.BackupHost,
			Cluster:        s.n.Name("db"),
			PasswordSecret: db.MonitoringSecretName,
			TLSSecret:      db.MonitoringTLSSecretName,
			SecretArns:     pulumi.StringArray{db.MonitoringSecretArn, db.MonitoringTLSSecretArn},
			SecretVersions: db.MonitoringSecretVersions,
			Witness:        db.Witness,
			Patroni:        db.Patroni,
			Drill: &monitoring.DrillLimits{
				MaxAge:           time.Duration(s.cfg.Database.DrillMaxAgeDays) * 24 * time.Hour,
				RestoreObjective: time.Duration(s.cfg.Database.RestoreObjectiveMinutes) * time.Minute,
			},
		},
		LoadBalancer: &monitoring.LoadBalancer{
			ArnSuffix: s.Web.LoadBalancerArnSuffix, TargetGroupArnSuffix: s.Web.TargetGroupArnSuffix,
			Domain: s.cfg.App.Domain, HealthPath: app.DefaultHealthPath,
		},
		Tiers:       []string{s.Web.Name, s.Engine.Name},
		AlertEmails: s.cfg.Monitoring.AlertEmails,
		AccountID:   s.account,
		Region:      s.cfg.Region,
		Tags:        s.patchedHostTags(),
	})
	return err
}
