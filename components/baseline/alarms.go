package baseline

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/conformance"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// securityAlarms declares the account's alert topic (encrypted with the logs key, which lets CloudWatch
// alarms use it, and published to only by this account's alarms and the account itself), its e-mail
// subscriptions, and for each of conformance.TrailAlarms a metric filter on the trail's log group and an alarm on it.
// An alarm notifies when it fires and when its data stops: with missing data counted as not breaching
// (a quiet period is the normal case), INSUFFICIENT_DATA means the metric itself is broken, which AWS
// Config's cloudwatch-alarm-action-check (insufficientDataActionRequired) asks to be acted on too.
func securityAlarms(ctx *pulumi.Context, name string, a *AccountArgs, logGroup pulumi.StringOutput, parent, retain pulumi.ResourceOption) (*sns.Topic, error) {
	topicName := name + "-security-alerts"
	topic, err := sns.NewTopic(ctx, topicName, &sns.TopicArgs{
		Name:           pulumi.String(topicName),
		KmsMasterKeyId: a.LogsKeyArn,
		Tags:           naming.Tags(a.Tags, topicName),
	}, parent, retain)
	if err != nil {
		return nil, fmt.Errorf("creating the security alert topic: %w", err)
	}
	partition := iampolicy.Partition(a.Region)
	policy := topic.Arn.ApplyT(func(arn string) string {
		return iampolicy.New(
			iampolicy.Allow("AccountManagesAndPublishes", []string{"sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"}, []string{arn}).
				ForAccount(partition, a.AccountID),
			iampolicy.Allow("CloudWatchAlarmsPublish", []string{"sns:Publish"}, []string{arn}).
				ForService("cloudwatch.amazonaws.com").When("StringEquals", "aws:SourceAccount", a.AccountID),
		).JSON()
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, topicName, &sns.TopicPolicyArgs{Arn: topic.Arn, Policy: policy}, parent, retain); err != nil {
		return nil, fmt.Errorf("setting the security alert topic's policy: %w", err)
	}
	for i, e := range a.AlertEmails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-%d", topicName, i), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(e),
		}, parent, retain); err != nil {
			return nil, fmt.Errorf("subscribing %s to security alerts: %w", e, err)
		}
	}
	actions := pulumi.Array{topic.Arn}
	for _, t := range conformance.TrailAlarms {
		alarmName := name + "-" + t.Name
		filter, err := cloudwatch.NewLogMetricFilter(ctx, alarmName, &cloudwatch.LogMetricFilterArgs{
			Name:         pulumi.String(alarmName),
			LogGroupName: logGroup,
			Pattern:      pulumi.String(t.Pattern),
			MetricTransformation: &cloudwatch.LogMetricFilterMetricTransformationArgs{
				Name:         pulumi.String(alarmName),
				Namespace:    pulumi.String(conformance.TrailMetricsNamespace),
				Value:        pulumi.String("1"),
				DefaultValue: pulumi.String("0"),
			},
		}, parent, retain)
		if err != nil {
			return nil, fmt.Errorf("creating the %s metric filter: %w", t.Name, err)
		}
		if _, err := cloudwatch.NewMetricAlarm(ctx, alarmName, &cloudwatch.MetricAlarmArgs{
			Name:                    pulumi.String(alarmName),
			AlarmDescription:        pulumi.String(fmt.Sprintf("%s (%s): %s; the trail's log group says who and from where", t.Control, t.Name, t.Description)),
			Namespace:               pulumi.String(conformance.TrailMetricsNamespace),
			MetricName:              pulumi.String(alarmName),
			Statistic:               pulumi.String("Sum"),
			Period:                  pulumi.Int(300),
			EvaluationPeriods:       pulumi.Int(1),
			ComparisonOperator:      pulumi.String("GreaterThanOrEqualToThreshold"),
			Threshold:               pulumi.Float64(1),
			TreatMissingData:        pulumi.String("notBreaching"),
			AlarmActions:            actions,
			InsufficientDataActions: actions,
			Tags:                    naming.Tags(a.Tags, alarmName),
		}, parent, retain, pulumi.DependsOn([]pulumi.Resource{filter})); err != nil {
			return nil, fmt.Errorf("creating the %s alarm: %w", t.Name, err)
		}
	}
	return topic, nil
}
