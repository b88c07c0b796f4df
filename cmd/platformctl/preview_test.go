package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline"
)

func platformctl(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runArgs(append([]string{"--dir", "../.."}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

func previewJSON(t *testing.T, stack string) []offline.JSON {
	t.Helper()
	out, errOut, code := platformctl(t, "preview", "--stack", stack, "--json")
	if code != 0 {
		t.Fatalf("preview --stack %s --json exited %d: %s", stack, code, errOut)
	}
	var rs []offline.JSON
	if err := json.Unmarshal([]byte(out), &rs); err != nil {
		t.Fatalf("the output is not one JSON array: %v", err)
	}
	return rs
}

func TestPreviewJSONOfEveryStack(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "test", "qa", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rs := previewJSON(t, stack)
			if len(rs) < 100 {
				t.Fatalf("%d resources, want the whole platform", len(rs))
			}
			urns := map[string]bool{}
			for _, r := range rs {
				urns[r.URN] = true
			}
			for _, r := range rs {
				if r.URN == "" || r.Type == "" || r.Name == "" || r.Parent == "" || r.Inputs == nil ||
					r.Dependencies == nil || r.PropertyDependencies == nil {
					t.Fatalf("incomplete resource %+v", r)
				}
				if !urns[r.Parent] && !strings.HasSuffix(r.Parent, "pulumi:pulumi:Stack::hipaa-"+stack) {
					t.Errorf("%s has unknown parent %s", r.URN, r.Parent)
				}
				for _, d := range r.Dependencies {
					if !urns[d] {
						t.Errorf("%s depends on unknown %s", r.URN, d)
					}
				}
			}
		})
	}
}

// TestPreviewJSONOfProd checks, on the JSON contract alone, what the foundation promises for prod.
func TestPreviewJSONOfProd(t *testing.T) {
	t.Parallel()
	rs := previewJSON(t, "prod")
	byType := map[string][]offline.JSON{}
	byURN := map[string]offline.JSON{}
	for _, r := range rs {
		byType[r.Type] = append(byType[r.Type], r)
		byURN[r.URN] = r
	}
	vpcs := byType["aws:ec2/vpc:Vpc"]
	if len(vpcs) != 1 || vpcs[0].Inputs["instanceTenancy"] != "dedicated" {
		t.Fatalf("want one dedicated VPC, got %v", vpcs)
	}
	zones := map[string]bool{}
	for _, s := range byType["aws:ec2/subnet:Subnet"] {
		zones[s.Inputs["availabilityZone"].(string)] = true
	}
	if len(zones) != 3 {
		t.Errorf("subnets in zones %v, want 3", zones)
	}
	var flowLog bool
	for _, fl := range byType["aws:ec2/flowLog:FlowLog"] {
		deps := fl.PropertyDependencies["vpcId"]
		if len(deps) == 1 && deps[0] == vpcs[0].URN && fl.Inputs["trafficType"] == "ALL" {
			flowLog = true
		}
	}
	if !flowLog {
		t.Error("no flow log of ALL traffic joined to the VPC")
	}
	keys := byType["aws:kms/key:Key"]
	if len(keys) < 4 {
		t.Errorf("%d KMS keys, want at least 4", len(keys))
	}
	for _, k := range keys {
		if k.Inputs["enableKeyRotation"] != true {
			t.Errorf("%s does not rotate", k.Name)
		}
	}
	have := map[string]map[string]bool{}
	for _, r := range rs {
		for _, dep := range r.PropertyDependencies["bucket"] {
			if byURN[dep].Type != "aws:s3/bucketV2:BucketV2" {
				continue
			}
			if have[dep] == nil {
				have[dep] = map[string]bool{}
			}
			have[dep][r.Type] = true
		}
	}
	buckets := byType["aws:s3/bucketV2:BucketV2"]
	if len(buckets) != 4 {
		t.Errorf("%d buckets in prod, want logs, data, backups and the load balancers' logs", len(buckets))
	}
	for _, b := range buckets {
		for _, typ := range []string{
			"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
			"aws:s3/bucketVersioningV2:BucketVersioningV2",
			"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
			"aws:s3/bucketPolicy:BucketPolicy",
		} {
			if !have[b.URN][typ] {
				t.Errorf("bucket %s has no %s", b.Name, typ)
			}
		}
	}
	for _, p := range byType["aws:s3/bucketPolicy:BucketPolicy"] {
		if !strings.Contains(p.Inputs["policy"].(string), `"aws:SecureTransport":"false"`) {
			t.Errorf("%s does not deny requests without TLS", p.Name)
		}
	}
}

