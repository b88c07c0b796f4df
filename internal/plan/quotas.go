package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Quota is one AWS service quota a stack consumes, with AWS's default for it.
type Quota struct {
	// Service and Code name the quota in Service Quotas (aws service-quotas get-service-quota).
	Service, Code, Name string
	// Per is what the quota counts within: the region, or each zone, VPC, group or interface.
	Per     string
	Default int
	Source  string
}

// Where the defaults come from.
const (
	srcEC2Quotas = "EC2 instance type quotas (docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html)"
	srcVPCQuotas = "Amazon VPC quotas (docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html)"
	srcEndpoints = "AWS PrivateLink quotas (docs.aws.amazon.com/vpc/latest/privatelink/vpc-limits-endpoints.html)"
	srcALB       = "Application Load Balancer quotas (docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html)"
	srcASG       = "Auto Scaling quotas (docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-quotas.html)"
	srcEBS       = "Amazon EBS quotas (docs.aws.amazon.com/general/latest/gr/ebs-service.html)"
)

// Quotas the platform consumes.
var (
	quotaStandardVCPU = Quota{"ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances (vCPUs)", "region", 5, srcEC2Quotas}
	quotaEIP          = Quota{"ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", "region", 5, srcVPCQuotas}
	quotaVPC          = Quota{"vpc", "L-F678F1CE", "VPCs per Region", "region", 5, srcVPCQuotas}
	quotaIGW          = Quota{"vpc", "L-A4707A72", "Internet gateways per Region", "region", 5, srcVPCQuotas}
	quotaNAT          = Quota{"vpc", "L-FE5A380F", "NAT gateways per Availability Zone", "zone", 5, srcVPCQuotas}
	quotaInterface    = Quota{"vpc", "L-29B6F2EB", "Interface VPC endpoints per VPC", "VPC", 50, srcEndpoints}
	quotaSG           = Quota{"vpc", "L-E79EC296", "VPC security groups per Region (each VPC's default group included)", "region", 2500, srcVPCQuotas}
	quotaRules        = Quota{"vpc", "L-0EA8095F", "Inbound or outbound rules per security group", "group and direction", 60, srcVPCQuotas}
	quotaSGPerENI     = Quota{"vpc", "L-2AFB9258", "Security groups per network interface", "interface", 5, srcVPCQuotas}
	quotaALB          = Quota{"elasticloadbalancing", "L-53DA6B97", "Application Load Balancers per Region", "region", 50, srcALB}
	quotaASG          = Quota{"autoscaling", "L-CDE20ADC", "Auto Scaling groups per region", "region", 500, srcASG}
	quotaGP3          = Quota{"ebs", "L-7A658B76", "Storage for gp3 volumes, in TiB", "region", 50, srcEBS}
)

