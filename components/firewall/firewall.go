package firewall

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:firewall:SecurityGroups"

// Peer names the sources and destinations a rule can name besides a group.
const (
	// World is the internet: allowed only as the source of an ingress rule to an edge group on EdgePorts,
	// or as the destination of HTTPS egress through the NAT gateways.
	World = "world"
	// S3 is the S3 gateway endpoint's prefix list: allowed only as a destination on 443.
	S3 = "s3"
)

// EdgePorts are the only ports opened to the world: HTTPS, and HTTP for a listener that does nothing but
// redirect to HTTPS (which the policy pack's lb-https-only checks).
var EdgePorts = []int{80, 443}

// egressPort is the only port the hosts may reach the world on.
const egressPort = 443

// AdminPorts are never opened by any rule: remote shells and desktops (hosts are reached through SSM).
var AdminPorts = []int{22, 3389}

// Group is one security group to create.
type Group struct {
	// Name is the group's short name, unique in the firewall, lower-case letters, digits and dashes.
	Name string
	// Description says what runs in the group. Required.
	Description string
	// Edge marks the one kind of group that may accept traffic from the world (the load balancer's).
	Edge bool
}

// Rule allows TCP traffic on one port from one peer to another. From and To name a Group, an entry of
// ExistingGroups, World (as From to an edge group, or as To, on 443 only) or S3 (as To only, on 443). A rule between two groups opens the ingress on
// To and the matching egress on From.
type Rule struct {
	From string
	To   string
	Port int
	// Description says why the traffic is needed. Required.
	Description string
}

// SecurityGroupsArgs configures the firewall.
type SecurityGroupsArgs struct {
	// VpcId is the VPC the groups live in. Required.
	VpcId pulumi.StringInput
	// Groups are the groups to create; at least one. Required.
	Groups []Group
	// ExistingGroups are groups created elsewhere that rules may name, by name to ID (for example the
	// network's endpoint group). Optional.
	ExistingGroups map[string]pulumi.StringInput
	// S3PrefixListId is the S3 gateway endpoint's prefix list. Required when a rule goes to S3.
	S3PrefixListId pulumi.StringInput
	// Rules are the allowed flows. Optional: a group without rules neither sends nor receives.
	Rules []Rule
	// Tags are added to every group. Optional.
	Tags map[string]string
}

// SecurityGroups are the groups of one stack.
type SecurityGroups struct {
	pulumi.ResourceState

	// GroupIds maps each created group's name to its ID.
	GroupIds pulumi.StringMapOutput `pulumi:"groupIds"`

	ids map[string]pulumi.StringOutput
}

// ID returns the ID of a created group, by name, or an error naming the groups there are.
func (s *SecurityGroups) ID(name string) (pulumi.StringOutput, error) {
	id, ok := s.ids[name]
	if !ok {
		return pulumi.StringOutput{}, fmt.Errorf("firewall: no group %q; the groups are %s", name, strings.Join(slices.Sorted(maps.Keys(s.ids)), ", "))
	}
	return id, nil
}