func TestPreviewTreeShowsTheSafeguardsAndCounts(t *testing.T) {
	t.Parallel()
	out, errOut, code := platformctl(t, "preview", "--stack", "dev")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"stack dev: ",
		"aws:ec2/vpc:Vpc hipaa-dev-vpc  cidrBlock=10.10.0.0/16 instanceTenancy=dedicated",
		"enableKeyRotation=true",
		"trafficType=ALL",
		"policy=[Deny:DenyInsecureTransport,Deny:DenyOutdatedTLS]",
		"sourceSecurityGroupId=hipaa-dev-sg-app",
		"resources by type:",
		"     1  aws:ec2/vpc:Vpc",
		"nothing was created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tree lacks %q", want)
		}
	}
}

func TestPreviewRefusesBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"preview", "--stack", "staging"}, `unknown stack "staging": the stacks of project hipaa are account-nonprod, account-prod, dev, prod, qa, test`},
		{[]string{"preview"}, "--stack is required; the stacks are account-nonprod, account-prod, dev, prod, qa, test, or a demo stack demo-NAME"},
		{[]string{"preview", "--stack", "dev", "--colour"}, "unknown flag: --colour"},
	} {
		out, errOut, code := platformctl(t, tc.args...)
		if code != exitBadInput || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 2 and %q", tc.args, code, errOut, out, tc.want)
		}
	}
}

func TestPreviewOfAnInvalidStackNamesEveryBadKey(t *testing.T) {
	t.Parallel()
	dir := projectWith(t, "broken", `config:
  aws:region: us-east-1
  aws:defaultTags:
    tags: {Project: hipaa, Environment: broken, Owner: qa}
  hipaa:availabilityZones: 9
  hipaa:dbInstanceType: t3.medium
  hipaa:appDomain: broken.clinic.example.com
`)
	var out, errb bytes.Buffer
	code := runArgs([]string{"--dir", dir, "preview", "--stack", "broken"}, &out, &errb)
	if code != exitBadInput {
		t.Errorf("exit %d, want %d", code, exitBadInput)
	}
	for _, want := range []string{"stack broken: 2 invalid configuration value(s); nothing was created",
		"hipaa:availabilityZones: got 9, want 2 to 6", `hipaa:dbInstanceType: got "t3.medium"`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}
}

// TestPreviewShowsWhatTheMonitoringHostRuns: the generated Nagios configuration is visible offline.
func TestPreviewShowsWhatTheMonitoringHostRuns(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	if code := runArgs([]string{"--dir", "../..", "preview", "--stack", "prod", "--host", "hipaa-prod-monitoring"}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"==> /etc/hipaa/nagios/hosts.cfg <==", "==> /usr/local/sbin/hipaa-monitoring-converge <==", "host_name     hipaa-prod-db-2", "service_description  backup-age",
		"service_description  replication-lag-hipaa-prod-db-1", "Listen 127.0.0.1:80"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	out.Reset()
	errb.Reset()
	if code := runArgs([]string{"--dir", "../..", "preview", "--stack", "prod", "--host", "nope"}, &out, &errb); code != exitBadInput || !strings.Contains(errb.String(), "the hosts are hipaa-prod-db-0") {
		t.Errorf("unknown host: exit %d, %s", code, errb.String())
	}
}

// TestPreviewsAreByteForByteTheSame: two previews of the same code and stack files print the same bytes,
// so a diff of two previews shows only what changed.
func TestPreviewsAreByteForByteTheSame(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "test", "qa", "prod", "demo-acme"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			first, errOut, code := platformctl(t, "preview", "--stack", stack, "--json")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for range 3 {
				again, _, _ := platformctl(t, "preview", "--stack", stack, "--json")
				if again != first {
					t.Fatalf("two previews of %s differ:\n%s", stack, firstDifference(first, again))
				}
			}
		})
	}
}

