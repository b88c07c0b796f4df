package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/internal/audit/statetest"
	"github.com/hipaa-platform/platform/internal/fleet/fleettest"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/hipaatest"
)

// nonCompliantJSON writes the preview JSON of a program that breaks the rules.
func nonCompliantJSON(t *testing.T) string {
	t.Helper()
	rs, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := preview.JSON(&buf, rs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditOfEveryStackPasses(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "test", "qa", "prod"} {
		out, errOut, code := platformctl(t, "audit", "--stack", stack)
		if code != exitOK || !strings.Contains(out, "PASS: 0 mandatory violation(s)") {
			t.Errorf("%s: exit %d\n%s%s", stack, code, out, errOut)
		}
	}
}

func TestAuditOfANonCompliantPreviewFails(t *testing.T) {
	t.Parallel()
	file := nonCompliantJSON(t)
	out, errOut, code := platformctl(t, "audit", "--resources", file)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	for _, rule := range hipaatest.NonCompliantFails {
		if !strings.Contains(out, "FAIL     "+rule+" [") {
			t.Errorf("text report lacks a failure of %s", rule)
		}
	}
	for _, want := range []string{
		"urn:pulumi:bad::hipaa::aws:ec2/securityGroup:SecurityGroup::bastion",
		"45 CFR 164.312(a)(1), 164.312(e)(1)",
		"fix: Remove the world-open rule",
		"scanners: AWS Config restricted-ssh, restricted-common-ports; Prowler ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22,",
		"FAIL: ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestAuditFormats(t *testing.T) {
	t.Parallel()
	file := nonCompliantJSON(t)

	out, _, code := platformctl(t, "audit", "--resources", file, "--format", "json")
	var doc struct {
		Totals struct {
			Mandatory int  `json:"mandatory"`
			Failed    bool `json:"failed"`
		} `json:"totals"`
		Rules []struct {
			ID          string
			ConfigRules []string `json:"configRules"`
		} `json:"rules"`
		Findings []struct {
			Rule, URN, Message string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitFailed {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	if !doc.Totals.Failed || doc.Totals.Mandatory == 0 || len(doc.Rules) != len(hipaa.Pack().Rules()) || len(doc.Findings) != doc.Totals.Mandatory {
		t.Errorf("json totals %+v, %d rules, %d findings", doc.Totals, len(doc.Rules), len(doc.Findings))
	}
	for _, r := range doc.Rules {
		if r.ID == "s3-bucket-sse-kms" && !slices.Contains(r.ConfigRules, "s3-default-encryption-kms") {
			t.Errorf("json: s3-bucket-sse-kms maps to AWS Config %v", r.ConfigRules)
		}
	}

	out, _, _ = platformctl(t, "audit", "--resources", file, "--format", "sarif")
	var sarif struct {
		Version string
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string
					Rules []struct {
						ID         string
						Properties struct {
							ConfigRules []string `json:"aws-config-rules"`
							Prowler     []string `json:"prowler-checks"`
						}
					}
				}
			}
			Results []struct {
				RuleID    string
				Level     string
				Locations []struct {
					PhysicalLocation struct{ ArtifactLocation struct{ URI string } }
					LogicalLocations []struct{ FullyQualifiedName string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &sarif); err != nil {
		t.Fatal(err)
	}
	if sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Tool.Driver.Rules) != len(hipaa.Pack().Rules()) ||
		len(sarif.Runs[0].Results) != len(doc.Findings) {
		t.Fatalf("sarif: version %s, %d runs", sarif.Version, len(sarif.Runs))
	}
	for _, r := range sarif.Runs[0].Tool.Driver.Rules {
		if r.ID == "vpc-flow-logs" && (!slices.Equal(r.Properties.ConfigRules, []string{"vpc-flow-logs-enabled"}) || !slices.Equal(r.Properties.Prowler, []string{"vpc_flow_logs_enabled"})) {
			t.Errorf("sarif: vpc-flow-logs maps to %+v", r.Properties)
		}
	}
	for _, r := range sarif.Runs[0].Results {
		if r.Level != "error" || len(r.Locations) != 1 || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != file ||
			!strings.HasPrefix(r.Locations[0].LogicalLocations[0].FullyQualifiedName, "urn:pulumi:bad::") {
			t.Errorf("sarif result %+v", r)
		}
	}

	out, _, _ = platformctl(t, "audit", "--resources", file, "--format", "markdown")
	for _, want := range []string{
		"# HIPAA Security Rule audit: resources in bad.json",
		"**FAIL**: ",
		"| 45 CFR 164.312(a)(2)(iv) | Encryption and decryption | `ebs-volume-encrypted`",
		"### `sg-no-public-admin-ports` (**violation**)",
		"## The same controls in AWS's scanners",
		"| `vpc-flow-logs` | `vpc-flow-logs-enabled` | `vpc_flow_logs_enabled` |",
		"| `db-tls-only` | none | none |",
		"- Scanners: AWS Config restricted-ssh, restricted-common-ports; Prowler",
		"```mermaid\nflowchart LR",
		`subgraph vpc_shared_vpc["VPC shared-vpc<br/>10.0.0.0/16<br/>default tenancy"]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestAuditShowsWaivedFindings(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "policy.json")
	// Waivers run at most a year; this one three months.
	expires := time.Now().UTC().AddDate(0, 3, 0).Format("2006-01-02")
	os.WriteFile(cfg, []byte(`{"kms-key-rotation": {"waivers": [{"resource": "key", "reason": "HSM-backed key rotated by hand each quarter", "expires": "`+expires+`"}]}}`), 0o600)
	out, _, _ := platformctl(t, "audit", "--resources", nonCompliantJSON(t), "--config", cfg)
	if !strings.Contains(out, "WAIVED   kms-key-rotation") || !strings.Contains(out, "waived until "+expires+": HSM-backed key rotated by hand each quarter") {
		t.Errorf("the waived finding is not shown:\n%s", out)
	}
	if strings.Contains(out, "FAIL     kms-key-rotation") {
		t.Error("a waived finding still fails")
	}
}

func TestAuditRefusesBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.json")
	os.WriteFile(malformed, []byte("[\n  {\"urn\": \"a\",\n   \"type\": }\n]\n"), 0o600)
	notArray := filepath.Join(dir, "object.json")
	os.WriteFile(notArray, []byte(`{"urn": "a"}`), 0o600)
	noURN := filepath.Join(dir, "nourn.json")
	os.WriteFile(noURN, []byte(`[{"type": "aws:s3/bucketV2:BucketV2"}]`), 0o600)
	badField := filepath.Join(dir, "field.json")
	os.WriteFile(badField, []byte(`[{"urn": 42}]`), 0o600)
	badCfg := filepath.Join(dir, "cfg.json")
	os.WriteFile(badCfg, []byte(`{"s3-versionning": "advisory"}`), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--resources", filepath.Join(dir, "missing.json")}, "--resources: open "},
		{[]string{"audit", "--resources", malformed}, "malformed JSON at line 3, column 12: missing value after object name"},
		{[]string{"audit", "--resources", notArray}, "unexpected JSON at line 1, column 1: the document is a JSON object; want the array printed by platformctl preview --json"},
		{[]string{"audit", "--resources", noURN}, "resource 0 has no urn or type"},
		{[]string{"audit", "--resources", badField}, "unexpected JSON at line 1, column 10: urn is a JSON number; want a string"},
		{[]string{"audit", "--stack", "staging"}, `unknown stack "staging": the stacks of project hipaa are account-nonprod, account-prod, dev, prod, qa, test`},
		{[]string{"audit"}, "give exactly one of --stack NAME, --resources FILE and --state FILE"},
		{[]string{"audit", "--stack", "dev", "--state", noURN}, "give exactly one of --stack NAME, --resources FILE and --state FILE"},
		{[]string{"audit", "--resources", noURN, "--deployed"}, "--deployed audits a stack's deployed state: give it with --stack NAME"},
		{[]string{"audit", "--state", filepath.Join(dir, "missing.json")}, "--state: open "},
		{[]string{"audit", "--state", noURN}, "this is a resource array, as platformctl preview --json writes; audit it with --resources"},
		{[]string{"audit", "--state", notArray}, `no "deployment"; want the output of pulumi stack export`},
		{[]string{"audit", "--stack", "dev", "--format", "pdf"}, `--format "pdf": want one of text, json, markdown, sarif`},
		{[]string{"audit", "--stack", "dev", "--config", badCfg}, `policy config "s3-versionning": no such rule`},
	} {
		out, errOut, code := platformctl(t, tc.args...)
		if code != exitBadInput || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// TestAuditNeverWritesOverItsInputs: --output naming a file the audit reads is refused before anything
// is written, and the file is left as it was.
func TestAuditNeverWritesOverItsInputs(t *testing.T) {
	t.Parallel()
	file := nonCompliantJSON(t)
	before, _ := os.ReadFile(file)
	cfg := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(cfg, []byte(`{"ec2-detailed-monitoring": "advisory"}`), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "--resources", file, "--output", file}, "--output " + file + " is --resources, which the audit reads"},
		{[]string{"audit", "--resources", file, "--config", cfg, "-o", cfg}, "is --config, which the audit reads"},
		{[]string{"audit", "--stack", "dev", "--output", "../../Pulumi.dev.yaml"}, "is the stack's settings, which the audit reads"},
	} {
		out, errOut, code := platformctl(t, tc.args...)
		if code != exitBadInput || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if after, _ := os.ReadFile(file); !bytes.Equal(before, after) {
		t.Error("the input was written over")
	}
	// A report file appears whole, with nothing left beside it.
	dir := t.TempDir()
	report := filepath.Join(dir, "audit.md")
	if _, _, code := platformctl(t, "audit", "--resources", file, "--format", "markdown", "--output", report); code != exitFailed {
		t.Errorf("exit %d, want 1 for a failing audit written to a file", code)
	}
	entries, _ := os.ReadDir(dir)
	if data, _ := os.ReadFile(report); len(entries) != 1 || !bytes.HasPrefix(data, []byte("# HIPAA Security Rule audit")) {
		t.Errorf("the report directory holds %v", entries)
	}
}

// TestAuditStatesTheConfigurationInForce: every format says which rules were disabled or made
// advisory, the parameters changed and every waiver with what it matched, and a configuration that
// enables nothing is refused rather than passed.
func TestAuditStatesTheConfigurationInForce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	expires := testNow.AddDate(0, 2, 0).Format("2006-01-02")
	cfg := filepath.Join(dir, "policy.json")
	os.WriteFile(cfg, []byte(`{"ec2-detailed-monitoring": "advisory", "phi-tagged": "disabled",
		"log-retention": {"minimumDays": 731},
		"kms-key-rotation": {"waivers": [{"resource": "key", "reason": "rotated by hand each quarter", "expires": "`+expires+`"},
			{"resource": "kee", "reason": "a typo", "expires": "`+expires+`"}]}}`), 0o600)
	file := nonCompliantJSON(t)

	text, _, _ := platformctl(t, "audit", "--resources", file, "--config", cfg)
	for _, want := range []string{
		"program: not known: the resources were read from " + file,
		"configuration in force:",
		"  disabled, not evaluated: phi-tagged",
		"  advisory, reported but never failing: ec2-detailed-monitoring",
		"  parameter log-retention minimumDays = 731 (default 365)",
		`  waiver of kms-key-rotation for "key" until ` + expires + " (term at most 365 days), matched 1 resource, exempted 1 finding; reason: rotated by hand each quarter",
		`  waiver of kms-key-rotation for "kee" until ` + expires + " (term at most 365 days), matched 0 resources, exempts nothing: it matches no resource of the stack",
		`FAIL     policy-waivers-valid`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	var doc struct {
		Configuration struct {
			Disabled   []string
			Advisory   []string
			Parameters []struct{ Rule, Name string }
			Waivers    []struct {
				Rule, Resource    string
				Matched, Exempted int
				Problem           string
			}
		}
	}
	out, _, _ := platformctl(t, "audit", "--resources", file, "--config", cfg, "--format", "json")
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	c := doc.Configuration
	if len(c.Disabled) != 1 || len(c.Advisory) != 1 || len(c.Parameters) != 1 || len(c.Waivers) != 2 || c.Waivers[0].Matched != 1 || c.Waivers[1].Problem == "" {
		t.Errorf("json configuration %+v", c)
	}
	md, _, _ := platformctl(t, "audit", "--resources", file, "--config", cfg, "--format", "markdown")
	if !strings.Contains(md, "## Configuration in force\n\n- disabled, not evaluated: phi-tagged\n") {
		t.Errorf("markdown lacks the configuration in force:\n%s", md)
	}
	sarif, _, _ := platformctl(t, "audit", "--resources", file, "--config", cfg, "--format", "sarif")
	for _, want := range []string{`"configuration": {`, `"disabled": [`, `"level": "none"`, `"enabled": false`, `"level": "warning"`} {
		if !strings.Contains(sarif, want) {
			t.Errorf("sarif lacks %s", want)
		}
	}
	none := filepath.Join(dir, "none.json")
	os.WriteFile(none, []byte(`{"all": "disabled"}`), 0o600)
	if _, errOut, code := platformctl(t, "audit", "--stack", "dev", "--config", none); code != exitBadInput || !strings.Contains(errOut, "disables every rule") {
		t.Errorf("a configuration that enables nothing: exit %d, %s", code, errOut)
	}
}

// TestAuditNamesTheCommitAudited: a stack's audit names the commit of the checkout it ran from.
func TestAuditNamesTheCommitAudited(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "-C", "../..", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skip("not a git checkout")
	}
	out, _, code := platformctl(t, "audit", "--stack", "dev", "--format", "json")
	var doc struct{ Commit string }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v", code, err)
	}
	if !strings.HasPrefix(doc.Commit, strings.TrimSpace(string(head))) {
		t.Errorf("commit %q, want HEAD %s", doc.Commit, head)
	}
	text, _, _ := platformctl(t, "audit", "--stack", "dev")
	if !strings.Contains(text, "program: commit "+strings.TrimSpace(string(head))) {
		t.Errorf("the text report does not name the commit:\n%s", text[:min(len(text), 400)])
	}
}

// TestTheREADMEPolicyConfigurationPassesTheStacks: the example configuration the README gives (with
// its waiver) is valid and every stack of the repository passes with it.
func TestTheREADMEPolicyConfigurationPassesTheStacks(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "Configuration is the standard policy config")
	_, block, ok2 := strings.Cut(rest, "```json\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("the README has no example policy configuration")
	}
	cfg := filepath.Join(t.TempDir(), "policy.json")
	os.WriteFile(cfg, []byte(block), 0o600)
	for _, stack := range []string{"dev", "test", "qa", "prod"} {
		out, errOut, code := platformctl(t, "audit", "--stack", stack, "--config", cfg)
		if code != exitOK || !strings.Contains(out, "PASS: 0 mandatory violation(s)") {
			t.Errorf("%s with the README's configuration: exit %d\n%s%s", stack, code, out, errOut)
		}
	}
}

// TestAuditOfTheDeployedStack exports dev from its backend with the real CLI (the program's run under
// mocks, imported as its state) and audits it: it passes, and does not drift from its preview. A stack
// with no state in its backend is refused, saying so.
func TestAuditOfTheDeployedStack(t *testing.T) {
	t.Parallel()
	env := fleettest.New(t, "../..")
	rs, err := preview.Stack(env.Project, "dev", "")
	if err != nil {
		t.Fatal(err)
	}
	statetest.Export(t, env.Workspace, "dev", statetest.Deployment(rs, "dev", env.Project.Name, preview.Region(env.Project, "dev")))
	cli := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(testDeps(&out, &errb, env.Workspace), append([]string{"--dir", "../.."}, args...))
		return code, out.String(), errb.String()
	}
	code, out, errOut := cli("audit", "--stack", "dev", "--deployed")
	if code != exitOK || !strings.Contains(out, "audit of deployed stack dev:") ||
		!strings.Contains(out, "DRIFT against the program's preview of stack dev") || !strings.Contains(out, "0 only deployed, 0 not deployed, 0 changed") {
		t.Errorf("audit --stack dev --deployed: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := cli("audit", "--stack", "qa", "--deployed"); code != exitBadInput || !strings.Contains(errOut, "stack qa has no deployed state to audit in its backend") {
		t.Errorf("audit --stack qa --deployed: exit %d, %s", code, errOut)
	}
}
