package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/hipaa-platform/platform/components/app"
	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/imageref"
	"github.com/hipaa-platform/platform/internal/naming"
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
	Database            DatabaseConfig
	Release             ReleaseConfig
	Registry            RegistryConfig
	App                 TierConfig
	Engine              TierConfig
	// ExpiresAt is when a demo stack may be reaped; zero for a stack that does not expire.
	ExpiresAt time.Time
	// Owner is who the stack is for, from aws:defaultTags.
	Owner string
	// Monitoring are the monitoring dials.
	Monitoring MonitoringConfig
}

// MonitoringConfig are the monitoring dials.
type MonitoringConfig struct {
	AlertEmails []string
	ImageName   string
}

// ReleaseConfig is what the tiers run.
type ReleaseConfig struct {
	// Image is the reference as configured; Ref is it parsed.
	Image string
	Ref   imageref.Ref
	// BuildContext is a directory to build and push as Ref's tag; empty to run a pushed image.
	BuildContext string
}

// RegistryConfig says where releases come from.
type RegistryConfig struct {
	Owner         bool
	Account       string
	PullAccounts  []string
	ReplicaRegion string
}

// TierConfig are the dials of the web or engine tier.
type TierConfig struct {
	MinSize, MaxSize int
	// Target is requests per host per minute (web) or average CPU percent (engine).
	Target int
	// Domain is the web tier's host name, whose certificate the load balancer serves.
	Domain string
}

// DatabaseConfig are the Postgres cluster's dials.
type DatabaseConfig struct {
	Replicas              int
	HighAvailability      bool
	VolumeSizeGiB         int
	VolumeIops            int
	VolumeThroughputMiBps int
	ArchiveTimeoutSeconds int
	ImageName             string
}

// InstanceTypes are the EC2 types of each tier; every one must run with dedicated tenancy.
type InstanceTypes struct {
	App        string
	Engine     string
	Database   string
	Monitoring string
}

// Problem is one invalid configuration value.
type Problem struct {
	// Key is the fully qualified key, such as hipaa:vpcCidr.
	Key string
	// Message says what was found and what is allowed.
	Message string
}

// ConfigError lists every invalid value of a stack's configuration at once, so an operator fixes them in
// one pass.
type ConfigError struct {
	Stack    string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s: %d invalid configuration value(s); nothing was created:", e.Stack, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Key, p.Message)
	}
	return b.String()
}

// Keys reports the keys with problems, in order.
func (e *ConfigError) Keys() []string {
	keys := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		keys[i] = p.Key
	}
	return keys
}

// reader reads keys of one namespace and collects every problem instead of stopping at the first.
type reader struct {
	ns       string
	cfg      *config.Config
	problems *[]Problem
}

func (r reader) fail(key string, err error) {
	*r.problems = append(*r.problems, Problem{Key: r.ns + ":" + key, Message: err.Error()})
}

func (r reader) string(key string, check func(string) error) string {
	v, err := r.cfg.Try(key)
	if err != nil {
		r.fail(key, missing(err))
		return ""
	}
	if check != nil {
		if err := check(v); err != nil {
			r.fail(key, err)
		}
	}
	return v
}

func (r reader) int(key string, check func(int) error) int {
	raw, err := r.cfg.Try(key)
	if err != nil {
		r.fail(key, missing(err))
		return 0
	}
	v, err := r.cfg.TryInt(key)
	if err != nil {
		r.fail(key, fmt.Errorf("got %q, want a whole number", raw))
		return 0
	}
	if check != nil {
		if err := check(v); err != nil {
			r.fail(key, err)
		}
	}
	return v
}

func (r reader) strings(key string, check func(string) error) []string {
	raw, err := r.cfg.Try(key)
	if err != nil {
		r.fail(key, missing(err))
		return nil
	}
	var v []string
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		r.fail(key, fmt.Errorf("got %s, want a list of strings", raw))
		return nil
	}
	for i, s := range v {
		if err := check(s); err != nil {
			r.fail(fmt.Sprintf("%s[%d]", key, i), err)
		}
	}
	return v
}

func (r reader) bool(key string) bool {
	raw, err := r.cfg.Try(key)
	if err != nil {
		r.fail(key, missing(err))
		return false
	}
	v, err := r.cfg.TryBool(key)
	if err != nil {
		r.fail(key, fmt.Errorf("got %q, want true or false", raw))
	}
	return v
}

func missing(err error) error {
	if errors.Is(err, config.ErrMissingVar) {
		return errors.New("not set; it is declared with its default in Pulumi.yaml, so run the program through pulumi or platformctl")
	}
	return err
}

