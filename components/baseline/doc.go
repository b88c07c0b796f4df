// Package baseline declares the account-wide safeguards that exist once per AWS account, in the account's
// own baseline stack: a multi-region CloudTrail trail with log file validation, encrypted with the logs
// key and delivered to CloudWatch Logs and to its own locked-down bucket (audit controls and integrity,
// 45 CFR 164.312(b), 164.312(c)(2)); EBS encryption by default with the account's EBS key
// (164.312(a)(2)(iv)); the account-level S3 public access block (164.312(a)(1)); an IAM password policy
// (164.308(a)(5)(ii)(D)); a GuardDuty detector (164.308(a)(1)(ii)(D), 164.308(a)(6)(ii)); and the Auto
// Scaling service-linked role the EBS keys name. The detector and the role usually exist already, so
// they are looked up and adopted, and created only when missing; every setting is retained when the
// stack is destroyed.
package baseline
