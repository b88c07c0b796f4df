package stacks

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/bucket"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/naming"
)

// hostImage is the application hosts' image: the newest Amazon Linux 2023, which has Docker in its
// repositories and the AWS CLI installed. The web and engine tiers reach the package mirror through the
// NAT gateways; a new image is rolled out by the same instance refresh as a release.
var hostImage = ec2.LookupAmiArgs{
	Owners:     []string{"amazon"},
	MostRecent: pulumi.BoolRef(true),
	Filters: []ec2.GetAmiFilter{
		{Name: "name", Values: []string{"al2023-ami-2023.*-kernel-*-x86_64"}},
		{Name: "state", Values: []string{"available"}},
	},
}

// certificate finds the newest issued ACM certificate for domain, or else the wildcard certificate of its
// parent domain (one *.demo.example.com serves every demo stack).
func certificate(ctx *pulumi.Context, domain string) (*acm.LookupCertificateResult, error) {
	lookup := func(d string) (*acm.LookupCertificateResult, error) {
		return acm.LookupCertificate(ctx, &acm.LookupCertificateArgs{
			Domain: pulumi.StringRef(d), Statuses: []string{"ISSUED"}, MostRecent: pulumi.BoolRef(true),
		})
	}
	cert, err := lookup(domain)
	if err == nil {
		return cert, nil
	}
	if _, parent, ok := strings.Cut(domain, "."); ok && strings.Contains(parent, ".") {
		if wild, werr := lookup("*." + parent); werr == nil {
			return wild, nil
		}
	}
	return nil, err
}

// loadBalancerLogPrefix is where the web tier's load balancer writes its access logs.
const loadBalancerLogPrefix = "web"

// newLoadBalancerLogs creates the bucket the load balancer logs to. Elastic Load Balancing writes as
// the region's load balancing account where the region has one, else as its log delivery service.
func newLoadBalancerLogs(ctx *pulumi.Context, n naming.Namer, cfg *Config, accountID string, p *Platform, opts ...pulumi.ResourceOption) (*bucket.Bucket, error) {
	prefix := fmt.Sprintf("%s/AWSLogs/%s/", loadBalancerLogPrefix, accountID)
	writers := []bucket.Writer{{Service: "logdelivery.elasticloadbalancing.amazonaws.com", Prefix: prefix}}
	if elbAccount, err := elb.GetServiceAccount(ctx, &elb.GetServiceAccountArgs{Region: pulumi.StringRef(cfg.Region)}); err == nil {
		writers = append(writers, bucket.Writer{Principal: elbAccount.Arn, Prefix: prefix})
	}
	return bucket.NewBucket(ctx, n.Name("lb-logs"), &bucket.BucketArgs{
		BucketName:       bucketName(n, "lb-logs", accountID),
		LoadBalancerLogs: true,
		Purpose:          naming.PurposeLoadBalancerLogs,
		AccessLogBucket:  p.Buckets["logs"].BucketName,
		AccountID:        accountID,
		Writers:          writers,
		ExpireAfterDays:  cfg.LogRetentionDays,
		ForceDestroy:     cfg.ForceDestroy,
		Tags:             n.Tags(),
	}, opts...)
}

// newTiers creates the web tier behind the load balancer and the engine tier, both running the release
// and both connecting to the database primary with verified TLS.
func newTiers(ctx *pulumi.Context, n naming.Namer, cfg *Config, p *Platform, release *Release) error {
	ami, err := ec2.LookupAmi(ctx, &hostImage)
	if err != nil {
		return fmt.Errorf("finding the application hosts' image: %w", err)
	}
	cert, err := certificate(ctx, cfg.App.Domain)
	if err != nil {
		return fmt.Errorf("finding the issued certificate for %s (config %s:appDomain): %w", cfg.App.Domain, cfg.Project, err)
	}
	env := map[string]pulumi.StringInput{
		"DATABASE_HOST":       p.Database.PrimaryAddress,
		"DATABASE_PORT":       pulumi.String("5432"),
		"DATABASE_NAME":       pulumi.String(database.AppDatabase),
		"DATABASE_SSLMODE":    pulumi.String("verify-full"),
		"DATABASE_SECRET_ARN": p.Database.AppSecretArn,
		"DATABASE_CA_PEM_B64": p.Database.CACertPem.ApplyT(func(pem string) string {
			return base64.StdEncoding.EncodeToString([]byte(pem))
		}).(pulumi.StringOutput),
	}
	common := func(role, instanceType string, t TierConfig, sg string) *app.TierArgs {
		return &app.TierArgs{
			Role:             role,
			Image:            release.Image,
			RepositoryArn:    pulumi.String(release.RepositoryArn),
			InstanceType:     instanceType,
			AmiId:            pulumi.String(ami.Id),
			Subnets:          p.Network.Tiers["app"],
			VpcId:            p.Network.VpcId,
			SecurityGroupId:  p.Firewall.ID(sg),
			EbsKeyArn:        p.Keys.EbsKeyArn,
			LogsKeyArn:       p.Keys.LogsKeyArn,
			LogRetentionDays: cfg.LogRetentionDays,
			SecretArns:       pulumi.StringArray{p.Database.AppSecretArn},
			SecretsKeyArn:    p.Keys.SecretsKeyArn,
			Environment:      env,
			MinSize:          t.MinSize,
			MaxSize:          t.MaxSize,
			Region:           cfg.Region,
			Tags:             n.Tags(),
		}
	}

	web := common("web", cfg.InstanceTypes.App, cfg.App, SgApp)
	var public []pulumi.StringInput
	for _, s := range p.Network.Tiers["public"] {
		public = append(public, s.ID)
	}
	web.LoadBalancer = &app.LoadBalancer{
		SubnetIds:          public,
		SecurityGroupId:    p.Firewall.ID(SgLoadBalancer),
		CertificateArn:     cert.Arn,
		LogBucket:          p.Buckets["lb-logs"].BucketName,
		LogPrefix:          loadBalancerLogPrefix,
		DeletionProtection: cfg.Protect,
		RequestsPerTarget:  cfg.App.Target,
	}
	if p.Web, err = app.NewTier(ctx, n.Name("web"), web); err != nil {
		return err
	}
	engine := common("engine", cfg.InstanceTypes.Engine, cfg.Engine, SgEngine)
	engine.CPUTarget = cfg.Engine.Target
	p.Engine, err = app.NewTier(ctx, n.Name("engine"), engine)
	return err
}
