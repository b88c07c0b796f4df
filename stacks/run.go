package stacks

import (
	"fmt"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/baseline"
	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/firewall"
	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/components/monitoring"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/outputs"
)

// Run is the platform program: main.go hands it to pulumi.Run.
func Run(ctx *pulumi.Context) error {
	cfg, err := LoadConfig(ctx)
	if err != nil {
		return err
	}
	identity, err := aws.GetCallerIdentity(ctx, nil)
	if err != nil {
		return fmt.Errorf("looking up the AWS account: %w", err)
	}
	zones, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{State: pulumi.StringRef("available")})
	if err != nil {
		return fmt.Errorf("looking up availability zones: %w", err)
	}
	if len(zones.Names) < cfg.AvailabilityZones {
		return &ConfigError{Stack: cfg.Stack, Problems: []Problem{{
			Key:     cfg.Project + ":availabilityZones",
			Message: fmt.Sprintf("got %d, but region %s has %d zones available", cfg.AvailabilityZones, cfg.Region, len(zones.Names)),
		}}}
	}
	return deploy(ctx, cfg, identity.AccountId, zones.Names[:cfg.AvailabilityZones])
}

// Platform is what one stack declares, for its exports.
type Platform struct {
	Keys     *kms.Keys
	Network  *network.Vpc
	Firewall *firewall.SecurityGroups
	Buckets  map[string]*bucket.Bucket
	Baseline *baseline.Account
	Database *database.Cluster
	Registry *registry.Repository
	Release  *Release
	Web      *app.Tier
	Engine   *app.Tier
	// MonitoringHost is where the Nagios host is placed, before the database that admits it.
	MonitoringHost *database.MonitoringHost
	Monitoring     *monitoring.Monitoring
}

// deploy wires the components in dependency order.
func deploy(ctx *pulumi.Context, cfg *Config, accountID string, zones []string) error {
	n := naming.Namer{Project: cfg.Project, Stack: cfg.Stack, DataClass: cfg.DataClass}
	tags := n.Tags()
	// Stateful resources (keys, buckets) are protected where the stack asks: a destroy or a replacement
	// then stops instead of losing data.
	stateful := pulumi.Protect(cfg.Protect)

	p := &Platform{Buckets: map[string]*bucket.Bucket{}}
	var err error
	if p.Keys, err = kms.NewKeys(ctx, n.Name("keys"), &kms.KeysArgs{
		AccountID:             accountID,
		Region:                cfg.Region,
		CreateAutoScalingRole: cfg.AccountBaseline,
		Tags:                  tags,
	}, stateful); err != nil {
		return err
	}
	if p.Network, err = network.NewVpc(ctx, n.Name("vpc"), &network.VpcArgs{
		CidrBlock:            cfg.VpcCidr,
		AvailabilityZones:    zones,
		NatGatewayPerZone:    cfg.NatGatewayPerZone,
		AccountID:            accountID,
		Region:               cfg.Region,
		FlowLogKmsKeyArn:     p.Keys.LogsKeyArn,
		FlowLogRetentionDays: cfg.LogRetentionDays,
		Tags:                 tags,
	}); err != nil {
		return err
	}
	if p.Firewall, err = firewall.NewSecurityGroups(ctx, n.Name("sg"), firewallArgs(p.Network, tags)); err != nil {
		return err
	}
	if err := buckets(ctx, n, cfg, accountID, p, stateful); err != nil {
		return err
	}
	if cfg.Registry.Owner {
		if p.Registry, err = newRegistry(ctx, n, cfg, accountID, p); err != nil {
			return err
		}
	}
	p.Release = resolveRelease(ctx, cfg, accountID, p.Registry)
	if p.MonitoringHost, err = monitoringHost(n, p); err != nil {
		return err
	}
	if p.Database, err = newDatabase(ctx, n, cfg, accountID, p); err != nil {
		return err
	}
	if err := newTiers(ctx, n, cfg, p, p.Release); err != nil {
		return err
	}
	if p.Monitoring, err = newMonitoring(ctx, n, cfg, accountID, p); err != nil {
		return err
	}
	if cfg.AccountBaseline {
		if p.Baseline, err = baseline.NewAccount(ctx, n.Name("baseline"), &baseline.AccountArgs{
			AccountID:        accountID,
			Region:           cfg.Region,
			LogsKeyArn:       p.Keys.LogsKeyArn,
			EbsKeyArn:        p.Keys.EbsKeyArn,
			AccessLogBucket:  p.Buckets["logs"].BucketName,
			LogRetentionDays: cfg.LogRetentionDays,
			Tags:             tags,
		}, stateful); err != nil {
			return err
		}
	}
	export(ctx, cfg, p)
	return nil
}

