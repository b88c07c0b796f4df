package stacks

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/backup"
	"github.com/hipaa-platform/platform/components/baseline"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/firewall"
	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/components/kms"
	"github.com/hipaa-platform/platform/components/monitoring"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/components/patching"
	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/project"
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
		return &project.ConfigError{Stack: cfg.Stack, Problems: []project.Problem{{
			Key:     cfg.Project + ":availabilityZones",
			Message: fmt.Sprintf("got %d, but region %s has %d zones available", cfg.AvailabilityZones, cfg.Region, len(zones.Names)),
		}}}
	}
	s := &stack{
		ctx: ctx, cfg: cfg, account: identity.AccountId, zones: zones.Names[:cfg.AvailabilityZones],
		n:        naming.Namer{Project: cfg.Project, Stack: cfg.Stack, DataClass: cfg.DataClass},
		Platform: Platform{Images: map[string]string{}},
	}
	return s.deploy()
}

// Platform is what one stack declares, for its exports.
type Platform struct {
	// AutoScalingRole is the account's Auto Scaling service-linked role, in an account stack only.
	AutoScalingRole *iam.ServiceLinkedRole
	Keys            *kms.Keys
	Network         *network.Vpc
	Firewall        *firewall.SecurityGroups
	Groups          Groups
	Buckets         Buckets
	Baseline        *baseline.Account
	Registry        *registry.Repository
	Release         *Release
	// MonitoringHost is where the Nagios host is placed, before the database that admits it.
	MonitoringHost database.MonitoringHost
	Database       *database.Cluster
	// Backup is the database hosts' AWS Backup plan; nil in a stack that may be force-destroyed.
	Backup     *backup.Plan
	Web        *app.Tier
	Engine     *app.Tier
	Monitoring *monitoring.Monitoring
	Patching   *patching.Patching
	// ImagePipelines build the database and monitoring images, in an account stack only.
	ImagePipelines *images.Pipelines
	// Images are the AMIs the tiers run, by the configuration key that pins each.
	Images map[string]string
}

// stack is one stack's wiring: its context, configuration, account, zones and namer, and what it has
// declared so far. Each step of deploy adds one component from what the steps before it made.
type stack struct {
	ctx     *pulumi.Context
	cfg     *Config
	account string
	zones   []string
	n       naming.Namer
	found   found
	Platform
}

// step is one step of a stack's deployment.
type step struct {
	what string
	run  func() error
}

// deploy wires the components in dependency order: an account stack's baseline, or an environment.
func (s *stack) deploy() error {
	steps := []step{
		{"Auto Scaling role", s.requireAutoScalingRole},
		{"look-ups", s.lookUp},
		{"keys", s.keys},
		{"network", s.network},
		{"firewall", s.firewall},
		{"buckets", s.buckets},
		{"release", s.release},
		{"monitoring host", s.placeMonitoring},
		{"database", s.database},
		{"AWS Backup", s.backups},
		{"tiers", s.tiers},
		{"monitoring", s.monitoring},
		{"patching", s.patching},
	}
	export := s.export
	if s.cfg.AccountBaseline {
		steps = []step{
			{"look-ups", s.lookUpAccount},
			{"Auto Scaling role", s.autoScalingRole},
			{"keys", s.accountKeys},
			{"log bucket", s.logBucket},
			{"baseline", s.baseline},
			{"registry", s.registry},
			{"build network", s.buildNetwork},
			{"image pipelines", s.imagePipelines},
		}
		export = s.exportAccount
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			return err
		}
	}
	export()
	return nil
}

// stateful protects keys, buckets and the database where the stack asks, and everything an account
// stack declares: a destroy or a replacement then stops instead of losing data or the account's audit
// trail.
func (s *stack) stateful() pulumi.ResourceOption {
	return pulumi.Protect(s.cfg.Protect || s.cfg.AccountBaseline)
}

// peerAccounts are the accounts beyond the stack's own whose resources its hosts reach: the registry's,
// where releases are pulled from another account.
func (s *stack) peerAccounts() []string {
	if a := s.cfg.Registry.Account; a != "" && a != s.account {
		return []string{a}
	}
	return nil
}

// recording is what records the account's resources for AWS Config when this stack declares it (an
// account stack's baseline), which the stack's conformance packs wait for; nil in an environment, which
// its account stack deployed before.
func (s *stack) recording() []pulumi.Resource {
	if s.Baseline == nil {
		return nil
	}
	return s.Baseline.Recording
}

func (s *stack) keys() (err error) {
	s.Keys, err = kms.NewKeys(s.ctx, s.n.Name("keys"), &kms.KeysArgs{
		AccountID: s.account,
		Region:    s.cfg.Region,
		Tags:      s.n.Tags(),
	}, s.stateful())
	return err
}

// network declares the environment's VPC.
func (s *stack) network() error { return s.newNetwork("vpc") }

// newNetwork declares a VPC of the stack's block and zones, named name: an environment's, or an account
// stack's build network.
func (s *stack) newNetwork(name string) (err error) {
	s.Network, err = network.NewVpc(s.ctx, s.n.Name(name), &network.VpcArgs{
		CidrBlock:            s.cfg.VpcCidr,
		AvailabilityZones:    s.zones,
		NatGatewayPerZone:    s.cfg.NatGatewayPerZone,
		AccountID:            s.account,
		Region:               s.cfg.Region,
		FlowLogKmsKeyArn:     s.Keys.LogsKeyArn,
		FlowLogRetentionDays: s.cfg.LogRetentionDays,
		RecordedBy:           s.recording(),
		PeerAccounts:         s.peerAccounts(),
		BuildsImages:         s.cfg.AccountBaseline,
		Tags:                 s.n.Tags(),
	})
	return err
}
