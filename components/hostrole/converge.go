package hostrole

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// LogGroupName is a host's log group: its converge runs and its services' logs.
func LogGroupName(host string) string { return "/" + host + "/host" }

// NewLogGroup creates a host's log group, encrypted with keyArn and kept retentionDays.
func NewLogGroup(ctx *pulumi.Context, host string, keyArn pulumi.StringInput, retentionDays int, tags map[string]string, opts ...pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	g, err := cloudwatch.NewLogGroup(ctx, host, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(LogGroupName(host)),
		KmsKeyId:        keyArn,
		RetentionInDays: pulumi.Int(retentionDays),
		Tags:            naming.Tags(tags, host),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating %s's log group: %w", host, err)
	}
	return g, nil
}

// NewConvergence delivers the host's configuration to the running host: a Systems Manager document
// whose content is the rendered bundle, and a State Manager association that runs it on the instance.
// The provider makes each new content the document's default version (terraform-provider-aws
// internal/service/ssm/document.go, resourceDocumentUpdate), and the association names that version,
// so a changed configuration updates the association, which Systems Manager runs at once ("when you
// create or update an association, the system runs it immediately", the provider's applyOnlyAtCronInterval);
// it also runs every half hour, which puts back a file changed by hand. The host's user data is ignored
// after its first boot (NewInstance): no change of configuration stops or replaces a host.
func NewConvergence(ctx *pulumi.Context, host, content string, inst *ec2.Instance, tags map[string]string, opts ...pulumi.ResourceOption) error {
	doc, err := ssm.NewDocument(ctx, host+"-converge", &ssm.DocumentArgs{
		DocumentType:   pulumi.String("Command"),
		DocumentFormat: pulumi.String("JSON"),
		TargetType:     pulumi.String("/AWS::EC2::Instance"),
		Content:        pulumi.String(content),
		Tags:           naming.Tags(tags, host+"-converge"),
	}, opts...)
	if err != nil {
		return fmt.Errorf("creating %s's configuration document: %w", host, err)
	}
	if _, err := ssm.NewAssociation(ctx, host+"-converge", &ssm.AssociationArgs{
		AssociationName:    pulumi.String(host + "-converge"),
		Name:               doc.Name,
		DocumentVersion:    doc.DefaultVersion,
		Targets:            ssm.AssociationTargetArray{ssm.AssociationTargetArgs{Key: pulumi.String("InstanceIds"), Values: pulumi.StringArray{inst.ID()}}},
		ScheduleExpression: pulumi.String("rate(30 minutes)"),
		ComplianceSeverity: pulumi.String("HIGH"),
		MaxConcurrency:     pulumi.String("1"),
		MaxErrors:          pulumi.String("0"),
		Tags:               naming.Tags(tags, host+"-converge"),
	}, opts...); err != nil {
		return fmt.Errorf("associating %s with its configuration: %w", host, err)
	}
	return nil
}

// WriteLogs lets a host's agents write to one log group: sid names the statement.
func WriteLogs(sid, logGroupArn string) iampolicy.Statement {
	return iampolicy.Allow(sid, []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []string{logGroupArn, logGroupArn + ":*"})
}

// PublishConvergence lets a host publish its Converged metric. PutMetricData names no resource; the
// namespace condition is its only limit.
func PublishConvergence() iampolicy.Statement {
	return iampolicy.Allow("PublishConvergence", []string{"cloudwatch:PutMetricData"}, []string{"*"}).
		When("StringEquals", "cloudwatch:namespace", converge.Namespace)
}

// ReadSecrets lets a host read secrets, and decrypt them with their key only through Secrets Manager.
func ReadSecrets(arns []string, keyArn, region string) []iampolicy.Statement {
	return []iampolicy.Statement{
		iampolicy.Allow("ReadOwnSecrets", []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, arns),
		iampolicy.Allow("DecryptOwnSecrets", []string{"kms:Decrypt"}, []string{keyArn}).
			When("StringEquals", "kms:ViaService", "secretsmanager."+region+".amazonaws.com"),
	}
}

// WriteSecrets lets a host put new values in these secrets (a rotation) and encrypt them with the
// secrets key through Secrets Manager: a new value takes a new data key (Secrets Manager user guide,
// "Secret encryption and decryption", which names kms:GenerateDataKey for PutSecretValue).
func WriteSecrets(arns []string, keyArn, region string) []iampolicy.Statement {
	return []iampolicy.Statement{
		iampolicy.Allow("RotateOwnSecrets", []string{"secretsmanager:PutSecretValue"}, arns),
		iampolicy.Allow("EncryptRotatedSecret", []string{"kms:GenerateDataKey"}, []string{keyArn}).
			When("StringEquals", "kms:ViaService", "secretsmanager."+region+".amazonaws.com"),
	}
}

// PublishAgentMetrics lets a host's CloudWatch agent publish its disk and memory metrics.
func PublishAgentMetrics() iampolicy.Statement {
	return iampolicy.Allow("PublishAgentMetrics", []string{"cloudwatch:PutMetricData"}, []string{"*"}).
		When("StringEquals", "cloudwatch:namespace", "CWAgent")
}
