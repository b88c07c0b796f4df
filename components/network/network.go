package network

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:network:Vpc"

// subnetBits is how many bits each subnet adds to the VPC prefix: 32 slots, of which each tier takes
// eight, enough for six zones.
const subnetBits = 5

// Tier slot offsets within the VPC block.
const (
	publicSlot = 0
	appSlot    = 8
	dataSlot   = 16
)

// VpcArgs configures the network.
type VpcArgs struct {
	// CidrBlock is the VPC's RFC 1918 IPv4 block, /16 to /20. Required.
	CidrBlock string
	// AvailabilityZones are the zones to spread the subnets over, 2 to 6 distinct names. Required.
	AvailabilityZones []string
	// NatGatewayPerZone gives each zone its own NAT gateway, so that losing a zone does not cut the others
	// off; when false one NAT gateway serves all zones. Optional; default false.
	NatGatewayPerZone bool
	// AccountID is the 12-digit account, which alone may have the flow-log service assume the flow-log
	// role. Required.
	AccountID string
	// Region is the VPC's region, used to name the endpoint services. Required.
	Region string
	// FlowLogKmsKeyArn is the KMS key that encrypts the flow-log group. Required.
	FlowLogKmsKeyArn pulumi.StringInput
	// FlowLogRetentionDays is how long flow logs are kept; a CloudWatch Logs retention of at least 365.
	// Required.
	FlowLogRetentionDays int
	// PeerAccounts are the accounts beyond AccountID whose resources the hosts reach through the interface
	// endpoints: the account whose registry releases are pulled from. Optional.
	PeerAccounts []string
	// BuildsImages says the network runs Image Builder's builds, which read AWS-owned buckets that AWS's
	// guides do not all name: its S3 gateway endpoint lets the account read any bucket (and write only its
	// own). Optional; default false.
	BuildsImages bool
	// RecordedBy is what records the account's resources for AWS Config, when the same stack declares it
	// (an account stack's baseline): the VPC's conformance pack waits for it. Optional.
	RecordedBy []pulumi.Resource
	// Tags are added to every resource. Required: Environment, the stack's name, to which the VPC's
	// conformance pack scopes its rules (ScopeTag).
	Tags map[string]string
}

// Vpc is the network of one stack.
type Vpc struct {
	pulumi.ResourceState

	// VpcId is the VPC's ID.
	VpcId pulumi.StringOutput `pulumi:"vpcId"`
	// CidrBlock is the VPC's block.
	CidrBlock pulumi.StringOutput `pulumi:"cidrBlock"`
	// PublicSubnetIds are the public subnets, one per zone, for the load balancer and NAT gateways only.
	PublicSubnetIds pulumi.StringArrayOutput `pulumi:"publicSubnetIds"`
	// AppSubnetIds are the private application subnets, one per zone.
	AppSubnetIds pulumi.StringArrayOutput `pulumi:"appSubnetIds"`
	// DataSubnetIds are the isolated data subnets, one per zone.
	DataSubnetIds pulumi.StringArrayOutput `pulumi:"dataSubnetIds"`
	// EndpointSecurityGroupId guards the interface endpoints; the firewall admits each tier to it.
	EndpointSecurityGroupId pulumi.StringOutput `pulumi:"endpointSecurityGroupId"`
	// S3PrefixListId is the prefix list of the S3 gateway endpoint, for security-group egress to S3.
	S3PrefixListId pulumi.StringOutput `pulumi:"s3PrefixListId"`
	// FlowLogGroupName is the log group that holds the flow logs.
	FlowLogGroupName pulumi.StringOutput `pulumi:"flowLogGroupName"`

	// Tiers lists each tier's subnets with their zone and block, known before deployment, for
	// components that place hosts or write their addresses into configuration.
	Tiers Tiers
	// Paths are what a host in the app or data subnets reaches AWS through: each subnet's route table
	// association (until it exists, a subnet uses the VPC's main table, which routes nowhere), and the
	// gateway and interface endpoints. A host that calls AWS as it boots is created after them, so its
	// first converge run does not wait out its retries for the network.
	Paths []pulumi.Resource
}

