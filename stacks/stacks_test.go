package stacks_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/baseline"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/stacks"
)

func loadProject(t *testing.T) *project.Project {
	t.Helper()
	p, err := project.Load("..")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runWith runs the program as the dev stack with some keys changed (an empty value removes the key).
func runWith(t *testing.T, overrides map[string]string) ([]offline.Resource, error) {
	t.Helper()
	rec, err := record(t, overrides)
	return rec.Resources, err
}

// record is runWith that also returns the provider functions the program called.
func record(t *testing.T, overrides map[string]string) (offline.Recording, error) {
	t.Helper()
	p := loadProject(t)
	cfg, secrets, err := p.StackConfig("dev")
	if err != nil {
		t.Fatal(err)
	}
	cfg["hipaa:release"] = "v1.4.2"
	for k, v := range overrides {
		if v == "" {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	return offline.Record(offline.Options{Project: p.Name, Stack: "dev", Region: "us-east-1", Config: cfg, SecretKeys: secrets}, stacks.Run)
}

func previewStack(t *testing.T, stack string) []offline.Resource {
	t.Helper()
	rs, err := preview.Stack(loadProject(t), stack, "")
	if err != nil {
		t.Fatalf("preview of %s: %v", stack, err)
	}
	return rs
}

func TestTheProjectHasTheFourEnvironments(t *testing.T) {
	t.Parallel()
	got, err := loadProject(t).Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dev", "test", "qa", "prod"} {
		if !slices.Contains(got, want) {
			t.Errorf("stacks %v lack %s", got, want)
		}
	}
}

// TestEveryStackKeepsTheSafeguards checks, on every stack in the repository, the invariants no dial may
// relax: dedicated tenancy, flow logs, rotating keys, and for every bucket its encryption, versioning,
// public access block and TLS-only policy, each joined to the bucket through its dependencies.
func TestEveryStackKeepsTheSafeguards(t *testing.T) {
	t.Parallel()
	stackNames, _ := loadProject(t).Stacks()
	for _, stack := range stackNames {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rs := previewStack(t, stack)
			assertBucketsComplete(t, rs)
			for _, k := range offlinetest.Of(rs, "aws:kms/key:Key") {
				if k.Value("enableKeyRotation") != true {
					t.Errorf("%s does not rotate", k.Name)
				}
			}
			if isAccountStack(t, stack) {
				return
			}
			vpcs := offlinetest.Of(rs, "aws:ec2/vpc:Vpc")
			if len(vpcs) != 1 || vpcs[0].String("instanceTenancy") != "dedicated" {
				t.Fatalf("want one dedicated VPC, got %d (%v)", len(vpcs), vpcs)
			}
			var flowLog bool
			for _, fl := range offlinetest.Of(rs, "aws:ec2/flowLog:FlowLog") {
				if fl.String("vpcId") == vpcs[0].ID && fl.String("trafficType") == "ALL" {
					flowLog = true
				}
			}
			if !flowLog {
				t.Error("the VPC has no flow log of ALL traffic")
			}
			if keys := offlinetest.Of(rs, "aws:kms/key:Key"); len(keys) < 4 {
				t.Errorf("%d KMS keys, want one per purpose", len(keys))
			}
			for _, r := range rs {
				if strings.HasPrefix(r.Type, "aws:ec2/securityGroupRule") && r.String("type") == "ingress" {
					from, to := r.Value("fromPort").(float64), r.Value("toPort").(float64)
					if from <= 22 && 22 <= to {
						t.Errorf("%s opens port 22", r.Name)
					}
				}
			}
		})
	}
}

func assertBucketsComplete(t *testing.T, rs []offline.Resource) {
	t.Helper()
	configured := map[string]map[string]bool{}
	for _, r := range rs {
		for _, dep := range r.PropertyDependencies["bucket"] {
			if configured[dep] == nil {
				configured[dep] = map[string]bool{}
			}
			switch r.Type {
			case "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2":
				// Load balancers deliver logs only to SSE-S3 buckets; every other bucket uses the customer key.
				configured[dep]["sse"] = r.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") == "aws:kms" &&
					strings.HasPrefix(r.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"), "arn:aws:kms:") ||
					strings.HasSuffix(r.Name, "-lb-logs") && r.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") == "AES256"
			case "aws:s3/bucketVersioningV2:BucketVersioningV2":
				configured[dep]["versioning"] = r.String("versioningConfiguration.status") == "Enabled"
			case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
				configured[dep]["public access block"] = r.Value("blockPublicAcls") == true && r.Value("blockPublicPolicy") == true &&
					r.Value("ignorePublicAcls") == true && r.Value("restrictPublicBuckets") == true
			case "aws:s3/bucketPolicy:BucketPolicy":
				configured[dep]["TLS-only policy"] = strings.Contains(r.String("policy"), `"Bool":{"aws:SecureTransport":"false"}`)
			}
		}
	}
	buckets := offlinetest.Of(rs, "aws:s3/bucketV2:BucketV2")
	if len(buckets) < 2 {
		t.Errorf("%d buckets, want at least logs and one more", len(buckets))
	}
	for _, b := range buckets {
		for _, what := range []string{"sse", "versioning", "public access block", "TLS-only policy"} {
			if !configured[b.URN][what] {
				t.Errorf("bucket %s lacks %s", b.Name, what)
			}
		}
		if b.String("tags.DataClass") == "" {
			t.Errorf("bucket %s has no DataClass tag", b.Name)
		}
	}
}

func zones(rs []offline.Resource) map[string]bool {
	z := map[string]bool{}
	for _, s := range offlinetest.Of(rs, "aws:ec2/subnet:Subnet") {
		z[s.String("availabilityZone")] = true
	}
	return z
}

func TestProdSpreadsOverThreeZonesAndProtectsState(t *testing.T) {
	t.Parallel()
	rs := previewStack(t, "prod")
	if z := zones(rs); len(z) != 3 {
		t.Errorf("prod subnets are in zones %v, want 3", z)
	}
	if n := len(offlinetest.Of(rs, "aws:ec2/natGateway:NatGateway")); n != 3 {
		t.Errorf("prod has %d NAT gateways, want one per zone", n)
	}
	for _, typ := range []string{"aws:kms/key:Key", "aws:s3/bucketV2:BucketV2", "aws:ebs/volume:Volume",
		"aws:secretsmanager/secret:Secret", "aws:ec2/instance:Instance"} {
		for _, r := range offlinetest.Of(rs, typ) {
			if r.Protect != r.Options.Protect {
				t.Errorf("prod %s %s: the preview's options say protect %v, the resource %v", typ, r.Name, r.Options.Protect, r.Protect)
			}
			if !r.Protect && (typ != "aws:ec2/instance:Instance" || r.String("tags.Role") == "database") {
				t.Errorf("prod %s %s is not protected", typ, r.Name)
			}
		}
	}
	if len(offlinetest.Of(rs, "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2")) != 1 {
		t.Error("prod backups are not object-locked")
	}
	dbZones := map[string]string{}
	for _, in := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
		if in.String("tags.Role") == "database" {
			dbZones[in.String("tags.DatabaseRole")+" "+in.Name] = in.String("subnetId")
		}
	}
	primary, seen := "", map[string]bool{}
	for k, subnet := range dbZones {
		if strings.HasPrefix(k, "primary") {
			primary = subnet
		}
		seen[subnet] = true
	}
	if len(dbZones) < 2 || primary == "" || len(seen) < 2 {
		t.Errorf("prod database hosts %v: want a primary and replicas in other zones", dbZones)
	}
}

