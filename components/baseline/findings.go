package baseline

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/guardduty"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/inspector2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/securityhub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/iampolicy"
)

// FoundationalStandard is AWS Foundational Security Best Practices in region, the Security Hub standard
// the baseline subscribes to (the StandardsArn table of the provider's securityhub.StandardsSubscription).
func FoundationalStandard(region string) string {
	return fmt.Sprintf("arn:%s:securityhub:%s::standards/aws-foundational-security-best-practices/v/1.0.0", iampolicy.Partition(region), region)
}

// securityHub enables Security Hub with AWS Foundational Security Best Practices only: not the default
// standards, whose CIS 1.2.0 repeats the same checks under other names. Findings are consolidated per
// control (SECURITY_CONTROL), so a check that several standards share is one finding. Its controls are
// evaluated by AWS Config rules of their own, which the recorder feeds.
func securityHub(ctx *pulumi.Context, name string, a *AccountArgs, recording []pulumi.Resource, parent, retain pulumi.ResourceOption) error {
	hub, err := securityhub.NewAccount(ctx, name+"-securityhub", &securityhub.AccountArgs{
		EnableDefaultStandards:  pulumi.Bool(false),
		AutoEnableControls:      pulumi.Bool(true),
		ControlFindingGenerator: pulumi.String("SECURITY_CONTROL"),
	}, parent, retain, pulumi.DependsOn(recording))
	if err != nil {
		return fmt.Errorf("enabling Security Hub: %w", err)
	}
	if _, err := securityhub.NewStandardsSubscription(ctx, name+"-fsbp", &securityhub.StandardsSubscriptionArgs{
		StandardsArn: pulumi.String(FoundationalStandard(a.Region)),
	}, parent, retain, pulumi.DependsOn([]pulumi.Resource{hub})); err != nil {
		return fmt.Errorf("subscribing to AWS Foundational Security Best Practices: %w", err)
	}
	return nil
}

// InspectorScans are what Amazon Inspector scans: the hosts (EC2, through the SSM agent every host runs)
// and the container images in the account's registry (ECR, which then scans them with Inspector's
// enhanced scanning instead of the repositories' basic scan on push).
var InspectorScans = []string{"EC2", "ECR"}

func inspector(ctx *pulumi.Context, name string, a *AccountArgs, parent, retain pulumi.ResourceOption) error {
	if _, err := inspector2.NewEnabler(ctx, name+"-inspector", &inspector2.EnablerArgs{
		AccountIds:    pulumi.ToStringArray([]string{a.AccountID}),
		ResourceTypes: pulumi.ToStringArray(InspectorScans),
	}, parent, retain); err != nil {
		return fmt.Errorf("enabling Amazon Inspector: %w", err)
	}
	return nil
}

// GuardDutyFeatures are the protection plans the detector runs beyond its foundational sources (CloudTrail
// management events, VPC flow logs, DNS logs): S3 data events for the PHI buckets; malware scans of the
// hosts' EBS volumes when GuardDuty sees them behave suspiciously; and runtime monitoring of the hosts,
// whose agent GuardDuty installs and updates through Systems Manager (EC2_AGENT_MANAGEMENT). The plans
// for services the platform does not run (EKS, RDS, Lambda) are left as the account has them.
var GuardDutyFeatures = []string{"S3_DATA_EVENTS", "EBS_MALWARE_PROTECTION", "RUNTIME_MONITORING"}

// guardDutyFeatures enables GuardDutyFeatures on the detector.
func guardDutyFeatures(ctx *pulumi.Context, name string, detector *guardduty.Detector, parent, retain pulumi.ResourceOption) error {
	for _, f := range GuardDutyFeatures {
		args := &guardduty.DetectorFeatureArgs{
			DetectorId: detector.ID().ToStringOutput(),
			Name:       pulumi.String(f),
			Status:     pulumi.String("ENABLED"),
		}
		if f == "RUNTIME_MONITORING" {
			args.AdditionalConfigurations = guardduty.DetectorFeatureAdditionalConfigurationArray{
				guardduty.DetectorFeatureAdditionalConfigurationArgs{Name: pulumi.String("EC2_AGENT_MANAGEMENT"), Status: pulumi.String("ENABLED")},
			}
		}
		if _, err := guardduty.NewDetectorFeature(ctx, name+"-"+featureName(f), args, parent, retain); err != nil {
			return fmt.Errorf("enabling GuardDuty %s: %w", f, err)
		}
	}
	return nil
}

// featureName is a feature's part of a resource name: S3_DATA_EVENTS is s3-data-events.
func featureName(f string) string {
	b := []byte(f)
	for i, c := range b {
		switch {
		case c == '_':
			b[i] = '-'
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// organizationRuns reports whether the organization runs service for the account.
func (a *AccountArgs) organizationRuns(service string) bool {
	return slices.Contains(a.OrganizationManaged, service)
}
