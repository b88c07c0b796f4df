// Package network declares a VPC on dedicated hardware (instance tenancy "dedicated", which no host in it
// can override) with three tiers of subnets in every availability zone: public subnets that only the load
// balancer and the NAT gateways use, private application subnets, and isolated data subnets with no route
// to the internet. It carries the audit-control safeguard of 45 CFR 164.312(b) with flow logs of ALL
// traffic to a KMS-encrypted, retained log group, closes the default security group, and gives private
// hosts VPC endpoints for the AWS services they call so that none of that traffic leaves the VPC
// (164.312(e)(1)).
package network
