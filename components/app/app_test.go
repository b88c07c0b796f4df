package app

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// tier is the component under test, run as a program of its own.
var tier = offlinetest.For(NewTier, "hipaa-unit-web")

const (
	image   = "123456789012.dkr.ecr.us-east-1.amazonaws.com/hipaa-app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ebsKey  = "arn:aws:kms:us-east-1:123456789012:key/ebs"
	repoArn = "arn:aws:ecr:us-east-1:123456789012:repository/hipaa-app"
	secret  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-db"
)

func engineArgs() *TierArgs {
	return &TierArgs{
		Role:             "engine",
		Image:            pulumi.String(image),
		RepositoryArn:    pulumi.String(repoArn),
		InstanceType:     "c6i.large",
		AmiId:            pulumi.String("ami-123"),
		Subnets:          []network.SubnetInfo{{ID: pulumi.String("subnet-a").ToStringOutput(), Zone: "us-east-1a"}, {ID: pulumi.String("subnet-b").ToStringOutput(), Zone: "us-east-1b"}},
		SecurityGroupId:  pulumi.String("sg-engine"),
		EbsKeyArn:        pulumi.String(ebsKey),
		LogsKeyArn:       pulumi.String("arn:aws:kms:us-east-1:123456789012:key/logs"),
		LogRetentionDays: 365,
		Secrets:          []Secret{{Env: "DATABASE_CREDENTIALS_FILE", File: "database-credentials.json", Arn: pulumi.String(secret)}},
		SecretsKeyArn:    pulumi.String("arn:aws:kms:us-east-1:123456789012:key/secrets"),
		Files:            []File{{Env: "DATABASE_CA_FILE", File: "database-ca.pem", Content: pulumi.String("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n")}},
		Environment:      map[string]pulumi.StringInput{"DATABASE_HOST": pulumi.String("10.0.20.10")},
		MinSize:          2,
		MaxSize:          6,
		Region:           "us-east-1",
		Tags:             map[string]string{"DataClass": "phi"},
	}
}

func webArgs() *TierArgs {
	a := engineArgs()
	a.Role = "web"
	a.VpcId = pulumi.String("vpc-1")
	a.LoadBalancer = &LoadBalancer{
		SubnetIds:          []pulumi.StringInput{pulumi.String("subnet-pa"), pulumi.String("subnet-pb")},
		SecurityGroupId:    pulumi.String("sg-alb"),
		CertificateArn:     "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555",
		LogBucket:          pulumi.String("hipaa-unit-lb-logs"),
		LogPrefix:          "web",
		DeletionProtection: true,
	}
	return a
}

