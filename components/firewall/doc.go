// Package firewall declares the platform's security groups and every rule between them. Rules name their
// peers by security group, never by address, so access follows a host's role rather than where it
// happens to run; the only ingress from the internet is an explicit edge rule on 443; SSH and RDP are not
// opened anywhere, since hosts are reached through SSM Session Manager. It carries the access-control and
// transmission-security safeguards of 45 CFR 164.312(a)(1) and 164.312(e)(1).
package firewall
