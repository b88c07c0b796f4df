package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Runner runs an AWS CLI command (its arguments after "aws") with the caller's credentials and returns
// its JSON output.
type Runner func(ctx context.Context, args ...string) ([]byte, error)

// Check compares what plans need in region with the account: each quota's applied value (Service
// Quotas GetServiceQuota; its AWS default, GetAWSDefaultServiceQuota, where the account has none
// applied), and each zone's offerings of the instance types (EC2 DescribeInstanceTypeOfferings) and
// endpoint services (EC2 DescribeVpcEndpointServices, whose AvailabilityZones lists the zones a service
// is in). It returns what does not fit, one sentence each.
//
// Not exercised here: there are no AWS credentials on the machines that test the project; the
// comparisons are tested on their own (tooLittle, notIn).
func Check(ctx context.Context, region string, uses []Use, plans []Plan, aws Runner) ([]string, error) {
	applied := map[string]float64{}
	for _, u := range uses {
		v, err := appliedQuota(ctx, aws, region, u.Quota)
		if err != nil {
			return nil, err
		}
		applied[u.Quota.Code] = v
	}
	findings := tooLittle(uses, applied)
	zones, types, services := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range plans {
		for _, z := range p.Zones {
			zones[z] = true
		}
		for _, t := range p.InstanceTypes {
			types[t] = true
		}
		for _, s := range p.EndpointServices {
			services[s] = true
		}
	}
	if len(types) > 0 {
		out, err := aws(ctx, "ec2", "describe-instance-type-offerings", "--region", region, "--location-type", "availability-zone",
			"--filters", "Name=instance-type,Values="+strings.Join(keys(types), ","))
		if err != nil {
			return nil, err
		}
		var resp struct {
			InstanceTypeOfferings []struct{ InstanceType, Location string }
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("reading DescribeInstanceTypeOfferings: %w", err)
		}
		offered := map[string][]string{}
		for _, o := range resp.InstanceTypeOfferings {
			offered[o.InstanceType] = append(offered[o.InstanceType], o.Location)
		}
		findings = append(findings, notIn(keys(zones), keys(types), offered, "%s is not offered in %s")...)
	}
	if len(services) > 0 {
		out, err := aws(ctx, append([]string{"ec2", "describe-vpc-endpoint-services", "--region", region, "--service-names"}, keys(services)...)...)
		if err != nil {
			return nil, err
		}
		var resp struct {
			ServiceDetails []struct {
				ServiceName       string
				AvailabilityZones []string
			}
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, fmt.Errorf("reading DescribeVpcEndpointServices: %w", err)
		}
		in := map[string][]string{}
		for _, s := range resp.ServiceDetails {
			in[s.ServiceName] = s.AvailabilityZones
		}
		findings = append(findings, notIn(keys(zones), keys(services), in, "endpoint service %s is not in %s")...)
	}
	return findings, nil
}

// appliedQuota is the account's value of q in region.
func appliedQuota(ctx context.Context, aws Runner, region string, q Quota) (float64, error) {
	args := []string{"--region", region, "--service-code", q.Service, "--quota-code", q.Code}
	out, err := aws(ctx, append([]string{"service-quotas", "get-service-quota"}, args...)...)
	if err != nil && strings.Contains(err.Error(), "NoSuchResource") {
		out, err = aws(ctx, append([]string{"service-quotas", "get-aws-default-service-quota"}, args...)...)
	}
	if err != nil {
		return 0, err
	}
	var resp struct{ Quota struct{ Value float64 } }
	if err := json.Unmarshal(out, &resp); err != nil {
		return 0, fmt.Errorf("reading quota %s: %w", q.Code, err)
	}
	return resp.Quota.Value, nil
}

// tooLittle are the uses above the account's applied quotas, by code.
func tooLittle(uses []Use, applied map[string]float64) []string {
	var out []string
	for _, u := range uses {
		if v := applied[u.Quota.Code]; float64(u.Used) > v {
			out = append(out, fmt.Sprintf("RAISE %s (%s %s): the stacks use %d, the account allows %g", u.Quota.Name, u.Quota.Service, u.Quota.Code, u.Used, v))
		}
	}
	return out
}

// notIn says, of each of names, the zones it is not in: where maps a name to its zones.
func notIn(zones, names []string, where map[string][]string, format string) []string {
	var out []string
	for _, n := range names {
		if missing := without(zones, where[n]); len(missing) > 0 {
			out = append(out, fmt.Sprintf(format, n, strings.Join(missing, ", ")))
		}
	}
	return out
}

// without is want less have.
func without(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}
