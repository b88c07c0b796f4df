package network

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:network:Vpc"

// InterfaceEndpoints are the AWS services private hosts reach through interface endpoints: the container
// registry, Session Manager (in place of SSH), CloudWatch Logs and metrics, KMS and Secrets Manager. S3 is
// reached through a gateway endpoint.
var InterfaceEndpoints = []string{
	"ecr.api", "ecr.dkr", "ssm", "ssmmessages", "ec2messages", "logs", "monitoring", "kms", "secretsmanager",
}

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
	// Tags are added to every resource. Optional.
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

	// Tiers lists each tier's subnets ("public", "app", "data") with their zone and block, known before
	// deployment, for components that place hosts or write their addresses into configuration.
	Tiers map[string][]SubnetInfo
}

// SubnetInfo is one subnet: its ID and, as plain values, its zone and block.
type SubnetInfo struct {
	ID   pulumi.StringOutput
	Zone string
	CIDR netip.Prefix
}

// FixedBits is the prefix length of the block at the start of each app and data subnet that AWS never
// hands out by itself (an explicit CIDR reservation): hosts with fixed addresses (the database hosts,
// the monitoring host) take theirs from it, so no interface endpoint or Auto Scaling instance can take
// one first.
const FixedBits = 28

// Address returns the subnet's address at offset, which must fall in the reserved block (4 to 15: AWS
// keeps the first four).
func (s SubnetInfo) Address(offset int) (netip.Addr, error) {
	if offset < 4 || offset >= 1<<(32-FixedBits) {
		return netip.Addr{}, fmt.Errorf("offset %d is outside the reserved block .4 to .%d", offset, 1<<(32-FixedBits)-1)
	}
	addr := s.CIDR.Masked().Addr()
	for range offset {
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

// NewVpc creates the network.
func NewVpc(ctx *pulumi.Context, name string, args *VpcArgs, opts ...pulumi.ResourceOption) (*Vpc, error) {
	block, err := args.validate(name)
	if err != nil {
		return nil, err
	}
	a := *args

	comp := &Vpc{Tiers: map[string][]SubnetInfo{}}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)
	tags := func(n string) pulumi.StringMap { return naming.Tags(a.Tags, n) }

	vpc, err := ec2.NewVpc(ctx, name, &ec2.VpcArgs{
		CidrBlock:          pulumi.String(block.String()),
		InstanceTenancy:    pulumi.String("dedicated"),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               tags(name),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating vpc: %w", err)
	}

	// With no rules given, the provider removes every rule AWS put in the default group, so nothing that
	// lands in it by mistake can talk to anything.
	if _, err := ec2.NewDefaultSecurityGroup(ctx, name+"-default", &ec2.DefaultSecurityGroupArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name + "-default"),
	}, parent); err != nil {
		return nil, fmt.Errorf("closing default security group: %w", err)
	}

	logGroup, err := flowLogs(ctx, name, &a, vpc, parent)
	if err != nil {
		return nil, err
	}

	igw, err := ec2.NewInternetGateway(ctx, name+"-igw", &ec2.InternetGatewayArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name + "-igw"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating internet gateway: %w", err)
	}
	publicRT, err := ec2.NewRouteTable(ctx, name+"-public", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Routes: ec2.RouteTableRouteArray{
			ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), GatewayId: igw.ID()},
		},
		Tags: tags(name + "-public"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating public route table: %w", err)
	}
	dataRT, err := ec2.NewRouteTable(ctx, name+"-data", &ec2.RouteTableArgs{
		VpcId: vpc.ID(),
		Tags:  tags(name + "-data"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating data route table: %w", err)
	}

	var public, app, data pulumi.StringArray
	var privateRTs pulumi.StringArray
	var reservations []pulumi.Resource
	var nat *ec2.NatGateway
	for i, zone := range a.AvailabilityZones {
		suffix := zone[len(zone)-1:]
		pub, err := subnet(ctx, name+"-public-"+suffix, vpc, Subnet(block, publicSlot, i), zone, "public", a.Tags, publicRT, parent)
		if err != nil {
			return nil, err
		}
		public = append(public, pub.ID())
		comp.Tiers["public"] = append(comp.Tiers["public"], SubnetInfo{pub.ID().ToStringOutput(), zone, Subnet(block, publicSlot, i)})

		if nat == nil || a.NatGatewayPerZone {
			if nat, err = natGateway(ctx, name+"-nat-"+suffix, pub, igw, a.Tags, parent); err != nil {
				return nil, err
			}
		}
		appRT, err := ec2.NewRouteTable(ctx, name+"-app-"+suffix, &ec2.RouteTableArgs{
			VpcId: vpc.ID(),
			Routes: ec2.RouteTableRouteArray{
				ec2.RouteTableRouteArgs{CidrBlock: pulumi.String("0.0.0.0/0"), NatGatewayId: nat.ID()},
			},
			Tags: tags(name + "-app-" + suffix),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating app route table in %s: %w", zone, err)
		}
		privateRTs = append(privateRTs, appRT.ID())
		priv, err := subnet(ctx, name+"-app-"+suffix, vpc, Subnet(block, appSlot, i), zone, "app", a.Tags, appRT, parent)
		if err != nil {
			return nil, err
		}
		app = append(app, priv.ID())
		if err := reserve(ctx, name+"-app-"+suffix, priv, Subnet(block, appSlot, i), &reservations, parent); err != nil {
			return nil, err
		}
		comp.Tiers["app"] = append(comp.Tiers["app"], SubnetInfo{priv.ID().ToStringOutput(), zone, Subnet(block, appSlot, i)})
		iso, err := subnet(ctx, name+"-data-"+suffix, vpc, Subnet(block, dataSlot, i), zone, "data", a.Tags, dataRT, parent)
		if err != nil {
			return nil, err
		}
		data = append(data, iso.ID())
		if err := reserve(ctx, name+"-data-"+suffix, iso, Subnet(block, dataSlot, i), &reservations, parent); err != nil {
			return nil, err
		}
		comp.Tiers["data"] = append(comp.Tiers["data"], SubnetInfo{iso.ID().ToStringOutput(), zone, Subnet(block, dataSlot, i)})
	}
	privateRTs = append(privateRTs, dataRT.ID())

	endpointSG, prefixList, err := endpoints(ctx, name, &a, vpc, app, privateRTs, parent, pulumi.DependsOn(reservations))
	if err != nil {
		return nil, err
	}

	comp.VpcId = vpc.ID().ToStringOutput()
	comp.CidrBlock = vpc.CidrBlock
	comp.PublicSubnetIds = public.ToStringArrayOutput()
	comp.AppSubnetIds = app.ToStringArrayOutput()
	comp.DataSubnetIds = data.ToStringArrayOutput()
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

// reserve keeps the first FixedBits block of a subnet for hosts with fixed addresses.
func reserve(ctx *pulumi.Context, name string, sn *ec2.Subnet, cidr netip.Prefix, all *[]pulumi.Resource, parent pulumi.ResourceOption) error {
	block := netip.PrefixFrom(cidr.Masked().Addr(), FixedBits)
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
) (*ec2.Subnet, error) {
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
		return nil, fmt.Errorf("creating subnet %s: %w", name, err)
	}
	if _, err := ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{
		SubnetId:     sn.ID(),
		RouteTableId: rt.ID(),
	}, parent); err != nil {
		return nil, fmt.Errorf("associating subnet %s: %w", name, err)
	}
	return sn, nil
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

// flowLogs records ALL traffic of the VPC into an encrypted, retained log group, through a role that only
// the flow-log service, acting for this account, can assume and that can only write that group.
func flowLogs(ctx *pulumi.Context, name string, a *VpcArgs, vpc *ec2.Vpc, parent pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	groupName := "/hipaa/" + name + "/flow-logs"
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(groupName),
		KmsKeyId:        a.FlowLogKmsKeyArn,
		RetentionInDays: pulumi.Int(a.FlowLogRetentionDays),
		Tags:            naming.Tags(a.Tags, name+"-flow-logs"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating flow-log group: %w", err)
	}
	trust := iampolicy.New(
		iampolicy.Allow("FlowLogsAssume", []string{"sts:AssumeRole"}, nil).
			ForService("vpc-flow-logs.amazonaws.com").
			When("StringEquals", "aws:SourceAccount", a.AccountID),
	)
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust.JSON()),
		Description:      pulumi.String("Lets VPC Flow Logs write " + name + "'s flow-log group"),
		Tags:             naming.Tags(a.Tags, name+"-flow-logs"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating flow-log role: %w", err)
	}
	if _, err := iam.NewRolePolicy(ctx, name+"-flow-logs", &iam.RolePolicyArgs{
		Role:   role.ID(),
		Policy: pulumi.String(flowLogPolicy(iampolicy.LogGroupArn(a.Region, a.AccountID, groupName))),
	}, parent, pulumi.DependsOn([]pulumi.Resource{group})); err != nil {
		return nil, fmt.Errorf("creating flow-log role policy: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   naming.Tags(a.Tags, name+"-flow-log"),
	}, parent); err != nil {
		return nil, fmt.Errorf("creating flow log: %w", err)
	}
	return group, nil
}

// flowLogPolicy lets the flow-log service write one log group, named by ARN.
func flowLogPolicy(arn string) string {
	return iampolicy.New(iampolicy.Allow("WriteFlowLogs",
		[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		[]string{arn, arn + ":*"})).JSON()
}

// endpoints gives the private subnets the AWS services they need without the internet: S3 through a
// gateway endpoint on every private route table, the rest through interface endpoints in the app
// subnets behind one security group that the firewall opens to each tier.
func endpoints(ctx *pulumi.Context, name string, a *VpcArgs, vpc *ec2.Vpc, subnets, routeTables pulumi.StringArray,
	parent, afterReservations pulumi.ResourceOption,
) (*ec2.SecurityGroup, pulumi.StringOutput, error) {
	sg, err := ec2.NewSecurityGroup(ctx, name+"-endpoints", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("Interface VPC endpoints; ingress rules come from the firewall"),
		Tags:        naming.Tags(a.Tags, name+"-endpoints"),
	}, parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating endpoint security group: %w", err)
	}
	s3, err := ec2.NewVpcEndpoint(ctx, name+"-s3", &ec2.VpcEndpointArgs{
		VpcId:           vpc.ID(),
		ServiceName:     pulumi.Sprintf("com.amazonaws.%s.s3", a.Region),
		VpcEndpointType: pulumi.String("Gateway"),
		RouteTableIds:   routeTables,
		Tags:            naming.Tags(a.Tags, name+"-s3"),
	}, parent)
	if err != nil {
		return nil, pulumi.StringOutput{}, fmt.Errorf("creating S3 gateway endpoint: %w", err)
	}
	for _, svc := range InterfaceEndpoints {
		n := name + "-" + svc
		if _, err := ec2.NewVpcEndpoint(ctx, n, &ec2.VpcEndpointArgs{
			VpcId:             vpc.ID(),
			ServiceName:       pulumi.Sprintf("com.amazonaws.%s.%s", a.Region, svc),
			VpcEndpointType:   pulumi.String("Interface"),
			PrivateDnsEnabled: pulumi.Bool(true),
			SubnetIds:         subnets,
			SecurityGroupIds:  pulumi.StringArray{sg.ID()},
			Tags:              naming.Tags(a.Tags, n),
		}, parent, afterReservations); err != nil {
			return nil, pulumi.StringOutput{}, fmt.Errorf("creating %s endpoint: %w", svc, err)
		}
	}
	return sg, s3.PrefixListId, nil
}
