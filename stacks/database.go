package stacks

import (
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/components/monitoring"
	"github.com/hipaa-platform/platform/internal/naming"
)

// placeMonitoring places the Nagios host in the first app subnet, before the database that admits it.
func (s *stack) placeMonitoring() (err error) {
	s.MonitoringHost, err = monitoring.Place(s.n.Name("monitoring"), s.Network.Tiers.App[0])
	return err
}

// database places the Postgres cluster in the data subnets, admits the application from the app
// subnets and monitoring from its host, and backs it up into the backup bucket.
func (s *stack) database() error {
	clients := make([]string, len(s.Network.Tiers.App))
	for i, sn := range s.Network.Tiers.App {
		clients[i] = sn.CIDR.String()
	}
	d := s.cfg.Database
	var err error
	s.Database, err = database.NewCluster(s.ctx, s.n.Name("db"), &database.ClusterArgs{
		InstanceType:           s.cfg.InstanceTypes.Database,
		AmiId:                  s.found.dbImage,
		ImageBuilderArn:        s.found.dbImageArn,
		Replicas:               d.Replicas,
		HighAvailability:       d.HighAvailability,
		SynchronousReplication: d.SynchronousReplication,
		Subnets:                s.Network.Tiers.Data,
		SecurityGroupId:        s.Groups.Database,
		ClientCIDRs:            clients,
		MonitoringHost:         &s.MonitoringHost,
		Volume:                 database.Volume{SizeGiB: d.VolumeSizeGiB, Iops: d.VolumeIops, ThroughputMiBps: d.VolumeThroughputMiBps},
		EbsKeyArn:              s.Keys.EbsKeyArn,
		SecretsKeyArn:          s.Keys.SecretsKeyArn,
		BackupKeyArn:           s.Keys.S3KeyArn,
		LogsKeyArn:             s.Keys.LogsKeyArn,
		LogRetentionDays:       s.cfg.LogRetentionDays,
		BackupKeyAlias:         s.Keys.AliasArns[kms.S3],
		BackupBucketName:       s.bucketName(naming.PurposeBackups),
		BackupBucketArn:        s.Buckets.Backups.Arn,
		BackupRetentionDays:    s.cfg.BackupRetentionDays,
		ArchiveTimeoutSeconds:  d.ArchiveTimeoutSeconds,
		CAGenerations:          d.CAGenerations,
		Region:                 s.cfg.Region,
		DisposableSecrets:      s.cfg.DataClass == naming.Synthetic,
		NetworkPaths:           s.Network.Paths,
		Drill: &database.DrillArgs{
			Schedule:           d.DrillSchedule,
			EvidenceBucketName: s.bucketName("logs"),
			EvidenceBucketArn:  s.Buckets.Logs.Arn,
			EvidenceKeyArn:     s.Keys.LogsKeyArn,
			EvidenceKeyAlias:   s.Keys.AliasArns[kms.Logs],
			LaunchTags:         s.cfg.DefaultTags,
		},
		Tags: s.patchedHostTags(),
	}, s.stateful())
	return err
}