func TestDevIsSmallerButKeepsEverySafeguard(t *testing.T) {
	t.Parallel()
	rs := previewStack(t, "dev")
	if z := zones(rs); len(z) != 2 {
		t.Errorf("dev subnets are in zones %v, want 2", z)
	}
	if n := len(offlinetest.Of(rs, "aws:ec2/natGateway:NatGateway")); n != 1 {
		t.Errorf("dev has %d NAT gateways, want 1", n)
	}
	for _, r := range offlinetest.Of(rs, "aws:kms/key:Key") {
		if r.Protect {
			t.Errorf("dev key %s is protected; dev is meant to be replaceable", r.Name)
		}
	}
}

// accountSingletons are what only an account stack declares, and how many of each: the service-linked
// roles are Auto Scaling's and AWS Config's.
var accountSingletons = map[string]int{"aws:cloudtrail/trail:Trail": 1, "aws:guardduty/detector:Detector": 1,
	"aws:ebs/encryptionByDefault:EncryptionByDefault": 1, "aws:ebs/defaultKmsKey:DefaultKmsKey": 1,
	"aws:iam/accountPasswordPolicy:AccountPasswordPolicy": 1, "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock": 1,
	"aws:iam/serviceLinkedRole:ServiceLinkedRole": 2, "aws:cfg/recorder:Recorder": 1, "aws:cfg/deliveryChannel:DeliveryChannel": 1,
	"aws:cfg/recorderStatus:RecorderStatus": 1, "aws:securityhub/account:Account": 1, "aws:inspector2/enabler:Enabler": 1,
	"aws:guardduty/detectorFeature:DetectorFeature": len(baseline.GuardDutyFeatures)}

func TestOnlyTheAccountStacksDeclareTheAccountsSingletons(t *testing.T) {
	t.Parallel()
	stackNames, _ := loadProject(t).Stacks()
	for _, stack := range append(stackNames, "demo-acme") {
		account := isAccountStack(t, stack)
		rs := previewStack(t, stack)
		for typ, n := range accountSingletons {
			want := 0
			if account {
				want = n
			}
			if got := len(offlinetest.Of(rs, typ)); got != want {
				t.Errorf("%s: %d of %s, want %d", stack, got, typ, want)
			}
		}
	}
	for _, stack := range []string{"account-nonprod", "account-prod"} {
		if !isAccountStack(t, stack) {
			t.Errorf("%s is not an account stack", stack)
		}
	}
}

// isAccountStack reports whether a stack's file makes it its account's baseline.
func isAccountStack(t *testing.T, stack string) bool {
	t.Helper()
	p := loadProject(t)
	if !p.HasStack(stack) {
		return false
	}
	cfg, _, err := p.StackConfig(stack)
	if err != nil {
		t.Fatal(err)
	}
	return cfg["hipaa:accountBaseline"] == "true"
}

// recordIn runs the program for a stack of the repository in an account holding what account says.
func recordIn(t *testing.T, stack string, account offline.Account) (offline.Recording, error) {
	t.Helper()
	p := loadProject(t)
	cfg, secrets, err := p.StackConfig(stack)
	if err != nil {
		t.Fatal(err)
	}
	if !isAccountStack(t, stack) {
		cfg["hipaa:release"] = "v1.4.2"
	}
	return offline.Record(offline.Options{Project: p.Name, Stack: stack, Region: "us-east-1", Config: cfg, SecretKeys: secrets, Account: account}, stacks.Run)
}

func TestAnAccountStackAdoptsTheSingletonsThatExistAndIsAllProtected(t *testing.T) {
	t.Parallel()
	rec, err := recordIn(t, "account-nonprod", offline.Account{})
	if err != nil {
		t.Fatal(err)
	}
	rs := rec.Resources
	role, ok := offlinetest.Named(rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole", "hipaa-account-nonprod-autoscaling")
	configRole, ok2 := offlinetest.Named(rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole", "hipaa-account-nonprod-baseline-config")
	if !ok || !ok2 {
		t.Fatalf("the account stack lacks the Auto Scaling role (%v) or AWS Config's (%v)", ok, ok2)
	}
	detector := offlinetest.One(t, rs, "aws:guardduty/detector:Detector")
	if role.Options.Import != offline.AutoScalingRoleArn || configRole.Options.Import != offline.ConfigRoleArn || detector.Options.Import != offline.DetectorID {
		t.Errorf("roles import %q and %q, detector %q: want all adopted, nothing created", role.Options.Import, configRole.Options.Import, detector.Options.Import)
	}
	for _, k := range offlinetest.Of(rs, "aws:kms/key:Key") {
		if !slices.Contains(k.Options.DependsOn, role.URN) {
			t.Errorf("key %s does not wait for the role its policy may name", k.Name)
		}
	}
	// The image builds and their network hold no data, and a new image version replaces recipes and
	// images, which protection would refuse.
	builds := func(r offline.Resource) bool {
		return r.Type == images.PipelinesType || r.Type == network.Type ||
			strings.Contains(r.URN, images.PipelinesType+"$") || strings.Contains(r.URN, network.Type+"$")
	}
	for _, r := range rs {
		if builds(r) {
			if r.Options.Protect {
				t.Errorf("%s %s of the image builds is protected, so a new image version could not replace it", r.Type, r.Name)
			}
		} else if !r.Options.Protect {
			t.Errorf("%s %s is not protected in an account stack", r.Type, r.Name)
		}
	}
	if n := len(offlinetest.Of(rs, "aws:ec2/instance:Instance")) + len(offlinetest.Of(rs, "aws:ec2/launchTemplate:LaunchTemplate")); n != 0 {
		t.Errorf("the account stack declares %d instances and launch templates; it runs no host but its image builds'", n)
	}
	if n := len(offlinetest.Of(rs, "aws:ec2/vpc:Vpc")); n != 1 {
		t.Errorf("the account stack declares %d VPCs, want its build network only", n)
	}
}

// An account stack's conformance packs (the account's, and its build network's own) can only be created
// once its recorder runs; an environment's, deployed after its account stack, need not wait.
func TestEveryStackChecksItsOwnNetworkOnceTheAccountRecords(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"account-prod", "prod"} {
		rs := previewStack(t, stack)
		packs := offlinetest.Of(rs, "aws:cfg/conformancePack:ConformancePack")
		status := offlinetest.Of(rs, "aws:cfg/recorderStatus:RecorderStatus")
		want := 1
		if isAccountStack(t, stack) {
			want = 2
		}
		if len(packs) != want {
			t.Fatalf("%s: %d conformance packs, want %d", stack, len(packs), want)
		}
		for _, p := range packs {
			if strings.HasSuffix(p.Name, "-internet-paths") && !strings.Contains(p.String("templateBody"), `"TagValue":"`+stack+`"`) {
				t.Errorf("%s: %s is not scoped to the stack's resources", stack, p.Name)
			}
			if len(status) == 1 && !slices.Contains(p.Options.DependsOn, status[0].URN) {
				t.Errorf("%s: %s does not wait for the recorder", stack, p.Name)
			}
		}
	}
}

func TestAnAccountStackCreatesTheSingletonsThatAreMissing(t *testing.T) {
	t.Parallel()
	rec, err := recordIn(t, "account-prod", offline.Fresh)
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"aws:iam/serviceLinkedRole:ServiceLinkedRole", "aws:guardduty/detector:Detector"} {
		for _, r := range offlinetest.Of(rec.Resources, typ) {
			if r.Options.Import != "" {
				t.Errorf("%s %s imports %q in an account that has none", typ, r.Name, r.Options.Import)
			}
		}
	}
}

