package network

import (
	"encoding/json"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

func TestTheVpcDeclaresTheRulesOfItsOwnInternetPaths(t *testing.T) {
	t.Parallel()
	rs := vpc.MustRun(t, validArgs())
	v := offlinetest.One(t, rs, "aws:ec2/vpc:Vpc")
	public, _ := offlinetest.Named(rs, "aws:ec2/routeTable:RouteTable", "net-public")
	pack := offlinetest.One(t, rs, "aws:cfg/conformancePack:ConformancePack")
	var tpl struct {
		Resources map[string]struct {
			Properties struct {
				ConfigRuleName  string
				InputParameters map[string]string
				Scope           map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(pack.String("templateBody")), &tpl); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, r := range tpl.Resources {
		got[r.Properties.ConfigRuleName] = r.Properties.InputParameters
		if r.Properties.Scope["TagKey"] != "Environment" || r.Properties.Scope["TagValue"] != "unit" || len(r.Properties.Scope) != 2 {
			t.Errorf("%s is scoped %v, want the stack's resources by their Environment tag", r.Properties.ConfigRuleName, r.Properties.Scope)
		}
	}
	if len(got) != 2 || got["internet-gateway-authorized-vpc-only"]["AuthorizedVpcIds"] != v.ID ||
		got["no-unrestricted-route-to-igw"]["routeTableIds"] != public.ID {
		t.Errorf("rules %v; want the gateway authorized for VPC %s only and a route to it from %s only", got, v.ID, public.ID)
	}
}

func TestAVpcWithoutAnEnvironmentTagIsRefused(t *testing.T) {
	t.Parallel()
	args := validArgs()
	delete(args.Tags, "Environment")
	vpc.Refused(t, args, `Tags["Environment"] is required`)
}
