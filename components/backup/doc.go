// Package backup declares AWS Backup for a stack's database hosts, beside pgBackRest: a vault encrypted
// with the stack's customer key whose recovery points no one may delete by hand, locked in compliance mode
// where the stack locks its backups, a daily plan kept for the stack's retention, and a selection of the
// hosts, each backed up with every volume attached to it. It carries the data backup plan and the
// integrity of backups (45 CFR 164.308(a)(7)(ii)(A), 164.310(d)(2)(iv), 164.312(c)(1)), and is what AWS
// Config's ec2-resources-protected-by-backup-plan and backup-recovery-point-manual-deletion-disabled check.
package backup