func TestAnEnvironmentStopsBeforeAnythingInAnAccountWithoutItsAutoScalingRole(t *testing.T) {
	t.Parallel()
	rec, err := recordIn(t, "dev", offline.Account{NoAutoScalingRole: true})
	if err == nil || !strings.Contains(err.Error(), "AWSServiceRoleForAutoScaling") || !strings.Contains(err.Error(), "platformctl up --stack account-nonprod") {
		t.Errorf("error = %v, want the missing role named and the account stack to deploy", err)
	}
	if len(rec.Resources) != 0 {
		t.Errorf("%d resources declared", len(rec.Resources))
	}
	if _, err := recordIn(t, "dev", offline.Account{NoDetector: true}); err != nil {
		t.Errorf("an environment needs no detector of its own: %v", err)
	}
}

func TestAnAccountStackRunsNoRelease(t *testing.T) {
	t.Parallel()
	_, err := preview.Stack(loadProject(t), "account-nonprod", "v1.4.2")
	if err == nil || !strings.Contains(err.Error(), "hipaa:release: set on an account stack") {
		t.Errorf("error = %v, want the release refused", err)
	}
}

func TestInvalidConfigIsReportedKeyByKeyAndNothingIsCreated(t *testing.T) {
	t.Parallel()
	rs, err := runWith(t, map[string]string{
		"hipaa:vpcCidr":             "10.10.0.0/33",
		"hipaa:availabilityZones":   "7",
		"hipaa:logRetentionDays":    "90",
		"hipaa:appInstanceType":     "t3.large",
		"hipaa:dbInstanceType":      "db.r6g.large",
		"hipaa:dataClass":           "confidential",
		"hipaa:natGatewayPerZone":   "maybe",
		"hipaa:backupRetentionDays": "three",
	})
	var cfgErr *project.ConfigError
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error = %v, want a *project.ConfigError", err)
	}
	want := []string{"hipaa:appInstanceType", "hipaa:availabilityZones", "hipaa:backupRetentionDays",
		"hipaa:dataClass", "hipaa:dbInstanceType", "hipaa:logRetentionDays", "hipaa:natGatewayPerZone", "hipaa:vpcCidr"}
	got := cfgErr.Keys()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("keys reported = %v, want %v\n%v", got, want, err)
	}
	for _, fragment := range []string{
		`hipaa:vpcCidr: got "10.10.0.0/33", want an RFC 1918 IPv4 CIDR block`,
		"hipaa:availabilityZones: got 7, want 2 to 6",
		"hipaa:logRetentionDays: got 90, want one of 365, 400",
		`hipaa:appInstanceType: got "t3.large", whose family t3 does not run with dedicated tenancy`,
		`hipaa:dataClass: got "confidential", want one of phi, synthetic`,
		`hipaa:natGatewayPerZone: got "maybe", want true or false`,
		`hipaa:backupRetentionDays: got "three", want a whole number`,
	} {
		if !strings.Contains(err.Error(), fragment) {
			t.Errorf("error lacks %q:\n%v", fragment, err)
		}
	}
	if len(rs) != 0 {
		t.Errorf("%d resources registered from an invalid config", len(rs))
	}
}

func TestConfigRulesAcrossKeys(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		key, want string
	}{
		{"force destroy of PHI", map[string]string{"hipaa:forceDestroy": "true"}, "hipaa:forceDestroy", `dataClass "phi"`},
		{"force destroy of protected", map[string]string{"hipaa:forceDestroy": "true", "hipaa:dataClass": "synthetic", "hipaa:protect": "true"},
			"hipaa:forceDestroy", "protect true"},
		{"locked and destroyable", map[string]string{"hipaa:forceDestroy": "true", "hipaa:dataClass": "synthetic", "hipaa:backupObjectLock": "true"},
			"hipaa:backupObjectLock", "locked backups cannot be destroyed"},
		{"no region", map[string]string{"aws:region": ""}, "aws:region", "required, and not set; set it in Pulumi.dev.yaml, such as aws:region: us-east-1"},
		{"no such region", map[string]string{"aws:region": "us-east-7"}, "aws:region", `got "us-east-7", which is not an AWS region`},
		{"burstable and tiny", map[string]string{"hipaa:dbInstanceType": "t3.micro"}, "hipaa:dbInstanceType",
			`got "t3.micro", whose family t3 does not run with dedicated tenancy here: it is burstable`},
		{"too small", map[string]string{"hipaa:engineInstanceType": "c6i.small"}, "hipaa:engineInstanceType", "size small is too small"},
		{"no default tags", map[string]string{"aws:defaultTags": ""}, "aws:defaultTags", "not set"},
		{"default tags of another stack", map[string]string{"aws:defaultTags": `{"tags":{"Project":"hipaa","Environment":"prod","Owner":"x"}}`},
			"aws:defaultTags", `want the stack name "dev"`},
		{"high availability without a replica", map[string]string{"hipaa:dbHighAvailability": "true", "hipaa:dbReplicas": "0"},
			"hipaa:dbReplicas", "got 0 with dbHighAvailability true; want at least 1"},
		{"too many replicas", map[string]string{"hipaa:dbReplicas": "9"}, "hipaa:dbReplicas", "got 9, want 0 to 5"},
		{"archive timeout", map[string]string{"hipaa:dbArchiveTimeoutSeconds": "5"}, "hipaa:dbArchiveTimeoutSeconds", "got 5, want 15 to 3600"},
		{"no owner tag", map[string]string{"aws:defaultTags": `{"tags":{"Project":"hipaa","Environment":"dev"}}`},
			"aws:defaultTags", "tags.Owner is missing"},
		{"no release", map[string]string{"hipaa:release": ""}, "hipaa:release", "not set; deploy with `platformctl release promote IMAGE --to dev`"},
		{"malformed release", map[string]string{"hipaa:release": "hipaa-app@sha256:beef"}, "hipaa:release", `digest "sha256:beef" is not sha256:`},
		{"release from another repository", map[string]string{"hipaa:release": "other:v1"}, "hipaa:release", `names repository "other"; the hosts may pull only from "hipaa-app"`},
		{"release from another registry", map[string]string{"hipaa:release": "ghcr.io/hipaa-app:v1"}, "hipaa:release", "not an ECR registry"},
		{"build on an environment", map[string]string{"hipaa:imageBuildContext": "./app"}, "hipaa:imageBuildContext", "set on an environment"},
		{"build by digest", map[string]string{"hipaa:accountBaseline": "true", "hipaa:registryOwner": "true", "hipaa:imageBuildContext": "./app", "hipaa:release": "@sha256:" + strings.Repeat("a", 64)},
			"hipaa:release", "want the prefix of the tag the build is pushed under"},
		{"build without the registry", map[string]string{"hipaa:accountBaseline": "true", "hipaa:imageBuildContext": "./app", "hipaa:release": "release"},
			"hipaa:imageBuildContext", "without registryOwner"},
		{"replica without the registry", map[string]string{"hipaa:registryReplicaRegion": "us-west-2"},
			"hipaa:registryReplicaRegion", "without registryOwner"},
		{"an environment owning the registry", map[string]string{"hipaa:registryOwner": "true"}, "hipaa:registryOwner", "true on an environment"},
		{"pull account", map[string]string{"hipaa:registryPullAccounts": `["12345"]`}, "hipaa:registryPullAccounts[0]", `got "12345", want a 12-digit AWS account ID`},
		{"owner pulling elsewhere", map[string]string{"hipaa:registryAccount": "210987654321", "hipaa:registryOwner": "true"}, "hipaa:registryAccount", "with registryOwner true"},
		{"tier bounds", map[string]string{"hipaa:appMinSize": "4", "hipaa:appMaxSize": "3"}, "hipaa:appMaxSize", "got 3, below appMinSize 4"},
		{"engine target", map[string]string{"hipaa:engineCpuTarget": "95"}, "hipaa:engineCpuTarget", "got 95, want 20 to 90"},
		{"domain", map[string]string{"hipaa:appDomain": "Clinic.Example.com"}, "hipaa:appDomain", "want a lower-case DNS host name"},
		{"expiry", map[string]string{"hipaa:expiresAt": "tomorrow"}, "hipaa:expiresAt", "want an RFC 3339 time"},
		{"IOPS beyond the volume's size", map[string]string{"hipaa:dbVolumeSizeGiB": "20", "hipaa:dbVolumeIops": "12000"},
			"hipaa:dbVolumeIops", "got 12000 IOPS for 20 GiB; want at most 10000"},
		{"throughput beyond the IOPS", map[string]string{"hipaa:dbVolumeIops": "3000", "hipaa:dbVolumeThroughputMiBps": "1000"},
			"hipaa:dbVolumeThroughputMiBps", "got 1000 MiB/s with 3000 IOPS; want at most 750 MiB/s"},
		{"an account stack with a release", map[string]string{"hipaa:accountBaseline": "true"}, "hipaa:release", "set on an account stack"},
		{"recorder name", map[string]string{"hipaa:configRecorderName": "my recorder"}, "hipaa:configRecorderName", `got "my recorder", want 1 to 256 letters`},
		{"organization service", map[string]string{"hipaa:accountBaseline": "true", "hipaa:release": "", "hipaa:organizationManaged": `["guardduty"]`},
			"hipaa:organizationManaged[0]", `got "guardduty", want one of config, securityhub, inspector`},
		{"organization on an environment", map[string]string{"hipaa:organizationManaged": `["config"]`}, "hipaa:organizationManaged", "set on an environment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs, err := runWith(t, tc.overrides)
			var cfgErr *project.ConfigError
			if !errors.As(err, &cfgErr) || !slices.Contains(cfgErr.Keys(), tc.key) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %s reported with %q", err, tc.key, tc.want)
			}
			if len(rs) != 0 {
				t.Errorf("%d resources registered from an invalid config", len(rs))
			}
		})
	}
}