// Tiers are a network's subnets by tier, one per zone each, in zone order.
type Tiers struct {
	// Public holds the load balancer and the NAT gateways only; App the application and monitoring
	// hosts, routed out through NAT; Data the database, with no route out of the VPC.
	Public, App, Data []SubnetInfo
}

// SubnetInfo is one subnet: its ID and, as plain values, its zone and block.
type SubnetInfo struct {
	ID   pulumi.StringOutput
	Zone string
	CIDR netip.Prefix
}

// FixedBits is the prefix length of the block each app and data subnet keeps for hosts with fixed
// addresses (an explicit CIDR reservation, which AWS never hands out by itself): the database hosts and
// the monitoring host take theirs from it, so no interface endpoint or Auto Scaling instance can take one
// first. The block is the subnet's second /28, .16 to .31: AWS keeps the first four addresses of every
// subnet and its last (Amazon VPC User Guide, "Subnet CIDR blocks"), which the first block would hold.
const FixedBits = 28

// MaxFixedSubnetBits is the smallest subnet that holds the fixed block clear of its last address, a /26.
const MaxFixedSubnetBits = 26

// FixedBlock is the block of a subnet kept for fixed addresses.
func FixedBlock(subnet netip.Prefix) netip.Prefix {
	addr := subnet.Masked().Addr()
	for range 1 << (32 - FixedBits) {
		addr = addr.Next()
	}
	return netip.PrefixFrom(addr, FixedBits)
}

// Fixed returns the i-th address of the subnet's fixed block, 0 to 15.
func (s SubnetInfo) Fixed(i int) (netip.Addr, error) {
	size := 1 << (32 - FixedBits)
	if i < 0 || i >= size {
		return netip.Addr{}, fmt.Errorf("fixed address %d is outside the subnet's fixed block of %d", i, size)
	}
	if s.CIDR.Bits() > MaxFixedSubnetBits {
		return netip.Addr{}, fmt.Errorf("subnet %s is smaller than a /%d, too small for a fixed block clear of AWS's reserved addresses", s.CIDR, MaxFixedSubnetBits)
	}
	addr := FixedBlock(s.CIDR).Addr()
	for range i {
		addr = addr.Next()
	}
	return addr, nil
}

