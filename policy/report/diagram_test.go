package report_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/report"
)

func res(typ, name string, props map[string]any, pdeps map[string][]string) *engine.Resource {
	return engine.FromPropertyMap(urn(typ, name), typ, name, "", resource.NewPropertyMapFromMap(props), nil, pdeps)
}

func urn(typ, name string) string { return "urn:pulumi:dev::hipaa::" + typ + "::" + name }

// mermaid is a flowchart as the diagram writes it: its nodes by ID, with their labels, and its edges.
type mermaid struct {
	nodes map[string]string
	edges []edge
	dup   []string
}

type edge struct{ from, kind, text, to string }

var (
	nodeLine = regexp.MustCompile(`^\s*(?:subgraph\s+)?([A-Za-z0-9_]+)(\[/|\[\[|\[\(|\(\(|\{\{|\[)(.*?)(/\]|\]\]|\)\]|\)\)|\}\}|\])$`)
	edgeLine = regexp.MustCompile(`^\s*([A-Za-z0-9_]+) (-->|-\.-)(?:\|([^|]*)\|)? ([A-Za-z0-9_]+)$`)
)

// parse reads the flowchart line by line; a line it cannot read fails the test.
func parse(t *testing.T, chart string) mermaid {
	t.Helper()
	m := mermaid{nodes: map[string]string{}}
	for i, line := range strings.Split(strings.TrimSpace(chart), "\n") {
		switch trimmed := strings.TrimSpace(line); {
		case i == 0 && trimmed == "flowchart LR", trimmed == "end":
		case edgeLine.MatchString(line):
			g := edgeLine.FindStringSubmatch(line)
			m.edges = append(m.edges, edge{g[1], g[2], g[3], g[4]})
		case nodeLine.MatchString(line):
			g := nodeLine.FindStringSubmatch(line)
			if _, seen := m.nodes[g[1]]; seen {
				m.dup = append(m.dup, g[1])
			}
			m.nodes[g[1]] = strings.Trim(g[3], `"`)
		default:
			t.Fatalf("line %d is not a node, an edge or an end: %q", i+1, line)
		}
	}
	return m
}

// node finds the node whose label starts with text.
func (m mermaid) node(text string) (string, bool) {
	for id, l := range m.nodes {
		if strings.HasPrefix(l, text) {
			return id, true
		}
	}
	return "", false
}

func (m mermaid) has(e edge) bool {
	for _, x := range m.edges {
		if x == e {
			return true
		}
	}
	return false
}