// LoadConfig reads and validates the stack's configuration. It returns a *ConfigError naming every bad
// key, or the typed Config.
func LoadConfig(ctx *pulumi.Context) (*Config, error) {
	var problems []Problem
	own := reader{ns: ctx.Project(), cfg: config.New(ctx, ""), problems: &problems}
	aws := reader{ns: "aws", cfg: config.New(ctx, "aws"), problems: &problems}

	c := &Config{
		Project:             ctx.Project(),
		Stack:               ctx.Stack(),
		Region:              aws.string("region", region),
		DataClass:           own.string("dataClass", func(s string) error { return check.OneOf(s, naming.PHI, naming.Synthetic) }),
		AccountBaseline:     own.bool("accountBaseline"),
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
			Database:   own.string("dbInstanceType", check.DedicatedInstanceType),
			Monitoring: own.string("monitoringInstanceType", check.DedicatedInstanceType),
		},
		Database: DatabaseConfig{
			Replicas:              own.int("dbReplicas", check.Between(0, database.MaxReplicas)),
			HighAvailability:      own.bool("dbHighAvailability"),
			VolumeSizeGiB:         own.int("dbVolumeSizeGiB", check.Between(database.MinVolumeGiB, database.MaxVolumeGiB)),
			VolumeIops:            own.int("dbVolumeIops", check.Between(database.MinIops, database.MaxIops)),
			VolumeThroughputMiBps: own.int("dbVolumeThroughputMiBps", check.Between(database.MinThroughputMiBps, database.MaxThroughputMiBps)),
			ArchiveTimeoutSeconds: own.int("dbArchiveTimeoutSeconds", check.Between(database.MinArchiveTimeout, database.MaxArchiveTimeout)),
			ImageName:             own.string("dbImageName", nonEmpty),
		},
		Release: ReleaseConfig{
			Image:        own.string("release", nil),
			BuildContext: own.string("imageBuildContext", nil),
		},
		Registry: RegistryConfig{
			Owner:         own.bool("registryOwner"),
			Account:       own.string("registryAccount", optional(accountID)),
			PullAccounts:  own.strings("registryPullAccounts", accountID),
			ReplicaRegion: own.string("registryReplicaRegion", optional(region)),
		},
		App: TierConfig{
			MinSize: own.int("appMinSize", check.Between(1, app.MaxSize)),
			MaxSize: own.int("appMaxSize", check.Between(1, app.MaxSize)),
			Target:  own.int("appRequestsPerTarget", check.Between(app.MinRequestsPerTarget, app.MaxRequestsPerTarget)),
			Domain:  own.string("appDomain", check.HostName),
		},
		Engine: TierConfig{
			MinSize: own.int("engineMinSize", check.Between(1, app.MaxSize)),
			MaxSize: own.int("engineMaxSize", check.Between(1, app.MaxSize)),
			Target:  own.int("engineCpuTarget", check.Between(app.MinCPUTarget, app.MaxCPUTarget)),
		},
	}
	c.Monitoring = MonitoringConfig{
		AlertEmails: own.strings("alertEmails", emailAddress),
		ImageName:   own.string("monitoringImageName", nonEmpty),
	}
	if raw := own.string("expiresAt", nil); raw != "" {
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			own.fail("expiresAt", fmt.Errorf("got %q, want an RFC 3339 time such as 2026-12-01T17:00:00Z", raw))
		}
		c.ExpiresAt = t
	}
	c.checkRelease(own)
	c.Owner = ownerOf(aws.string("defaultTags", defaultTags(ctx.Stack())))

	// Rules across keys: throw-away data only may be destroyed with its buckets, and what is protected
	// cannot be force-destroyed.
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
	if c.Registry.ReplicaRegion != "" && !c.Registry.Owner {
		own.fail("registryReplicaRegion", errors.New("set on a stack without registryOwner; replication is configured once per account, by the repository's owner"))
	}
	if c.Registry.ReplicaRegion != "" && c.Registry.ReplicaRegion == c.Region {
		own.fail("registryReplicaRegion", fmt.Errorf("got %s, the stack's own region; want another", c.Region))
	}
	if c.Registry.Owner && c.Registry.Account != "" {
		own.fail("registryAccount", fmt.Errorf("got %s with registryOwner true; an owner pulls from its own account, so leave it empty", c.Registry.Account))
	}
	if len(c.Registry.PullAccounts) > 0 && !c.Registry.Owner {
		own.fail("registryPullAccounts", errors.New("set on a stack without registryOwner; only the repository's owner grants pulls"))
	}

	if c.Database.HighAvailability && c.Database.Replicas < 1 {
		own.fail("dbReplicas", fmt.Errorf("got %d with dbHighAvailability true; want at least 1", c.Database.Replicas))
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Stack: ctx.Stack(), Problems: problems}
	}
	return c, nil
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
		if !c.Registry.Owner {
			own.fail("imageBuildContext", errors.New("set on a stack without registryOwner; only the repository's owner builds and pushes"))
		}
		if ref.Digest != "" || ref.Tag == "" {
			own.fail("release", fmt.Errorf("got %q with imageBuildContext; want the tag to push the build as, such as build-1a2b3c", c.Release.Image))
		}
	}
}

// RepositoryName is the account's one container repository.
func RepositoryName(project string) string { return project + "-app" }

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

// optional accepts the empty string, and checks any other value.
func optional(check func(string) error) func(string) error {
	return func(s string) error {
		if s == "" {
			return nil
		}
		return check(s)
	}
}

func nonEmpty(s string) error {
	if s == "" {
		return errors.New("empty; want a value")
	}
	return nil
}

func region(s string) error {
	if s == "" {
		return errors.New("not set; want an AWS region such as us-east-1")
	}
	return nil
}

// ownerOf reads the Owner tag of a valid aws:defaultTags.
func ownerOf(defaultTags string) string {
	var v struct {
		Tags map[string]string `json:"tags"`
	}
	_ = json.Unmarshal([]byte(defaultTags), &v) // checked by defaultTags; an invalid value is reported there
	return v.Tags["Owner"]
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
