package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/baseline"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/components/patching"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/imageref"
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/project"
)

// Config is a stack's configuration, typed and validated. Every field comes from a key declared, with
// its type, description and default, in Pulumi.yaml.
type Config struct {
	// Project and Stack name the stack; they are not configuration keys.
	Project string
	Stack   string

	Region              string
	DataClass           string
	AccountBaseline     bool
	VpcCidr             string
	AvailabilityZones   int
	NatGatewayPerZone   bool
	Protect             bool
	ForceDestroy        bool
	LogRetentionDays    int
	BackupRetentionDays int
	BackupObjectLock    bool
	InstanceTypes       InstanceTypes
	Images              Images
	Database            DatabaseConfig
	Release             ReleaseConfig
	Registry            RegistryConfig
	// ImageBuild is how an account stack builds the host images.
	ImageBuild ImageBuildConfig
	// Compliance is how an account stack runs AWS's own checks of the account.
	Compliance ComplianceConfig
	App        TierConfig
	Engine     TierConfig
	// ExpiresAt is when a demo stack may be reaped; zero for a stack that does not expire.
	ExpiresAt time.Time
	// Owner is who the stack is for, from aws:defaultTags.
	Owner string
	// DefaultTags are aws:defaultTags' tags, which the AWS provider puts on every resource it creates, but
	// not on what a launch template launches.
	DefaultTags map[string]string
	// Monitoring are the monitoring dials.
	Monitoring MonitoringConfig
}

// MonitoringConfig are the monitoring dials.
type MonitoringConfig struct {
	AlertEmails []string
	ImageName   string
	// PatchWindow is when the stack's hosts install Debian's security updates; PatchScan when they
	// report their patch compliance.
	PatchWindow, PatchScan string
}

// ReleaseConfig is what the tiers run.
type ReleaseConfig struct {
	// Image is the reference as configured; Ref is it parsed.
	Image string
	Ref   imageref.Ref
	// BuildContext is a directory to build and push under a tag that Ref's tag begins, followed by the
	// build's content (registry.ContentTag); empty to run a pushed image.
	BuildContext string
}

// RegistryConfig says where releases come from.
type RegistryConfig struct {
	Owner         bool
	Account       string
	PullAccounts  []string
	ReplicaRegion string
	// ReplicateTo are the accounts the owner's releases replicate to; ReplicateFrom the accounts whose
	// owners may replicate into this owner's repository.
	ReplicateTo, ReplicateFrom []string
}

// TierConfig are the dials of the web or engine tier.
type TierConfig struct {
	MinSize, MaxSize int
	// Target is requests per host per minute (web) or average CPU percent (engine).
	Target int
	// Domain is the web tier's host name, whose certificate the load balancer serves.
	Domain string
	// RateLimit is AWS WAF's limit per address in front of the web tier.
	RateLimit int
}

// DatabaseConfig are the Postgres cluster's dials.
type DatabaseConfig struct {
	Replicas               int
	HighAvailability       bool
	SynchronousReplication bool
	VolumeSizeGiB          int
	VolumeIops             int
	VolumeThroughputMiBps  int
	ArchiveTimeoutSeconds  int
	// CAGenerations are the cluster's internal CAs (database.ClusterArgs.CAGenerations).
	CAGenerations []string
	ImageName     string
	// DrillSchedule is the restore drill's cron; DrillMaxAgeDays and RestoreObjectiveMinutes its alarms'.
	DrillSchedule           string
	DrillMaxAgeDays         int
	RestoreObjectiveMinutes int
}

// Images are the AMIs pinned for the tiers; empty for the newest image of the tier's name pattern.
type Images struct {
	// App is the web and engine tiers' (Amazon Linux 2023).
	App string
	// Database and Monitoring are the account's own images of those hosts.
	Database, Monitoring string
}

// ImageBuildConfig is how an account stack's pipelines build the database and monitoring images.
type ImageBuildConfig struct {
	// ParentImage is the Debian 12 AMI pinned; empty for the newest.
	ParentImage  string
	InstanceType string
	Schedule     string
}

// ComplianceConfig is how an account stack sets up AWS Config, Security Hub and Inspector.
type ComplianceConfig struct {
	// RecorderName is the AWS Config recorder's name (baseline.AccountArgs.RecorderName).
	RecorderName string
	// OrganizationManaged are the services the organization runs for the account.
	OrganizationManaged []string
}

