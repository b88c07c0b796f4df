package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/check"
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
	}
	aws.string("defaultTags", defaultTags(ctx.Stack()))

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

	if c.Database.HighAvailability && c.Database.Replicas < 1 {
		own.fail("dbReplicas", fmt.Errorf("got %d with dbHighAvailability true; want at least 1", c.Database.Replicas))
	}
	if len(problems) > 0 {
		return nil, &ConfigError{Stack: ctx.Stack(), Problems: problems}
	}
	return c, nil
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
