// Package plan says what a stack needs before it can deploy, from its offline preview: the AWS quotas
// it consumes at its largest against AWS's defaults, the zones, instance types and endpoint services it
// assumes, and a model of the time its first `pulumi up` takes, from the critical path through its
// dependency graph. With credentials, Check compares the same needs with the account's own quotas and
// offerings through the AWS CLI.
package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Plan is what one stack needs.
type Plan struct {
	Stack, Region string
	Uses          []Use
	// Zones are the zones the stack's subnets are in; InstanceTypes and EndpointServices what it
	// assumes each of them offers.
	Zones, InstanceTypes, EndpointServices []string
	// Dedicated is how many instances run with dedicated tenancy at the stack's largest.
	Dedicated int
	Path      Path
}

// Make plans stack, in region, from its preview rs.
func Make(stack, region string, rs []offline.Resource) (Plan, error) {
	uses, dedicated, err := Usage(rs)
	if err != nil {
		return Plan{}, fmt.Errorf("plan of %s: %w", stack, err)
	}
	p := Plan{Stack: stack, Region: region, Uses: uses, Dedicated: dedicated, Path: CriticalPath(rs)}
	zones, types, services := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		switch r.Type {
		case "aws:ec2/subnet:Subnet":
			zones[r.String("availabilityZone")] = true
		case "aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate":
			types[r.String("instanceType")] = true
		case "aws:ec2/vpcEndpoint:VpcEndpoint":
			services[r.String("serviceName")] = true
		}
	}
	p.Zones, p.InstanceTypes, p.EndpointServices = keys(zones), keys(types), keys(services)
	return p, nil
}

func keys(m map[string]bool) []string {
	delete(m, "")
	return slices.Sorted(maps.Keys(m))
}

// Sum is what stacks deployed to one account and region need together: quotas of the region add up,
// quotas per zone, VPC, group or interface are the largest of any one stack.
func Sum(plans []Plan) []Use {
	var out []Use
	index := map[string]int{}
	for _, p := range plans {
		for _, u := range p.Uses {
			i, seen := index[u.Quota.Code]
			if !seen {
				index[u.Quota.Code] = len(out)
				out = append(out, Use{Quota: u.Quota, Used: u.Used, Where: p.Stack + " " + u.Where})
				continue
			}
			if u.Quota.Per == "region" {
				out[i].Used += u.Used
				out[i].Where = ""
			} else if u.Used > out[i].Used {
				out[i].Used, out[i].Where = u.Used, p.Stack+" "+u.Where
			}
		}
	}
	return out
}

// WriteQuotas writes uses as a table, marking those above AWS's default.
func WriteQuotas(w io.Writer, uses []Use, verbose bool) {
	for _, u := range uses {
		mark := "ok   "
		if u.Exceeds() {
			mark = "RAISE"
		}
		where := ""
		if u.Quota.Per != "region" && u.Where != "" {
			where = " (per " + u.Quota.Per + ": " + strings.TrimSpace(u.Where) + ")"
		}
		fmt.Fprintf(w, "  %s %4d of %4d  %-20s %-11s %s%s\n", mark, u.Used, u.Quota.Default, u.Quota.Service, u.Quota.Code, u.Quota.Name, where)
		if verbose && u.Why != "" {
			fmt.Fprintf(w, "%37s counted: %s\n", "", u.Why)
		}
	}
}

// Write prints the plan.
func (p Plan) Write(w io.Writer) {
	fmt.Fprintf(w, "plan of %s in %s, from its offline preview: what its first `pulumi up` needs\n\n", p.Stack, p.Region)
	fmt.Fprintf(w, "Quotas at the stack's largest (every Auto Scaling group at its maximum, and at its surge during an instance refresh), against AWS's defaults for a new account:\n")
	WriteQuotas(w, p.Uses, true)
	fmt.Fprintf(w, "  Dedicated tenancy: %d instances at the largest run as Dedicated Instances, which Service Quotas lists no quota of their own for; they are\n", p.Dedicated)
	fmt.Fprintf(w, "  counted above against the On-Demand vCPU quotas (an assumption). No Dedicated Hosts are used: the Running Dedicated <family> Hosts quotas do not apply.\n")
	fmt.Fprintf(w, "  An account's applied quotas are often above the defaults; `--online` reads them. Sources: internal/plan/quotas.go.\n\n")
	fmt.Fprintf(w, "Zones (offline: assumed, not checked; `--online` checks them against the account):\n")
	fmt.Fprintf(w, "  subnets in %s\n", strings.Join(p.Zones, ", "))
	fmt.Fprintf(w, "  instance types assumed offered in each: %s\n", strings.Join(p.InstanceTypes, ", "))
	fmt.Fprintf(w, "  endpoint services assumed in each: %s\n\n", strings.Join(p.EndpointServices, ", "))
	fmt.Fprintf(w, "Modeled time to stand the stack up from empty: %s. It is a model, not a measurement: the longest chain of dependencies in\n", clock(p.Path.Total))
	fmt.Fprintf(w, "the preview, each resource weighted by a typical creation time for its type (internal/plan/times.go, with the sources of each figure).\n")
	fmt.Fprintf(w, "  critical path (finished at, type, name, its own time):\n")
	for _, s := range p.Path.Steps {
		fmt.Fprintf(w, "    %7s  %-50s %s  %ds\n", clock(s.Done), s.Type, s.Name, s.Seconds)
	}
	fmt.Fprintf(w, "  dominated by:\n")
	for _, s := range p.Path.Dominant(3) {
		if s.Seconds == 0 {
			break
		}
		fmt.Fprintf(w, "    %4ds %d%%  %s %s: %s\n", s.Seconds, 100*s.Seconds/max(p.Path.Total, 1), s.Type, s.Name, s.Source)
	}
}

// clock is seconds as minutes and seconds.
func clock(seconds int) string { return fmt.Sprintf("%dm%02ds", seconds/60, seconds%60) }