func TestDiagramPlacesHostsAndDrawsFlows(t *testing.T) {
	t.Parallel()
	const (
		vpcT = "aws:ec2/vpc:Vpc"
		snT  = "aws:ec2/subnet:Subnet"
		sgT  = "aws:ec2/securityGroup:SecurityGroup"
		rule = "aws:ec2/securityGroupRule:SecurityGroupRule"
		ltT  = "aws:ec2/launchTemplate:LaunchTemplate"
	)
	rs := []*engine.Resource{
		res(vpcT, "vpc", map[string]any{"cidrBlock": "10.0.0.0/16", "instanceTenancy": "dedicated"}, nil),
		res(snT, "data-a", map[string]any{"vpcId": "vpc-1", "availabilityZone": "us-east-1a", "cidrBlock": "10.0.128.0/21",
			"tags": map[string]any{"Tier": "data"}}, map[string][]string{"vpcId": {urn(vpcT, "vpc")}}),
		res(snT, "app-a", map[string]any{"vpcId": "vpc-1", "availabilityZone": "us-east-1a", "cidrBlock": "10.0.64.0/21",
			"tags": map[string]any{"Tier": "app"}}, map[string][]string{"vpcId": {urn(vpcT, "vpc")}}),
		res(sgT, "db", map[string]any{}, nil),
		res(sgT, "app", map[string]any{}, nil),
		res(sgT, "alb", map[string]any{"tags": map[string]any{"Exposure": "edge"}}, nil),
		res("aws:ec2/instance:Instance", "db-primary", map[string]any{}, map[string][]string{
			"subnetId": {urn(snT, "data-a")}, "vpcSecurityGroupIds": {urn(sgT, "db")}}),
		res(ltT, "web", map[string]any{}, map[string][]string{"networkInterfaces": {urn(sgT, "app")}}),
		// The group and the load balancer share a name; each is drawn.
		res("aws:autoscaling/group:Group", "web", map[string]any{}, map[string][]string{
			"vpcZoneIdentifiers": {urn(snT, "app-a")}, "launchTemplate": {urn(ltT, "web")}}),
		res("aws:lb/loadBalancer:LoadBalancer", "web", map[string]any{}, map[string][]string{"securityGroups": {urn(sgT, "alb")}}),
		res(rule, "app-to-db", map[string]any{"type": "ingress", "fromPort": 5432.0, "toPort": 5432.0},
			map[string][]string{"securityGroupId": {urn(sgT, "db")}, "sourceSecurityGroupId": {urn(sgT, "app")}}),
		res(rule, "world-to-alb", map[string]any{"type": "ingress", "fromPort": 443.0, "toPort": 443.0, "cidrBlocks": []any{"0.0.0.0/0"}},
			map[string][]string{"securityGroupId": {urn(sgT, "alb")}}),
		res(rule, "app-out-to-db", map[string]any{"type": "egress", "fromPort": 5432.0, "toPort": 5432.0},
			map[string][]string{"securityGroupId": {urn(sgT, "app")}, "sourceSecurityGroupId": {urn(sgT, "db")}}),
	}
	var b strings.Builder
	if err := report.Diagram(&b, rs); err != nil {
		t.Fatal(err)
	}
	m := parse(t, b.String())
	if len(m.dup) > 0 {
		t.Errorf("node IDs used twice: %v\n%s", m.dup, b.String())
	}
	id := func(text string) string {
		t.Helper()
		n, ok := m.node(text)
		if !ok {
			t.Fatalf("no node %q:\n%s", text, b.String())
		}
		return n
	}
	if got := m.nodes[id("VPC vpc")]; got != "VPC vpc<br/>10.0.0.0/16<br/>dedicated tenancy" {
		t.Errorf("the VPC's label is %q", got)
	}
	for _, e := range []edge{
		{id("us-east-1a<br/>10.0.128.0/21"), "-.-", "", id("db-primary<br/>host")},
		{id("db-primary<br/>host"), "-.-", "member of", id("SG db")},
		{id("web<br/>Auto Scaling group"), "-.-", "member of", id("SG app")},
		{id("us-east-1a<br/>10.0.64.0/21"), "-.-", "", id("web<br/>Auto Scaling group")},
		{id("web<br/>load balancer"), "-.-", "member of", id("SG alb (edge)")},
		{id("SG app"), "-->", "5432", id("SG db")},
		{"internet", "-->", "443", id("SG alb (edge)")},
	} {
		if !m.has(e) {
			t.Errorf("no edge %+v:\n%s", e, b.String())
		}
	}
}