func TestLaunchTemplateCarriesTheHostSafeguards(t *testing.T) {
	t.Parallel()
	rs := tier.MustRun(t, (webArgs()))
	lt := offlinetest.One(t, rs, "aws:ec2/launchTemplate:LaunchTemplate")
	for path, want := range map[string]any{
		"placement.tenancy":                            "dedicated",
		"metadataOptions.httpTokens":                   "required",
		"metadataOptions.httpPutResponseHopLimit":      float64(1),
		"monitoring.enabled":                           true,
		"networkInterfaces.0.associatePublicIpAddress": "false",
		"blockDeviceMappings.0.ebs.encrypted":          "true",
		"blockDeviceMappings.0.ebs.kmsKeyId":           ebsKey,
		"instanceType":                                 "c6i.large",
	} {
		if got := lt.Value(path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if lt.String("iamInstanceProfile.arn") == "" {
		t.Error("no instance profile")
	}
}

// hostFiles are the files a tier's first boot writes.
func hostFiles(t *testing.T, rs []offline.Resource) map[string]string {
	t.Helper()
	files, err := cloudinit.Decode(offlinetest.One(t, rs, "aws:ec2/launchTemplate:LaunchTemplate").String("userData"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestTheContainerRunsAsItsUserWithItsFilesReadOnly: the host converges to the release by digest, run as
// the container's user, which reads its password and CA from files in a read-only mount; no secret and
// no secret's ARN is in what the container is given.
func TestTheContainerRunsAsItsUserWithItsFilesReadOnly(t *testing.T) {
	t.Parallel()
	files := hostFiles(t, tier.MustRun(t, webArgs()))
	script := files["/usr/local/sbin/hipaa-web-converge"]
	for _, want := range []string{
		"docker pull '" + image + "'",
		"--password-stdin '123456789012.dkr.ecr.us-east-1.amazonaws.com'",
		"--user 10001:10001",
		"--volume '/run/hipaa/web:/run/secrets/platform:ro'",
		"--env DATABASE_CREDENTIALS_FILE=/run/secrets/platform/database-credentials.json",
		"--env DATABASE_CA_FILE=/run/secrets/platform/database-ca.pem",
		"--env TLS_KEY_FILE=/run/secrets/platform/tls.key",
		"secret '" + secret + "'",
		`put "$dir/database-credentials.json" 400 10001:10001`,
		"install -d -m 500 -o 10001 -g 10001",
		"--publish 443:8443",
		"--log-driver awslogs",
		"--env DATABASE_HOST='10.0.20.10'",
		"--cap-drop ALL",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("the converge script lacks %q:\n%s", want, script)
		}
	}
	if got := files["/etc/hipaa/web/database-ca.pem"]; !strings.Contains(got, "BEGIN CERTIFICATE") {
		t.Errorf("the CA is not staged for the container: %q", got)
	}
	if _, ok := files["/etc/systemd/system/hipaa-web-converge.timer"]; !ok {
		t.Error("the host does not converge again after its first boot")
	}
	for path, content := range files {
		if strings.Contains(content, "mock-password") || strings.Contains(content, "SECRET_ARN") {
			t.Errorf("%s carries a secret or its ARN to the container", path)
		}
	}
}

// TestTheEngineTierGetsNoTLSKeyOrPort: only a tier behind the load balancer makes a key and publishes a
// port.
func TestTheEngineTierGetsNoTLSKeyOrPort(t *testing.T) {
	t.Parallel()
	script := hostFiles(t, tier.MustRun(t, engineArgs()))["/usr/local/sbin/hipaa-engine-converge"]
	if script == "" || strings.Contains(script, "--publish") || strings.Contains(script, "tls.key") {
		t.Errorf("the engine's converge script:\n%s", script)
	}
}

func TestBootRefusesAnImageNotPinnedByDigest(t *testing.T) {
	t.Parallel()
	if _, err := Bundle("hipaa-unit-web", hostParams{Role: "web", Image: "hipaa-app:v1"}); err == nil || !strings.Contains(err.Error(), "not pinned by digest") {
		t.Errorf("error = %v", err)
	}
	if got := shellQuote(`it's "x" $(rm -rf /)`); got != `'it'\''s "x" $(rm -rf /)'` {
		t.Errorf("shellQuote = %s", got)
	}
}

func TestARollingRefreshKeepsFullHealthyCapacity(t *testing.T) {
	t.Parallel()
	rs := tier.MustRun(t, (webArgs()))
	g := offlinetest.One(t, rs, "aws:autoscaling/group:Group")
	for path, want := range map[string]any{
		"instanceRefresh.strategy":                         "Rolling",
		"instanceRefresh.preferences.minHealthyPercentage": float64(100),
		"instanceRefresh.preferences.maxHealthyPercentage": float64(200),
		"instanceRefresh.preferences.autoRollback":         true,
		"instanceMaintenancePolicy.minHealthyPercentage":   float64(100),
		"healthCheckType":                                  "ELB",
		"minSize":                                          float64(2),
		"maxSize":                                          float64(6),
	} {
		if got := g.Value(path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	lt := offlinetest.One(t, rs, "aws:ec2/launchTemplate:LaunchTemplate")
	if got := g.String("launchTemplate.id"); got != lt.ID {
		t.Errorf("group runs template %q, want %q", got, lt.ID)
	}
	// A pinned version (not $Latest) is what makes a new release a change the refresh rolls out, and
	// what auto-rollback can return to.
	if v := g.String("launchTemplate.version"); v != "1" {
		t.Errorf("launchTemplate.version = %q, want the template's pinned latest version, 1", v)
	}
	if n := len(g.Value("vpcZoneIdentifiers").([]any)); n != 2 {
		t.Errorf("group spans %d subnets, want 2", n)
	}
}

func TestLoadBalancerIsHTTPSOnlyLoggedAndProtected(t *testing.T) {
	t.Parallel()
	rs := tier.MustRun(t, (webArgs()))
	balancer := offlinetest.One(t, rs, "aws:lb/loadBalancer:LoadBalancer")
	for path, want := range map[string]any{
		"dropInvalidHeaderFields":  true,
		"enableDeletionProtection": true,
		"internal":                 false,
		"accessLogs.enabled":       true,
		"accessLogs.bucket":        "hipaa-unit-lb-logs",
		"accessLogs.prefix":        "web",
	} {
		if got := balancer.Value(path); got != want {
			t.Errorf("load balancer %s = %v, want %v", path, got, want)
		}
	}
	listeners := offlinetest.Of(rs, "aws:lb/listener:Listener")
	if len(listeners) != 2 {
		t.Fatalf("got %d listeners, want HTTPS and the HTTP redirect", len(listeners))
	}
	for _, l := range listeners {
		switch l.String("protocol") {
		case "HTTPS":
			if l.String("sslPolicy") != defaultSslPolicy || l.String("certificateArn") == "" {
				t.Errorf("HTTPS listener: sslPolicy %q, certificate %q", l.String("sslPolicy"), l.String("certificateArn"))
			}
		case "HTTP":
			if l.String("defaultActions.0.type") != "redirect" || l.String("defaultActions.0.redirect.protocol") != "HTTPS" {
				t.Errorf("HTTP listener does more than redirect: %v", l.Value("defaultActions"))
			}
		default:
			t.Errorf("listener protocol %q", l.String("protocol"))
		}
	}
	tg := offlinetest.One(t, rs, "aws:lb/targetGroup:TargetGroup")
	if tg.String("protocol") != "HTTPS" || tg.String("healthCheck.protocol") != "HTTPS" || tg.String("healthCheck.path") != "/healthz" {
		t.Errorf("target group: %v %v", tg.String("protocol"), tg.Value("healthCheck"))
	}
	p := offlinetest.One(t, rs, "aws:autoscaling/policy:Policy")
	if got := p.String("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"); got != "ALBRequestCountPerTarget" {
		t.Errorf("web tier scales on %q", got)
	}
	label := p.String("targetTrackingConfiguration.predefinedMetricSpecification.resourceLabel")
	if !strings.HasPrefix(label, "app/hipaa-unit-web/") || !strings.Contains(label, "/targetgroup/hipaa-unit-web/") {
		t.Errorf("resourceLabel = %q, want app/<load balancer>/<id>/targetgroup/<target group>/<id>", label)
	}
}

func TestEngineTierHasNoLoadBalancerAndScalesOnCPU(t *testing.T) {
	t.Parallel()
	rs := tier.MustRun(t, (engineArgs()))
	for _, typ := range []string{"aws:lb/loadBalancer:LoadBalancer", "aws:lb/listener:Listener", "aws:lb/targetGroup:TargetGroup"} {
		if n := len(offlinetest.Of(rs, typ)); n != 0 {
			t.Errorf("engine tier has %d %s", n, typ)
		}
	}
	p := offlinetest.One(t, rs, "aws:autoscaling/policy:Policy")
	if got := p.String("targetTrackingConfiguration.predefinedMetricSpecification.predefinedMetricType"); got != "ASGAverageCPUUtilization" {
		t.Errorf("engine scales on %q", got)
	}
	if got := p.Value("targetTrackingConfiguration.targetValue"); got != float64(defaultCPUTarget) {
		t.Errorf("CPU target = %v", got)
	}
	if got := offlinetest.One(t, rs, "aws:autoscaling/group:Group").String("healthCheckType"); got != "EC2" {
		t.Errorf("healthCheckType = %q", got)
	}
}

func TestHostRoleMayOnlyPullReadItsSecretsAndLog(t *testing.T) {
	t.Parallel()
	rs := tier.MustRun(t, (webArgs()))
	var doc struct {
		Statement []struct {
			Sid       string
			Action    []string
			Resource  []string
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(offlinetest.One(t, rs, "aws:iam/policy:Policy").String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Statement {
		for _, r := range s.Resource {
			// PutMetricData names no resource: its statements are limited by namespace instead.
			metrics := slices.Equal(s.Action, []string{"cloudwatch:PutMetricData"})
			if metrics && s.Condition["StringEquals"]["cloudwatch:namespace"] == "" {
				t.Errorf("%s publishes metrics in any namespace", s.Sid)
			}
			if r == "*" && !slices.Equal(s.Action, []string{"ecr:GetAuthorizationToken"}) && !metrics {
				t.Errorf("%s: %v on every resource", s.Sid, s.Action)
			}
		}
		if s.Sid == "PullReleases" && !slices.Equal(s.Resource, []string{repoArn}) {
			t.Errorf("pulls from %v, want only %s", s.Resource, repoArn)
		}
		if s.Sid == "ReadOwnSecrets" && !slices.Equal(s.Resource, []string{secret}) {
			t.Errorf("reads secrets %v", s.Resource)
		}
	}
	// The role has two policies: its own (managed, not inline, for AWS's iam-no-inline-policy-check) and
	// Session Manager's.
	var attached []string
	for _, a := range offlinetest.Of(rs, "aws:iam/rolePolicyAttachment:RolePolicyAttachment") {
		attached = append(attached, a.String("policyArn"))
	}
	slices.Sort(attached)
	if want := []string{"arn:aws:iam::" + offline.AccountID + ":policy/hipaa-unit-web", hostrole.SessionManagerPolicy}; !slices.Equal(attached, want) {
		t.Errorf("attached %v, want %v", attached, want)
	}
	if n := len(offlinetest.Of(rs, "aws:iam/rolePolicy:RolePolicy")); n != 0 {
		t.Errorf("%d inline role policies", n)
	}
	lg, _ := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", "hipaa-unit-web")
	if lg.String("kmsKeyId") == "" || lg.Value("retentionInDays") != float64(365) {
		t.Errorf("log group: key %q, retention %v", lg.String("kmsKeyId"), lg.Value("retentionInDays"))
	}
}

func TestBadArgsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for want, mutate := range map[string]func(*TierArgs){
		"Role":                            func(a *TierArgs) { a.Role = "Web Tier" },
		"Image is required":               func(a *TierArgs) { a.Image = nil },
		"RepositoryArn":                   func(a *TierArgs) { a.RepositoryArn = nil },
		"Subnets is required":             func(a *TierArgs) { a.Subnets = nil },
		"EbsKeyArn":                       func(a *TierArgs) { a.EbsKeyArn = nil },
		"InstanceType":                    func(a *TierArgs) { a.InstanceType = "t3.micro" },
		"LogRetentionDays":                func(a *TierArgs) { a.LogRetentionDays = 7 },
		"MinSize":                         func(a *TierArgs) { a.MinSize = 0 },
		"MaxSize":                         func(a *TierArgs) { a.MaxSize = 1 },
		"CPUTarget":                       func(a *TierArgs) { a.CPUTarget = 99 },
		"Environment key":                 func(a *TierArgs) { a.Environment = map[string]pulumi.StringInput{"db-host": pulumi.String("x")} },
		"SecretsKeyArn is required":       func(a *TierArgs) { a.SecretsKeyArn = nil },
		"Secrets Env \"db-password\"":     func(a *TierArgs) { a.Secrets[0].Env = "db-password" },
		"Secrets File \"../x\"":           func(a *TierArgs) { a.Secrets[0].File = "../x" },
		"Files File \"tls.key\"":          func(a *TierArgs) { a.Files[0].File = "tls.key" },
		"Files Env DATABASE_HOST is also": func(a *TierArgs) { a.Files[0].Env = "DATABASE_HOST" },
		"Files File database-credentials.json is also written": func(a *TierArgs) { a.Files[0].File = "database-credentials.json" },
		"Secrets DATABASE_CREDENTIALS_FILE needs its value":    func(a *TierArgs) { a.Secrets[0].Arn = nil },
		"LoadBalancer.SubnetIds has 1":                         func(a *TierArgs) { a.LoadBalancer.SubnetIds = a.LoadBalancer.SubnetIds[:1] },
		"LoadBalancer.CertificateArn":                          func(a *TierArgs) { a.LoadBalancer.CertificateArn = "arn:aws:iam::1:server-certificate/x" },
		"LoadBalancer.SslPolicy":                               func(a *TierArgs) { a.LoadBalancer.SslPolicy = "ELBSecurityPolicy-2016-08" },
		"LoadBalancer.LogBucket":                               func(a *TierArgs) { a.LoadBalancer.LogBucket = nil },
		"LoadBalancer.LogPrefix":                               func(a *TierArgs) { a.LoadBalancer.LogPrefix = "/web/" },
		"LoadBalancer.HealthCheckPath":                         func(a *TierArgs) { a.LoadBalancer.HealthCheckPath = "healthz" },
		"LoadBalancer.RequestsPerTarget":                       func(a *TierArgs) { a.LoadBalancer.RequestsPerTarget = 1 },
		"LoadBalancer.RateLimit: got 5, want 10 to 2000000000": func(a *TierArgs) { a.LoadBalancer.RateLimit = 5 },
		"VpcId is required":                                    func(a *TierArgs) { a.VpcId = nil },
	} {
		a := webArgs()
		mutate(a)
		tier.Refused(t, a, want)
	}
	tier.Refused(t, nil, "args are required")
}
