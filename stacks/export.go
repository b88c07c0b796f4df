package stacks

import (
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/internal/outputs"
)

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

// export exports what operators and later stacks need.
func (s *stack) export() {
	ctx := s.ctx
	ctx.Export("vpcId", s.Network.VpcId)
	ctx.Export("patching", pulumi.Map{
		"group": pulumi.String(s.patchGroup()), "baselineId": s.Patching.BaselineId, "windowId": s.Patching.WindowId,
	})
	ctx.Export("publicSubnetIds", s.Network.PublicSubnetIds)
	ctx.Export("appSubnetIds", s.Network.AppSubnetIds)
	ctx.Export("dataSubnetIds", s.Network.DataSubnetIds)
	ctx.Export("securityGroupIds", s.Firewall.GroupIds)
	ctx.Export("flowLogGroup", s.Network.FlowLogGroupName)
	ctx.Export("kmsKeyArns", pulumi.StringMap{
		kms.EBS:     s.Keys.EbsKeyArn,
		kms.S3:      s.Keys.S3KeyArn,
		kms.Logs:    s.Keys.LogsKeyArn,
		kms.Secrets: s.Keys.SecretsKeyArn,
	})
	ctx.Export("buckets", s.Buckets.names())
	ctx.Export("images", pulumi.ToStringMap(s.Images))
	ctx.Export("databaseHosts", pulumi.ToMap(hostsMap(s.Database.Hosts)))
	// The primary is Patroni's to choose; clients name every member and select the writable one.
	ctx.Export("databaseClientHosts", pulumi.String(s.Database.ClientHosts()))
	ctx.Export("databaseCACert", s.Database.CACertPem)
	ctx.Export("databaseHostConfig", s.Database.HostConfig)
	ExportRelease(ctx, s.cfg, s.Release.Image)
	ctx.Export("appUrl", pulumi.String("https://"+s.cfg.App.Domain))
	ctx.Export("loadBalancerDns", s.Web.DnsName)
	ctx.Export("tiers", pulumi.Map{
		"web":    pulumi.Map{"group": s.Web.GroupName, "logGroup": s.Web.LogGroupName},
		"engine": pulumi.Map{"group": s.Engine.GroupName, "logGroup": s.Engine.LogGroupName},
	})
	ctx.Export("monitoring", pulumi.Map{
		"host":         pulumi.String(s.Monitoring.Address),
		"instanceId":   s.Monitoring.InstanceId,
		"topicArn":     s.Monitoring.TopicArn,
		"alarms":       pulumi.ToStringArray(s.Monitoring.Alarms),
		"nagiosConfig": pulumi.ToStringMap(s.Monitoring.NagiosConfig),
		"webInterface": pulumi.Sprintf("aws ssm start-session --target %s --document-name AWS-StartPortForwardingSession --parameters portNumber=80,localPortNumber=8080, then http://localhost:8080/nagios4", s.Monitoring.InstanceId),
	})
}

// hostsMap renders the hosts for a stack output.
func hostsMap(hosts []database.Host) map[string]any {
	out := map[string]any{}
	for _, h := range hosts {
		out[h.Name] = map[string]any{"role": h.Role, "address": h.Address, "zone": h.Zone}
	}
	return out
}
