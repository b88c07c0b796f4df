// Package app declares a tier of identical hosts that run the released container image: the web tier
// behind an application load balancer, or without one the compute-heavy engine tier. The hosts come
// from a launch template (dedicated tenancy, IMDSv2, root volume encrypted with the EBS key, no public
// IP, an instance profile that may only pull from the registry, read the tier's own secrets and use
// Session Manager) in an Auto Scaling group across the private subnets. A release replaces the hosts by
// a rolling instance refresh that launches before it terminates, so full healthy capacity is kept and the
// site never goes down; the group scales on request count per target (web) or CPU (engine) within
// bounds. The load balancer answers HTTPS only with a TLS 1.2+ policy (HTTP is only redirected), drops
// invalid headers, logs every request, and forwards to the hosts over HTTPS. These carry 45 CFR
// 164.312(a)(1), (a)(2)(iv), (b) and (e)(1), and 164.308(a)(7) (availability during change).
package app
