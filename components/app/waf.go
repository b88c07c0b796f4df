package app

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
)

// The web ACL's rate limit, in requests from one address per five minutes (AWS WAF's default evaluation
// window): AWS WAF takes 10 at the least ("Rate-based rule high-level settings") and 2,000,000,000 at the
// most (RateBasedStatement.Limit).
const (
	MinRateLimit, MaxRateLimit = 10, 2_000_000_000
	defaultRateLimit           = 2000
)

// ManagedRuleGroups are the AWS managed rule groups the web ACL runs, in order after the rate limit: the
// common protections (OWASP's top risks), known bad inputs (such as Log4j's), SQL injection, and the
// addresses Amazon's threat intelligence marks as bad actors.
var ManagedRuleGroups = []string{
	"AWSManagedRulesAmazonIpReputationList",
	"AWSManagedRulesCommonRuleSet",
	"AWSManagedRulesKnownBadInputsRuleSet",
	"AWSManagedRulesSQLiRuleSet",
}

// RedactedHeaders are the request headers kept out of the web ACL's logs: they carry the users' sessions
// and credentials, which a log must not.
var RedactedHeaders = []string{"authorization", "cookie"}

// webACL puts AWS WAF in front of the load balancer: a regional web ACL that blocks an address over the
// rate limit, then what the managed rule groups match, and allows the rest; it logs every request to a
// log group encrypted with the logs key and kept for the tier's retention, without the headers that carry
// sessions. AWS WAF logs only to a destination whose name begins with aws-waf-logs- (WebAclLoggingConfiguration).
func webACL(ctx *pulumi.Context, name string, a *TierArgs, balancer pulumi.StringInput, parent pulumi.ResourceOption) error {
	c := a.LoadBalancer
	visibility := func(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
		return wafv2.WebAclRuleVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), MetricName: pulumi.String(metric), SampledRequestsEnabled: pulumi.Bool(true),
		}
	}
	rules := wafv2.WebAclRuleArray{
		wafv2.WebAclRuleArgs{
			Name:     pulumi.String("rate-limit"),
			Priority: pulumi.Int(0),
			Action:   wafv2.WebAclRuleActionArgs{Block: wafv2.WebAclRuleActionBlockArgs{}},
			Statement: wafv2.WebAclRuleStatementArgs{
				RateBasedStatement: wafv2.WebAclRuleStatementRateBasedStatementArgs{
					Limit: pulumi.Int(c.RateLimit), AggregateKeyType: pulumi.String("IP"), EvaluationWindowSec: pulumi.Int(300),
				},
			},
			VisibilityConfig: visibility(name + "-rate-limit"),
		},
	}
	for i, group := range ManagedRuleGroups {
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:     pulumi.String(group),
			Priority: pulumi.Int(i + 1),
			// A rule group's own actions (mostly block) apply; none overrides them.
			OverrideAction: wafv2.WebAclRuleOverrideActionArgs{None: wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement: wafv2.WebAclRuleStatementArgs{
				ManagedRuleGroupStatement: wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
					VendorName: pulumi.String("AWS"), Name: pulumi.String(group),
				},
			},
			VisibilityConfig: visibility(name + "-" + group),
		})
	}
	acl, err := wafv2.NewWebAcl(ctx, name, &wafv2.WebAclArgs{
		Name:          pulumi.String(name),
		Description:   pulumi.String("In front of " + name + "'s load balancer: a rate limit per address and AWS's managed rules"),
		Scope:         pulumi.String("REGIONAL"),
		DefaultAction: wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         rules,
		VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true), MetricName: pulumi.String(name), SampledRequestsEnabled: pulumi.Bool(true),
		},
		Tags: naming.Tags(a.Tags, name),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating the web ACL: %w", err)
	}
	if _, err := wafv2.NewWebAclAssociation(ctx, name, &wafv2.WebAclAssociationArgs{
		ResourceArn: balancer, WebAclArn: acl.Arn,
	}, parent); err != nil {
		return fmt.Errorf("putting the web ACL in front of the load balancer: %w", err)
	}
	logName := "aws-waf-logs-" + name
	group, err := cloudwatch.NewLogGroup(ctx, logName, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(logName),
		KmsKeyId:        a.LogsKeyArn,
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            naming.Tags(a.Tags, logName),
	}, parent)
	if err != nil {
		return fmt.Errorf("creating the web ACL's log group: %w", err)
	}
	var redacted wafv2.WebAclLoggingConfigurationRedactedFieldArray
	for _, h := range RedactedHeaders {
		redacted = append(redacted, wafv2.WebAclLoggingConfigurationRedactedFieldArgs{
			SingleHeader: wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs{Name: pulumi.String(h)},
		})
	}
	if _, err := wafv2.NewWebAclLoggingConfiguration(ctx, name, &wafv2.WebAclLoggingConfigurationArgs{
		ResourceArn:           acl.Arn,
		LogDestinationConfigs: pulumi.StringArray{group.Arn},
		RedactedFields:        redacted,
	}, parent); err != nil {
		return fmt.Errorf("logging the web ACL: %w", err)
	}
	return nil
}