// InstanceTypes are the EC2 types of each tier; every one must run with dedicated tenancy.
type InstanceTypes struct {
	App        string
	Engine     string
	Database   string
	Monitoring string
}

// LoadConfig reads and validates the stack's configuration: every key in its type and range, then the
// rules across keys. It returns a *project.ConfigError naming every bad key, or the typed Config.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	own, aws, problems := readers(ctx)
	c := read(own, aws)
	c.validate(own)
	if len(*problems) > 0 {
		return nil, &project.ConfigError{Stack: ctx.Stack(), Problems: *problems}
	}
	return c, nil
}

// read reads every key, each checked on its own.
func read(own, aws reader) *Config {
	account := own.bool("accountBaseline")
	c := &Config{
		Project:             own.ns,
		Stack:               own.stack,
		Region:              aws.string("region", check.Region),
		DataClass:           own.string("dataClass", func(s string) error { return check.OneOf(s, naming.PHI, naming.Synthetic) }),
		AccountBaseline:     account,
		VpcCidr:             own.string("vpcCidr", func(s string) error { _, err := check.VpcCIDR(s); return err }),
		AvailabilityZones:   own.int("availabilityZones", check.ZoneCount),
		NatGatewayPerZone:   own.bool("natGatewayPerZone"),
		Protect:             own.bool("protect"),
		ForceDestroy:        own.bool("forceDestroy"),
		LogRetentionDays:    own.int("logRetentionDays", check.LogRetention),
		BackupRetentionDays: own.int("backupRetentionDays", check.BackupRetention),
		BackupObjectLock:    own.bool("backupObjectLock"),
		InstanceTypes: InstanceTypes{
			App:        own.string("appInstanceType", check.DedicatedInstanceType),
			Engine:     own.string("engineInstanceType", check.DedicatedInstanceType),
			Database:   own.string("dbInstanceType", x86DedicatedInstanceType),
			Monitoring: own.string("monitoringInstanceType", x86DedicatedInstanceType),
		},
		Images: Images{
			App:        own.string("appImageId", optional(check.ImageID)),
			Database:   own.string("dbImageId", optional(check.ImageID)),
			Monitoring: own.string("monitoringImageId", optional(check.ImageID)),
		},
		Database: readDatabase(own),
		Release: ReleaseConfig{
			Image:        own.string("release", nil),
			BuildContext: own.string("imageBuildContext", nil),
		},
		Registry: RegistryConfig{
			Owner:         own.bool("registryOwner"),
			Account:       own.string("registryAccount", optional(accountID)),
			PullAccounts:  own.strings("registryPullAccounts", accountID),
			ReplicaRegion: own.string("registryReplicaRegion", optional(check.Region)),
			ReplicateTo:   own.strings("registryReplicateTo", accountID),
			ReplicateFrom: own.strings("registryReplicateFrom", accountID),
		},
		Compliance: ComplianceConfig{
			RecorderName:        own.string("configRecorderName", check.ConfigRecorderName),
			OrganizationManaged: own.strings("organizationManaged", func(s string) error { return check.OneOf(s, baseline.OrganizationServices...) }),
		},
		ImageBuild: ImageBuildConfig{
			ParentImage:  own.string("imageParentId", optional(check.ImageID)),
			InstanceType: own.string("imageBuildInstanceType", x86DedicatedInstanceType),
			Schedule:     own.string("imageBuildSchedule", images.CheckSchedule),
		},
		App: TierConfig{
			MinSize:   own.int("appMinSize", check.Between(1, app.MaxSize)),
			MaxSize:   own.int("appMaxSize", check.Between(1, app.MaxSize)),
			Target:    own.int("appRequestsPerTarget", check.Between(app.MinRequestsPerTarget, app.MaxRequestsPerTarget)),
			Domain:    own.string("appDomain", forEnvironment(account, required("the application's host name, such as app.example.com", check.HostName))),
			RateLimit: own.int("wafRateLimit", check.Between(app.MinRateLimit, app.MaxRateLimit)),
		},
		Engine: TierConfig{
			MinSize: own.int("engineMinSize", check.Between(1, app.MaxSize)),
			MaxSize: own.int("engineMaxSize", check.Between(1, app.MaxSize)),
			Target:  own.int("engineCpuTarget", check.Between(app.MinCPUTarget, app.MaxCPUTarget)),
		},
		Monitoring: MonitoringConfig{
			AlertEmails: own.strings("alertEmails", emailAddress),
			PatchWindow: own.string("patchWindow", patching.CheckSchedule),
			PatchScan:   own.string("patchScan", patching.CheckSchedule),
			ImageName:   own.string("monitoringImageName", nonEmpty),
		},
		ExpiresAt: readTime(own, "expiresAt"),
	}
	c.DefaultTags = tagsOf(aws.string("defaultTags", defaultTags(own.stack)))
	c.Owner = c.DefaultTags["Owner"]
	if account {
		c.checkAccountStack(own)
	} else {
		c.checkRelease(own)
	}
	return c
}

