package conformance

// TrailMetricsNamespace is where the trail's metric filters publish their counts.
const TrailMetricsNamespace = "CloudTrailMetrics"

// TrailAlarm is an alarm on the trail's log group: a metric filter that counts the events matching Pattern,
// and an alarm on the first one. The patterns are those of the CIS AWS Foundations Benchmark, which
// Security Hub's controls CloudWatch.1 to CloudWatch.14 look for on a multi-region trail's log group, as
// that guide gives them, since the controls admit no other field or term (AWS Security Hub User Guide,
// "Amazon CloudWatch controls").
type TrailAlarm struct {
	// Name is the alarm's part of its resources' names, and the metric's name.
	Name string
	// Control is the Security Hub control that checks for it; Prowler the Prowler check.
	Control, Prowler string
	// Description is what the alarm means to whoever receives it.
	Description string
	Pattern     string
}

// TrailAlarms are the account's security alarms, which the baseline declares and the policy pack looks for.
var TrailAlarms = []TrailAlarm{
	{"root-use", "CloudWatch.1", "cloudwatch_log_metric_filter_root_usage", "the root user was used",
		`{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}`},
	{"unauthorized-calls", "CloudWatch.2", "cloudwatch_log_metric_filter_unauthorized_api_calls", "API calls were refused as unauthorized",
		`{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}`},
	{"console-without-mfa", "CloudWatch.3", "cloudwatch_log_metric_filter_sign_in_without_mfa", "an IAM user signed in to the console without MFA",
		`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`},
	{"iam-policy-changes", "CloudWatch.4", "cloudwatch_log_metric_filter_policy_changes", "an IAM policy was created, changed, attached or detached",
		`{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}`},
	{"trail-changes", "CloudWatch.5", "cloudwatch_log_metric_filter_and_alarm_for_cloudtrail_configuration_changes_enabled", "a CloudTrail trail was created, changed, stopped or deleted",
		`{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}`},
	{"console-sign-in-failures", "CloudWatch.6", "cloudwatch_log_metric_filter_authentication_failures", "console sign-ins failed",
		`{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}`},
	{"key-disabled-or-deleted", "CloudWatch.7", "cloudwatch_log_metric_filter_disable_or_scheduled_deletion_of_kms_cmk", "a KMS key was disabled or scheduled for deletion",
		`{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}`},
	{"bucket-policy-changes", "CloudWatch.8", "cloudwatch_log_metric_filter_for_s3_bucket_policy_changes", "an S3 bucket's ACL, policy, CORS, lifecycle or replication changed",
		`{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}`},
	{"config-changes", "CloudWatch.9", "cloudwatch_log_metric_filter_and_alarm_for_aws_config_configuration_changes_enabled", "AWS Config's recorder or delivery channel was stopped, changed or deleted",
		`{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}`},
	{"security-group-changes", "CloudWatch.10", "cloudwatch_log_metric_filter_security_group_changes", "a security group was created, changed or deleted",
		`{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}`},
	{"nacl-changes", "CloudWatch.11", "cloudwatch_changes_to_network_acls_alarm_configured", "a network ACL was created, changed or deleted",
		`{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}`},
	{"gateway-changes", "CloudWatch.12", "cloudwatch_changes_to_network_gateways_alarm_configured", "a network gateway was created, attached, detached or deleted",
		`{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}`},
	{"route-table-changes", "CloudWatch.13", "cloudwatch_changes_to_network_route_tables_alarm_configured", "a route table or route was created, changed or deleted",
		`{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}`},
	{"vpc-changes", "CloudWatch.14", "cloudwatch_changes_to_vpcs_alarm_configured", "a VPC or a peering connection was created, changed or deleted",
		`{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}`},
}
