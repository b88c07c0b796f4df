package hipaa

import (
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/conformance"
	"github.com/hipaa-platform/platform/policy/engine"
)

// withRuntime is the baseline with the runtime controls AWS's scanners run on.
func withRuntime(t *testing.T) stackFixture {
	t.Helper()
	body, err := conformance.Template(conformance.HIPAASecurity(), conformance.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	s := append(baselineStack(),
		fx{typ: tRecorder, name: "recorder", props: map[string]any{"name": "default",
			"recordingGroup": map[string]any{"allSupported": true, "includeGlobalResourceTypes": true}}},
		fx{typ: tDeliveryChannel, name: "channel", props: map[string]any{"s3BucketName": "trail-bucket", "s3KmsKeyArn": testKey}},
		fx{typ: tRecorderStatus, name: "status", props: map[string]any{"name": "default", "isEnabled": true}},
		fx{typ: tConformancePack, name: "pack", props: map[string]any{"templateBody": body}},
		fx{typ: tSecurityHub, name: "hub", props: map[string]any{"enableDefaultStandards": false}},
		fx{typ: tStandards, name: "fsbp", props: map[string]any{
			"standardsArn": "arn:aws:securityhub:us-east-1::standards/aws-foundational-security-best-practices/v/1.0.0"}},
		fx{typ: tInspector, name: "inspector", props: map[string]any{"resourceTypes": []any{"EC2", "ECR"}, "accountIds": []any{"123456789012"}}},
	)
	for _, a := range conformance.TrailAlarms {
		metric := a.Name
		s = append(s,
			fx{typ: tMetricFilter, name: "filter-" + a.Name, props: map[string]any{"logGroupName": "/trail", "pattern": a.Pattern,
				"metricTransformation": map[string]any{"name": metric, "namespace": conformance.TrailMetricsNamespace, "value": "1"}}},
			fx{typ: tMetricAlarm, name: "alarm-" + a.Name, props: map[string]any{"metricName": metric, "namespace": conformance.TrailMetricsNamespace,
				"alarmActions": []any{"arn:aws:sns:us-east-1:123456789012:security"}}},
		)
	}
	for i := range s {
		if s[i].typ == tTrail {
			s[i].props["advancedEventSelectors"] = []any{
				map[string]any{"fieldSelectors": []any{map[string]any{"field": "eventCategory", "equals": []any{"Management"}}}},
				map[string]any{"fieldSelectors": []any{
					map[string]any{"field": "eventCategory", "equals": []any{"Data"}},
					map[string]any{"field": "resources.type", "equals": []any{"AWS::S3::Object"}},
					map[string]any{"field": "resources.ARN", "notStartsWiths": []any{"arn:aws:s3:::trail-bucket/"}},
				}},
			}
		}
	}
	return s
}

func TestConfigRecorderEnabled(t *testing.T) {
	t.Parallel()
	testStackRule(t, &configRecorderEnabled, withRuntime(t), []change{
		{"no recorder", "-recorder", nil, []string{": the account baseline has no AWS Config recorder, so AWS Config and Security Hub evaluate nothing"}},
		{"some types", "recorder:recordingGroup.allSupported", false, []string{"recordingGroup.allSupported: the recorder records only some resource types"}},
		{"no IAM", "recorder:recordingGroup.includeGlobalResourceTypes", del,
			[]string{"recordingGroup.includeGlobalResourceTypes: the recorder does not record IAM's users, roles and policies"}},
		{"no channel", "-channel", nil, []string{": the recorder has no delivery channel, so it cannot start"}},
		{"plain history", "channel:s3KmsKeyArn", del,
			[]string{"s3KmsKeyArn: the configuration history is not encrypted with a customer-managed key; set s3KmsKeyArn to the logs key"}},
		{"stopped", "status:isEnabled", false, []string{": no aws.cfg.RecorderStatus starts the recorder; a recorder is created stopped"}},
		{"unknown global", "recorder:recordingGroup.includeGlobalResourceTypes", unknown,
			[]string{"recordingGroup.includeGlobalResourceTypes: recordingGroup.includeGlobalResourceTypes cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
	if got := render(engine.CheckStack(&configRecorderEnabled, stackFixture{{typ: tVpc, name: "vpc"}}.stack(), engine.Config{})); len(got) != 0 {
		t.Errorf("an environment: %q", got)
	}
}

func TestConfigHipaaConformancePack(t *testing.T) {
	t.Parallel()
	without, err := conformance.Without(conformance.HIPAASecurity(), conformance.PerStack...)
	if err != nil {
		t.Fatal(err)
	}
	partial, _ := conformance.Template(without, conformance.Scope{})
	only, _ := conformance.Only(conformance.HIPAASecurity(), conformance.PerStack...)
	network, _ := conformance.Template(only, conformance.Scope{TagKey: "Environment", TagValue: "account-prod"})
	base := withRuntime(t)
	testStackRule(t, &configHipaaConformancePack, base, []change{
		{"no pack", "-pack", nil, []string{": the account baseline has no AWS Config conformance pack, so no auditor's HIPAA rule runs on the account"}},
		{"the network's rules missing", "pack:templateBody", partial,
			[]string{": the conformance packs lack 2 of AWS's HIPAA rules: internet-gateway-authorized-vpc-only, no-unrestricted-route-to-igw"}},
		{"not a template", "pack:templateBody", "Resources: [", []string{
			"templateBody: the template does not read as a conformance pack: invalid character 'R' looking for beginning of value",
			": the conformance packs lack 130 of AWS's HIPAA rules: access-keys-rotated, acm-certificate-expiration-check, " +
				"alb-http-to-https-redirection-check, alb-waf-enabled, api-gw-associated-with-waf and 125 more"}},
		{"unknown", "pack:templateBody", unknown, []string{"templateBody: templateBody cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
	// The account's pack and its network's together hold the whole pack.
	split := append(base.with("pack:templateBody", partial), fx{typ: tConformancePack, name: "network", props: map[string]any{"templateBody": network}})
	if got := render(engine.CheckStack(&configHipaaConformancePack, split.stack(), engine.Config{})); len(got) != 0 {
		t.Errorf("the account's and the network's packs: %q", got)
	}
	// A template over the inline limit is read from the stack's own object.
	key := "AWSLogs/123456789012/Config/conformance-packs/pack.json"
	full, _ := conformance.Template(conformance.HIPAASecurity(), conformance.Scope{})
	s3 := append(base.with("pack:templateBody", del).with("pack:templateS3Uri", "s3://trail-bucket/"+key),
		fx{typ: tBucketObject, name: "template", props: map[string]any{"key": key, "content": full}})
	if got := render(engine.CheckStack(&configHipaaConformancePack, s3.stack(), engine.Config{})); len(got) != 0 {
		t.Errorf("a template in S3: %q", got)
	}
}

func TestSecurityhubEnabled(t *testing.T) {
	t.Parallel()
	testStackRule(t, &securityhubEnabled, withRuntime(t), []change{
		{"off", "-hub", nil, []string{": the account baseline does not enable Security Hub"}},
		{"no standard", "-fsbp", nil, []string{": Security Hub runs without AWS Foundational Security Best Practices"}},
		{"CIS only", "fsbp:standardsArn", "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0",
			[]string{": Security Hub runs without AWS Foundational Security Best Practices"}},
	})
}

func TestInspectorEnabled(t *testing.T) {
	t.Parallel()
	testStackRule(t, &inspectorEnabled, withRuntime(t), []change{
		{"off", "-inspector", nil, []string{": the account baseline does not enable Amazon Inspector"}},
		{"hosts only", "inspector:resourceTypes", []any{"EC2"}, []string{"resourceTypes: Inspector does not scan ECR"}},
		{"unknown", "inspector:resourceTypes", unknown, []string{"resourceTypes: resourceTypes cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
}

func TestCloudtrailS3DataEvents(t *testing.T) {
	t.Parallel()
	testStackRule(t, &cloudtrailS3DataEvents, withRuntime(t), []change{
		{"no data events", "trail:advancedEventSelectors.1.fieldSelectors.0.equals", []any{"Management"},
			[]string{"advancedEventSelectors: the trail does not log S3 object reads and writes (data events) of every bucket"}},
		{"some buckets", "trail:advancedEventSelectors.1.fieldSelectors.2", map[string]any{"field": "resources.ARN", "startsWiths": []any{"arn:aws:s3:::data/"}},
			[]string{"advancedEventSelectors: the trail does not log S3 object reads and writes (data events) of every bucket"}},
		{"management events lost", "trail:advancedEventSelectors.0.fieldSelectors.0.equals", []any{"Data"},
			[]string{"advancedEventSelectors: no advanced event selector logs every management event, and with advanced selectors an event that none matches is not logged"}},
		{"no selectors", "trail:advancedEventSelectors", del,
			[]string{"advancedEventSelectors: the trail does not log S3 object reads and writes (data events) of every bucket"}},
	})
	basic := withRuntime(t).with("trail:advancedEventSelectors", del).with("trail:eventSelectors", []any{
		map[string]any{"readWriteType": "All", "dataResources": []any{map[string]any{"type": "AWS::S3::Object", "values": []any{"arn:aws:s3"}}}},
	})
	if got := render(engine.CheckStack(&cloudtrailS3DataEvents, basic.stack(), engine.Config{})); len(got) != 0 {
		t.Errorf("basic selectors of every object: %q", got)
	}
}

func TestCloudtrailSecurityAlarms(t *testing.T) {
	t.Parallel()
	testStackRule(t, &cloudtrailSecurityAlarms, withRuntime(t), []change{
		{"no root filter", "-filter-root-use", nil, []string{": no metric filter on the trail's log group matches CloudWatch.1's pattern (root-use)"}},
		{"a narrower pattern", "filter-vpc-changes:pattern", `{($.eventName=CreateVpc)}`,
			[]string{": no metric filter on the trail's log group matches CloudWatch.14's pattern (vpc-changes)"}},
		{"the same pattern spaced otherwise", "filter-root-use:pattern",
			`{ $.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent" }`, nil},
		{"no alarm", "-alarm-nacl-changes", nil, []string{": no alarm with an action watches CloudWatch.11's metric (nacl-changes)"}},
		{"a silent alarm", "alarm-config-changes:alarmActions", []any{}, []string{": no alarm with an action watches CloudWatch.9's metric (config-changes)"}},
	})
}

func TestLbWafProtected(t *testing.T) {
	t.Parallel()
	base := stackFixture{
		{typ: tLoadBalancer, name: "web", props: map[string]any{"loadBalancerType": "application", "internal": false}},
		{typ: tWebACL, name: "acl", props: map[string]any{"scope": "REGIONAL", "rules": []any{map[string]any{"name": "rate-limit"}}}},
		{typ: tWebACLAssoc, name: "assoc", deps: map[string][]string{"resourceArn": {"web"}, "webAclArn": {"acl"}}},
		{typ: tWebACLLogging, name: "logging", deps: map[string][]string{"resourceArn": {"acl"}}},
	}
	testStackRule(t, &lbWafProtected, base, []change{
		{"unprotected", "-assoc", nil, []string{": the internet-facing load balancer is not behind an AWS WAF web ACL"}},
		{"no rules", "acl:rules", []any{}, []string{"rules: the web ACL has no rules, so it blocks nothing"}},
		{"not logged", "-logging", nil, []string{": the web ACL does not log its requests (no aws.wafv2.WebAclLoggingConfiguration)"}},
		{"an ACL elsewhere", "-acl", nil, []string{"webAclArn: the web ACL is not one of this stack's, so its rules and logging cannot be shown"}},
		{"internal", "web:internal", true, nil},
		{"network load balancer", "web:loadBalancerType", "network", nil},
	})
}

func TestBackupHostsProtected(t *testing.T) {
	t.Parallel()
	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"NoManualDeletion","Effect":"Deny","Principal":{"AWS":["*"]},` +
		`"Action":["backup:DeleteRecoveryPoint","backup:UpdateRecoveryPointLifecycle"],"Resource":["*"]}]}`
	base := stackFixture{
		{typ: tInstance, name: "db-0", props: map[string]any{"tags": map[string]any{"Role": "database", "DataClass": "phi"}}},
		{typ: tBackupVault, name: "vault", props: map[string]any{"kmsKeyArn": testKey}},
		{typ: tBackupVaultPolicy, name: "vault-policy", props: map[string]any{"policy": deny}, deps: map[string][]string{"backupVaultName": {"vault"}}},
		{typ: tBackupPlan, name: "plan", props: map[string]any{"rules": []any{map[string]any{"ruleName": "daily", "lifecycle": map[string]any{"deleteAfter": 35.0}}}},
			deps: map[string][]string{"rules": {"vault"}}},
		{typ: tBackupSelection, name: "selection", props: map[string]any{"resources": []any{"arn:aws:ec2:us-east-1:123456789012:instance/i-1"}},
			deps: map[string][]string{"resources": {"db-0"}, "planId": {"plan"}}},
	}
	testStackRule(t, &backupHostsProtected, base, []change{
		{"not selected", "-selection", nil, []string{": the database host is in no AWS Backup plan"}},
		{"kept too briefly", "plan:rules.0.lifecycle.deleteAfter", 7.0, []string{"rules[0].lifecycle.deleteAfter: recovery points are kept 7 days, under the minimum of 30"}},
		{"plain vault", "vault:kmsKeyArn", del, []string{"kmsKeyArn: the vault is not encrypted with a customer-managed key"}},
		{"deletable", "-vault-policy", nil, []string{": no vault policy refuses everyone backup:DeleteRecoveryPoint, so a recovery point can be deleted by hand"}},
		{"vault elsewhere", "-vault", nil, []string{"rules: the plan's vault is not one of this stack's, so its encryption and policy cannot be shown"}},
		{"a demo's synthetic data", "db-0:tags.DataClass", "synthetic", nil},
		{"a web host", "db-0:tags.Role", "web", nil},
	})
	// A deployed stack's state names the host by its instance ARN.
	deployed := base.with("db-0:id", "i-1")
	for i := range deployed {
		if deployed[i].name == "selection" {
			deployed[i].deps = map[string][]string{"planId": {"plan"}}
		}
	}
	if got := render(engine.CheckStack(&backupHostsProtected, deployed.stack(), engine.Config{})); len(got) != 0 {
		t.Errorf("a selection by ARN: %q", got)
	}
}

func TestNaclClosed(t *testing.T) {
	t.Parallel()
	base := stackFixture{
		{typ: tVpc, name: "vpc", props: map[string]any{"instanceTenancy": "dedicated"}},
		{typ: tDefaultNACL, name: "default", props: map[string]any{}, deps: map[string][]string{"defaultNetworkAclId": {"vpc"}}},
		{typ: tNetworkACL, name: "public", props: map[string]any{"ingress": []any{
			map[string]any{"action": "allow", "protocol": "tcp", "fromPort": 443.0, "toPort": 443.0, "cidrBlock": "0.0.0.0/0"},
			map[string]any{"action": "allow", "protocol": "tcp", "fromPort": 1024.0, "toPort": 3388.0, "cidrBlock": "0.0.0.0/0"},
			map[string]any{"action": "allow", "protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlock": "10.0.0.0/16"},
		}}},
	}
	testStackRule(t, &naclClosed, base, []change{
		{"default unmanaged", "-default", nil, []string{": the VPC's default network ACL is not managed, so it keeps the entries AWS gives it, which admit everything"}},
		{"default open", "default:ingress", []any{map[string]any{"action": "allow", "protocol": "-1", "cidrBlock": "0.0.0.0/0"}},
			[]string{"ingress: the default network ACL has 1 ingress entr(ies); remove them"}},
		{"RDP from the world", "public:ingress.1.toPort", 65535.0, []string{"ingress[1]: an entry admits the world to port 3389"}},
		{"SSH from the world", "public:ingress.0.fromPort", 22.0, []string{"ingress[0]: an entry admits the world to port 22"}},
		{"everything from the world", "public:ingress.2.cidrBlock", "0.0.0.0/0", []string{"ingress[2]: an entry admits the world on every protocol"}},
	})
}

func TestVpcEndpointPerimeter(t *testing.T) {
	t.Parallel()
	held := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["*"],"Resource":["*"],` +
		`"Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012","aws:ResourceAccount":"123456789012"}}}]}`
	open := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`
	testResourceRule(t, &vpcEndpointPerimeter, fx{typ: tVpcEndpoint, name: "kms", props: map[string]any{
		"serviceName": "com.amazonaws.us-east-1.kms", "vpcEndpointType": "Interface", "policy": held}}, []change{
		{"no policy", "policy", del, []string{"policy: the kms endpoint has no policy, so it admits any principal to any account's resources"}},
		{"full access", "policy", open, []string{
			"policy: statement 0 admits every action without a condition on aws:PrincipalAccount",
			"policy: statement 0 admits every action without a condition on aws:ResourceAccount"}},
		{"not a policy", "policy", "{", []string{"policy: the endpoint's policy does not read as a policy document"}},
		{"unknown", "policy", unknown, []string{"policy: policy cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
		{"a service without policies", "serviceName", "com.amazonaws.us-east-1.ssmmessages", nil},
	})
	if got := render(engine.CheckResource(&vpcEndpointPerimeter, fx{typ: tVpcEndpoint, name: "ecr", props: map[string]any{
		"serviceName": "com.amazonaws.us-east-1.ecr.dkr"}}.resource(), engine.Config{})); len(got) != 1 || !strings.Contains(got[0], "the ecr.dkr endpoint has no policy") {
		t.Errorf("an ecr.dkr endpoint without a policy: %q", got)
	}
}
