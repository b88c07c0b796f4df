package analyzer_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/hipaatest"
)

// stateFile writes resources as `pulumi stack export` would: a deployment whose resources carry their
// inputs, outputs and dependencies, under a stack resource and a default AWS provider.
func stateFile(t *testing.T, dir string, rs []offline.Resource) string {
	t.Helper()
	const stackURN = "urn:pulumi:bad::hipaa::pulumi:pulumi:Stack::hipaa-bad"
	const providerURN = "urn:pulumi:bad::hipaa::pulumi:providers:aws::default_6_83_4"
	resources := []map[string]any{
		{"urn": stackURN, "custom": false, "type": "pulumi:pulumi:Stack"},
		{"urn": providerURN, "custom": true, "id": "provider-id", "type": "pulumi:providers:aws",
			"inputs": map[string]any{"region": "us-east-1"}, "outputs": map[string]any{"region": "us-east-1"}},
	}
	for _, r := range rs {
		inputs := offline.PlainMap(r.Inputs)
		outputs := offline.PlainMap(r.Inputs)
		res := map[string]any{"urn": r.URN, "custom": r.Custom, "type": r.Type, "parent": r.Parent,
			"inputs": inputs, "outputs": outputs, "dependencies": r.Dependencies, "propertyDependencies": r.PropertyDependencies}
		if r.Custom {
			res["id"] = r.ID
			outputs["id"] = r.ID
			res["provider"] = providerURN + "::provider-id"
		}
		resources = append(resources, res)
	}
	doc := map[string]any{"version": 3, "deployment": map[string]any{
		"manifest":  map[string]any{"time": "2026-11-25T00:00:00Z", "magic": "", "version": "v3.274.1"},
		"resources": resources,
	}}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPulumiPolicyAnalyzeReportsTheSameViolations(t *testing.T) {
	t.Parallel()
	cli := hipaatest.PulumiCLI(t)
	dir := t.TempDir()
	packDir := filepath.Join(dir, "pack")
	if err := os.MkdirAll(packDir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(packDir, "hipaa-policy")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/hipaa-platform/platform/policy").CombinedOutput(); err != nil {
		t.Fatalf("building the pack: %v\n%s", err, out)
	}
	yaml, err := os.ReadFile("../PulumiPolicy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(packDir, "PulumiPolicy.yaml"), yaml, 0o600); err != nil {
		t.Fatal(err)
	}

	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	state := stateFile(t, dir, rs)

	cmd := exec.Command(cli, "policy", "analyze", "--file", state, "--policy-pack", bin, "--json")
	cmd.Env = append(os.Environ(), "PULUMI_HOME="+filepath.Join(dir, "home"), "PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true", "PULUMI_BACKEND_URL=file://"+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("pulumi policy analyze: %v, want exit 1\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}

	type key struct{ rule, urn string }
	got := map[key]bool{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			PolicyEvent *struct {
				ResourceURN      string `json:"resourceUrn"`
				PolicyName       string `json:"policyName"`
				EnforcementLevel string `json:"enforcementLevel"`
			} `json:"policyEvent"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.PolicyEvent != nil && ev.PolicyEvent.EnforcementLevel == "mandatory" {
			got[key{ev.PolicyEvent.PolicyName, ev.PolicyEvent.ResourceURN}] = true
		}
	}
	want := map[key]bool{}
	for _, f := range hipaa.Pack().Evaluate(audit.FromOffline(rs), engine.Config{}).Findings {
		if f.Blocking() {
			want[key{f.RuleID, f.URN}] = true
		}
	}
	if len(want) == 0 || !mapsEqual(got, want) {
		t.Errorf("pulumi policy analyze mandatory violations:\n%v\nin process:\n%v\nstderr:\n%s", sortedKeys(got), sortedKeys(want), stderr.String())
	}
}

func mapsEqual[K comparable](a, b map[K]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func sortedKeys[K comparable](m map[K]bool) []string {
	var out []string
	for k := range m {
		out = append(out, fmt.Sprint(k))
	}
	slices.Sort(out)
	return out
}
