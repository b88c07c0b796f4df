package stacks

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/backup"
)

// backups puts the database hosts in an AWS Backup plan beside pgBackRest, kept for the stack's backup
// retention in a vault of the EBS key, locked where the stack locks its backups. A stack that may be
// force-destroyed (a demo of synthetic data) has none: its vault's recovery points could not be deleted,
// and neither could the vault.
func (s *stack) backups() error {
	if s.cfg.ForceDestroy {
		return nil
	}
	var hosts []pulumi.StringInput
	for _, h := range s.Database.Hosts {
		hosts = append(hosts, s.Database.InstanceIds[h.Name])
	}
	plan, err := backup.NewPlan(s.ctx, s.n.Name("backup"), &backup.PlanArgs{
		AccountID:     s.account,
		Region:        s.cfg.Region,
		KmsKeyArn:     s.Keys.EbsKeyArn,
		RetentionDays: s.cfg.BackupRetentionDays,
		Lock:          s.cfg.BackupObjectLock,
		Instances:     hosts,
		Tags:          s.n.Tags(),
	}, s.stateful())
	s.Backup = plan
	return err
}
