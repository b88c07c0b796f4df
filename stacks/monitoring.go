package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/monitoring"
	"github.com/hipaa-platform/platform/internal/naming"
)

// monitoringHost is where the Nagios host will be: a fixed address in the first app subnet, known before
// anything is created, so the database admits it alone.
func monitoringHost(n naming.Namer, p *Platform) (*database.MonitoringHost, error) {
	addr, err := p.Network.Tiers["app"][0].Address(monitoring.HostOffset)
	if err != nil {
		return nil, fmt.Errorf("placing the monitoring host: %w", err)
	}
	return &database.MonitoringHost{Name: n.Name("monitoring"), Address: addr.String()}, nil
}

// newMonitoring creates the Nagios host, the alarms and the alert topic, watching the database and the
// web tier's load balancer.
func newMonitoring(ctx *pulumi.Context, n naming.Namer, cfg *Config, accountID string, p *Platform) (*monitoring.Monitoring, error) {
	image, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		Owners:     []string{"self"},
		MostRecent: pulumi.BoolRef(true),
		Filters:    []ec2.GetAmiFilter{{Name: "name", Values: []string{cfg.Monitoring.ImageName}}},
	})
	if err != nil {
		return nil, fmt.Errorf("finding the monitoring image %q (config %s:monitoringImageName): %w", cfg.Monitoring.ImageName, cfg.Project, err)
	}
	db := p.Database
	ids := map[string]pulumi.StringInput{}
	for h, id := range db.InstanceIds {
		ids[h] = id
	}
	return monitoring.NewMonitoring(ctx, n.Name("monitoring"), &monitoring.MonitoringArgs{
		InstanceType:    cfg.InstanceTypes.Monitoring,
		AmiId:           pulumi.String(image.Id),
		Subnet:          p.Network.Tiers["app"][0],
		SecurityGroupId: p.Firewall.ID(SgMonitoring),
		EbsKeyArn:       p.Keys.EbsKeyArn,
		SecretsKeyArn:   p.Keys.SecretsKeyArn,
		AlertsKeyArn:    p.Keys.LogsKeyArn,
		Database: monitoring.Database{
			Hosts:          db.Hosts,
			InstanceIds:    ids,
			BackupHost:     db.BackupHost,
			Cluster:        n.Name("db"),
			PasswordSecret: db.MonitoringSecretName,
			TLSSecret:      db.MonitoringTLSSecretName,
			SecretArns:     pulumi.StringArray{db.MonitoringSecretArn, db.MonitoringTLSSecretArn},
		},
		LoadBalancer: &monitoring.LoadBalancer{
			ArnSuffix: p.Web.LoadBalancerArnSuffix, TargetGroupArnSuffix: p.Web.TargetGroupArnSuffix,
			Domain: cfg.App.Domain, HealthPath: app.DefaultHealthPath,
		},
		AlertEmails: cfg.Monitoring.AlertEmails,
		AccountID:   accountID,
		Region:      cfg.Region,
		Tags:        n.Tags(),
	})
}
