package network

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// flowLogs records ALL traffic of the VPC into an encrypted, retained log group, through a role that only
// the flow-log service, acting for this account, can assume and that can only write that group.
func flowLogs(ctx *pulumi.Context, name string, a *VpcArgs, vpc *ec2.Vpc, parent pulumi.ResourceOption) (*cloudwatch.LogGroup, error) {
	groupName := "/hipaa/" + name + "/flow-logs"
	group, err := cloudwatch.NewLogGroup(ctx, name+"-flow-logs", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(groupName),
		KmsKeyId:        a.FlowLogKmsKeyArn,
		RetentionInDays: pulumi.Int(a.FlowLogRetentionDays),
		Tags:            naming.Tags(a.Tags, name+"-flow-logs"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating flow-log group: %w", err)
	}
	trust := iampolicy.New(
		iampolicy.Allow("FlowLogsAssume", []string{"sts:AssumeRole"}, nil).
			ForService("vpc-flow-logs.amazonaws.com").
			When("StringEquals", "aws:SourceAccount", a.AccountID),
	)
	role, err := iam.NewRole(ctx, name+"-flow-logs", &iam.RoleArgs{
		AssumeRolePolicy: pulumi.String(trust.JSON()),
		Description:      pulumi.String("Lets VPC Flow Logs write " + name + "'s flow-log group"),
		Tags:             naming.Tags(a.Tags, name+"-flow-logs"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating flow-log role: %w", err)
	}
	_, granted, err := hostrole.Grant(ctx, name+"-flow-logs", role, "Lets VPC Flow Logs write "+name+"'s flow-log group",
		pulumi.String(flowLogPolicy(iampolicy.LogGroupArn(a.Region, a.AccountID, groupName))),
		a.Tags, parent, pulumi.DependsOn([]pulumi.Resource{group}))
	if err != nil {
		return nil, fmt.Errorf("granting the flow-log role: %w", err)
	}
	if _, err := ec2.NewFlowLog(ctx, name, &ec2.FlowLogArgs{
		VpcId:                  vpc.ID(),
		TrafficType:            pulumi.String("ALL"),
		LogDestinationType:     pulumi.String("cloud-watch-logs"),
		LogDestination:         group.Arn,
		IamRoleArn:             role.Arn,
		MaxAggregationInterval: pulumi.Int(60),
		Tags:                   naming.Tags(a.Tags, name+"-flow-log"),
	}, parent, pulumi.DependsOn([]pulumi.Resource{granted})); err != nil {
		return nil, fmt.Errorf("creating flow log: %w", err)
	}
	return group, nil
}

// flowLogPolicy lets the flow-log service write one log group, named by ARN.
func flowLogPolicy(arn string) string {
	return iampolicy.New(iampolicy.Allow("WriteFlowLogs",
		[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"},
		[]string{arn, arn + ":*"})).JSON()
}
