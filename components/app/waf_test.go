package app

import (
	"slices"
	"strconv"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

func TestTheLoadBalancerIsBehindAWSWAFThatLogsWithoutSessions(t *testing.T) {
	t.Parallel()
	args := webArgs()
	args.LoadBalancer.RateLimit = 500
	rs := tier.MustRun(t, args)
	balancer := offlinetest.One(t, rs, "aws:lb/loadBalancer:LoadBalancer")
	acl := offlinetest.One(t, rs, "aws:wafv2/webAcl:WebAcl")
	if acl.String("scope") != "REGIONAL" || acl.Value("defaultAction.allow") == nil {
		t.Errorf("web ACL scope %q default %v; want a regional ACL that allows what no rule blocks", acl.String("scope"), acl.Value("defaultAction"))
	}
	rules := acl.Value("rules").([]any)
	if len(rules) != 1+len(ManagedRuleGroups) {
		t.Fatalf("%d rules, want the rate limit and %d managed groups", len(rules), len(ManagedRuleGroups))
	}
	if acl.String("rules.0.statement.rateBasedStatement.aggregateKeyType") != "IP" || acl.Value("rules.0.statement.rateBasedStatement.limit") != float64(500) ||
		acl.Value("rules.0.action.block") == nil || acl.Value("rules.0.priority") != float64(0) {
		t.Errorf("rate limit rule %v", rules[0])
	}
	var groups []string
	priorities := map[float64]bool{}
	for i := range rules {
		p := "rules." + strconv.Itoa(i)
		priorities[acl.Value(p+".priority").(float64)] = true
		if i == 0 {
			continue
		}
		if acl.String(p+".statement.managedRuleGroupStatement.vendorName") != "AWS" || acl.Value(p+".overrideAction.none") == nil {
			t.Errorf("rule %d: %v", i, rules[i])
		}
		if acl.Value(p+".visibilityConfig.cloudwatchMetricsEnabled") != true {
			t.Errorf("rule %d publishes no metrics", i)
		}
		groups = append(groups, acl.String(p+".statement.managedRuleGroupStatement.name"))
	}
	for _, want := range []string{"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"} {
		if !slices.Contains(groups, want) {
			t.Errorf("the web ACL lacks %s: %v", want, groups)
		}
	}
	if len(priorities) != len(rules) {
		t.Errorf("two rules share a priority: %v", priorities)
	}
	assoc := offlinetest.One(t, rs, "aws:wafv2/webAclAssociation:WebAclAssociation")
	if !slices.Contains(assoc.PropertyDependencies["resourceArn"], balancer.URN) || !slices.Contains(assoc.PropertyDependencies["webAclArn"], acl.URN) {
		t.Errorf("association %v joins %v and %v", assoc.Inputs, assoc.PropertyDependencies["resourceArn"], assoc.PropertyDependencies["webAclArn"])
	}
	group, ok := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", "aws-waf-logs-hipaa-unit-web")
	if !ok || group.String("name") != "aws-waf-logs-hipaa-unit-web" || group.String("kmsKeyId") != "arn:aws:kms:us-east-1:123456789012:key/logs" || group.Value("retentionInDays") != float64(365) {
		t.Fatalf("web ACL log group %v; want aws-waf-logs-..., the logs key and the tier's retention", group.Inputs)
	}
	logging := offlinetest.One(t, rs, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
	if !slices.Contains(logging.PropertyDependencies["logDestinationConfigs"], group.URN) || !slices.Contains(logging.PropertyDependencies["resourceArn"], acl.URN) {
		t.Errorf("the web ACL logs to %v", logging.PropertyDependencies["logDestinationConfigs"])
	}
	var redacted []string
	for _, f := range logging.Value("redactedFields").([]any) {
		redacted = append(redacted, f.(map[string]any)["singleHeader"].(map[string]any)["name"].(string))
	}
	if !slices.Equal(redacted, []string{"authorization", "cookie"}) {
		t.Errorf("redacted headers %v, want the session's", redacted)
	}
	// The default limit applies when none is set; the engine tier has no load balancer and no ACL.
	if acl := offlinetest.One(t, tier.MustRun(t, webArgs()), "aws:wafv2/webAcl:WebAcl"); acl.Value("rules.0.statement.rateBasedStatement.limit") != float64(defaultRateLimit) {
		t.Errorf("default rate limit %v", acl.Value("rules.0.statement.rateBasedStatement.limit"))
	}
	if n := len(offlinetest.Of(tier.MustRun(t, engineArgs()), "aws:wafv2/webAcl:WebAcl")); n != 0 {
		t.Errorf("the engine tier has %d web ACLs", n)
	}
}
