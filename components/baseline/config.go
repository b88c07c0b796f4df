package baseline

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cfg"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/internal/conformance"
	"github.com/hipaa-platform/platform/internal/naming"
)

// AWS Config keeps one customer-managed configuration recorder and one delivery channel per region
// (PutConfigurationRecorder: MaxNumberOfConfigurationRecordersExceededException), and PutConfigurationRecorder
// and PutDeliveryChannel create or update by name, which is what the provider calls on create. So the
// baseline declares the recorder under the name the account's recorder already has (RecorderName, "default"
// as the console names it), and its first update takes that recorder over with the platform's settings; a
// recorder by another name makes the create fail with that exception, and the operator names it. Where the
// organization runs the account's recorder (AWS Control Tower, whose guardrails forbid changing it), the
// baseline declares none and only adds its rules.

// DefaultRecorderName is the name AWS Config's console gives the recorder and delivery channel it sets up.
const DefaultRecorderName = "default"

// ConfigWriter is how AWS Config delivers to the trail bucket: as its service principal, under
// AWSLogs/<account>/Config/, having listed the bucket and read its ACL (AWS Config Developer Guide,
// "Permissions for the Amazon S3 Bucket").
func ConfigWriter(account string) bucket.Writer {
	return bucket.Writer{Service: ConfigRole.Service, Prefix: "AWSLogs/" + account + "/Config/", ListsBucket: true}
}

// Services the organization may run for the account, set up outside the baseline (OrganizationManaged).
const (
	// OrgConfig is AWS Config's recorder and delivery channel.
	OrgConfig = "config"
	// OrgSecurityHub is Security Hub and its standards.
	OrgSecurityHub = "securityhub"
	// OrgInspector is Amazon Inspector's scanning.
	OrgInspector = "inspector"
)

// OrganizationServices are the values OrganizationManaged takes.
var OrganizationServices = []string{OrgConfig, OrgSecurityHub, OrgInspector}

// AccountRules are AWS's HIPAA conformance pack as the account runs it: without the rules each stack's
// network declares for itself (conformance.PerStack, in network.Vpc), with the
// platform's facts as parameters. Only 443 is open to the world (the load balancers); the password policy
// parameters are those of PasswordPolicy, which a test holds together.
func AccountRules() ([]conformance.Rule, error) {
	rules, err := conformance.Without(conformance.HIPAASecurity(), conformance.PerStack...)
	if err != nil {
		return nil, err
	}
	return conformance.Tailor(rules, map[string]map[string]string{
		"vpc-sg-open-only-to-authorized-ports": {"authorizedTcpPorts": "443"},
	})
}

// configRecorder declares what records the account's resources for AWS Config: AWS Config's
// service-linked role (adopted when it exists), the recorder of every supported type with the global ones
// (IAM) recorded in this, the baseline's region only, as AWS advises, its delivery channel to the trail
// bucket encrypted with the logs key, and the recorder started. It returns what a conformance pack must
// wait for.
func configRecorder(ctx *pulumi.Context, name string, a *AccountArgs, trailBucket *bucket.Bucket, parent, retain pulumi.ResourceOption) (pulumi.Resource, error) {
	recName := name + "-config"
	role, err := NewRole(ctx, recName, ConfigRole, a.Tags, parent, retain)
	if err != nil {
		return nil, err
	}
	recorder, err := cfg.NewRecorder(ctx, recName, &cfg.RecorderArgs{
		Name:    pulumi.String(a.RecorderName),
		RoleArn: role.Arn,
		RecordingGroup: &cfg.RecorderRecordingGroupArgs{
			AllSupported:               pulumi.Bool(true),
			IncludeGlobalResourceTypes: pulumi.Bool(true),
		},
	}, parent, retain)
	if err != nil {
		return nil, fmt.Errorf("declaring the AWS Config recorder: %w", err)
	}
	channel, err := cfg.NewDeliveryChannel(ctx, recName, &cfg.DeliveryChannelArgs{
		Name:         pulumi.String(a.RecorderName),
		S3BucketName: trailBucket.BucketName,
		S3KmsKeyArn:  a.LogsKeyArn,
		SnapshotDeliveryProperties: &cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs{
			DeliveryFrequency: pulumi.String("TwentyFour_Hours"),
		},
	}, parent, retain, pulumi.DependsOn(append([]pulumi.Resource{recorder}, trailBucket.Ready...)))
	if err != nil {
		return nil, fmt.Errorf("declaring the AWS Config delivery channel: %w", err)
	}
	// A recorder starts only once it has a delivery channel.
	status, err := cfg.NewRecorderStatus(ctx, recName, &cfg.RecorderStatusArgs{
		Name:      recorder.Name,
		IsEnabled: pulumi.Bool(true),
	}, parent, retain, pulumi.DependsOn([]pulumi.Resource{channel}))
	if err != nil {
		return nil, fmt.Errorf("starting the AWS Config recorder: %w", err)
	}
	return status, nil
}

// conformancePack declares AWS's HIPAA conformance pack as the account runs it, from AccountRules. A
// template over AWS Config's inline limit is put in the trail bucket under the Config prefix and read from
// there.
func conformancePack(ctx *pulumi.Context, name string, a *AccountArgs, trailBucket pulumi.StringOutput, recording []pulumi.Resource, inlineLimit int, parent, retain pulumi.ResourceOption) (*cfg.ConformancePack, error) {
	rules, err := AccountRules()
	if err != nil {
		return nil, err
	}
	body, err := conformance.Template(rules, conformance.Scope{})
	if err != nil {
		return nil, err
	}
	packName := name + "-hipaa-security"
	args := &cfg.ConformancePackArgs{Name: pulumi.String(packName)}
	opts := []pulumi.ResourceOption{parent, retain, pulumi.DependsOn(recording)}
	if len(body) < inlineLimit {
		args.TemplateBody = pulumi.String(body)
	} else {
		key := "AWSLogs/" + a.AccountID + "/Config/conformance-packs/" + packName + ".json"
		object, err := s3.NewBucketObjectv2(ctx, packName, &s3.BucketObjectv2Args{
			Bucket:      trailBucket,
			Key:         pulumi.String(key),
			Content:     pulumi.String(body),
			ContentType: pulumi.String("application/json"),
			Tags:        naming.Tags(a.Tags, packName),
		}, parent, retain)
		if err != nil {
			return nil, fmt.Errorf("putting the conformance pack's template: %w", err)
		}
		args.TemplateS3Uri = pulumi.Sprintf("s3://%s/%s", trailBucket, key)
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{object}))
	}
	pack, err := cfg.NewConformancePack(ctx, packName, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("declaring the HIPAA conformance pack: %w", err)
	}
	return pack, nil
}
