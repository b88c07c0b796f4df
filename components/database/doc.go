// Package database declares the platform's PostgreSQL 15 cluster: a primary and streaming replicas, each
// on a dedicated-tenancy instance in the isolated data subnets (IMDSv2, no public IP, detailed
// monitoring) with an encrypted gp3 data volume. Passwords are generated and kept in Secrets Manager
// under the secrets key; TLS comes from an internal CA, and clients and replicas connect with
// verify-full (45 CFR 164.312(e)(1), 164.312(d)). WAL is archived and base backups are taken from a
// standby with pgBackRest into the KMS-encrypted backup bucket (164.308(a)(7)(ii)(A)). Each host's
// instance profile allows only its own secrets, its prefix of the backup bucket and those keys
// (164.308(a)(4)(ii)(B)). Host setup is rendered by package hostconfig into cloud-init user data.
package database
