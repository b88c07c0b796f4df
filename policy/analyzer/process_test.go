package analyzer_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/hipaatest"
)

// startPack builds the policy pack binary and starts it as the Pulumi CLI does: a separate process that
// prints its port on the first line of standard output, then speaks the analyzer protocol.
func startPack(t *testing.T) pulumirpc.AnalyzerClient {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hipaa-policy")
	build := exec.Command("go", "build", "-o", bin, "github.com/hipaa-platform/platform/policy")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("building the pack: %v", err)
	}
	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the port: %v", err)
	}
	conn, err := grpc.NewClient("127.0.0.1:"+strings.TrimSpace(line), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pulumirpc.NewAnalyzerClient(conn)
}

func marshal(t *testing.T, props resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(props, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type violation struct {
	rule, urn, message string
	mandatory          bool
}

func (v violation) String() string { return v.rule + " " + v.urn + ": " + v.message }

// analyze sends every resource through Analyze, then all of them through AnalyzeStack, as the engine
// does at the end of a preview.
func analyze(t *testing.T, client pulumirpc.AnalyzerClient, rs []offline.Resource) []violation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out []violation
	collect := func(resp *pulumirpc.AnalyzeResponse) {
		for _, d := range resp.GetDiagnostics() {
			first, _, _ := strings.Cut(d.GetMessage(), "\n")
			out = append(out, violation{d.GetPolicyName(), d.GetUrn(), first, d.GetEnforcementLevel() == pulumirpc.EnforcementLevel_MANDATORY})
		}
	}
	var stack []*pulumirpc.AnalyzerResource
	for _, r := range rs {
		props := marshal(t, r.Inputs)
		resp, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{Type: r.Type, Name: r.Name, Urn: r.URN, Properties: props,
			Options: &pulumirpc.AnalyzerResourceOptions{Parent: r.Parent}})
		if err != nil {
			t.Fatalf("Analyze %s: %v", r.URN, err)
		}
		collect(resp)
		pdeps := map[string]*pulumirpc.AnalyzerPropertyDependencies{}
		for k, urns := range r.PropertyDependencies {
			pdeps[k] = &pulumirpc.AnalyzerPropertyDependencies{Urns: urns}
		}
		stack = append(stack, &pulumirpc.AnalyzerResource{Type: r.Type, Name: r.Name, Urn: r.URN, Properties: props,
			Parent: r.Parent, Dependencies: r.Dependencies, PropertyDependencies: pdeps})
	}
	resp, err := client.AnalyzeStack(ctx, &pulumirpc.AnalyzeStackRequest{Resources: stack})
	if err != nil {
		t.Fatalf("AnalyzeStack: %v", err)
	}
	collect(resp)
	slices.SortFunc(out, func(a, b violation) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func inProcess(rs []offline.Resource, cfg engine.Config) []violation {
	var out []violation
	for _, f := range hipaa.Pack().Evaluate(audit.FromOffline(rs), cfg).Findings {
		out = append(out, violation{f.RuleID, f.URN, f.Message, f.Blocking()})
	}
	slices.SortFunc(out, func(a, b violation) int { return strings.Compare(a.String(), b.String()) })
	return out
}

func TestThePackProcessReportsWhatTheInProcessAuditReports(t *testing.T) {
	t.Parallel()
	client := startPack(t)
	ctx := context.Background()

	// The engine's order: handshake first, then the pack's description, then its configuration.
	if _, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{}); err != nil {
		t.Fatal(err)
	}
	info, err := client.GetAnalyzerInfo(ctx, &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if info.GetName() != hipaa.PackName || len(info.GetPolicies()) != len(hipaa.Pack().Rules())+1 { // and policy-waivers-valid
		t.Fatalf("pack %s with %d policies, want %s with %d", info.GetName(), len(info.GetPolicies()), hipaa.PackName, len(hipaa.Pack().Rules())+1)
	}
	for _, p := range info.GetPolicies() {
		if p.GetEnforcementLevel() != pulumirpc.EnforcementLevel_MANDATORY || p.GetSeverity() == pulumirpc.PolicySeverity_POLICY_SEVERITY_UNSPECIFIED ||
			p.GetRemediationSteps() == "" || p.GetFramework().GetName() != "HIPAA" {
			t.Errorf("policy %s: level %v, severity %v, fix %q, framework %v", p.GetName(), p.GetEnforcementLevel(), p.GetSeverity(),
				p.GetRemediationSteps(), p.GetFramework())
		}
	}
	if _, err := client.GetPluginInfo(ctx, &emptypb.Empty{}); err != nil {
		t.Fatalf("GetPluginInfo before ConfigureStack (pulumi policy analyze never calls it): %v", err)
	}
	if _, err := client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{}); err != nil {
		t.Fatal(err)
	}

	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	got := analyze(t, client, rs)
	want := inProcess(rs, engine.Config{})
	if !slices.Equal(got, want) {
		t.Errorf("over gRPC:\n%v\nin process:\n%v", got, want)
	}
	failed := map[string]bool{}
	for _, v := range got {
		if v.mandatory {
			failed[v.rule] = true
		}
	}
	for _, rule := range hipaatest.NonCompliantFails {
		if !failed[rule] {
			t.Errorf("the pack process did not fail %s", rule)
		}
	}
}

func TestThePackSurvivesUnknownValuesAndBadConfig(t *testing.T) {
	t.Parallel()
	client := startPack(t)
	ctx := context.Background()
	if _, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{}); err != nil {
		t.Fatal(err)
	}
	props := resource.PropertyMap{
		"instanceTenancy": resource.MakeComputed(resource.NewStringProperty("")),
		"cidrBlock":       resource.NewStringProperty("10.0.0.0/16"),
	}
	resp, err := client.Analyze(ctx, &pulumirpc.AnalyzeRequest{Type: "aws:ec2/vpc:Vpc", Name: "v",
		Urn: "urn:pulumi:dev::hipaa::aws:ec2/vpc:Vpc::v", Properties: marshal(t, props)})
	if err != nil {
		t.Fatalf("Analyze with an unknown value: %v", err)
	}
	ds := resp.GetDiagnostics()
	if len(ds) != 1 || ds[0].GetEnforcementLevel() != pulumirpc.EnforcementLevel_ADVISORY ||
		!strings.Contains(ds[0].GetMessage(), "instanceTenancy cannot be known during preview") {
		t.Errorf("diagnostics = %v, want one advisory saying instanceTenancy cannot be known", ds)
	}

	bad, _ := structpb.NewStruct(map[string]any{"minDays": 3})
	_, err = client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{
		"log-retention": {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY, Properties: bad},
	}})
	if err == nil || !strings.Contains(err.Error(), `no parameter "minDays"`) {
		t.Errorf("Configure with a bad parameter: %v", err)
	}
	// The process is still serving.
	if _, err := client.GetPluginInfo(ctx, &emptypb.Empty{}); err != nil {
		t.Errorf("after a bad config: %v", err)
	}
}

