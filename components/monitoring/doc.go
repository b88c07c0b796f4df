// Package monitoring declares the platform's monitoring: a Nagios host whose configuration is generated
// from the stack itself (package nagios), CloudWatch alarms, and the SNS topic both notify through. The
// host is a dedicated-tenancy instance in a private subnet at a fixed address, with IMDSv2, an encrypted
// volume, no public IP and no inbound rule at all: its web interface listens on loopback and is reached
// through Session Manager port forwarding. The topic is encrypted with a customer-managed key, and every
// alarm notifies it. These carry 45 CFR 164.308(a)(1)(ii)(D) (information system activity review),
// 164.308(a)(6)(ii) (response and reporting) and 164.312(b) (audit controls).
package monitoring
