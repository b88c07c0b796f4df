package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cfg"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/conformance"
)

// ScopeTag is the tag whose value, the stack's name, scopes a VPC's conformance pack to the stack's own
// resources.
const ScopeTag = "Environment"

// conformancePack declares the VPC's own rules of AWS's HIPAA conformance pack (conformance.PerStack), with
// this network as their parameters: the internet gateway attached to this VPC only, and a route to it from
// the public route table only. The rules are scoped to the stack's resources by their Environment tag, so
// that one stack's pack does not judge another stack's gateways. AWS Config gives each pack's rules a
// suffix of the pack's own, so the stacks of an account may all declare the same rules.
func (b *builder) conformancePack() error {
	rules, err := conformance.Only(conformance.HIPAASecurity(), conformance.PerStack...)
	if err != nil {
		return err
	}
	stack := b.args.Tags[ScopeTag]
	body := pulumi.All(b.v.ID(), b.publicRoute.ID()).ApplyT(func(v []any) (string, error) {
		tailored, err := conformance.Tailor(rules, map[string]map[string]string{
			"internet-gateway-authorized-vpc-only": {"AuthorizedVpcIds": string(v[0].(pulumi.ID))},
			"no-unrestricted-route-to-igw":         {"routeTableIds": string(v[1].(pulumi.ID))},
		})
		if err != nil {
			return "", err
		}
		return conformance.Template(tailored, conformance.Scope{TagKey: ScopeTag, TagValue: stack})
	}).(pulumi.StringOutput)
	opts := []pulumi.ResourceOption{b.parent}
	if len(b.args.RecordedBy) > 0 {
		opts = append(opts, pulumi.DependsOn(b.args.RecordedBy))
	}
	if _, err := cfg.NewConformancePack(b.ctx, b.name+"-conformance", &cfg.ConformancePackArgs{
		Name:         pulumi.String(b.name + "-internet-paths"),
		TemplateBody: body,
	}, opts...); err != nil {
		return fmt.Errorf("declaring the network's conformance pack: %w", err)
	}
	return nil
}