// firstDifference shows where two texts part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-200)
	return "...\n" + a[from:min(len(a), i+200)] + "\n---\n" + b[from:min(len(b), i+200)]
}

// TestPreviewReportsEveryConfigurationProblemOnce: what the stack file gets wrong (namespaces and keys no
// one reads, each with the nearest known key, types) and what the program's checks find (ranges,
// required keys, rules across keys) come in one report, exit 2, each key once.
func TestPreviewReportsEveryConfigurationProblemOnce(t *testing.T) {
	t.Parallel()
	dir := projectWith(t, "broken", `config:
  aws:regoin: us-east-1
  aws:defaultTags:
    tags: {Project: hipaa, Environment: broken, Owner: qa}
  hippa:availabilityZones: 3
  hipaa:dbReplicas: two
  hipaa:vpcCidr: 8.8.0.0/16
  hipaa:appInstanceType: t3.micro
  hipaa:forceDestroy: true
`)
	var out, errb bytes.Buffer
	if code := runArgs([]string{"--dir", dir, "preview", "--stack", "broken"}, &out, &errb); code != exitBadInput || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q; want 2 and nothing", code, out.String())
	}
	want := []string{
		"stack broken: 8 invalid configuration value(s); nothing was created:",
		"  aws:region: required, and not set; set it in Pulumi.broken.yaml, such as aws:region: us-east-1",
		"  aws:regoin: not a setting of the aws provider; did you mean aws:region?",
		"  hipaa:appDomain: required, and empty; want the application's host name, such as app.example.com",
		`  hipaa:appInstanceType: got "t3.micro", whose family t3 does not run with dedicated tenancy here: it is burstable`,
		"  hipaa:dbReplicas: got two, want a value of type integer",
		`  hipaa:forceDestroy: true with dataClass "phi"`,
		`  hipaa:vpcCidr: got "8.8.0.0/16", which is not private address space`,
		`  hippa:availabilityZones: namespace "hippa" is neither the project's (hipaa) nor a provider's (aws, docker, pulumi, random, tls); did you mean hipaa:availabilityZones?`,
	}
	got := errb.String()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("the report lacks %q:\n%s", w, got)
		}
	}
	if strings.Count(got, "hipaa:dbReplicas") != 1 {
		t.Errorf("hipaa:dbReplicas is reported more than once:\n%s", got)
	}
}

// TestPreviewOfADemoStack: a demo stack previews from the demo profile, named for the demo.
func TestPreviewOfADemoStack(t *testing.T) {
	t.Parallel()
	out, errOut, code := platformctl(t, "preview", "--stack", "demo-acme", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{`"Environment": "demo-acme"`, `"DataClass": "synthetic"`, `"forceDestroy": true`, `hipaa-demo-acme-db-1`} {
		if !strings.Contains(out, want) {
			t.Errorf("the demo's preview lacks %s", want)
		}
	}
	// The profile's {name} is the demo's: Nagios checks the demo's own host name.
	if out, _, _ := platformctl(t, "preview", "--stack", "demo-acme", "--host", "hipaa-demo-acme-monitoring"); !strings.Contains(out, "acme.demo.clinic.example.com") {
		t.Errorf("the demo's Nagios configuration does not check acme.demo.clinic.example.com")
	}
	if _, errOut, code := platformctl(t, "preview", "--stack", "demo-Acme"); code != exitBadInput || !strings.Contains(errOut, `unknown stack "demo-Acme"`) {
		t.Errorf("a demo name that is not one: exit %d, %s", code, errOut)
	}
}

// projectWith writes a project directory of the repository's Pulumi.yaml and one stack file.
func projectWith(t *testing.T, stack, settings string) string {
	t.Helper()
	dir := t.TempDir()
	project, err := os.ReadFile("../../Pulumi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{"Pulumi.yaml": project, "Pulumi." + stack + ".yaml": []byte(settings)} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