// forEnvironment applies check in an environment's stack only: an account stack declares no
// application.
func forEnvironment(account bool, check func(string) error) func(string) error {
	if account {
		return nil
	}
	return check
}

// checkAccountStack refuses what only an environment runs: an account stack deploys no release; as
// its account's registry owner it may build one, under a tag that its release begins.
func (c *Config) checkAccountStack(own reader) {
	if c.Release.Image != "" && c.Release.BuildContext == "" {
		own.fail("release", errors.New("set on an account stack (accountBaseline true), which runs no release; leave it empty, or set imageBuildContext to build one"))
	}
	if c.Release.BuildContext != "" {
		c.Release.Ref, _ = imageref.Parse(c.Release.Image) // checkBuild refuses what does not parse as a tag
		c.checkBuild(own, c.Release.Ref)
	}
}

// checkBuild checks imageBuildContext and the tag prefix in release that it builds under.
func (c *Config) checkBuild(own reader, ref imageref.Ref) {
	if !c.Registry.Owner {
		own.fail("imageBuildContext", errors.New("set on a stack without registryOwner; only the repository's owner, its account stack, builds and pushes"))
	}
	if ref.Digest != "" || ref.Tag == "" || ref.Repository != "" || ref.Registry != "" || len(ref.Tag) > 32 {
		own.fail("release", fmt.Errorf("got %q with imageBuildContext; want the prefix of the tag the build is pushed under, such as release (pushed as release-<12 hex digits of its content>), at most 32 characters", c.Release.Image))
	}
}

func readDatabase(own reader) DatabaseConfig {
	return DatabaseConfig{
		Replicas:               own.int("dbReplicas", check.Between(0, database.MaxReplicas)),
		HighAvailability:       own.bool("dbHighAvailability"),
		SynchronousReplication: own.bool("dbSynchronousReplication"),
		VolumeSizeGiB:          own.int("dbVolumeSizeGiB", check.Between(database.MinVolumeGiB, database.MaxVolumeGiB)),
		VolumeIops:             own.int("dbVolumeIops", check.Between(database.MinIops, database.MaxIops)),
		VolumeThroughputMiBps:  own.int("dbVolumeThroughputMiBps", check.Between(database.MinThroughputMiBps, database.MaxThroughputMiBps)),
		ArchiveTimeoutSeconds:  own.int("dbArchiveTimeoutSeconds", check.Between(database.MinArchiveTimeout, database.MaxArchiveTimeout)),
		CAGenerations:          own.caGenerations("dbCAGenerations"),
		ImageName:              own.string("dbImageName", nonEmpty),
		DrillSchedule:          own.string("dbDrillSchedule", database.CheckSchedule),
		DrillMaxAgeDays:        own.int("dbDrillMaxAgeDays", check.Between(1, 35)),
		// 72 hours: the proposed update to the Security Rule asks that systems be restorable within it.
		RestoreObjectiveMinutes: own.int("dbRestoreObjectiveMinutes", check.Between(1, 72*60)),
	}
}

// readTime reads an optional RFC 3339 time; zero when the key is empty.
func readTime(own reader, key string) time.Time {
	raw := own.string(key, nil)
	if raw == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		own.fail(key, fmt.Errorf("got %q, want an RFC 3339 time such as 2026-12-01T17:00:00Z", raw))
	}
	return t
}

