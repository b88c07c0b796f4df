// Package bucket declares an S3 bucket fit for PHI: encrypted with a customer KMS key and an S3 bucket key
// (45 CFR 164.312(a)(2)(iv)), versioned so nothing written is lost (164.308(a)(7)(ii)(A), 164.312(c)(1)),
// closed to the public by all four public access blocks and BucketOwnerEnforced ownership (164.312(a)(1)),
// reachable only over TLS 1.2 or newer (164.312(e)(1)), with its access logged to the platform's log bucket
// (164.312(b)) and lifecycle rules that expire only what the retention allows. Backups can add S3 object
// lock, so that nobody can delete them before their retention ends.
package bucket
