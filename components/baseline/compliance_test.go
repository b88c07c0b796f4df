package baseline

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/internal/conformance"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// template is a conformance pack's template as the tests read it.
type template struct {
	Resources map[string]struct {
		Properties struct {
			ConfigRuleName  string
			InputParameters map[string]string
			Source          struct{ SourceIdentifier string }
		}
	}
}

func readTemplate(t *testing.T, body string) map[string]map[string]string {
	t.Helper()
	var tpl template
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		t.Fatalf("template: %v", err)
	}
	rules := map[string]map[string]string{}
	for _, r := range tpl.Resources {
		rules[r.Properties.ConfigRuleName] = r.Properties.InputParameters
	}
	return rules
}

func TestTheAccountRecordsEveryResourceForAWSConfig(t *testing.T) {
	t.Parallel()
	rs := account.MustRun(t, validArgs())
	role, ok := offlinetest.Named(rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole", "base-config")
	if !ok || role.String("awsServiceName") != "config.amazonaws.com" || role.Options.Import != offline.ConfigRoleArn {
		t.Fatalf("AWS Config's service-linked role: %+v; want the account's adopted", role)
	}
	rec := offlinetest.One(t, rs, "aws:cfg/recorder:Recorder")
	if rec.String("name") != DefaultRecorderName || rec.Value("recordingGroup.allSupported") != true || rec.Value("recordingGroup.includeGlobalResourceTypes") != true {
		t.Errorf("recorder %v; want %q recording every supported type with the global ones", rec.Inputs, DefaultRecorderName)
	}
	if !slices.Contains(rec.PropertyDependencies["roleArn"], role.URN) {
		t.Errorf("recorder role from %v, want AWS Config's service-linked role", rec.PropertyDependencies["roleArn"])
	}
	trailBucket := offlinetest.One(t, rs, "aws:s3/bucketV2:BucketV2")
	channel := offlinetest.One(t, rs, "aws:cfg/deliveryChannel:DeliveryChannel")
	if channel.String("name") != DefaultRecorderName || channel.String("s3BucketName") != trailBucket.ID || channel.String("s3KmsKeyArn") != logsKey {
		t.Errorf("delivery channel %v; want the trail bucket, encrypted with the logs key", channel.Inputs)
	}
	if !slices.Contains(channel.Options.DependsOn, rec.URN) {
		t.Error("the delivery channel does not wait for its recorder, which AWS Config requires first")
	}
	status := offlinetest.One(t, rs, "aws:cfg/recorderStatus:RecorderStatus")
	if status.Value("isEnabled") != true || !slices.Contains(status.Options.DependsOn, channel.URN) {
		t.Errorf("recorder status %v depends on %v; want it started after its delivery channel", status.Inputs, status.Options.DependsOn)
	}
	// With its service-linked role, AWS Config delivers as its service principal, which the bucket policy
	// admits under its prefix only.
	var doc struct {
		Statement []struct {
			Sid              string
			Action, Resource []string
		}
	}
	if err := json.Unmarshal([]byte(offlinetest.One(t, rs, "aws:s3/bucketPolicy:BucketPolicy").String("policy")), &doc); err != nil {
		t.Fatal(err)
	}
	grants := map[string][]string{}
	for _, s := range doc.Statement {
		grants[s.Sid] = append(s.Action, s.Resource...)
	}
	if got := grants["configWrite"]; !slices.Contains(got, "arn:aws:s3:::base-trail-123456789012/AWSLogs/123456789012/Config/*") {
		t.Errorf("AWS Config may write %v, want only under its prefix", got)
	}
	if got := grants["configAclCheck"]; !slices.Contains(got, "s3:ListBucket") || !slices.Contains(got, "s3:GetBucketAcl") {
		t.Errorf("AWS Config may check %v, want the ACL read and the listing its delivery checks", got)
	}

	pack, ok := offlinetest.Named(rs, "aws:cfg/conformancePack:ConformancePack", "base-hipaa-security")
	if !ok {
		t.Fatal("no HIPAA conformance pack")
	}
	if !slices.Contains(pack.Options.DependsOn, status.URN) {
		t.Error("the conformance pack does not wait for the recorder to start; AWS Config refuses a pack without one")
	}
	rules := readTemplate(t, pack.String("templateBody"))
	if want := len(conformance.HIPAASecurity()) - len(conformance.PerStack); len(rules) != want {
		t.Errorf("the account's pack has %d rules, want AWS's %d less each stack's own", len(rules), want)
	}
	for _, r := range conformance.PerStack {
		if _, ok := rules[r]; ok {
			t.Errorf("the account's pack has %s, which each stack declares for its own network", r)
		}
	}
	if got := rules["vpc-sg-open-only-to-authorized-ports"]["authorizedTcpPorts"]; got != "443" {
		t.Errorf("authorized ports %q, want 443, the load balancers' only", got)
	}
}

func TestTheConformancePackAsksForThePasswordPolicyTheBaselineSets(t *testing.T) {
	t.Parallel()
	rules, err := AccountRules()
	if err != nil {
		t.Fatal(err)
	}
	var params map[string]string
	for _, r := range rules {
		if r.Name == "iam-password-policy" {
			params = r.Parameters
		}
	}
	set := map[string]pulumi.Input{
		"MaxPasswordAge": PasswordPolicy.MaxPasswordAge, "MinimumPasswordLength": PasswordPolicy.MinimumPasswordLength,
		"PasswordReusePrevention": PasswordPolicy.PasswordReusePrevention, "RequireLowercaseCharacters": PasswordPolicy.RequireLowercaseCharacters,
		"RequireNumbers": PasswordPolicy.RequireNumbers, "RequireSymbols": PasswordPolicy.RequireSymbols,
		"RequireUppercaseCharacters": PasswordPolicy.RequireUppercaseCharacters,
	}
	if len(params) != len(set) {
		t.Fatalf("iam-password-policy parameters %v", params)
	}
	for k, v := range set {
		var got string
		switch v := v.(type) {
		case pulumi.Int:
			got = strconv.Itoa(int(v))
		case pulumi.Bool:
			got = map[bool]string{true: "true", false: "false"}[bool(v)]
		}
		if got != params[k] {
			t.Errorf("the baseline sets %s %s, the conformance pack checks %s", k, got, params[k])
		}
	}
}

func TestATemplateOverTheInlineLimitIsReadFromTheTrailBucket(t *testing.T) {
	t.Parallel()
	a := validArgs().withDefaults()
	rs := offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		_, err := conformancePack(ctx, "base", &a, pulumi.String("base-trail-123456789012").ToStringOutput(), nil, 1000,
			pulumi.Parent(nil), pulumi.RetainOnDelete(true))
		return err
	})
	object := offlinetest.One(t, rs, "aws:s3/bucketObjectv2:BucketObjectv2")
	pack := offlinetest.One(t, rs, "aws:cfg/conformancePack:ConformancePack")
	key := object.String("key")
	if pack.String("templateS3Uri") != "s3://base-trail-123456789012/"+key || pack.Value("templateBody") != nil {
		t.Errorf("pack reads %q (body %v), want s3://base-trail-123456789012/%s", pack.String("templateS3Uri"), pack.Value("templateBody") != nil, key)
	}
	if !strings.HasPrefix(key, "AWSLogs/123456789012/Config/") || len(readTemplate(t, object.String("content"))) != 128 {
		t.Errorf("template object %s holds %d bytes", key, len(object.String("content")))
	}
	if !slices.Contains(pack.Options.DependsOn, object.URN) {
		t.Error("the pack does not wait for its template")
	}
}