func TestADemoProfileKeepsTheSafeguards(t *testing.T) {
	t.Parallel()
	rs, err := runWith(t, map[string]string{
		"hipaa:dataClass":       "synthetic",
		"hipaa:forceDestroy":    "true",
		"hipaa:accountBaseline": "false",
	})
	if err != nil {
		t.Fatal(err)
	}
	assertBucketsComplete(t, rs)
	for _, b := range offlinetest.Of(rs, "aws:s3/bucketV2:BucketV2") {
		if b.Value("forceDestroy") != true || b.String("tags.DataClass") != "synthetic" {
			t.Errorf("demo bucket %s forceDestroy=%v DataClass=%q", b.Name, b.Value("forceDestroy"), b.String("tags.DataClass"))
		}
	}
}

func TestADemoCanBeCreatedAgainUnderItsName(t *testing.T) {
	t.Parallel()
	rs := previewStack(t, "demo-acme")
	for _, s := range offlinetest.Of(rs, "aws:secretsmanager/secret:Secret") {
		if s.Value("recoveryWindowInDays") != 0.0 {
			t.Errorf("demo secret %s keeps its name for %v days after a destroy", s.Name, s.Value("recoveryWindowInDays"))
		}
	}
	for _, s := range offlinetest.Of(previewStack(t, "prod"), "aws:secretsmanager/secret:Secret") {
		if s.Value("recoveryWindowInDays") != 30.0 {
			t.Errorf("prod secret %s can be restored for %v days, want 30", s.Name, s.Value("recoveryWindowInDays"))
		}
	}
	// The hosts Auto Scaling launches carry the demo's owner and expiry, which the reaper and the
	// account's cost reports go by: the provider's default tags do not reach them.
	for _, lt := range offlinetest.Of(rs, "aws:ec2/launchTemplate:LaunchTemplate") {
		specs, _ := lt.Value("tagSpecifications").([]any)
		if len(specs) == 0 {
			t.Fatalf("%s has no tag specifications", lt.Name)
		}
		for i := range specs {
			for k, want := range map[string]string{"Owner": preview.DemoOwner, "ExpiresAt": preview.DemoExpiry, "Environment": "demo-acme"} {
				if got := lt.String(fmt.Sprintf("tagSpecifications.%d.tags.%s", i, k)); got != want {
					t.Errorf("%s: launched %s tag %s = %q, want %q", lt.Name, lt.String(fmt.Sprintf("tagSpecifications.%d.resourceType", i)), k, got, want)
				}
			}
		}
	}
}

func TestTheTiersRunTheReleaseByDigestFromTheAccountsRepository(t *testing.T) {
	t.Parallel()
	rs, err := runWith(t, map[string]string{"hipaa:release": "v1.4.2"})
	if err != nil {
		t.Fatal(err)
	}
	templates := slices.DeleteFunc(offlinetest.Of(rs, "aws:ec2/launchTemplate:LaunchTemplate"), func(lt offline.Resource) bool { return lt.Name == "hipaa-dev-db-drill" })
	if len(templates) != 2 {
		t.Fatalf("%d launch templates, want the web and engine tiers'", len(templates))
	}
	for _, lt := range templates {
		files, err := cloudinit.Decode(lt.String("userData"))
		if err != nil {
			t.Fatal(err)
		}
		role := strings.TrimPrefix(lt.Name, "hipaa-dev-")
		script := files["/usr/local/sbin/hipaa-"+role+"-converge"]
		if !strings.Contains(script, ".dkr.ecr.us-east-1.amazonaws.com/hipaa-app@sha256:") {
			t.Errorf("%s does not pull hipaa-app by digest:\n%s", lt.Name, script)
		}
		// The tiers follow the primary through a failover: every member, and libpq picks the writable one.
		for _, want := range []string{"--env DATABASE_HOST='10.10.128.16,10.10.136.16'", "--env DATABASE_TARGET_SESSION_ATTRS='read-write'",
			"--env DATABASE_READ_ONLY_TARGET_SESSION_ATTRS='prefer-standby'"} {
			if !strings.Contains(script, want) {
				t.Errorf("%s's container lacks %s", lt.Name, want)
			}
		}
	}
	if n := len(offlinetest.Of(rs, "aws:ecr/repository:Repository")); n != 0 {
		t.Errorf("dev declares %d repositories; the account stack owns them", n)
	}
	balancer := offlinetest.One(t, rs, "aws:lb/loadBalancer:LoadBalancer")
	if !strings.HasSuffix(balancer.String("accessLogs.bucket"), "-lb-logs-"+offline.AccountID) {
		t.Errorf("access logs go to %q", balancer.String("accessLogs.bucket"))
	}
}

