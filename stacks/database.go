package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/internal/naming"
)

// newDatabase places the Postgres cluster in the data subnets, admits the application and monitoring
// from their subnets, and backs it up into the backup bucket.
func newDatabase(ctx *pulumi.Context, n naming.Namer, cfg *Config, accountID string, p *Platform) (*database.Cluster, error) {
	image, err := ec2.LookupAmi(ctx, &ec2.LookupAmiArgs{
		Owners:     []string{"self"},
		MostRecent: pulumi.BoolRef(true),
		Filters:    []ec2.GetAmiFilter{{Name: "name", Values: []string{cfg.Database.ImageName}}},
	})
	if err != nil {
		return nil, fmt.Errorf("finding the database image %q (config hipaa:dbImageName): %w", cfg.Database.ImageName, err)
	}
	var clients []string
	for _, s := range p.Network.Tiers["app"] {
		clients = append(clients, s.CIDR.String())
	}
	backups := p.Buckets["backups"]
	return database.NewCluster(ctx, n.Name("db"), &database.ClusterArgs{
		InstanceType:     cfg.InstanceTypes.Database,
		AmiId:            pulumi.String(image.Id),
		Replicas:         cfg.Database.Replicas,
		HighAvailability: cfg.Database.HighAvailability,
		Subnets:          p.Network.Tiers["data"],
		SecurityGroupId:  p.Firewall.ID(SgDatabase),
		ClientCIDRs:      clients,
		MonitoringHost:   p.MonitoringHost,
		Volume: database.Volume{
			SizeGiB: cfg.Database.VolumeSizeGiB, Iops: cfg.Database.VolumeIops, ThroughputMiBps: cfg.Database.VolumeThroughputMiBps,
		},
		EbsKeyArn:             p.Keys.EbsKeyArn,
		SecretsKeyArn:         p.Keys.SecretsKeyArn,
		BackupKeyArn:          p.Keys.S3KeyArn,
		BackupKeyAlias:        p.Keys.AliasArns[kms.S3],
		BackupBucketName:      bucketName(n, "backups", accountID),
		BackupBucketArn:       backups.Arn,
		BackupRetentionDays:   cfg.BackupRetentionDays,
		ArchiveTimeoutSeconds: cfg.Database.ArchiveTimeoutSeconds,
		Region:                cfg.Region,
		Tags:                  n.Tags(),
	}, pulumi.Protect(cfg.Protect))
}

// hostsMap renders the hosts for a stack output.
func hostsMap(hosts []database.Host) map[string]any {
	out := map[string]any{}
	for _, h := range hosts {
		out[h.Name] = map[string]any{"role": h.Role, "address": h.Address, "zone": h.Zone}
	}
	return out
}