// validate applies the rules across keys.
func (c *Config) validate(own reader) {
	// Throw-away data only may be destroyed with its buckets, and what is protected cannot be
	// force-destroyed.
	if c.ForceDestroy && c.DataClass != naming.Synthetic {
		own.fail("forceDestroy", fmt.Errorf("true with dataClass %q; want false, or dataClass %q for a demo stack that holds no PHI", c.DataClass, naming.Synthetic))
	}
	if c.ForceDestroy && c.Protect {
		own.fail("forceDestroy", errors.New("true with protect true; want at most one of them"))
	}
	if c.BackupObjectLock && c.ForceDestroy {
		own.fail("backupObjectLock", errors.New("true with forceDestroy true: locked backups cannot be destroyed; want at most one of them"))
	}
	if c.App.MaxSize < c.App.MinSize {
		own.fail("appMaxSize", fmt.Errorf("got %d, below appMinSize %d", c.App.MaxSize, c.App.MinSize))
	}
	if c.Engine.MaxSize < c.Engine.MinSize {
		own.fail("engineMaxSize", fmt.Errorf("got %d, below engineMinSize %d", c.Engine.MaxSize, c.Engine.MinSize))
	}
	c.validateRegistry(own)
	if len(c.Compliance.OrganizationManaged) > 0 && !c.AccountBaseline {
		own.fail("organizationManaged", errors.New("set on an environment; the account's AWS Config, Security Hub and Inspector are its account stack's (accountBaseline true)"))
	}
	if c.Registry.Owner && !c.AccountBaseline {
		own.fail("registryOwner", errors.New("true on an environment; the account's repositories belong to its account stack (accountBaseline true), so that no environment's destroy takes the releases with it and the repository exists before the first release replicates into it"))
	}
	c.validateVolume(own)
	if c.Images.App != "" && check.Architecture(c.InstanceTypes.App) != check.Architecture(c.InstanceTypes.Engine) {
		own.fail("appImageId", fmt.Errorf("pins one image for the web and engine tiers, but appInstanceType %s is %s and engineInstanceType %s is %s; give them one architecture",
			c.InstanceTypes.App, check.Architecture(c.InstanceTypes.App), c.InstanceTypes.Engine, check.Architecture(c.InstanceTypes.Engine)))
	}
	if c.Database.SynchronousReplication && c.Database.Replicas < 1 {
		own.fail("dbReplicas", fmt.Errorf("got %d with dbSynchronousReplication true; want at least 1", c.Database.Replicas))
	}
	if c.Database.HighAvailability && c.Database.Replicas < 1 {
		own.fail("dbReplicas", fmt.Errorf("got %d with dbHighAvailability true; want at least 1", c.Database.Replicas))
	}
}

// validateVolume checks the database volume's IOPS against its size and its throughput against its
// IOPS, as EBS does.
func (c *Config) validateVolume(own reader) {
	d := c.Database
	v := database.Volume{SizeGiB: d.VolumeSizeGiB, Iops: d.VolumeIops, ThroughputMiBps: d.VolumeThroughputMiBps}
	var bad *database.VolumeError
	if errors.As(v.Check(), &bad) {
		key := map[string]string{"Iops": "dbVolumeIops", "ThroughputMiBps": "dbVolumeThroughputMiBps"}[bad.Field]
		own.fail(key, errors.New(bad.Message))
	}
}

func (c *Config) validateRegistry(own reader) {
	r := c.Registry
	if r.ReplicaRegion != "" && !r.Owner {
		own.fail("registryReplicaRegion", errors.New("set on a stack without registryOwner; replication is configured once per account, by the repository's owner"))
	}
	if r.ReplicaRegion != "" && r.ReplicaRegion == c.Region {
		own.fail("registryReplicaRegion", fmt.Errorf("got %s, the stack's own region; want another", c.Region))
	}
	if r.Owner && r.Account != "" {
		own.fail("registryAccount", fmt.Errorf("got %s with registryOwner true; an owner pulls from its own account, so leave it empty", r.Account))
	}
	if len(r.PullAccounts) > 0 && !r.Owner {
		own.fail("registryPullAccounts", errors.New("set on a stack without registryOwner; only the repository's owner grants pulls"))
	}
	for key, accounts := range map[string][]string{"registryReplicateTo": r.ReplicateTo, "registryReplicateFrom": r.ReplicateFrom} {
		if len(accounts) > 0 && !r.Owner {
			own.fail(key, errors.New("set on a stack without registryOwner; replication is configured once per account, by the repository's owner"))
		}
	}
	for _, a := range r.ReplicateTo {
		if slices.Contains(r.ReplicateFrom, a) {
			own.fail("registryReplicateFrom", fmt.Errorf("names %s, which registryReplicateTo names too; replication goes one way, from the account that builds", a))
		}
	}
}