func TestStacksWithoutTheRegistryPullFromTheOwnersAccount(t *testing.T) {
	t.Parallel()
	rs, err := runWith(t, map[string]string{"hipaa:registryOwner": "false", "hipaa:registryAccount": "210987654321", "hipaa:accountBaseline": "false", "hipaa:registryReplicateTo": "[]"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(offlinetest.Of(rs, "aws:ecr/repository:Repository")); n != 0 {
		t.Errorf("%d repositories on a stack that does not own the registry", n)
	}
	for _, p := range offlinetest.Of(rs, "aws:iam/policy:Policy") {
		if strings.Contains(p.String("policy"), "PullReleases") && !strings.Contains(p.String("policy"), "arn:aws:ecr:us-east-1:210987654321:repository/hipaa-app") {
			t.Errorf("%s pulls from elsewhere: %s", p.Name, p.String("policy"))
		}
	}
}

// TestMonitoringWatchesEveryDatabaseHostFromItsFixedAddress runs prod: the Nagios host sits at its
// reserved address, every database host admits monitoring from that address alone, and every alarm
// notifies the topic.
func TestMonitoringWatchesEveryDatabaseHostFromItsFixedAddress(t *testing.T) {
	t.Parallel()
	rs := previewStack(t, "prod")
	mon, ok := offlinetest.Named(rs, "aws:ec2/instance:Instance", "hipaa-prod-monitoring")
	if !ok {
		t.Fatal("no Nagios host in prod")
	}
	if got := mon.String("privateIp"); got != "10.40.64.16" {
		t.Errorf("Nagios host at %s, want 10.40.64.16 (the first app subnet's reserved block)", got)
	}
	reservations := offlinetest.Of(rs, "aws:ec2/subnetCidrReservation:SubnetCidrReservation")
	if len(reservations) != 6 {
		t.Errorf("%d CIDR reservations, want one per app and data subnet in 3 zones", len(reservations))
	}
	var dbHosts int
	for _, inst := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
		if inst.String("tags.Role") != "database" {
			continue
		}
		dbHosts++
		raw, _ := base64.StdEncoding.DecodeString(inst.String("userDataBase64"))
		if len(raw) == 0 {
			t.Fatalf("%s has no user data", inst.Name)
		}
	}
	if dbHosts != 3 {
		t.Errorf("%d database hosts in prod, want 3", dbHosts)
	}
	topics := offlinetest.Of(rs, "aws:sns/topic:Topic")
	if len(topics) != 1 || topics[0].String("kmsMasterKeyId") == "" {
		t.Fatalf("alert topics: %d", len(topics))
	}
	alarms := offlinetest.Of(rs, "aws:cloudwatch/metricAlarm:MetricAlarm")
	if len(alarms) < 3+4*3+2+1+3 {
		t.Errorf("%d alarms in prod", len(alarms))
	}
	for _, a := range alarms {
		if actions, _ := a.Value("alarmActions").([]any); len(actions) == 0 {
			t.Errorf("%s notifies nobody", a.Name)
		}
	}
}

// TestEachHostGetsAnImageOfItsArchitecture: a Graviton type looks up an Arm image, the others an x86
// one, for the tiers' Amazon Linux; the account's own database and monitoring images are x86_64, which
// is all its pipelines build; and each host runs the image of its own lookup.
func TestEachHostGetsAnImageOfItsArchitecture(t *testing.T) {
	t.Parallel()
	rec, err := record(t, map[string]string{"hipaa:appInstanceType": "m7g.large"})
	if err != nil {
		t.Fatal(err)
	}
	images := map[string]string{} // name filter and architecture → the ID answered
	built := map[string]string{}  // and the Image Builder image it was made as, for the account's own
	for _, c := range rec.Of("aws:ec2/getAmi:getAmi") {
		var name, arch string
		for _, f := range c.Args["filters"].ArrayValue() {
			v := f.ObjectValue()["values"].ArrayValue()[0].StringValue()
			switch f.ObjectValue()["name"].StringValue() {
			case "name":
				name = v
			case "architecture":
				arch = v
			}
		}
		ans, err := offline.Answer(c.Token, "us-east-1", c.Args)
		if err != nil {
			t.Fatal(err)
		}
		images[name+" "+arch] = ans["id"].StringValue()
		if tag, ok := ans["tags"].ObjectValue()[naming.ImageBuilderArnTag]; ok {
			built[name+" "+arch] = tag.StringValue()
		}
	}
	for _, want := range []string{"al2023-ami-2023.*-kernel-*-arm64 arm64", "al2023-ami-2023.*-kernel-*-x86_64 x86_64",
		"hipaa-postgres-15-* x86_64", "hipaa-nagios-4-* x86_64"} {
		if images[want] == "" {
			t.Errorf("no image lookup of %s; the lookups were %v", want, images)
		}
	}
	for name, lookup := range map[string]string{"hipaa-dev-web": "al2023-ami-2023.*-kernel-*-arm64 arm64", "hipaa-dev-engine": "al2023-ami-2023.*-kernel-*-x86_64 x86_64"} {
		if lt, _ := offlinetest.Named(rec.Resources, "aws:ec2/launchTemplate:LaunchTemplate", name); lt.String("imageId") != images[lookup] {
			t.Errorf("%s runs image %q, want %q, the %s one", name, lt.String("imageId"), images[lookup], lookup)
		}
	}
	for name, lookup := range map[string]string{"hipaa-dev-db-0": "hipaa-postgres-15-* x86_64", "hipaa-dev-monitoring": "hipaa-nagios-4-* x86_64"} {
		if in, _ := offlinetest.Named(rec.Resources, "aws:ec2/instance:Instance", name); in.String("ami") != images[lookup] {
			t.Errorf("%s runs image %q, want %q, the %s one", name, in.String("ami"), images[lookup], lookup)
		}
		// The host records the Image Builder image, for the pack's ec2-image-built-by-account.
		if in, _ := offlinetest.Named(rec.Resources, "aws:ec2/instance:Instance", name); built[lookup] == "" || in.String("tags."+naming.ImageBuilderArnTag) != built[lookup] {
			t.Errorf("%s records the image %q, want %q, the one Image Builder made", name, in.String("tags."+naming.ImageBuilderArnTag), built[lookup])
		}
	}
	drill, _ := offlinetest.Named(rec.Resources, "aws:ec2/launchTemplate:LaunchTemplate", "hipaa-dev-db-drill")
	if got, want := drill.String("tagSpecifications.0.tags."+naming.ImageBuilderArnTag), built["hipaa-postgres-15-* x86_64"]; want == "" || got != want {
		t.Errorf("the restore drill's hosts record the image %q, want %q", got, want)
	}
}

func TestPinnedImagesAreNeverLookedUpByName(t *testing.T) {
	t.Parallel()
	const app, db, mon = "ami-0aaaaaaaaaaaaaaa1", "ami-0bbbbbbbbbbbbbbb2", "ami-0ccccccccccccccc3"
	rec, err := record(t, map[string]string{"hipaa:appImageId": app, "hipaa:dbImageId": db, "hipaa:monitoringImageId": mon})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Of("aws:ec2/getAmi:getAmi") {
		if v, ok := c.Args["mostRecent"]; ok && v.IsBool() && v.BoolValue() {
			t.Errorf("a pinned stack looked up the newest image: %v", c.Args)
		}
	}
	for _, lt := range offlinetest.Of(rec.Resources, "aws:ec2/launchTemplate:LaunchTemplate") {
		if want := map[bool]string{true: db, false: app}[lt.Name == "hipaa-dev-db-drill"]; lt.String("imageId") != want {
			t.Errorf("%s runs %s, want the pinned %s", lt.Name, lt.String("imageId"), want)
		}
	}
	for name, want := range map[string]string{"hipaa-dev-db-0": db, "hipaa-dev-db-1": db, "hipaa-dev-monitoring": mon} {
		if in, _ := offlinetest.Named(rec.Resources, "aws:ec2/instance:Instance", name); in.String("ami") != want {
			t.Errorf("%s runs %s, want the pinned %s", name, in.String("ami"), want)
		}
	}
	// A pinned image of the wrong architecture is refused before anything is declared.
	rs, err := runWith(t, map[string]string{"hipaa:appImageId": app, "hipaa:appInstanceType": "m7g.large", "hipaa:engineInstanceType": "c7g.large"})
	if err == nil || !strings.Contains(err.Error(), "hipaa:appImageId: the pinned image "+app+" is x86_64, but m7g.large needs arm64") {
		t.Errorf("error = %v, want the architecture named", err)
	}
	// The database's and the monitoring's images are the account's, which are x86_64 only.
	if _, err := runWith(t, map[string]string{"hipaa:dbInstanceType": "r7g.large"}); err == nil ||
		!strings.Contains(err.Error(), "hipaa:dbInstanceType: r7g.large is arm64, but the account's image pipelines build x86_64 images only") {
		t.Errorf("a Graviton database host: %v, want it refused naming the key", err)
	}
	if len(rs) != 0 {
		t.Errorf("%d resources declared before the image was refused", len(rs))
	}
}

// TestHostsBootAfterTheNetworkTheyCallAWSThrough: every host, and every group that launches hosts, is
// created after the private subnets' route table associations and the VPC endpoints: the data subnets
// reach Secrets Manager through its endpoint alone.
func TestHostsBootAfterTheNetworkTheyCallAWSThrough(t *testing.T) {
	t.Parallel()
	rs, err := runWith(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, r := range offlinetest.Of(rs, "aws:ec2/vpcEndpoint:VpcEndpoint") {
		paths = append(paths, r.URN)
	}
	for _, r := range offlinetest.Of(rs, "aws:ec2/routeTableAssociation:RouteTableAssociation") {
		if !strings.Contains(r.Name, "-public-") {
			paths = append(paths, r.URN)
		}
	}
	hosts := append(offlinetest.Of(rs, "aws:ec2/instance:Instance"), offlinetest.Of(rs, "aws:autoscaling/group:Group")...)
	if len(paths) < 4 || len(hosts) < 4 {
		t.Fatalf("%d paths, %d hosts and groups", len(paths), len(hosts))
	}
	for _, h := range hosts {
		for _, p := range paths {
			if !slices.Contains(h.Options.DependsOn, p) {
				t.Errorf("%s %s is created without waiting for %s", h.Type, h.Name, p)
			}
		}
	}
}

// TestTheOwnerBuildsUnderATagOfItsContent: with imageBuildContext, the account stack that owns the
// repository builds, the release naming the tag's prefix and the content the rest, so two runs over the
// same content push under the same tag.
func TestTheOwnerBuildsUnderATagOfItsContent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := registry.ContentTag("release", dir, "", "linux/amd64")
	if err != nil {
		t.Fatal(err)
	}
	p := loadProject(t)
	cfg, secrets, err := p.StackConfig("account-nonprod")
	if err != nil {
		t.Fatal(err)
	}
	cfg["hipaa:imageBuildContext"], cfg["hipaa:release"] = dir, "release"
	for range 2 {
		rs, err := offline.Run(offline.Options{Project: p.Name, Stack: "account-nonprod", Region: "us-east-1", Config: cfg, SecretKeys: secrets}, stacks.Run)
		if err != nil {
			t.Fatal(err)
		}
		if got := offlinetest.One(t, rs, "docker:index/image:Image").String("imageName"); !strings.HasSuffix(got, "/hipaa-app:"+want) {
			t.Errorf("the build is pushed as %s, want the tag %s", got, want)
		}
	}
}

// TestReleasesReplicateFromTheNonProductionAccountToProd: from the committed stack files, the
// non-production account stack's registry sends its release repository to the production account, and
// the production account stack's registry lets the non-production account replicate into its own
// repository, made with its own key, and nothing else.
func TestReleasesReplicateFromTheNonProductionAccountToProd(t *testing.T) {
	t.Parallel()
	dev, err := recordIn(t, "account-nonprod", offline.Account{})
	if err != nil {
		t.Fatal(err)
	}
	rc := offlinetest.One(t, dev.Resources, "aws:ecr/replicationConfiguration:ReplicationConfiguration")
	if got := rc.String("replicationConfiguration.rules.0.destinations.0.registryId"); got != "210987654321" {
		t.Errorf("dev replicates to %q, want the production account", got)
	}
	if got := rc.String("replicationConfiguration.rules.0.repositoryFilters.0.filter"); got != "hipaa-app" {
		t.Errorf("dev replicates repositories beginning %q, want the release repository's name", got)
	}
	builds, ok := offlinetest.Named(dev.Resources, "aws:ecr/repository:Repository", "hipaa-account-nonprod-registry-builds")
	if !ok || builds.String("name") != "hipaa-build" {
		t.Errorf("dev has no builds repository apart from its releases: %v", builds.Inputs)
	}
	if n := len(offlinetest.Of(dev.Resources, "aws:ecr/registryPolicy:RegistryPolicy")); n != 0 {
		t.Errorf("dev admits replication (%d registry policies)", n)
	}

	prod, err := recordIn(t, "account-prod", offline.Account{})
	if err != nil {
		t.Fatal(err)
	}
	policy := offlinetest.One(t, prod.Resources, "aws:ecr/registryPolicy:RegistryPolicy").String("policy")
	for _, want := range []string{`"AWS":["arn:aws:iam::111122223333:root"]`, `"Action":["ecr:ReplicateImage"]`, `repository/hipaa-app"]`} {
		if !strings.Contains(policy, want) {
			t.Errorf("prod's registry policy lacks %s: %s", want, policy)
		}
	}
	if strings.Contains(policy, "CreateRepository") {
		t.Errorf("prod lets replication create repositories: %s", policy)
	}
	repo, _ := offlinetest.Named(prod.Resources, "aws:ecr/repository:Repository", "hipaa-account-prod-registry")
	if repo.String("encryptionConfigurations.0.kmsKey") == "" || repo.Value("imageTagMutability") != "IMMUTABLE" {
		t.Errorf("prod's release repository is not its own, encrypted with its key: %v", repo.Inputs)
	}
	if n := len(offlinetest.Of(prod.Resources, "aws:ecr/replicationConfiguration:ReplicationConfiguration")); n != 0 {
		t.Errorf("prod replicates onward (%d configurations)", n)
	}
}

// TestOnlyTheClustersOwnHostsReachPatroniAndItsStore: on every environment's stack, Patroni's REST API
// and etcd's client and peer ports are open between the database hosts alone, and with the monitoring
// host exactly where it runs the store's third voter (a cluster of two hosts); nothing else reaches them.
func TestOnlyTheClustersOwnHostsReachPatroniAndItsStore(t *testing.T) {
	t.Parallel()
	stackNames, _ := loadProject(t).Stacks()
	cluster := map[float64]bool{database.PatroniRestPort: true, database.EtcdClientPort: true, database.EtcdPeerPort: true}
	for _, stack := range stackNames {
		if isAccountStack(t, stack) {
			continue
		}
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rs := previewStack(t, stack)
			groups := map[string]string{}
			for _, g := range offlinetest.Of(rs, "aws:ec2/securityGroup:SecurityGroup") {
				groups[g.ID] = g.Name[strings.LastIndex(g.Name, "-")+1:]
			}
			var dbHosts int
			for _, inst := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
				if inst.String("tags.Role") == "database" {
					dbHosts++
				}
			}
			got := map[string]bool{}
			for _, r := range offlinetest.Of(rs, "aws:ec2/securityGroupRule:SecurityGroupRule") {
				if r.String("type") != "ingress" || !cluster[r.Value("fromPort").(float64)] {
					continue
				}
				from, to := groups[r.String("sourceSecurityGroupId")], groups[r.String("securityGroupId")]
				if from == "" || r.Value("cidrBlocks") != nil {
					t.Errorf("%s admits port %v from addresses, not a group", r.Name, r.Value("fromPort"))
				}
				got[fmt.Sprintf("%s>%s:%v", from, to, r.Value("fromPort"))] = true
			}
			want := map[string]bool{"db>db:8008": true, "db>db:2379": true, "db>db:2380": true}
			if dbHosts == 2 {
				want["db>monitoring:2379"], want["db>monitoring:2380"], want["monitoring>db:2380"] = true, true, true
			}
			if !maps.Equal(got, want) {
				t.Errorf("%d database hosts: Patroni and etcd are reachable as %v, want %v", dbHosts, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
			}
		})
	}
}