// otherVCPUQuotas are the On-Demand quotas of the families that are not Standard, by the prefix of the
// family's name, longest first: each defaults to 0 vCPUs (EC2 instance type quotas).
var otherVCPUQuotas = []struct {
	prefix string
	quota  Quota
}{
	{"inf", Quota{"ec2", "L-1945791B", "Running On-Demand Inf instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"trn", Quota{"ec2", "L-2C3B7624", "Running On-Demand Trn instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"hpc", Quota{"ec2", "L-F7808C92", "Running On-Demand HPC instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"dl", Quota{"ec2", "L-6E869C2A", "Running On-Demand DL instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"vt", Quota{"ec2", "L-DB2E81BA", "Running On-Demand G and VT instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"u-", Quota{"ec2", "L-43DA4232", "Running On-Demand High Memory instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"g", Quota{"ec2", "L-DB2E81BA", "Running On-Demand G and VT instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"p", Quota{"ec2", "L-417A185B", "Running On-Demand P instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"x", Quota{"ec2", "L-7295265B", "Running On-Demand X instances (vCPUs)", "region", 0, srcEC2Quotas}},
	{"f", Quota{"ec2", "L-74FC7D96", "Running On-Demand F instances (vCPUs)", "region", 0, srcEC2Quotas}},
}

// vcpuQuota is the On-Demand quota an instance type counts against.
func vcpuQuota(instanceType string) Quota {
	for _, q := range otherVCPUQuotas {
		if strings.HasPrefix(instanceType, q.prefix) {
			return q.quota
		}
	}
	return quotaStandardVCPU
}

// VCPUs is the vCPU count of an instance type from its size, as EC2's current families name them (large
// 2, xlarge 4, Nxlarge 4N; EC2 instance type specifications). Sizes without that rule are refused.
func VCPUs(instanceType string) (int, error) {
	family, size, ok := strings.Cut(instanceType, ".")
	switch {
	case !ok:
		return 0, fmt.Errorf("instance type %q has no size", instanceType)
	case size == "large":
		return 2, nil
	case size == "xlarge":
		return 4, nil
	case size == "medium" && !strings.HasPrefix(family, "t"):
		return 1, nil
	case strings.HasPrefix(family, "t") && (size == "medium" || size == "small" || size == "micro" || size == "nano"):
		return 2, nil
	case strings.HasSuffix(size, "xlarge"):
		if n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge")); err == nil && n > 0 {
			return 4 * n, nil
		}
	}
	return 0, fmt.Errorf("instance type %q: no vCPU count for size %q (metal and other sizes vary by family)", instanceType, size)
}

// Use is how much of a quota a stack consumes at its largest.
type Use struct {
	Quota Quota
	Used  int
	// Where is the zone, VPC, group or interface that uses the most, for a quota per one of them.
	Where string
	// Why says how Used is counted.
	Why string
}

// Exceeds says whether the stack needs more than AWS's default.
func (u Use) Exceeds() bool { return u.Used > u.Quota.Default }

// Usage are the quotas stack resources rs consume at their largest: every Auto Scaling group at its
// maximum size, and during an instance refresh at its maximum healthy percentage of that; and how many of
// those instances run with dedicated tenancy.
func Usage(rs []offline.Resource) (uses []Use, dedicated int, err error) {
	byID := map[string]offline.Resource{}
	for _, r := range rs {
		if r.ID != "" {
			byID[r.ID] = r
		}
	}
	of := func(typ string) []offline.Resource {
		var out []offline.Resource
		for _, r := range rs {
			if r.Type == typ {
				out = append(out, r)
			}
		}
		return out
	}
	vcpus, why := map[Quota]int{}, map[Quota][]string{}
	gp3GiB := 0
	maxGroups, maxGroupsWhere := 0, ""
	count := func(name, instanceType, tenancy string, n int, sgs int, rootGiB int) error {
		per, err := VCPUs(instanceType)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if tenancy == "dedicated" {
			dedicated += n
		}
		q := vcpuQuota(instanceType)
		vcpus[q] += per * n
		why[q] = append(why[q], fmt.Sprintf("%s %d x %s (%d vCPUs)", name, n, instanceType, per))
		gp3GiB += rootGiB * n
		if sgs > maxGroups {
			maxGroups, maxGroupsWhere = sgs, name
		}
		return nil
	}
	for _, r := range of("aws:ec2/instance:Instance") {
		size, _ := r.Value("rootBlockDevice.volumeSize").(float64)
		sgs, _ := r.Value("vpcSecurityGroupIds").([]any)
		if err := count(r.Name, r.String("instanceType"), r.String("tenancy"), 1, len(sgs), int(size)); err != nil {
			return nil, 0, err
		}
	}
	for _, g := range of("aws:autoscaling/group:Group") {
		t, ok := byID[g.String("launchTemplate.id")]
		if !ok {
			return nil, 0, fmt.Errorf("group %s: its launch template is not in the preview", g.Name)
		}
		maxSize, _ := g.Value("maxSize").(float64)
		surge := 100.0
		for _, p := range []string{"instanceRefresh.preferences.maxHealthyPercentage", "instanceMaintenancePolicy.maxHealthyPercentage"} {
			if v, ok := g.Value(p).(float64); ok {
				surge = max(surge, v)
			}
		}
		size, _ := t.Value("blockDeviceMappings.0.ebs.volumeSize").(float64)
		sgs, _ := t.Value("networkInterfaces.0.securityGroups").([]any)
		n := int(maxSize * surge / 100)
		if err := count(g.Name+" (max "+strconv.Itoa(int(maxSize))+", "+strconv.Itoa(int(surge))+"% in a refresh)", t.String("instanceType"), t.String("placement.tenancy"), n, len(sgs), int(size)); err != nil {
			return nil, 0, err
		}
	}
	for _, v := range of("aws:ebs/volume:Volume") {
		if v.String("type") == "gp3" {
			size, _ := v.Value("size").(float64)
			gp3GiB += int(size)
		}
	}

	for _, q := range slices.SortedFunc(maps.Keys(vcpus), func(a, b Quota) int { return strings.Compare(a.Code, b.Code) }) {
		uses = append(uses, Use{Quota: q, Used: vcpus[q], Why: strings.Join(why[q], "; ")})
	}
	vpcs := len(of("aws:ec2/vpc:Vpc"))
	uses = append(uses,
		Use{Quota: quotaEIP, Used: len(of("aws:ec2/eip:Eip")), Why: "one per NAT gateway"},
		Use{Quota: quotaVPC, Used: vpcs},
		Use{Quota: quotaIGW, Used: len(of("aws:ec2/internetGateway:InternetGateway"))},
	)
	nat := map[string]int{}
	for _, g := range of("aws:ec2/natGateway:NatGateway") {
		nat[byID[g.String("subnetId")].String("availabilityZone")]++
	}
	uses = append(uses, largest(quotaNAT, nat, "by the zone of the gateway's subnet"))
	endpoints := map[string]int{}
	for _, e := range of("aws:ec2/vpcEndpoint:VpcEndpoint") {
		if e.String("vpcEndpointType") == "Interface" {
			endpoints[byID[e.String("vpcId")].Name]++
		}
	}
	uses = append(uses, largest(quotaInterface, endpoints, "interface endpoints; gateway endpoints count apart"))
	groups := of("aws:ec2/securityGroup:SecurityGroup")
	uses = append(uses, Use{Quota: quotaSG, Used: len(groups) + vpcs, Why: fmt.Sprintf("%d groups and %d VPC default groups", len(groups), vpcs)})
	rules := map[string]int{}
	prefixLists := false
	for _, r := range of("aws:ec2/securityGroupRule:SecurityGroupRule") {
		name := byID[r.String("securityGroupId")].Name
		if name == "" {
			name = r.String("securityGroupId")
		}
		n := 0
		if cidrs, _ := r.Value("cidrBlocks").([]any); len(cidrs) > 0 {
			n += len(cidrs)
		}
		if lists, _ := r.Value("prefixListIds").([]any); len(lists) > 0 {
			n += len(lists)
			prefixLists = true
		}
		rules[name+" "+r.String("type")] += max(n, 1)
	}
	ruleUse := largest(quotaRules, rules, "each CIDR a rule, IPv4 and IPv6 apart")
	if prefixLists {
		ruleUse.Why += "; a rule naming a prefix list counts here as one, but AWS counts it as the list's maximum entries (VPC quotas, security groups)"
	}
	uses = append(uses, ruleUse,
		Use{Quota: quotaSGPerENI, Used: maxGroups, Where: maxGroupsWhere},
		Use{Quota: quotaALB, Used: len(of("aws:lb/loadBalancer:LoadBalancer"))},
		Use{Quota: quotaASG, Used: len(of("aws:autoscaling/group:Group"))},
		Use{Quota: quotaGP3, Used: (gp3GiB + 1023) / 1024, Why: fmt.Sprintf("%d GiB: data volumes, root volumes, each group at its surge", gp3GiB)},
	)
	return uses, dedicated, nil
}

// largest is the use of a per-zone, per-VPC or per-group quota: its largest count.
func largest(q Quota, counts map[string]int, why string) Use {
	u := Use{Quota: q, Why: why}
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		if counts[k] > u.Used {
			u.Used, u.Where = counts[k], k
		}
	}
	return u
}
