package stacks

import (
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/acm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/database"
)

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

// tiers creates the web tier behind the load balancer and the engine tier, both running the release
// and both connecting to the database primary with verified TLS.
func (s *stack) tiers() error {
	web, err := s.tierArgs("web", s.found.webImage, s.cfg.InstanceTypes.App, s.cfg.App, s.Groups.App)
	if err != nil {
		return err
	}
	public := make([]pulumi.StringInput, len(s.Network.Tiers.Public))
	for i, sn := range s.Network.Tiers.Public {
		public[i] = sn.ID
	}
	web.LoadBalancer = &app.LoadBalancer{
		SubnetIds:          public,
		SecurityGroupId:    s.Groups.LoadBalancer,
		CertificateArn:     s.found.certificateArn,
		LogBucket:          s.Buckets.LoadBalancerLogs.BucketName,
		LogBucketReady:     s.Buckets.LoadBalancerLogs.Ready,
		LogPrefix:          loadBalancerLogPrefix,
		DeletionProtection: s.cfg.Protect,
		RequestsPerTarget:  s.cfg.App.Target,
		RateLimit:          s.cfg.App.RateLimit,
	}
	if s.Web, err = app.NewTier(s.ctx, s.n.Name("web"), web); err != nil {
		return err
	}
	engine, err := s.tierArgs("engine", s.found.engineImage, s.cfg.InstanceTypes.Engine, s.cfg.Engine, s.Groups.Engine)
	if err != nil {
		return err
	}
	engine.CPUTarget = s.cfg.Engine.Target
	s.Engine, err = app.NewTier(s.ctx, s.n.Name("engine"), engine)
	return err
}

// tierArgs are what the web and engine tiers share: the release, the app subnets, the keys, the
// database's address, port and secret, and an image of the tier's architecture.
func (s *stack) tierArgs(role string, ami pulumi.StringInput, instanceType string, t TierConfig, group pulumi.StringOutput) (*app.TierArgs, error) {
	db := s.Database
	return &app.TierArgs{
		Role:             role,
		Image:            s.Release.Image,
		RepositoryArn:    pulumi.String(s.Release.RepositoryArn),
		InstanceType:     instanceType,
		AmiId:            ami,
		Subnets:          s.Network.Tiers.App,
		VpcId:            s.Network.VpcId,
		SecurityGroupId:  group,
		EbsKeyArn:        s.Keys.EbsKeyArn,
		LogsKeyArn:       s.Keys.LogsKeyArn,
		LogRetentionDays: s.cfg.LogRetentionDays,
		// The host fetches the credential for the container, which reads it and the CA from files: the
		// container never holds the instance's role (the metadata hop limit stays 1). The credential is
		// JSON, a login role and its password, both of which a rotation changes (hostconfig.Rotation): the
		// container reads the file as it connects.
		Secrets:       []app.Secret{{Env: "DATABASE_CREDENTIALS_FILE", File: "database-credentials.json", Arn: db.AppSecretArn}},
		SecretsKeyArn: s.Keys.SecretsKeyArn,
		Files:         []app.File{{Env: "DATABASE_CA_FILE", File: "database-ca.pem", Content: db.CACertPem}},
		// Every member, for libpq's multi-host connection: with target_session_attrs=read-write it connects
		// to whichever member is primary and, after a failover, reconnects to the new one with no
		// configuration change or restart; read-only work may take prefer-standby (libpq 14 or newer).
		// Client-side, because a stable endpoint would need a load balancer or a DNS record that follows
		// the leader, and Patroni's REST API, which could say who leads, admits only client certificates.
		Environment: map[string]pulumi.StringInput{
			"DATABASE_HOST":                           pulumi.String(db.ClientHosts()),
			"DATABASE_PORT":                           pulumi.String(strconv.Itoa(database.PgPort)),
			"DATABASE_NAME":                           pulumi.String(database.AppDatabase),
			"DATABASE_SSLMODE":                        pulumi.String("verify-full"),
			"DATABASE_TARGET_SESSION_ATTRS":           pulumi.String("read-write"),
			"DATABASE_READ_ONLY_TARGET_SESSION_ATTRS": pulumi.String("prefer-standby"),
		},
		MinSize:      t.MinSize,
		MaxSize:      t.MaxSize,
		Region:       s.cfg.Region,
		Tags:         s.n.Tags(),
		LaunchTags:   s.cfg.DefaultTags,
		NetworkPaths: s.Network.Paths,
	}, nil
}