// TestEveryEnvironmentDrillsItsRestoreOnItsSchedule: on every environment's stack, the drill's group of
// size zero, its schedule from dbDrillSchedule, its three alarms from the stack's limits, and the
// evidence's location in the stack's log bucket, which the audit report names.
func TestEveryEnvironmentDrillsItsRestoreOnItsSchedule(t *testing.T) {
	t.Parallel()
	p := loadProject(t)
	stackNames, _ := p.Stacks()
	for _, stack := range stackNames {
		if isAccountStack(t, stack) {
			continue
		}
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			cfg, _, err := p.StackConfig(stack)
			if err != nil {
				t.Fatal(err)
			}
			rs := previewStack(t, stack)
			cluster := "hipaa-" + stack + "-db"
			group, ok := offlinetest.Named(rs, "aws:autoscaling/group:Group", cluster+"-drill")
			if !ok || group.Value("desiredCapacity") != 0.0 || group.Value("maxSize") != 1.0 {
				t.Fatalf("no drill group of size zero: %v", group.Inputs)
			}
			evidence := "s3://hipaa-" + stack + "-logs-" + offline.AccountID + "/drills/" + cluster + "/"
			if tags, _ := group.Value("tags").([]any); !slices.ContainsFunc(tags, func(tag any) bool {
				m, _ := tag.(map[string]any)
				return m["key"] == database.DrillEvidenceTag && m["value"] == evidence
			}) {
				t.Errorf("the drill group does not name its evidence %s: %v", evidence, tags)
			}
			schedule, _ := offlinetest.Named(rs, "aws:autoscaling/schedule:Schedule", cluster+"-drill")
			if got := schedule.String("recurrence"); got != cfg["hipaa:dbDrillSchedule"] || schedule.Value("desiredCapacity") != 1.0 {
				t.Errorf("the drill's schedule %q (desired %v), want %q", got, schedule.Value("desiredCapacity"), cfg["hipaa:dbDrillSchedule"])
			}
			days, _ := strconv.Atoi(cfg["hipaa:dbDrillMaxAgeDays"])
			minutes, _ := strconv.Atoi(cfg["hipaa:dbRestoreObjectiveMinutes"])
			for name, threshold := range map[string]float64{cluster + "-drill-failed": 1, cluster + "-drill-overdue": float64(days * 86400),
				cluster + "-restore-objective": float64(minutes * 60)} {
				if al, ok := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", name); !ok || al.Value("threshold") != threshold {
					t.Errorf("alarm %s: %v, want threshold %v", name, al.Inputs, threshold)
				}
			}
		})
	}
}