func TestSecurityHubInspectorAndGuardDutysPlansRun(t *testing.T) {
	t.Parallel()
	rs := account.MustRun(t, validArgs())
	hub := offlinetest.One(t, rs, "aws:securityhub/account:Account")
	if hub.Value("enableDefaultStandards") != false || hub.String("controlFindingGenerator") != "SECURITY_CONTROL" {
		t.Errorf("Security Hub %v; want no default standards and consolidated findings", hub.Inputs)
	}
	fsbp := offlinetest.One(t, rs, "aws:securityhub/standardsSubscription:StandardsSubscription")
	if fsbp.String("standardsArn") != "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0" ||
		!slices.Contains(fsbp.Options.DependsOn, hub.URN) {
		t.Errorf("standard %q depends on %v", fsbp.String("standardsArn"), fsbp.Options.DependsOn)
	}
	status := offlinetest.One(t, rs, "aws:cfg/recorderStatus:RecorderStatus")
	if !slices.Contains(hub.Options.DependsOn, status.URN) {
		t.Error("Security Hub does not wait for the recorder its controls' rules read")
	}
	inspector := offlinetest.One(t, rs, "aws:inspector2/enabler:Enabler")
	if got := inspector.Value("resourceTypes"); !slices.Equal(toStrings(got), []string{"EC2", "ECR"}) || !slices.Equal(toStrings(inspector.Value("accountIds")), []string{"123456789012"}) {
		t.Errorf("Inspector scans %v of %v", got, inspector.Value("accountIds"))
	}
	detector := offlinetest.One(t, rs, "aws:guardduty/detector:Detector")
	features := map[string]offline.Resource{}
	for _, f := range offlinetest.Of(rs, "aws:guardduty/detectorFeature:DetectorFeature") {
		features[f.String("name")] = f
		if f.String("detectorId") != detector.ID || f.String("status") != "ENABLED" || !f.Options.RetainOnDelete {
			t.Errorf("GuardDuty %s: detector %q status %q retained %v", f.String("name"), f.String("detectorId"), f.String("status"), f.Options.RetainOnDelete)
		}
	}
	for _, name := range []string{"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RUNTIME_MONITORING"} {
		if _, ok := features[name]; !ok {
			t.Errorf("GuardDuty %s is not enabled", name)
		}
	}
	if rt := features["RUNTIME_MONITORING"]; rt.String("additionalConfigurations.0.name") != "EC2_AGENT_MANAGEMENT" || rt.String("additionalConfigurations.0.status") != "ENABLED" {
		t.Errorf("runtime monitoring %v; want GuardDuty to manage its agent on the hosts", rt.Value("additionalConfigurations"))
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestWhatTheOrganizationRunsIsLeftToIt(t *testing.T) {
	t.Parallel()
	args := validArgs()
	args.OrganizationManaged = []string{OrgConfig, OrgSecurityHub, OrgInspector}
	rs := account.MustRun(t, args)
	for _, typ := range []string{"aws:cfg/recorder:Recorder", "aws:cfg/deliveryChannel:DeliveryChannel", "aws:cfg/recorderStatus:RecorderStatus",
		"aws:securityhub/account:Account", "aws:securityhub/standardsSubscription:StandardsSubscription", "aws:inspector2/enabler:Enabler"} {
		if n := len(offlinetest.Of(rs, typ)); n != 0 {
			t.Errorf("%d of %s, which the organization runs", n, typ)
		}
	}
	if _, ok := offlinetest.Named(rs, "aws:iam/serviceLinkedRole:ServiceLinkedRole", "base-config"); ok {
		t.Error("AWS Config's role is declared where the organization runs AWS Config")
	}
	if p := offlinetest.One(t, rs, "aws:s3/bucketPolicy:BucketPolicy").String("policy"); strings.Contains(p, "config.amazonaws.com") {
		t.Errorf("the trail bucket admits AWS Config, which delivers to the organization's bucket: %s", p)
	}
	// The rules are the account's own either way.
	if pack := offlinetest.One(t, rs, "aws:cfg/conformancePack:ConformancePack"); len(readTemplate(t, pack.String("templateBody"))) != 128 {
		t.Error("the conformance pack is not declared in full where the organization runs the recorder")
	}
	args.OrganizationManaged = nil
	args.RecorderName = "aws-controltower-BaselineConfigRecorder"
	rs = account.MustRun(t, args)
	if got := offlinetest.One(t, rs, "aws:cfg/recorder:Recorder").String("name"); got != args.RecorderName {
		t.Errorf("recorder %q, want the account's own %q taken over", got, args.RecorderName)
	}
}

func TestTheTrailLogsObjectAccessAndAlarmsOnWhatCISAsks(t *testing.T) {
	t.Parallel()
	args := validArgs()
	args.AlertEmails = []string{"security@example.com"}
	rs := account.MustRun(t, args)
	trail := offlinetest.One(t, rs, "aws:cloudtrail/trail:Trail")
	sel := trail.Value("advancedEventSelectors").([]any)
	if len(sel) != 2 || trail.String("advancedEventSelectors.0.fieldSelectors.0.equals.0") != "Management" {
		t.Fatalf("event selectors %v; want management events and S3 data events", sel)
	}
	data := map[string]string{}
	for i := range 3 {
		p := "advancedEventSelectors.1.fieldSelectors." + strconv.Itoa(i)
		for _, op := range []string{"equals", "notStartsWiths"} {
			if v := trail.String(p + "." + op + ".0"); v != "" {
				data[trail.String(p+".field")] = op + " " + v
			}
		}
	}
	want := map[string]string{"eventCategory": "equals Data", "resources.type": "equals AWS::S3::Object",
		"resources.ARN": "notStartsWiths arn:aws:s3:::base-trail-123456789012/"}
	for k, v := range want {
		if data[k] != v {
			t.Errorf("S3 data events %s: %q, want %q", k, data[k], v)
		}
	}

	topic, _ := offlinetest.Named(rs, "aws:sns/topic:Topic", "base-security-alerts")
	if topic.String("kmsMasterKeyId") != logsKey {
		t.Errorf("security alert topic key %q, want the logs key", topic.String("kmsMasterKeyId"))
	}
	if sub := offlinetest.One(t, rs, "aws:sns/topicSubscription:TopicSubscription"); sub.String("endpoint") != "security@example.com" {
		t.Errorf("subscription %v", sub.Inputs)
	}
	filters := offlinetest.Of(rs, "aws:cloudwatch/logMetricFilter:LogMetricFilter")
	alarms := offlinetest.Of(rs, "aws:cloudwatch/metricAlarm:MetricAlarm")
	if len(filters) != 14 || len(alarms) != 14 {
		t.Fatalf("%d metric filters and %d alarms, want CloudWatch.1 to CloudWatch.14's", len(filters), len(alarms))
	}
	patterns := map[string]string{}
	for _, f := range filters {
		if f.String("logGroupName") != "/hipaa/base-trail" || f.String("metricTransformation.namespace") != conformance.TrailMetricsNamespace {
			t.Errorf("filter %s on %q in %q", f.Name, f.String("logGroupName"), f.String("metricTransformation.namespace"))
		}
		patterns[f.String("metricTransformation.name")] = f.String("pattern")
	}
	if got := patterns["base-root-use"]; got != `{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}` {
		t.Errorf("root use pattern %s", got)
	}
	for _, a := range alarms {
		if _, ok := patterns[a.String("metricName")]; !ok {
			t.Errorf("alarm %s watches %q, which no filter publishes", a.Name, a.String("metricName"))
		}
		if a.Value("alarmActions") == nil || a.Value("insufficientDataActions") == nil || a.String("treatMissingData") != "notBreaching" || a.Value("threshold") != float64(1) {
			t.Errorf("alarm %s: actions %v, insufficient data %v, missing %q", a.Name, a.Value("alarmActions"), a.Value("insufficientDataActions"), a.String("treatMissingData"))
		}
		if !slices.Contains(a.PropertyDependencies["alarmActions"], topic.URN) || !slices.Contains(a.PropertyDependencies["insufficientDataActions"], topic.URN) {
			t.Errorf("alarm %s does not notify the security alert topic", a.Name)
		}
	}
}

func TestBadComplianceArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*AccountArgs)
		want   string
	}{
		{"recorder", func(a *AccountArgs) { a.RecorderName = "my recorder" }, `RecorderName: got "my recorder", want 1 to 256 letters`},
		{"organization", func(a *AccountArgs) { a.OrganizationManaged = []string{"config", "guardduty"} },
			`OrganizationManaged[1] "guardduty" is not one of config, securityhub, inspector`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			tc.mutate(args)
			account.Refused(t, args, tc.want)
		})
	}
}

func TestAServiceWriterListsTheBucketOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	p := bucket.Policy("arn:aws:s3:::b", "123456789012", []bucket.Writer{
		{Service: "cloudtrail.amazonaws.com", Prefix: "AWSLogs/123456789012/"}, ConfigWriter("123456789012"),
	})
	if strings.Count(p, "s3:ListBucket") != 1 {
		t.Errorf("policy %s; want only AWS Config to list the bucket", p)
	}
}
