package network

import (
	"fmt"
	"slices"

	"github.com/hipaa-platform/platform/internal/iampolicy"
)

// The endpoints keep the hosts to the account's own resources (a data perimeter): an endpoint policy
// admits a request only from a principal of the account, to a resource of the account (aws:PrincipalAccount,
// aws:ResourceAccount; IAM User Guide, "AWS global condition context keys"), or of the accounts the hosts
// pull releases from. An endpoint policy grants nothing itself; IAM still must. The exceptions, each an
// AWS-owned resource the hosts need, are from AWS's data perimeter examples
// (aws-samples/data-perimeter-policy-examples, vpc_endpoint_policies) and the services' guides.

// policyEndpoints are the interface endpoints whose services take an endpoint policy (AWS PrivateLink
// Guide, the services' "VPC endpoint policies" support; the ECR guide asks for the same policy on
// ecr.api and ecr.dkr). ssmmessages and ec2messages are left with AWS's full-access policy: whether they
// take another was not confirmed, and a service that does not refuses the endpoint ("only supports the
// full-access endpoint policy").
var policyEndpoints = []string{"ecr.api", "ecr.dkr", "ssm", "logs", "monitoring", "kms", "secretsmanager"}

// resourceless are the actions of a service that name no resource, whose resource account a policy
// cannot hold them to: they are admitted to the account's principals alone.
var resourceless = map[string][]string{
	"ecr.api":    {"ecr:GetAuthorizationToken"},
	"ecr.dkr":    {"ecr:GetAuthorizationToken"},
	"monitoring": {"cloudwatch:PutMetricData"},
}

// interfacePolicy is an interface endpoint's policy, or "" for an endpoint left with full access.
func interfacePolicy(svc, partition, region, account string, peers []string) string {
	if !slices.Contains(policyEndpoints, svc) {
		return ""
	}
	var statements []iampolicy.Statement
	for _, acct := range resourceAccounts(account, peers) {
		statements = append(statements, iampolicy.Allow("ResourcesOf"+acct, []string{"*"}, []string{"*"}).
			ForAnyAWSOf(account).When("StringEquals", "aws:ResourceAccount", acct))
	}
	if actions := resourceless[svc]; len(actions) > 0 {
		statements = append(statements, iampolicy.Allow("ActionsWithoutAResource", actions, []string{"*"}).ForAnyAWSOf(account))
	}
	if svc == "ssm" {
		// AWS's own documents (AWS-RunShellScript, AWS-RunPatchBaseline) and public parameters have no
		// account in their ARNs.
		statements = append(statements, iampolicy.Allow("AWSOwnedDocumentsAndParameters",
			[]string{"ssm:Describe*", "ssm:Get*", "ssm:List*"},
			[]string{fmt.Sprintf("arn:%s:ssm:%s::document/*", partition, region), fmt.Sprintf("arn:%s:ssm:%s::parameter/aws/*", partition, region)}).
			ForAnyAWSOf(account))
	}
	return iampolicy.New(statements...).JSON()
}

// AWSOwnedBuckets are the AWS-owned buckets the hosts read through the S3 gateway endpoint, for region:
// ECR's image layers (ECR User Guide, "Minimum Amazon S3 bucket permissions"), Amazon Linux 2023's
// packages, the SSM agent and Patch Manager's modules, snapshots and document attachments (Systems Manager
// User Guide, "SSM Agent communications with AWS managed S3 buckets"), and the CloudWatch agent's packages.
// ECR's layers are read through a URL that ECR signs as an account of its own, so these are admitted
// without any condition on the principal.
func AWSOwnedBuckets(region string) []string {
	return []string{
		"prod-" + region + "-starport-layer-bucket",
		"al2023-repos-" + region + "-de612dc2", "al2023-" + region,
		"amazon-ssm-" + region, "amazon-ssm-packages-" + region, "aws-ssm-" + region,
		"aws-ssm-document-attachments-" + region, "patch-baseline-snapshot-" + region, region + "-birdwatcher-prod",
		"amazoncloudwatch-agent-" + region, "amazoncloudwatch-agent",
	}
}

// gatewayPolicy is the S3 gateway endpoint's policy: the account's principals to the account's buckets,
// and anyone to read the AWS-owned buckets the hosts need. A network that builds images may read any
// bucket (its builds read AWS-owned buckets that AWS's guides do not all name), but write only the
// account's: nothing leaves for another account's bucket either way.
func gatewayPolicy(partition, region, account string, buildsImages bool) string {
	var objects []string
	for _, b := range AWSOwnedBuckets(region) {
		objects = append(objects, fmt.Sprintf("arn:%s:s3:::%s/*", partition, b))
	}
	aws := iampolicy.Allow("AWSOwnedBuckets", []string{"s3:GetObject"}, objects)
	aws.Principal = &iampolicy.Principal{AWS: []string{"*"}}
	statements := []iampolicy.Statement{
		iampolicy.Allow("ResourcesOf"+account, []string{"*"}, []string{"*"}).
			ForAnyAWSOf(account).When("StringEquals", "aws:ResourceAccount", account),
		aws,
	}
	if buildsImages {
		statements = append(statements, iampolicy.Allow("BuildsReadAnyBucket",
			[]string{"s3:GetObject", "s3:GetBucketLocation", "s3:ListBucket"}, []string{"*"}).ForAnyAWSOf(account))
	}
	return iampolicy.New(statements...).JSON()
}

// resourceAccounts are the account and its peers, each once, the account first.
func resourceAccounts(account string, peers []string) []string {
	out := []string{account}
	for _, p := range peers {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