// TestEveryAccountBuildsTheImagesItsEnvironmentsLookUp: each account stack declares the image pipelines,
// starting from Debian's newest release image, building in its build network's app subnet; the
// environments look up the images under the names the pipelines give them, and declare no pipeline.
func TestEveryAccountBuildsTheImagesItsEnvironmentsLookUp(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"account-nonprod", "account-prod"} {
		rec, err := recordIn(t, stack, offline.Account{})
		if err != nil {
			t.Fatal(err)
		}
		rs := rec.Resources
		offlinetest.One(t, rs, images.PipelinesType)
		var parent string
		for _, c := range rec.Of("aws:ec2/getAmi:getAmi") {
			owners := c.Args["owners"].ArrayValue()
			if len(owners) == 1 && owners[0].StringValue() == stacks.DebianAccount {
				ans, err := offline.Answer(c.Token, "us-east-1", c.Args)
				if err != nil {
					t.Fatal(err)
				}
				parent = ans["id"].StringValue()
			}
		}
		for _, r := range offlinetest.Of(rs, "aws:imagebuilder/imageRecipe:ImageRecipe") {
			if parent == "" || r.String("parentImage") != parent {
				t.Errorf("%s: recipe %s starts from %q, want Debian's image %q", stack, r.Name, r.String("parentImage"), parent)
			}
		}
		infra := offlinetest.One(t, rs, "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration")
		app, _ := offlinetest.Named(rs, "aws:ec2/subnet:Subnet", "hipaa-"+stack+"-build-vpc-app-a")
		if app.ID == "" || infra.String("subnetId") != app.ID {
			t.Errorf("%s: the builds run in %q, want the build network's app subnet %q", stack, infra.String("subnetId"), app.ID)
		}
		vpc := offlinetest.One(t, rs, "aws:ec2/vpc:Vpc")
		if vpc.String("instanceTenancy") != "dedicated" {
			t.Errorf("%s: the build network's tenancy is %q", stack, vpc.String("instanceTenancy"))
		}
	}
	p := loadProject(t)
	for role, key := range map[string]string{"db": "hipaa:dbImageName", "monitoring": "hipaa:monitoringImageName"} {
		cfg, _, err := p.StackConfig("dev")
		if err != nil {
			t.Fatal(err)
		}
		if cfg[key] != images.ImageName(p.Name, role) {
			t.Errorf("%s defaults to %q, but the %s pipeline names its images %q", key, cfg[key], role, images.ImageName(p.Name, role))
		}
	}
	for _, stack := range []string{"dev", "prod", "demo-acme"} {
		if n := len(offlinetest.Of(previewStack(t, stack), images.PipelinesType)); n != 0 {
			t.Errorf("%s declares %d image pipelines; the account stacks build the images", stack, n)
		}
	}
}