// TestThePackJudgesWaiversOverTheWholeStack: the waivers' term is configurable through the engine's
// policy configuration, and a waiver that matches no resource of the stack is reported by AnalyzeStack,
// as the in-process audit reports it.
func TestThePackJudgesWaiversOverTheWholeStack(t *testing.T) {
	t.Parallel()
	client := startPack(t)
	ctx := context.Background()
	if _, err := client.Handshake(ctx, &pulumirpc.AnalyzerHandshakeRequest{}); err != nil {
		t.Fatal(err)
	}
	expires := time.Now().UTC().AddDate(0, 0, 60).Format("2006-01-02")
	waivers, err := structpb.NewStruct(map[string]any{"waivers": []any{
		map[string]any{"resource": "key", "reason": "rotated by hand", "expires": expires},
		map[string]any{"resource": "no-such-*", "reason": "a typo", "expires": expires},
	}})
	if err != nil {
		t.Fatal(err)
	}
	term, _ := structpb.NewStruct(map[string]any{"maximumTermDays": 90})
	if _, err := client.Configure(ctx, &pulumirpc.ConfigureAnalyzerRequest{PolicyConfig: map[string]*pulumirpc.PolicyConfig{
		"kms-key-rotation":           {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY, Properties: waivers},
		engine.WaiverRuleID:          {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY, Properties: term},
		"ec2-detailed-monitoring":    {EnforcementLevel: pulumirpc.EnforcementLevel_ADVISORY},
		"sg-ingress-authorized-only": {EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY},
	}}); err != nil {
		t.Fatal(err)
	}
	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	got := analyze(t, client, rs)
	var unmatched bool
	for _, v := range got {
		if v.rule == engine.WaiverRuleID && v.mandatory && strings.Contains(v.message, `for "no-such-*" matches no resource of the stack`) {
			unmatched = true
		}
		if v.rule == engine.WaiverRuleID && strings.Contains(v.message, `"key"`) {
			t.Errorf("a waiver within its 90-day term that matches the key is reported: %s", v.message)
		}
	}
	if !unmatched {
		t.Errorf("the waiver that matches nothing is not reported:\n%v", got)
	}
}