// TestTheDiagramOfProdDrawsEverything checks the diagram of a whole stack structurally: unique node
// IDs, every edge between nodes that are drawn, every host, Auto Scaling group and load balancer drawn
// and joined to a security group, and every rule between two groups drawn as a flow.
func TestTheDiagramOfProdDrawsEverything(t *testing.T) {
	t.Parallel()
	rs := prodResources(t)
	var b strings.Builder
	if err := report.Diagram(&b, rs); err != nil {
		t.Fatal(err)
	}
	m := parse(t, b.String())
	if len(m.dup) > 0 {
		t.Errorf("node IDs used twice: %v", m.dup)
	}
	for _, e := range m.edges {
		if _, ok := m.nodes[e.from]; !ok && e.from != "internet" {
			t.Errorf("edge from an undrawn node %q", e.from)
		}
		if _, ok := m.nodes[e.to]; !ok && e.to != "internet" && e.to != "s3" {
			t.Errorf("edge to an undrawn node %q", e.to)
		}
	}
	byName := map[string]string{}
	for _, r := range rs {
		byName[r.URN] = r.Name
	}
	kinds := map[string]string{"aws:ec2/instance:Instance": "host", "aws:autoscaling/group:Group": "Auto Scaling group", "aws:lb/loadBalancer:LoadBalancer": "load balancer"}
	placed := 0
	for _, r := range rs {
		kind, ok := kinds[r.Type]
		if !ok {
			continue
		}
		placed++
		id, ok := m.node(r.Name + "<br/>" + kind)
		if !ok {
			t.Errorf("%s %s is not drawn", kind, r.Name)
			continue
		}
		member := false
		for _, e := range m.edges {
			member = member || (e.from == id && e.text == "member of")
		}
		if !member {
			t.Errorf("%s %s is joined to no security group", kind, r.Name)
		}
	}
	if placed < 7 {
		t.Errorf("%d hosts, groups and load balancers in prod; want the database hosts, the Nagios host, two tiers and the load balancer", placed)
	}
	between := 0
	for _, r := range rs {
		if r.Type != "aws:ec2/securityGroupRule:SecurityGroupRule" {
			continue
		}
		group, peer := r.PropertyDependencies["securityGroupId"], r.PropertyDependencies["sourceSecurityGroupId"]
		if len(group) != 1 || len(peer) != 1 {
			continue
		}
		between++
		from, to := byName[peer[0]], byName[group[0]]
		if r.Get("type").Str() == "egress" {
			from, to = to, from
		}
		port, _ := r.Get("fromPort").Num()
		fromID, _ := m.node("SG " + from)
		toID, _ := m.node("SG " + to)
		if !m.has(edge{fromID, "-->", fmt.Sprint(port), toID}) {
			t.Errorf("rule %s (%s to %s on %v) is not drawn", r.Name, from, to, port)
		}
	}
	if between < 20 {
		t.Errorf("%d rules between two groups checked; prod has an ingress and an egress for each flow between its groups", between)
	}
}

// TestTheDiagramRenders renders the prod audit's diagram with the Mermaid CLI, where .ci/run installs
// it (HIPAA_MERMAID_CLI, with HIPAA_MERMAID_PUPPETEER its browser configuration): the Markdown report's
// diagram is one Mermaid itself accepts, and the picture has every host in it.
func TestTheDiagramRenders(t *testing.T) {
	t.Parallel()
	cli := os.Getenv("HIPAA_MERMAID_CLI")
	if cli == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must provide the Mermaid CLI in HIPAA_MERMAID_CLI (see .ci/run)")
		}
		t.Skip("no Mermaid CLI: install it as .ci/run does and set HIPAA_MERMAID_CLI")
	}
	var chart bytes.Buffer
	if err := report.Diagram(&chart, prodResources(t)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "prod.mmd"), filepath.Join(dir, "prod.svg")
	if err := os.WriteFile(in, chart.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-q", "-i", in, "-o", out}
	if cfg := os.Getenv("HIPAA_MERMAID_PUPPETEER"); cfg != "" {
		args = append(args, "-p", cfg)
	}
	if msg, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("mmdc refused the diagram: %v\n%s", err, msg)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hipaa-prod-db-0", "hipaa-prod-monitoring", "hipaa-prod-web", "hipaa-prod-engine", "dedicated tenancy"} {
		if !bytes.Contains(svg, []byte(want)) {
			t.Errorf("the rendered diagram lacks %q", want)
		}
	}
	t.Logf("rendered %d KB of SVG", len(svg)>>10)
}

// prodResources previews prod under mocks, as an audit of it reads it.
func prodResources(t *testing.T) []*engine.Resource {
	t.Helper()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := preview.Stack(p, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	return audit.FromOffline(rs)
}