// checkRelease parses the release and checks it against where images come from.
func (c *Config) checkRelease(own reader) {
	if c.Release.Image == "" {
		own.fail("release", fmt.Errorf("not set; deploy with `platformctl release promote IMAGE --to %s` or `platformctl up --stack %s` (which carries the running release forward), or pass -c %s:release=IMAGE to pulumi", c.Stack, c.Stack, c.Project))
		return
	}
	ref, err := imageref.Parse(c.Release.Image)
	if err != nil {
		own.fail("release", err)
		return
	}
	c.Release.Ref = ref
	if want := RepositoryName(c.Project); ref.Repository != "" && ref.Repository != want {
		own.fail("release", fmt.Errorf("names repository %q; the hosts may pull only from %q", ref.Repository, want))
	}
	if ref.Registry != "" {
		acct := ref.ECRAccount()
		want := c.Registry.Account
		switch {
		case acct == "":
			own.fail("release", fmt.Errorf("names registry %q, not an ECR registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com)", ref.Registry))
		case want != "" && acct != want:
			own.fail("release", fmt.Errorf("names registry account %s, but registryAccount is %s", acct, want))
		case !strings.Contains(ref.Registry, ".ecr."+c.Region+"."):
			own.fail("release", fmt.Errorf("names a registry outside the stack's region %s", c.Region))
		}
	}
	if c.Release.BuildContext != "" {
		own.fail("imageBuildContext", errors.New("set on an environment; the account stack that owns the repository builds (registryOwner there), and environments promote what it pushed"))
	}
}

// RepositoryName is the account's repository of releases, which the hosts pull from.
func RepositoryName(project string) string { return project + "-app" }

// BuildRepositoryName is the account's repository of build and pull-request images, which nothing
// replicates and no host pulls from.
func BuildRepositoryName(project string) string { return project + "-build" }

func emailAddress(s string) error {
	if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
		return fmt.Errorf("got %q, want an e-mail address such as oncall@example.com", s)
	}
	return nil
}

func accountID(s string) error {
	if !check.IsAccountID(s) {
		return fmt.Errorf("got %q, want a 12-digit AWS account ID", s)
	}
	return nil
}

// x86DedicatedInstanceType is a type that runs with dedicated tenancy and is x86_64: the database and
// monitoring hosts boot from the account's own images, which its pipelines build from Debian's amd64
// image with the agents' amd64 packages, on such a type.
func x86DedicatedInstanceType(s string) error {
	if err := check.DedicatedInstanceType(s); err != nil {
		return err
	}
	if arch := check.Architecture(s); arch != "x86_64" {
		return fmt.Errorf("%s is %s, but the account's image pipelines build x86_64 images only; want an x86_64 type such as %s", s, arch, images.DefaultInstanceType)
	}
	return nil
}

func nonEmpty(s string) error {
	if s == "" {
		return errors.New("empty; want a value")
	}
	return nil
}

// tagsOf reads the tags of a valid aws:defaultTags.
func tagsOf(defaultTags string) map[string]string {
	var v struct {
		Tags map[string]string `json:"tags"`
	}
	_ = json.Unmarshal([]byte(defaultTags), &v) // checked by defaultTags; an invalid value is reported there
	return v.Tags
}

// defaultTags checks aws:defaultTags: every resource the AWS provider creates is tagged with the project,
// environment and owner, even one a component forgets.
func defaultTags(stack string) func(string) error {
	return func(s string) error {
		var v struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return fmt.Errorf("got %q, want an object {tags: {...}}", s)
		}
		for _, k := range []string{"Project", "Environment", "Owner"} {
			if v.Tags[k] == "" {
				return fmt.Errorf("tags.%s is missing; want tags Project, Environment (%s) and Owner", k, stack)
			}
		}
		if v.Tags["Environment"] != stack {
			return fmt.Errorf("tags.Environment is %q; want the stack name %q", v.Tags["Environment"], stack)
		}
		return nil
	}
}