// buckets creates the log bucket first, since every other bucket logs its access there, then the data
// and backup buckets.
func buckets(ctx *pulumi.Context, n naming.Namer, cfg *Config, accountID string, p *Platform, opts ...pulumi.ResourceOption) error {
	logs, err := bucket.NewBucket(ctx, n.Name("logs"), &bucket.BucketArgs{
		KmsKeyArn:       p.Keys.LogsKeyArn,
		BucketName:      bucketName(n, "logs", accountID),
		AccessLogSink:   true,
		AccountID:       accountID,
		Purpose:         "logs",
		ExpireAfterDays: cfg.LogRetentionDays,
		ForceDestroy:    cfg.ForceDestroy,
		Tags:            n.Tags(),
	}, opts...)
	if err != nil {
		return err
	}
	p.Buckets["logs"] = logs
	if p.Buckets["lb-logs"], err = newLoadBalancerLogs(ctx, n, cfg, accountID, p, opts...); err != nil {
		return err
	}

	var lock *bucket.ObjectLock
	if cfg.BackupObjectLock {
		lock = &bucket.ObjectLock{Mode: "COMPLIANCE", Days: cfg.BackupRetentionDays}
	}
	for _, spec := range []struct {
		name string
		args *bucket.BucketArgs
	}{
		{"data", &bucket.BucketArgs{
			BucketName:      bucketName(n, "data", accountID),
			Purpose:         "data",
			KmsKeyArn:       p.Keys.S3KeyArn,
			AccessLogBucket: logs.BucketName,
			ForceDestroy:    cfg.ForceDestroy,
			Tags:            n.Tags(),
		}},
		{"backups", &bucket.BucketArgs{
			BucketName:            bucketName(n, "backups", accountID),
			Purpose:               "backups",
			KmsKeyArn:             p.Keys.S3KeyArn,
			AccessLogBucket:       logs.BucketName,
			NoncurrentVersionDays: cfg.BackupRetentionDays,
			ObjectLock:            lock,
			ForceDestroy:          cfg.ForceDestroy,
			Tags:                  n.Tags(),
		}},
	} {
		b, err := bucket.NewBucket(ctx, n.Name(spec.name), spec.args, opts...)
		if err != nil {
			return err
		}
		p.Buckets[spec.name] = b
	}
	return nil
}

// bucketName is a bucket's global name: the stack-qualified name and the account, so the same stack in
// two accounts does not collide, and the name is known before deployment.
func bucketName(n naming.Namer, name, accountID string) string {
	return n.Name(name) + "-" + accountID
}

// ExportRelease exports what tools read back from a deployed stack: the release it runs (as configured
// and by digest), its owner and, for a demo, its expiry.
func ExportRelease(ctx *pulumi.Context, cfg *Config, image pulumi.StringOutput) {
	ctx.Export(outputs.Release, pulumi.Map{
		"requested": pulumi.String(cfg.Release.Image),
		"image":     image,
	})
	ctx.Export(outputs.Owner, pulumi.String(cfg.Owner))
	if !cfg.ExpiresAt.IsZero() {
		ctx.Export(outputs.ExpiresAt, pulumi.String(cfg.ExpiresAt.UTC().Format(time.RFC3339)))
	}
}

func export(ctx *pulumi.Context, cfg *Config, p *Platform) {
	ctx.Export("vpcId", p.Network.VpcId)
	ctx.Export("publicSubnetIds", p.Network.PublicSubnetIds)
	ctx.Export("appSubnetIds", p.Network.AppSubnetIds)
	ctx.Export("dataSubnetIds", p.Network.DataSubnetIds)
	ctx.Export("securityGroupIds", p.Firewall.GroupIds)
	ctx.Export("flowLogGroup", p.Network.FlowLogGroupName)
	ctx.Export("kmsKeyArns", pulumi.StringMap{
		kms.EBS:     p.Keys.EbsKeyArn,
		kms.S3:      p.Keys.S3KeyArn,
		kms.Logs:    p.Keys.LogsKeyArn,
		kms.Secrets: p.Keys.SecretsKeyArn,
	})
	names := pulumi.StringMap{}
	for k, b := range p.Buckets {
		names[k] = b.BucketName
	}
	ctx.Export("buckets", names)
	ctx.Export("databaseHosts", pulumi.ToMap(hostsMap(p.Database.Hosts)))
	ctx.Export("databasePrimary", p.Database.PrimaryAddress)
	ctx.Export("databaseCACert", p.Database.CACertPem)
	ctx.Export("databaseHostConfig", p.Database.HostConfig)
	ExportRelease(ctx, cfg, p.Release.Image)
	ctx.Export("appUrl", pulumi.String("https://"+cfg.App.Domain))
	ctx.Export("loadBalancerDns", p.Web.DnsName)
	ctx.Export("tiers", pulumi.Map{
		"web":    pulumi.Map{"group": p.Web.GroupName, "logGroup": p.Web.LogGroupName},
		"engine": pulumi.Map{"group": p.Engine.GroupName, "logGroup": p.Engine.LogGroupName},
	})
	if p.Registry != nil {
		ctx.Export("repositoryUrl", p.Registry.RepositoryUrl)
	}
	ctx.Export("monitoring", pulumi.Map{
		"host":         pulumi.String(p.Monitoring.Address),
		"instanceId":   p.Monitoring.InstanceId,
		"topicArn":     p.Monitoring.TopicArn,
		"alarms":       pulumi.ToStringArray(p.Monitoring.Alarms),
		"nagiosConfig": pulumi.ToStringMap(p.Monitoring.NagiosConfig),
		"webInterface": pulumi.Sprintf("aws ssm start-session --target %s --document-name AWS-StartPortForwardingSession --parameters portNumber=80,localPortNumber=8080, then http://localhost:8080/nagios4", p.Monitoring.InstanceId),
	})
	if p.Baseline != nil {
		ctx.Export("trailArn", p.Baseline.TrailArn)
		ctx.Export("guardDutyDetectorId", p.Baseline.DetectorId)
	}
}
