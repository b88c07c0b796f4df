package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Network ACLs are stateless: a reply is let in by a rule of its own. Each tier's ACL admits anything from
// inside the VPC, and from the world only what the tier must take: the load balancer's 443 and 80 on the
// public tier, and replies to connections made from inside (through the NAT gateway, or from S3 through
// its gateway endpoint, whose addresses are S3's public ones) on the ephemeral ports of what waits for
// them (Amazon VPC User Guide, "Ephemeral ports"): 1024 to 65535 on the public tier, where the NAT
// gateways and the load balancer's nodes are, and 32768 to 65535 on the app and data tiers, where only
// Linux hosts (32768 to 60999) and the interface endpoints are. The public range is cut around 3389, so
// that no entry admits the world to SSH's or RDP's port (AWS Config's nacl-no-unrestricted-ssh-rdp,
// Security Hub's EC2.21), nor to Postgres's on the tiers that run it. Traffic to the Amazon DNS server,
// the instance metadata service and the Time Sync service is not filtered by network ACLs at all.

// world is every IPv4 address.
const world = "0.0.0.0/0"

// aclRule is one entry of a network ACL that allows; anything no entry allows is denied.
type aclRule struct {
	protocol           string
	from, to           int
	cidr               string
	icmpType, icmpCode int
	isICMP             bool
}

// replies are the entries that let in a tier's replies from the world on its ephemeral ports.
func replies(tier string) []aclRule {
	if tier != "public" {
		return []aclRule{{protocol: "tcp", from: 32768, to: 65535, cidr: world}}
	}
	return []aclRule{
		{protocol: "tcp", from: 1024, to: 3388, cidr: world},
		{protocol: "tcp", from: 3390, to: 65535, cidr: world},
	}
}

// tierRules are a tier's ingress entries.
func (b *builder) tierRules(tier string) []aclRule {
	rules := []aclRule{{protocol: "-1", cidr: b.block.String()}}
	if tier == "public" {
		rules = append(rules,
			aclRule{protocol: "tcp", from: 443, to: 443, cidr: world},
			aclRule{protocol: "tcp", from: 80, to: 80, cidr: world},
			// Path MTU discovery: "fragmentation needed" from anywhere on the way.
			aclRule{protocol: "icmp", from: -1, to: -1, cidr: world, isICMP: true, icmpType: 3, icmpCode: 4},
		)
	}
	return append(rules, replies(tier)...)
}

// networkACLs gives each tier's subnets a network ACL of their own, then closes the VPC's default ACL (no
// entry, so nothing it is given passes), once no subnet of the platform's is left on it.
func (b *builder) networkACLs() error {
	var made []pulumi.Resource
	for _, t := range []struct {
		tier    string
		subnets []SubnetInfo
	}{{"public", b.tiers.Public}, {"app", b.tiers.App}, {"data", b.tiers.Data}} {
		var ingress ec2.NetworkAclIngressArray
		for i, r := range b.tierRules(t.tier) {
			e := ec2.NetworkAclIngressArgs{
				RuleNo: pulumi.Int(100 + 10*i), Action: pulumi.String("allow"), Protocol: pulumi.String(r.protocol),
				CidrBlock: pulumi.String(r.cidr), FromPort: pulumi.Int(max(r.from, 0)), ToPort: pulumi.Int(max(r.to, 0)),
			}
			if r.isICMP {
				e.IcmpType, e.IcmpCode = pulumi.Int(r.icmpType), pulumi.Int(r.icmpCode)
			}
			ingress = append(ingress, e)
		}
		name := b.name + "-" + t.tier
		acl, err := ec2.NewNetworkAcl(b.ctx, name, &ec2.NetworkAclArgs{
			VpcId:     b.v.ID(),
			SubnetIds: b.ids(t.subnets),
			Ingress:   ingress,
			Egress: ec2.NetworkAclEgressArray{ec2.NetworkAclEgressArgs{
				RuleNo: pulumi.Int(100), Action: pulumi.String("allow"), Protocol: pulumi.String("-1"),
				CidrBlock: pulumi.String(world), FromPort: pulumi.Int(0), ToPort: pulumi.Int(0),
			}},
			Tags: b.tags(name),
		}, b.parent)
		if err != nil {
			return fmt.Errorf("creating the %s tier's network ACL: %w", t.tier, err)
		}
		made = append(made, acl)
	}
	// The provider takes the default ACL over and removes every entry AWS put in it; a subnet made outside
	// the program lands on it and passes nothing until it is given an ACL. Subnets come and go from the
	// default ACL as the custom ones take them, so its subnetIds are not the program's to keep.
	if _, err := ec2.NewDefaultNetworkAcl(b.ctx, b.name+"-default", &ec2.DefaultNetworkAclArgs{
		DefaultNetworkAclId: b.v.DefaultNetworkAclId,
		Tags:                b.tags(b.name + "-default"),
	}, b.parent, pulumi.DependsOn(made), pulumi.IgnoreChanges([]string{"subnetIds"})); err != nil {
		return fmt.Errorf("closing the default network ACL: %w", err)
	}
	b.acls = made
	return nil
}
