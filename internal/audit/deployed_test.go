package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/audit/statetest"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/hipaatest"
	"github.com/hipaa-platform/platform/policy/report"
)

// secretsOf are the plaintexts of the secrets the program's resources hold.
func secretsOf(rs []offline.Resource) []string {
	var out []string
	for _, r := range rs {
		for _, v := range r.Outputs {
			if v.IsSecret() && v.SecretValue().Element.IsString() {
				out = append(out, v.SecretValue().Element.StringValue())
			}
		}
	}
	return out
}

// TestAuditsOfStatesTheCLIExported imports dev, as the program declares it under mocks, into a local
// backend with the real Pulumi CLI and audits its export: it passes with no drift. Then the same
// stack as a hand in the console would leave it (a key's rotation turned off, an alarm gone, SSH opened
// to the world by a rule of its own, an inline policy put on a host role) fails the rules that say so,
// and its drift names each change, in every format, with no secret in any of them.
func TestAuditsOfStatesTheCLIExported(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := preview.Stack(p, "dev", "")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd, env := hipaatest.LocalPulumi(t, dir)
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	ws, err := auto.NewLocalWorkspace(context.Background(), auto.WorkDir(work), auto.Pulumi(cmd), auto.EnvVars(env),
		auto.Project(workspace.Project{Name: "hipaa", Runtime: workspace.NewProjectRuntimeInfo("go", nil)}))
	if err != nil {
		t.Fatal(err)
	}
	auditState := func(state []byte, format string) (string, bool) {
		t.Helper()
		file := filepath.Join(t.TempDir(), "dev.json")
		if err := os.WriteFile(file, state, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		failed, err := audit.Run(audit.Options{Project: p, State: file, Format: format, Now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}, &out)
		if err != nil {
			t.Fatalf("audit --state: %v", err)
		}
		return out.String(), failed
	}
	secrets := secretsOf(rs)
	if len(secrets) == 0 {
		t.Fatal("dev holds no secret to look for")
	}
	noSecrets := func(what, text string) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s holds the plaintext of a secret", what)
			}
		}
	}

	resources := statetest.Deployment(rs, "dev", "hipaa", preview.Region(p, "dev"))
	exported := statetest.Export(t, ws, "dev", resources)
	if !bytes.Contains(exported, []byte(`"ciphertext"`)) {
		t.Error("the export holds no encrypted secret")
	}
	noSecrets("the export", string(exported))
	text, failed := auditState(exported, "json")
	var clean struct {
		Resources int
		Findings  []struct {
			RuleID string `json:"rule"`
		}
		Drift report.Drift
	}
	if err := json.Unmarshal([]byte(text), &clean); err != nil {
		t.Fatal(err)
	}
	custom := 0
	for _, r := range rs {
		if r.Custom {
			custom++
		}
	}
	if failed || clean.Resources < custom {
		t.Errorf("the deployed dev fails (%v) or has %d resources of the %d declared: %+v", failed, clean.Resources, custom, clean.Findings)
	}
	if d := clean.Drift; d.Differs() || d.Compared != custom || d.NotComputed != "" {
		t.Errorf("dev as deployed drifts from its preview: %d compared of %d; %+v", d.Compared, custom, d)
	}

	// By hand: the changes an operator in the console would make.
	key := first(t, resources, "aws:kms/key:Key", nil)
	key["inputs"].(map[string]any)["enableKeyRotation"] = false
	depended := map[string]bool{}
	for _, r := range resources {
		for _, d := range deps(r) {
			depended[d] = true
		}
	}
	alarm := first(t, resources, "aws:cloudwatch/metricAlarm:MetricAlarm", func(r statetest.Resource) bool { return !depended[r["urn"].(string)] })
	resources = slices.DeleteFunc(resources, func(r statetest.Resource) bool { return r["urn"] == alarm["urn"] })
	sg := first(t, resources, "aws:ec2/securityGroup:SecurityGroup", nil)
	ssh := statetest.Resource{
		"urn": "urn:pulumi:dev::hipaa::aws:ec2/securityGroupRule:SecurityGroupRule::ssh-from-anywhere", "custom": true,
		"type": "aws:ec2/securityGroupRule:SecurityGroupRule", "id": "sgrule-1", "provider": sg["provider"],
		"inputs": map[string]any{"type": "ingress", "protocol": "tcp", "fromPort": 22, "toPort": 22,
			"cidrBlocks": []any{"0.0.0.0/0"}, "securityGroupId": sg["id"]},
	}
	ssh["outputs"] = ssh["inputs"]
	resources = append(resources, ssh)
	role := first(t, resources, "aws:iam/role:Role", func(r statetest.Resource) bool { return strings.HasSuffix(r["urn"].(string), "-web") })
	role["outputs"].(map[string]any)["inlinePolicies"] = []any{map[string]any{"name": "debug", "policy": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}
	drifted := statetest.Export(t, ws, "dev", resources)
	noSecrets("the drifted export", string(drifted))

	text, failed = auditState(drifted, "json")
	var got struct {
		Findings []finding
		Drift    report.Drift
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	if !failed {
		t.Error("the drifted dev passes")
	}
	for rule, urn := range map[string]string{"kms-key-rotation": key["urn"].(string), "sg-no-public-admin-ports": ssh["urn"].(string),
		"iam-no-inline-policies": role["urn"].(string), "iam-no-admin-wildcards": role["urn"].(string)} {
		if !slices.ContainsFunc(got.Findings, func(f finding) bool { return f.RuleID == rule && f.URN == urn }) {
			t.Errorf("no %s finding on %s: %+v", rule, urn, got.Findings)
		}
	}
	d := got.Drift
	if len(d.DeployedOnly) != 1 || d.DeployedOnly[0].URN != ssh["urn"] {
		t.Errorf("deployed only %+v, want the SSH rule", d.DeployedOnly)
	}
	if len(d.NotDeployed) != 1 || d.NotDeployed[0].URN != alarm["urn"] {
		t.Errorf("not deployed %+v, want the alarm %s", d.NotDeployed, alarm["urn"])
	}
	// The inline policy is an output only: no input changed on the role, so only the key's did.
	if len(d.Changed) != 1 || d.Changed[0].URN != key["urn"] || len(d.Changed[0].Properties) != 1 ||
		d.Changed[0].Properties[0] != (report.PropertyDrift{Path: "enableKeyRotation", Deployed: "false", Preview: "true"}) {
		t.Errorf("changed %+v, want the key's enableKeyRotation, false against true", d.Changed)
	}
	for _, format := range report.Formats {
		text, _ := auditState(drifted, format)
		noSecrets("the "+format+" report", text)
		for _, want := range []string{ssh["urn"].(string), alarm["urn"].(string), "enableKeyRotation"} {
			if !strings.Contains(text, want) {
				t.Errorf("the %s report's drift lacks %s", format, want)
			}
		}
	}
}

type finding struct {
	RuleID string `json:"rule"`
	URN    string `json:"urn"`
}

// first is the first resource of typ that keep keeps (every one, for nil).
func first(t *testing.T, rs []statetest.Resource, typ string, keep func(statetest.Resource) bool) statetest.Resource {
	t.Helper()
	for _, r := range rs {
		if r["type"] == typ && (keep == nil || keep(r)) {
			return r
		}
	}
	t.Fatalf("no %s to change", typ)
	return nil
}

// deps are the URNs a deployment's resource depends on.
func deps(r statetest.Resource) []string {
	var out []string
	if d, ok := r["dependencies"].([]string); ok {
		out = append(out, d...)
	}
	if p, ok := r["parent"].(string); ok {
		out = append(out, p)
	}
	if pd, ok := r["propertyDependencies"].(map[string][]string); ok {
		for _, d := range pd {
			out = append(out, d...)
		}
	}
	return append(out, fmt.Sprint(r["provider"]))
}
