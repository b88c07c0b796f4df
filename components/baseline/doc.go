// Package baseline declares the account-wide safeguards that exist once per AWS account, so only the
// stack configured as its account's baseline creates them: a multi-region CloudTrail trail with log file
// validation, encrypted with the logs key and delivered to CloudWatch Logs and to its own locked-down
// bucket (audit controls and integrity, 45 CFR 164.312(b), 164.312(c)(2)); EBS encryption by default with
// the platform's EBS key (164.312(a)(2)(iv)); the account-level S3 public access block (164.312(a)(1)); an
// IAM password policy (164.308(a)(5)(ii)(D)); and a GuardDuty detector (164.308(a)(1)(ii)(D),
// 164.308(a)(6)(ii)).
package baseline
