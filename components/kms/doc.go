// Package kms declares the platform's customer-managed KMS keys, one per purpose (EBS volumes, S3 data,
// logs, secrets), each with an alias. It carries the encryption-at-rest safeguard of 45 CFR
// 164.312(a)(2)(iv): every key rotates yearly, cannot be deleted in less than 30 days, and has a key policy
// that names its principals (the account, and for the logs key the AWS services that write logs) and
// never a wildcard.
package kms
