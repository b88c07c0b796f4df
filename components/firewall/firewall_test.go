package firewall

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// groups is the component under test, run as a program of its own.
var groups = offlinetest.For(NewSecurityGroups, "fw")

func validArgs() *SecurityGroupsArgs {
	return &SecurityGroupsArgs{
		VpcId: pulumi.String("vpc-1"),
		Groups: []Group{
			{Name: "alb", Description: "load balancer", Edge: true},
			{Name: "app", Description: "web tier"},
			{Name: "db", Description: "postgres"},
		},
		ExistingGroups: map[string]pulumi.StringInput{"endpoints": pulumi.String("sg-endpoints")},
		S3PrefixListId: pulumi.String("pl-s3"),
		Rules: []Rule{
			{From: World, To: "alb", Port: 443, Description: "clients"},
			{From: "alb", To: "app", Port: 443, Description: "forward"},
			{From: "app", To: "db", Port: 5432, Description: "queries"},
			{From: "app", To: "endpoints", Port: 443, Description: "aws apis"},
			{From: "db", To: S3, Port: 443, Description: "backups"},
			{From: "app", To: World, Port: 443, Description: "partner apis"},
		},
	}
}

func TestRulesNamePeersByGroup(t *testing.T) {
	t.Parallel()
	rs, err := groups.Run(t, validArgs())
	if err != nil {
		t.Fatal(err)
	}
	groups := map[string]string{"endpoints": "sg-endpoints"}
	for _, g := range offlinetest.Of(rs, "aws:ec2/securityGroup:SecurityGroup") {
		if g.Value("ingress") != nil || g.Value("egress") != nil {
			t.Errorf("%s has inline rules; every rule must be its own resource", g.Name)
		}
		groups[strings.TrimPrefix(g.Name, "fw-")] = g.ID
		if edge := g.String("tags." + naming.EdgeTag); (edge == naming.EdgeValue) != (g.Name == "fw-alb") {
			t.Errorf("%s is tagged %s=%q; only the edge group is", g.Name, naming.EdgeTag, edge)
		}
	}
	type flow struct{ kind, group, peer, port string }
	got := map[flow]bool{}
	for _, r := range offlinetest.Of(rs, "aws:ec2/securityGroupRule:SecurityGroupRule") {
		if r.Value("fromPort") != r.Value("toPort") || r.String("protocol") != "tcp" {
			t.Errorf("%s opens %v-%v/%s, want one TCP port", r.Name, r.Value("fromPort"), r.Value("toPort"), r.String("protocol"))
		}
		peer := r.String("sourceSecurityGroupId")
		if cidrs, ok := r.Value("cidrBlocks").([]any); ok {
			peer = cidrs[0].(string)
		}
		if pls, ok := r.Value("prefixListIds").([]any); ok {
			peer = pls[0].(string)
		}
		got[flow{r.String("type"), r.String("securityGroupId"), peer, fmt.Sprint(r.Value("fromPort"))}] = true
	}
	want := []flow{
		{"ingress", groups["alb"], "0.0.0.0/0", "443"},
		{"egress", groups["alb"], groups["app"], "443"},
		{"ingress", groups["app"], groups["alb"], "443"},
		{"egress", groups["app"], groups["db"], "5432"},
		{"ingress", groups["db"], groups["app"], "5432"},
		{"egress", groups["app"], "sg-endpoints", "443"},
		{"ingress", "sg-endpoints", groups["app"], "443"},
		{"egress", groups["db"], "pl-s3", "443"},
		{"egress", groups["app"], "0.0.0.0/0", "443"},
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %s rule on %s with peer %s on %s", w.kind, w.group, w.peer, w.port)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d rules, want exactly %d: %v", len(got), len(want), got)
	}
}