var groupName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}$`)

func (a *SecurityGroupsArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("firewall %q: args are required", name)
	}
	if a.VpcId == nil {
		return fmt.Errorf("firewall %q: VpcId is required", name)
	}
	if len(a.Groups) == 0 {
		return fmt.Errorf("firewall %q: Groups is empty; want at least one group", name)
	}
	known := map[string]bool{}
	edge := map[string]bool{}
	for i, g := range a.Groups {
		switch {
		case !groupName.MatchString(g.Name) || g.Name == World || g.Name == S3:
			return fmt.Errorf("firewall %q: Groups[%d].Name %q must be 1-31 lower-case letters, digits or dashes, and not %q or %q", name, i, g.Name, World, S3)
		case known[g.Name]:
			return fmt.Errorf("firewall %q: Groups[%d].Name %q is used twice", name, i, g.Name)
		case g.Description == "":
			return fmt.Errorf("firewall %q: Groups[%d].Description is required", name, i)
		}
		known[g.Name] = true
		edge[g.Name] = g.Edge
	}
	for n := range a.ExistingGroups {
		if known[n] || n == World || n == S3 {
			return fmt.Errorf("firewall %q: ExistingGroups[%q] clashes with a group or peer of that name", name, n)
		}
		known[n] = true
	}
	for i, r := range a.Rules {
		field := fmt.Sprintf("firewall %q: Rules[%d] (%s to %s on %d)", name, i, r.From, r.To, r.Port)
		switch {
		case r.Port < 1 || r.Port > 65535:
			return fmt.Errorf("%s: Port %d is not a TCP port 1-65535", field, r.Port)
		case slices.Contains(AdminPorts, r.Port):
			return fmt.Errorf("%s: Port %d is an administrative port; hosts are reached through SSM Session Manager, never %v", field, r.Port, AdminPorts)
		case r.Description == "":
			return fmt.Errorf("%s: Description is required", field)
		case r.From == S3:
			return fmt.Errorf("%s: From %q is only a destination", field, S3)
		case r.From == World && !edge[r.To]:
			return fmt.Errorf("%s: only a group marked Edge may accept traffic from the world; %q is not one", field, r.To)
		case r.From == World && !slices.Contains(EdgePorts, r.Port):
			return fmt.Errorf("%s: Port %d: the world may reach an edge group on %v only", field, r.Port, EdgePorts)
		case r.From != World && !known[r.From]:
			return fmt.Errorf("%s: From %q is not a group; want one of %v or %q", field, r.From, slices.Sorted(maps.Keys(known)), World)
		case r.To == World && r.Port != egressPort:
			return fmt.Errorf("%s: Port %d: egress to the world is allowed on %d only", field, r.Port, egressPort)
		case r.To == S3 && r.Port != 443:
			return fmt.Errorf("%s: Port %d: S3 is reached on 443 only", field, r.Port)
		case r.To == S3 && a.S3PrefixListId == nil:
			return fmt.Errorf("%s: S3PrefixListId is required for a rule to S3", field)
		case r.To != S3 && r.To != World && !known[r.To]:
			return fmt.Errorf("%s: To %q is not a group; want one of %v or %q", field, r.To, slices.Sorted(maps.Keys(known)), S3)
		}
	}
	return nil
}

// NewSecurityGroups creates the groups and their rules.
func NewSecurityGroups(ctx *pulumi.Context, name string, args *SecurityGroupsArgs, opts ...pulumi.ResourceOption) (*SecurityGroups, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := *args

	comp := &SecurityGroups{ids: map[string]pulumi.StringOutput{}}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	ids := map[string]pulumi.StringInput{}
	for n, id := range a.ExistingGroups {
		ids[n] = id
	}
	out := pulumi.StringMap{}
	for _, g := range a.Groups {
		gn := name + "-" + g.Name
		// No inline rules: the provider then removes the allow-all egress AWS adds, and every flow is a
		// rule below.
		tags := naming.Tags(a.Tags, gn)
		if g.Edge {
			tags[naming.EdgeTag] = pulumi.String(naming.EdgeValue)
		}
		sg, err := ec2.NewSecurityGroup(ctx, gn, &ec2.SecurityGroupArgs{
			VpcId:       a.VpcId,
			Description: pulumi.String(g.Description),
			Tags:        tags,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating security group %s: %w", g.Name, err)
		}
		ids[g.Name] = sg.ID()
		comp.ids[g.Name] = sg.ID().ToStringOutput()
		out[g.Name] = sg.ID()
	}

	for _, r := range a.Rules {
		port := strconv.Itoa(r.Port)
		base := ec2.SecurityGroupRuleArgs{
			Protocol:    pulumi.String("tcp"),
			FromPort:    pulumi.Int(r.Port),
			ToPort:      pulumi.Int(r.Port),
			Description: pulumi.String(r.Description),
		}
		if r.From == World {
			in := base
			in.Type = pulumi.String("ingress")
			in.SecurityGroupId = ids[r.To]
			in.CidrBlocks = pulumi.StringArray{pulumi.String("0.0.0.0/0")}
			in.Ipv6CidrBlocks = pulumi.StringArray{pulumi.String("::/0")}
			if _, err := ec2.NewSecurityGroupRule(ctx, name+"-world-to-"+r.To+"-"+port, &in, parent); err != nil {
				return nil, fmt.Errorf("creating edge rule to %s: %w", r.To, err)
			}
			continue
		}
		eg := base
		eg.Type = pulumi.String("egress")
		eg.SecurityGroupId = ids[r.From]
		switch r.To {
		case S3:
			eg.PrefixListIds = pulumi.StringArray{a.S3PrefixListId}
		case World:
			eg.CidrBlocks = pulumi.StringArray{pulumi.String("0.0.0.0/0")}
		default:
			eg.SourceSecurityGroupId = ids[r.To]
		}
		ruleName := name + "-" + r.From + "-to-" + r.To + "-" + port
		if _, err := ec2.NewSecurityGroupRule(ctx, ruleName+"-out", &eg, parent); err != nil {
			return nil, fmt.Errorf("creating egress %s to %s: %w", r.From, r.To, err)
		}
		if r.To == S3 || r.To == World {
			continue
		}
		in := base
		in.Type = pulumi.String("ingress")
		in.SecurityGroupId = ids[r.To]
		in.SourceSecurityGroupId = ids[r.From]
		if _, err := ec2.NewSecurityGroupRule(ctx, ruleName+"-in", &in, parent); err != nil {
			return nil, fmt.Errorf("creating ingress %s to %s: %w", r.From, r.To, err)
		}
	}

	comp.GroupIds = out.ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{"groupIds": comp.GroupIds}); err != nil {
		return nil, err
	}
	return comp, nil
}