// TestEveryHostMayRecordItsSessions: the role of every host but the restore drill's may stream its
// sessions to the account's session log group, which Session Manager's preferences name, and check that
// the group is encrypted; without that the agent refuses to start a session. The drill host, which nobody
// needs a shell on, gets none: a session there fails closed.
func TestEveryHostMayRecordItsSessions(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		rs := previewStack(t, stack)
		group := "arn:aws:logs:us-east-1:" + offline.AccountID + ":log-group:" + hostrole.SessionLogGroup
		n := 0
		for _, profile := range offlinetest.Of(rs, "aws:iam/instanceProfile:InstanceProfile") {
			policy, ok := offlinetest.Named(rs, "aws:iam/policy:Policy", profile.Name)
			if !ok {
				t.Fatalf("%s: no policy for the host role %s", stack, profile.Name)
			}
			allowed := strings.Contains(policy.String("policy"), `"Resource":["`+group+`","`+group+`:*"]`) &&
				strings.Contains(policy.String("policy"), `"Action":["logs:DescribeLogGroups"]`)
			if drill := strings.HasSuffix(profile.Name, "-drill"); allowed == drill {
				t.Errorf("%s: the role of %s may record sessions: %v", stack, profile.Name, allowed)
			}
			n++
		}
		if n < 4 {
			t.Errorf("%s: %d host roles, want the database's, the monitoring's, the web's and the engine's at least", stack, n)
		}
	}
}

// TestTheLongLivedHostsArePatchedAndReportCompliance: every database and monitoring host is in its
// stack's patch group, which the Debian baseline, the daily scan and the window name; the window installs
// on the monitoring host, and on the database host of a stack that has one alone (a cluster's order is
// platformctl db patch's); the immutable tiers are in no group.
func TestTheLongLivedHostsArePatchedAndReportCompliance(t *testing.T) {
	t.Parallel()
	lone, err := runWith(t, map[string]string{"hipaa:dbReplicas": "0", "hipaa:dbHighAvailability": "false", "hipaa:dbSynchronousReplication": "false"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stack, installs string
		rs              []offline.Resource
	}{
		{"dev", "hipaa-dev-monitoring", previewStack(t, "dev")},
		{"prod", "hipaa-prod-monitoring", previewStack(t, "prod")},
		{"dev", "hipaa-dev-monitoring hipaa-dev-db-0", lone}, // one database host, no replica
	} {
		stack, installs, rs := tc.stack, tc.installs, tc.rs
		group := "hipaa-" + stack
		instances := offlinetest.Of(rs, "aws:ec2/instance:Instance")
		if len(instances) < 2 {
			t.Fatalf("%s: %d instances", stack, len(instances))
		}
		for _, in := range instances {
			if in.String("tags.PatchGroup") != group {
				t.Errorf("%s: %s is in patch group %q, want %s", stack, in.Name, in.String("tags.PatchGroup"), group)
			}
		}
		for _, lt := range offlinetest.Of(rs, "aws:ec2/launchTemplate:LaunchTemplate") {
			if tier := strings.HasSuffix(lt.Name, "-web") || strings.HasSuffix(lt.Name, "-engine"); tier && strings.Contains(fmt.Sprint(lt.Value("tagSpecifications")), "PatchGroup") {
				t.Errorf("%s: the immutable tier %s is in a patch group", stack, lt.Name)
			}
		}
		if g := offlinetest.One(t, rs, "aws:ssm/patchGroup:PatchGroup"); g.String("patchGroup") != group {
			t.Errorf("%s: patch group %q", stack, g.String("patchGroup"))
		}
		target := offlinetest.One(t, rs, "aws:ssm/maintenanceWindowTarget:MaintenanceWindowTarget")
		var names []string
		for i := 0; target.String(fmt.Sprintf("targets.1.values.%d", i)) != ""; i++ {
			names = append(names, target.String(fmt.Sprintf("targets.1.values.%d", i)))
		}
		if target.String("targets.1.key") != "tag:Name" || strings.Join(names, " ") != installs {
			t.Errorf("%s: the window installs on %v, want %s", stack, target.Value("targets"), installs)
		}
	}
}

// Every environment that holds PHI backs its database hosts up with AWS Backup for its retention, locked
// where its backups are; a demo, which may be force-destroyed, has none.
func TestTheDatabaseHostsAreInAnAWSBackupPlan(t *testing.T) {
	t.Parallel()
	for stack, want := range map[string]struct {
		days float64
		lock bool
	}{"dev": {30, false}, "prod": {90, true}} {
		rs := previewStack(t, stack)
		plan := offlinetest.One(t, rs, "aws:backup/plan:Plan")
		if plan.Value("rules.0.lifecycle.deleteAfter") != want.days {
			t.Errorf("%s keeps recovery points %v days, want %v", stack, plan.Value("rules.0.lifecycle.deleteAfter"), want.days)
		}
		if locks := len(offlinetest.Of(rs, "aws:backup/vaultLockConfiguration:VaultLockConfiguration")); (locks == 1) != want.lock {
			t.Errorf("%s has %d vault locks, want locked %v", stack, locks, want.lock)
		}
		sel := offlinetest.One(t, rs, "aws:backup/selection:Selection")
		hosts := 0
		for _, h := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
			if h.String("tags.Role") != naming.RoleDatabase {
				continue
			}
			hosts++
			if !slices.Contains(sel.PropertyDependencies["resources"], h.URN) {
				t.Errorf("%s: database host %s is not backed up", stack, h.Name)
			}
		}
		if hosts == 0 || len(sel.Value("resources").([]any)) != hosts {
			t.Errorf("%s: %d database hosts, %v selected", stack, hosts, sel.Value("resources"))
		}
		if vault := offlinetest.One(t, rs, "aws:backup/vault:Vault"); !vault.Protect && stack == "prod" {
			t.Error("prod's vault is not protected")
		}
	}
	if n := len(offlinetest.Of(previewStack(t, "demo-acme"), "aws:backup/plan:Plan")); n != 0 {
		t.Errorf("a demo has %d backup plans", n)
	}
}

// TestEveryRoleHasManagedPoliciesWithinIAMsQuota runs dev and prod: no role has an inline policy (AWS
// Config's iam-no-inline-policy-check), each of the program's managed policies is attached, and each is
// within IAM's 6,144 characters, which count no whitespace ("IAM and AWS STS quotas", IAM User Guide).
func TestEveryRoleHasManagedPoliciesWithinIAMsQuota(t *testing.T) {
	t.Parallel()
	const quota = 6144
	for _, stack := range []string{"dev", "prod"} {
		rs := previewStack(t, stack)
		if n := len(offlinetest.Of(rs, "aws:iam/rolePolicy:RolePolicy")); n != 0 {
			t.Errorf("%s: %d inline role policies", stack, n)
		}
		attached := map[string]bool{}
		for _, a := range offlinetest.Of(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
			attached[a.String("policyArn")] = true
		}
		policies := offlinetest.Of(rs, "aws:iam/policy:Policy")
		if len(policies) == 0 {
			t.Fatalf("%s: no managed policies", stack)
		}
		for _, p := range policies {
			doc := strings.Join(strings.Fields(p.String("policy")), "")
			if len(doc) == 0 || len(doc) > quota {
				t.Errorf("%s: %s's policy is %d characters, want 1 to %d", stack, p.Name, len(doc), quota)
			}
			if !attached["arn:aws:iam::"+offline.AccountID+":policy/"+p.Name] {
				t.Errorf("%s: the policy %s is attached to nothing", stack, p.Name)
			}
		}
	}
}
