package hipaa

import (
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

func baselineStack() stackFixture {
	return stackFixture{
		{typ: tEncryptionDefault, name: "ebs-default", props: map[string]any{"enabled": true}},
		{typ: tDefaultKmsKey, name: "ebs-key", props: map[string]any{"keyArn": testKey}},
		{typ: tTrail, name: "trail", props: map[string]any{"isMultiRegionTrail": true, "enableLogFileValidation": true,
			"enableLogging": true, "kmsKeyId": testKey, "cloudWatchLogsGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/trail:*",
			"s3BucketName": "trail-bucket"}},
		{typ: tDetector, name: "guardduty", props: map[string]any{"enable": true}},
		{typ: tDetectorFeature, name: "s3", props: map[string]any{"name": "S3_DATA_EVENTS", "status": "ENABLED"}, deps: map[string][]string{"detectorId": {"guardduty"}}},
		{typ: tDetectorFeature, name: "ebs", props: map[string]any{"name": "EBS_MALWARE_PROTECTION", "status": "ENABLED"}, deps: map[string][]string{"detectorId": {"guardduty"}}},
		{typ: tDetectorFeature, name: "runtime", props: map[string]any{"name": "RUNTIME_MONITORING", "status": "ENABLED"}, deps: map[string][]string{"detectorId": {"guardduty"}}},
		{typ: tPasswordPolicy, name: "passwords", props: map[string]any{"minimumPasswordLength": 14.0}},
	}
}

func TestEbsEncryptionByDefault(t *testing.T) {
	t.Parallel()
	testStackRule(t, &ebsEncryptionByDefault, baselineStack(), []change{
		{"off", "ebs-default:enabled", false, []string{"enabled: enabled is false; EBS encryption by default must be on"}},
		{"missing", "-ebs-default", nil, []string{": the account baseline has no aws:ebs/encryptionByDefault, so volumes created outside this program may be unencrypted"}},
		{"no default key", "-ebs-key", nil, []string{": the account baseline has no aws:ebs/defaultKmsKey, so default encryption uses the AWS-managed key"}},
	})
	if got := render(engine.CheckStack(&ebsEncryptionByDefault, stackFixture{{typ: tVpc, name: "vpc"}}.stack(), engine.Config{})); len(got) != 0 {
		t.Errorf("a stack that is not a baseline: %q", got)
	}
}

func TestCloudtrailBaseline(t *testing.T) {
	t.Parallel()
	testStackRule(t, &cloudtrailBaseline, baselineStack(), []change{
		{"single region", "trail:isMultiRegionTrail", false, []string{"isMultiRegionTrail: isMultiRegionTrail is not true"}},
		{"no validation", "trail:enableLogFileValidation", del, []string{"enableLogFileValidation: enableLogFileValidation is not true"}},
		{"not logging", "trail:enableLogging", false, []string{"enableLogging: enableLogging is false; the trail records nothing"}},
		{"no key", "trail:kmsKeyId", del, []string{"kmsKeyId: kmsKeyId is not set; encrypt the trail with the logs key"}},
		{"no cloudwatch", "trail:cloudWatchLogsGroupArn", del, []string{"cloudWatchLogsGroupArn: cloudWatchLogsGroupArn is not set; deliver the trail to CloudWatch Logs for alerting"}},
		{"no trail", "-trail", nil, []string{": the account baseline has no CloudTrail trail"}},
	})
}

func TestGuarddutyEnabled(t *testing.T) {
	t.Parallel()
	testStackRule(t, &guarddutyEnabled, baselineStack(), []change{
		{"disabled", "guardduty:enable", false, []string{"enable: enable is false; GuardDuty must run"}},
		{"missing", "-guardduty", nil, []string{": the account baseline has no GuardDuty detector"}},
		{"no runtime monitoring", "-runtime", nil, []string{": GuardDuty's RUNTIME_MONITORING protection plan is not enabled"}},
		{"S3 protection off", "s3:status", "DISABLED", []string{": GuardDuty's S3_DATA_EVENTS protection plan is not enabled"}},
	})
}

func TestIamPasswordPolicy(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &iamPasswordPolicy, fx{typ: tPasswordPolicy, name: "pw", props: map[string]any{
		"minimumPasswordLength": 14.0, "passwordReusePrevention": 24.0, "maxPasswordAge": 90.0,
		"requireLowercaseCharacters": true, "requireUppercaseCharacters": true, "requireNumbers": true, "requireSymbols": true,
	}}, []change{
		{"short", "minimumPasswordLength", 8.0, []string{"minimumPasswordLength: minimumPasswordLength is 8; set it to at least 14"}},
		{"reuse", "passwordReusePrevention", del, []string{"passwordReusePrevention: passwordReusePrevention is not set; set it to at least 24"}},
		{"old", "maxPasswordAge", 365.0, []string{"maxPasswordAge: maxPasswordAge is 365; set it to 90 or fewer days"}},
		{"no symbols", "requireSymbols", false, []string{"requireSymbols: requireSymbols is false; set it to true"}},
	})
}

func TestVpcFlowLogs(t *testing.T) {
	t.Parallel()
	testStackRule(t, &vpcFlowLogs, stackFixture{
		{typ: tVpc, name: "vpc", props: map[string]any{"instanceTenancy": "dedicated"}},
		{typ: tLogGroup, name: "flow", props: map[string]any{"kmsKeyId": testKey, "retentionInDays": 365.0}},
		{typ: tFlowLog, name: "fl", props: map[string]any{"vpcId": "vpc-1", "trafficType": "ALL", "logDestinationType": "cloud-watch-logs",
			"logDestination": "arn:aws:logs:us-east-1:123456789012:log-group:flow"}, deps: map[string][]string{"vpcId": {"vpc"}, "logDestination": {"flow"}}},
	}, []change{
		{"no flow log", "-fl", nil, []string{": the VPC has no flow log of ALL traffic"}},
		{"rejects only", "fl:trafficType", "REJECT", []string{": the VPC has no flow log of ALL traffic"}},
		{"plain group", "flow:kmsKeyId", del, []string{"kmsKeyId: the flow-log group flow is not encrypted with a customer key"}},
		{"no retention", "flow:retentionInDays", del, []string{"retentionInDays: the flow-log group flow has no retention set"}},
		{"group elsewhere", "-flow", nil, []string{"logDestination: the flow log's destination is not a log group of this stack, so its encryption and retention cannot be shown"}},
	})
}
