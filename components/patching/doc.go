// Package patching declares how a stack's Debian hosts (the database and monitoring hosts, which run for
// months) take Debian's security updates through Systems Manager Patch Manager: a patch baseline that
// approves Debian 12's security updates, the patch group that gives the hosts it, a daily scan that
// reports every host's patch compliance, and a maintenance window in which the hosts whose order does not
// matter install the approved updates. These are the safeguards of 45 CFR 164.308(a)(5)(ii)(B)
// (protection from malicious software) and 164.308(a)(1)(ii)(B) (risk management). The web and engine
// tiers are immutable: they take updates as a new image, through the instance refresh of a release.
package patching