var (
	zoneName = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]$`)
)

// validate checks every field and returns the first problem, naming the field.
func (a *VpcArgs) validate(name string) (netip.Prefix, error) {
	if a == nil {
		return netip.Prefix{}, fmt.Errorf("network %q: args are required", name)
	}
	block, err := check.VpcCIDR(a.CidrBlock)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("network %q: CidrBlock: %w", name, err)
	}
	if err := check.ZoneCount(len(a.AvailabilityZones)); err != nil {
		return netip.Prefix{}, fmt.Errorf("network %q: AvailabilityZones: %w zones", name, err)
	}
	for i, z := range a.AvailabilityZones {
		if !zoneName.MatchString(z) {
			return netip.Prefix{}, fmt.Errorf("network %q: AvailabilityZones[%d] %q is not a zone name such as us-east-1a", name, i, z)
		}
		if slices.Index(a.AvailabilityZones, z) != i {
			return netip.Prefix{}, fmt.Errorf("network %q: AvailabilityZones[%d] %q is listed twice", name, i, z)
		}
	}
	if !check.IsAccountID(a.AccountID) {
		return netip.Prefix{}, fmt.Errorf("network %q: AccountID %q is not a 12-digit AWS account ID", name, a.AccountID)
	}
	if a.Region == "" {
		return netip.Prefix{}, fmt.Errorf("network %q: Region is required", name)
	}
	if a.FlowLogKmsKeyArn == nil {
		return netip.Prefix{}, fmt.Errorf("network %q: FlowLogKmsKeyArn is required: flow logs are always encrypted", name)
	}
	if err := check.LogRetention(a.FlowLogRetentionDays); err != nil {
		return netip.Prefix{}, fmt.Errorf("network %q: FlowLogRetentionDays: %w", name, err)
	}
	for i, p := range a.PeerAccounts {
		if !check.IsAccountID(p) {
			return netip.Prefix{}, fmt.Errorf("network %q: PeerAccounts[%d] %q is not a 12-digit AWS account ID", name, i, p)
		}
	}
	if a.Tags[ScopeTag] == "" {
		return netip.Prefix{}, fmt.Errorf("network %q: Tags[%q] is required: the VPC's conformance pack scopes its rules to the stack's resources by it", name, ScopeTag)
	}
	return block, nil
}

// Subnet returns the CIDR of a tier's subnet in zone i: the VPC block split into 32 equal parts, eight per
// tier.
func Subnet(vpc netip.Prefix, slot, zone int) netip.Prefix {
	bits := vpc.Bits() + subnetBits
	step := uint32(1) << (32 - bits)
	base := vpc.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	n += uint32(slot+zone) * step
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), bits)
}

// NewVpc creates the network: the dedicated VPC with its default group closed and its flow logs, then
// each zone's public, app and data subnets, and the endpoints that keep AWS traffic inside.
func NewVpc(ctx *pulumi.Context, name string, args *VpcArgs, opts ...pulumi.ResourceOption) (*Vpc, error) {
	block, err := args.validate(name)
	if err != nil {
		return nil, err
	}
	a := *args

	comp := &Vpc{}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	b := &builder{ctx: ctx, name: name, args: &a, block: block, parent: pulumi.Parent(comp)}
	if err := b.vpc(); err != nil {
		return nil, err
	}
	logGroup, err := flowLogs(ctx, name, &a, b.v, b.parent)
	if err != nil {
		return nil, err
	}
	if err := b.routes(); err != nil {
		return nil, err
	}
	if err := b.conformancePack(); err != nil {
		return nil, err
	}
	for i, zone := range a.AvailabilityZones {
		if err := b.zone(i, zone); err != nil {
			return nil, err
		}
	}
	if err := b.networkACLs(); err != nil {
		return nil, err
	}
	endpointSG, prefixList, made, err := endpoints(ctx, name, &a, b.v, b.ids(b.tiers.App), append(b.appRoutes, b.dataRoute.ID()),
		b.parent, pulumi.DependsOn(b.reservations))
	if err != nil {
		return nil, err
	}
	// A host that calls AWS as it boots waits for its subnet's network ACL too.
	comp.Paths = append(append(b.associations, b.acls...), made...)

	comp.Tiers = b.tiers
	comp.VpcId = b.v.ID().ToStringOutput()
	comp.CidrBlock = b.v.CidrBlock
	comp.PublicSubnetIds = b.ids(b.tiers.Public).ToStringArrayOutput()
	comp.AppSubnetIds = b.ids(b.tiers.App).ToStringArrayOutput()
	comp.DataSubnetIds = b.ids(b.tiers.Data).ToStringArrayOutput()
	comp.EndpointSecurityGroupId = endpointSG.ID().ToStringOutput()
	comp.S3PrefixListId = prefixList
	comp.FlowLogGroupName = logGroup.Name
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"vpcId":                   comp.VpcId,
		"cidrBlock":               comp.CidrBlock,
		"publicSubnetIds":         comp.PublicSubnetIds,
		"appSubnetIds":            comp.AppSubnetIds,
		"dataSubnetIds":           comp.DataSubnetIds,
		"endpointSecurityGroupId": comp.EndpointSecurityGroupId,
		"s3PrefixListId":          comp.S3PrefixListId,
		"flowLogGroupName":        comp.FlowLogGroupName,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// builder declares one network's resources, each step from what the steps before made.
type builder struct {
	ctx    *pulumi.Context
	name   string
	args   *VpcArgs
	block  netip.Prefix
	parent pulumi.ResourceOption

	v            *ec2.Vpc
	igw          *ec2.InternetGateway
	publicRoute  *ec2.RouteTable
	dataRoute    *ec2.RouteTable
	appRoutes    pulumi.StringArray
	nat          *ec2.NatGateway
	tiers        Tiers
	reservations []pulumi.Resource
	// associations are the app and data subnets' route table associations.
	associations []pulumi.Resource
	// acls are the tiers' network ACLs.
	acls []pulumi.Resource
}

func (b *builder) tags(n string) pulumi.StringMap { return naming.Tags(b.args.Tags, n) }

// ids lists subnets' IDs.
func (b *builder) ids(subnets []SubnetInfo) pulumi.StringArray {
	out := make(pulumi.StringArray, len(subnets))
	for i, s := range subnets {
		out[i] = s.ID
	}
	return out
}

// vpc creates the VPC on dedicated hardware and takes over its default security group.
func (b *builder) vpc() error {
	var err error
	b.v, err = ec2.NewVpc(b.ctx, b.name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(b.block.String()),
		InstanceTenancy:    pulumi.String("dedicated"),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               b.tags(b.name),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("creating vpc: %w", err)
	}
	// With no rules given, the provider removes every rule AWS put in the default group, so nothing that
	// lands in it by mistake can talk to anything.
	if _, err := ec2.NewDefaultSecurityGroup(b.ctx, b.name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: b.v.ID(),
		Tags:  b.tags(b.name + "-default"),
	}, b.parent); err != nil {
		return fmt.Errorf("closing default security group: %w", err)
	}
	return nil
}

// routes creates the internet gateway, the public route table through it, and the data tier's route
// table, which has no route out at all.
func (b *builder) routes() error {
	var err error
	if b.igw, err = ec2.NewInternetGateway(b.ctx, b.name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: b.v.ID(),
		Tags:  b.tags(b.name + "-igw"),
	}, b.parent); err != nil {
		return fmt.Errorf("creating internet gateway: %w", err)
	}
	if b.publicRoute, err = ec2.NewRouteTable(b.ctx, b.name+"-public", &ec2.RouteTableArgs{
		VpcId: b.v.ID(),
		Routes: ec2.RouteTableRouteArray{
			ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: b.igw.ID()},
		},
		Tags: b.tags(b.name + "-public"),
	}, b.parent); err != nil {
		return fmt.Errorf("creating public route table: %w", err)
	}
	if b.dataRoute, err = ec2.NewRouteTable(b.ctx, b.name+"-data", &ec2.RouteTableArgs{
		VpcId: b.v.ID(),
		Tags:  b.tags(b.name + "-data"),
	}, b.parent); err != nil {
		return fmt.Errorf("creating data route table: %w", err)
	}
	return nil
}

// zone creates zone i's three subnets.
func (b *builder) zone(i int, zone string) error {
	suffix := zone[len(zone)-1:]
	pub, err := b.publicSubnet(i, zone, suffix)
	if err != nil {
		return err
	}
	if err := b.appSubnet(i, zone, suffix, pub); err != nil {
		return err
	}
	return b.dataSubnet(i, zone, suffix)
}

// publicSubnet is a zone's public subnet, for the load balancer and the NAT gateways only.
func (b *builder) publicSubnet(i int, zone, suffix string) (*ec2.Subnet, error) {
	cidr := Subnet(b.block, publicSlot, i)
	pub, _, err := subnet(b.ctx, b.name+"-public-"+suffix, b.v, cidr, zone, "public", b.args.Tags, b.publicRoute, b.parent)
	if err != nil {
		return nil, err
	}
	b.tiers.Public = append(b.tiers.Public, SubnetInfo{pub.ID().ToStringOutput(), zone, cidr})
	return pub, nil
}

// appSubnet is a zone's private application subnet, routed out through a NAT gateway: the zone's own,
// or the first zone's when the network has one.
func (b *builder) appSubnet(i int, zone, suffix string, public *ec2.Subnet) error {
	var err error
	if b.nat == nil || b.args.NatGatewayPerZone {
		if b.nat, err = natGateway(b.ctx, b.name+"-nat-"+suffix, public, b.igw, b.args.Tags, b.parent); err != nil {
			return err
		}
	}
	rt, err := ec2.NewRouteTable(b.ctx, b.name+"-app-"+suffix, &ec2.RouteTableArgs{
		VpcId: b.v.ID(),
		Routes: ec2.RouteTableRouteArray{
			ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: b.nat.ID()},
		},
		Tags: b.tags(b.name + "-app-" + suffix),
	}, b.parent)
	if err != nil {
		return fmt.Errorf("creating app route table in %s: %w", zone, err)
	}
	b.appRoutes = append(b.appRoutes, rt.ID())
	cidr := Subnet(b.block, appSlot, i)
	sn, assoc, err := subnet(b.ctx, b.name+"-app-"+suffix, b.v, cidr, zone, "app", b.args.Tags, rt, b.parent)
	if err != nil {
		return err
	}
	b.associations = append(b.associations, assoc)
	if err := reserve(b.ctx, b.name+"-app-"+suffix, sn, cidr, &b.reservations, b.parent); err != nil {
		return err
	}
	b.tiers.App = append(b.tiers.App, SubnetInfo{sn.ID().ToStringOutput(), zone, cidr})
	return nil
}

// dataSubnet is a zone's isolated data subnet: no route out of the VPC.
func (b *builder) dataSubnet(i int, zone, suffix string) error {
	cidr := Subnet(b.block, dataSlot, i)
	sn, assoc, err := subnet(b.ctx, b.name+"-data-"+suffix, b.v, cidr, zone, "data", b.args.Tags, b.dataRoute, b.parent)
	if err != nil {
		return err
	}
	b.associations = append(b.associations, assoc)
	if err := reserve(b.ctx, b.name+"-data-"+suffix, sn, cidr, &b.reservations, b.parent); err != nil {
		return err
	}
	b.tiers.Data = append(b.tiers.Data, SubnetInfo{sn.ID().ToStringOutput(), zone, cidr})
	return nil
}

// reserve keeps the subnet's fixed block for hosts with fixed addresses.
func reserve(ctx *pulumi.Context, name string, sn *ec2.Subnet, cidr netip.Prefix, all *[]pulumi.Resource, parent pulumi.ResourceOption) error {
	block := FixedBlock(cidr)
	r, err := ec2.NewSubnetCidrReservation(ctx, name+"-fixed", &ec2.SubnetCidrReservationArgs{
		SubnetId:        sn.ID(),
		CidrBlock:       pulumi.String(block.String()),
		ReservationType: pulumi.String("explicit"),
		Description:     pulumi.String("hosts with fixed addresses (database, monitoring)"),
	}, parent)
	if err != nil {
		return fmt.Errorf("reserving %s in %s: %w", block, name, err)
	}
	*all = append(*all, r)
	return nil
}

// subnet creates one subnet and associates it with its route table. No subnet maps public IPs at launch,
// the public ones included: only the load balancer and NAT gateways live there, and they bring their own.
func subnet(ctx *pulumi.Context, name string, vpc *ec2.Vpc, cidr netip.Prefix, zone, tier string,
	baseTags map[string]string, rt *ec2.RouteTable, parent pulumi.ResourceOption,
) (*ec2.Subnet, *ec2.RouteTableAssociation, error) {
	tags := naming.Tags(baseTags, name)
	tags[naming.TierTag] = pulumi.String(tier)
	sn, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
		VpcId:               vpc.ID(),
		CidrBlock:           pulumi.String(cidr.String()),
		AvailabilityZone:    pulumi.String(zone),
		MapPublicIpOnLaunch: pulumi.Bool(false),
		Tags:                tags,
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("creating subnet %s: %w", name, err)
	}
	assoc, err := ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{
		SubnetId:     sn.ID(),
		RouteTableId: rt.ID(),
	}, parent)
	if err != nil {
		return nil, nil, fmt.Errorf("associating subnet %s: %w", name, err)
	}
	return sn, assoc, nil
}

func natGateway(ctx *pulumi.Context, name string, public *ec2.Subnet, igw *ec2.InternetGateway,
	baseTags map[string]string, parent pulumi.ResourceOption,
) (*ec2.NatGateway, error) {
	eip, err := ec2.NewEip(ctx, name, &ec2.EipArgs{
		Domain: pulumi.String("vpc"),
		Tags:   naming.Tags(baseTags, name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating NAT address %s: %w", name, err)
	}
	nat, err := ec2.NewNatGateway(ctx, name, &ec2.NatGatewayArgs{
		AllocationId:     eip.ID(),
		SubnetId:         public.ID(),
		ConnectivityType: pulumi.String("public"),
		Tags:             naming.Tags(baseTags, name),
	}, parent, pulumi.DependsOn([]pulumi.Resource{igw}))
	if err != nil {
		return nil, fmt.Errorf("creating NAT gateway %s: %w", name, err)
	}
	return nat, nil
}