func TestOnlyTheEdgeRuleIsOpenToTheWorld(t *testing.T) {
	t.Parallel()
	rs, err := groups.Run(t, validArgs())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range offlinetest.Of(rs, "aws:ec2/securityGroupRule:SecurityGroupRule") {
		if r.String("type") != "ingress" || r.Value("cidrBlocks") == nil {
			continue
		}
		if r.Name != "fw-world-to-alb-443" || r.Value("fromPort") != float64(443) {
			t.Errorf("%s admits the world on %v", r.Name, r.Value("fromPort"))
		}
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*SecurityGroupsArgs)
		want   string
	}{
		{"ssh", func(a *SecurityGroupsArgs) { a.Rules[2].Port = 22 }, "Rules[2] (app to db on 22): Port 22 is an administrative port"},
		{"rdp", func(a *SecurityGroupsArgs) { a.Rules[1].Port = 3389 }, "Rules[1] (alb to app on 3389): Port 3389"},
		{"world to non-edge", func(a *SecurityGroupsArgs) { a.Rules[0].To = "app" }, `Rules[0] (world to app on 443): only a group marked Edge`},
		{"world on 8080", func(a *SecurityGroupsArgs) { a.Rules[0].Port = 8080 }, "Rules[0] (world to alb on 8080): Port 8080: the world may reach an edge group on [80 443] only"},
		{"world on ssh", func(a *SecurityGroupsArgs) { a.Rules[0].Port = 22 }, "Port 22 is an administrative port"},
		{"egress world 80", func(a *SecurityGroupsArgs) { a.Rules[5].Port = 80 }, "Rules[5] (app to world on 80)"},
		{"s3 not 443", func(a *SecurityGroupsArgs) { a.Rules[4].Port = 80 }, "S3 is reached on 443 only"},
		{"s3 as source", func(a *SecurityGroupsArgs) { a.Rules[4].From, a.Rules[4].To = S3, "db" }, `From "s3" is only a destination`},
		{"s3 without list", func(a *SecurityGroupsArgs) { a.S3PrefixListId = nil }, "S3PrefixListId is required"},
		{"unknown from", func(a *SecurityGroupsArgs) { a.Rules[2].From = "web" }, `Rules[2] (web to db on 5432): From "web" is not a group`},
		{"unknown to", func(a *SecurityGroupsArgs) { a.Rules[2].To = "pg" }, `To "pg" is not a group`},
		{"port 0", func(a *SecurityGroupsArgs) { a.Rules[2].Port = 0 }, "Port 0 is not a TCP port"},
		{"no description", func(a *SecurityGroupsArgs) { a.Rules[2].Description = "" }, "Rules[2] (app to db on 5432): Description is required"},
		{"dup group", func(a *SecurityGroupsArgs) { a.Groups[2].Name = "app" }, `Groups[2].Name "app" is used twice`},
		{"group named world", func(a *SecurityGroupsArgs) { a.Groups[2].Name = World }, `Groups[2].Name "world"`},
		{"bad group name", func(a *SecurityGroupsArgs) { a.Groups[1].Name = "App Tier" }, `Groups[1].Name "App Tier"`},
		{"group description", func(a *SecurityGroupsArgs) { a.Groups[0].Description = "" }, "Groups[0].Description is required"},
		{"no groups", func(a *SecurityGroupsArgs) { a.Groups = nil }, "Groups is empty"},
		{"no vpc", func(a *SecurityGroupsArgs) { a.VpcId = nil }, "VpcId is required"},
		{"existing clash", func(a *SecurityGroupsArgs) { a.ExistingGroups["db"] = pulumi.String("sg-x") }, `ExistingGroups["db"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			tc.mutate(args)
			groups.Refused(t, args, tc.want)
		})
	}
}

// TestAGroupLookupThatMissesIsAnError: a name the firewall does not have is an error naming the groups
// it has, never a panic during pulumi up.
func TestAGroupLookupThatMissesIsAnError(t *testing.T) {
	t.Parallel()
	offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		fw, err := NewSecurityGroups(ctx, "fw", validArgs())
		if err != nil {
			return err
		}
		if _, err := fw.ID("app"); err != nil {
			t.Errorf("ID(app): %v", err)
		}
		if _, err := fw.ID("datbase"); err == nil || err.Error() != `firewall: no group "datbase"; the groups are alb, app, db` {
			t.Errorf("ID(datbase) = %v", err)
		}
		return nil
	})
}
