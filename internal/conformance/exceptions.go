package conformance

// An Exception is a result of AWS's HIPAA conformance pack that the platform's design makes on purpose: the
// rule reports the resources NON_COMPLIANT, and the reason and the control that stands in its place are
// what the auditor is given. The policy pack's rule of the same control (PackRule) already treats those
// resources by the same design, so it needs no waiver; any other non-compliant result is a finding.
type Exception struct {
	// Rule is the conformance pack's rule.
	Rule string
	// Resources says which resources it reports.
	Resources string
	// Reason is why they cannot comply.
	Reason string
	// Control is what protects them instead.
	Control string
	// PackRule is the policy pack's rule of the same control, which checks Control before deployment.
	PackRule string
}

// Exceptions are the conformance pack's results the design makes.
var Exceptions = []Exception{
	{
		Rule:      "s3-default-encryption-kms",
		Resources: "each environment's load balancer log bucket ({project}-{stack}-lb-logs-{account})",
		Reason:    "Elastic Load Balancing delivers access logs only to a bucket encrypted with SSE-S3, not SSE-KMS (Elastic Load Balancing User Guide, access logs: bucket requirements).",
		Control:   "the bucket blocks public access, denies requests without TLS, is versioned and admits only the region's load balancing account, under its prefix, to write",
		PackRule:  "s3-bucket-sse-kms",
	},
	{
		Rule:      "s3-bucket-logging-enabled",
		Resources: "each stack's access-log bucket ({project}-{stack}-logs-{account})",
		Reason:    "the bucket that receives the other buckets' access logs cannot log its own access into itself without logging each delivery in another delivery, without end.",
		Control:   "CloudTrail logs every object read and write of it (S3 data events), and it is encrypted with the logs key, versioned and expired after the log retention",
		PackRule:  "s3-access-logging",
	},
	{
		Rule:      "secretsmanager-rotation-enabled-check",
		Resources: "the database's two secrets (the application's and the monitoring user's credentials)",
		Reason:    "the database hosts rotate them (PutSecretValue every 30 days, with an overlap in which old and new passwords both work), which Secrets Manager counts as a rotation but the rule does not, as it asks for a rotation Lambda.",
		Control:   "each secret's RotationDays tag and the hosts' timer rendered from the same constant; the overdue alarm of every cluster",
		PackRule:  "secrets-passwords-rotated",
	},
	{
		Rule:      "ec2-resources-protected-by-backup-plan",
		Resources: "the web and engine tiers' hosts, and the image builds' instances",
		Reason:    "they are immutable and hold no data: a new host is made from the image and the release, so a backup would restore nothing that is not already in the registry and the image pipeline.",
		Control:   "the database hosts, which hold the data, are in the AWS Backup plan; the releases are kept in ECR and the images are rebuilt by the pipelines",
		PackRule:  "backup-hosts-protected",
	},
	{
		Rule:      "ebs-in-backup-plan",
		Resources: "the root volumes of the web and engine tiers' hosts, and of the restore drill host",
		Reason:    "the same as ec2-resources-protected-by-backup-plan: their hosts are replaced, not restored, and the drill host is thrown away after each drill.",
		Control:   "the database hosts' volumes are backed up with them by AWS Backup, and their data by pgBackRest",
		PackRule:  "backup-hosts-protected",
	},
	{
		Rule:      "cloudtrail-s3-dataevents-enabled",
		Resources: "the account's trail, if the rule counts its one exclusion against it",
		Reason:    "the trail logs the data events of every bucket but its own, whose every log delivery would otherwise be logged in a delivery of its own; whether the rule accepts an advanced selector with that exclusion has not been seen.",
		Control:   "the trail bucket's access is logged to the access-log bucket, and its objects are validated by CloudTrail's digest files",
		PackRule:  "cloudtrail-s3-data-events",
	},
	{
		Rule:      "s3-bucket-default-lock-enabled",
		Resources: "every bucket but the database backups': each stack's access-log, load balancer log and data buckets, and the account's trail bucket",
		Reason:    "S3 refuses Object Lock on a bucket that receives server access logs (S3 User Guide, Object Lock considerations: buckets with Object Lock can't be destination buckets for server access logs), and Object Lock, once on, cannot be turned off; the other log buckets are shown intact otherwise, and the data bucket holds the application's records, which it must be able to amend and delete (45 CFR 164.526; its retention schedule), as a default retention would forbid for its term.",
		Control:   "every bucket is versioned, so no overwrite or delete loses a version; the backups, the copy that must survive, are locked in COMPLIANCE mode where the stack locks them (hipaa:backupObjectLock), with their retention within the lock; the trail's log files are validated by CloudTrail's digest files",
		PackRule:  "backup-retention",
	},
}
