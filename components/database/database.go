package database

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ebs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/monitoring/nagios"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:database:Cluster"

// Limits of the dials, which the stack configuration checks too.
const (
	MaxReplicas                            = 5
	MinVolumeGiB, MaxVolumeGiB             = 20, 16384
	MinIops, MaxIops                       = 3000, 16000
	MinThroughputMiBps, MaxThroughputMiBps = 125, 1000
	MinArchiveTimeout, MaxArchiveTimeout   = 15, 3600
	// PgBackRestTLSPort is where the primary serves pgBackRest to the backup standby.
	PgBackRestTLSPort = 8432
)

// PgPort is where Postgres listens.
const PgPort = 5432

// AppDatabase and AppUser are the application's database and the role that owns it, which the
// application acts as through one of its two logins (hostconfig.Params.AppLogins).
const AppDatabase, AppUser = "clinic", "app"

// MonitoringUser is the role the monitoring host's checks connect as, through one of its two logins.
const MonitoringUser = "nagios"

// Defaults.
const (
	defaultVolumeGiB       = 100
	defaultIops            = 3000
	defaultThroughputMiBps = 125
	defaultArchiveTimeout  = 60
	secretRecoveryDays     = 30
	// primaryWaitSeconds bounds one converge run's wait of a replica for its primary; the next run waits
	// again, after the unit's back-off.
	primaryWaitSeconds        = 600
	pgVersion                 = 15
	dataDevice                = "/dev/sdf" // on Nitro an NVMe device; the bootstrap finds it
	rootVolumeGiB             = 30
	certificateValidityHours  = 24 * 365
	caValidityHours           = 24 * 365 * 5
	certificateEarlyRenewHour = 24 * 30
)

// Volume sizes the data volume of every host (gp3).
type Volume struct {
	// SizeGiB is the volume size, 20 to 16384. Optional; default 100.
	SizeGiB int
	// Iops is the provisioned IOPS, 3000 to 16000. Optional; default 3000.
	Iops int
	// ThroughputMiBps is the provisioned throughput, 125 to 1000. Optional; default 125.
	ThroughputMiBps int
}

// ClusterArgs configures the cluster.
type ClusterArgs struct {
	// InstanceType is the hosts' EC2 type, a family that runs with dedicated tenancy. Required.
	InstanceType string
	// AmiId is the database image: PostgreSQL 15, pgBackRest and the AWS CLI installed, since the data
	// subnets cannot reach a package mirror. Required.
	AmiId pulumi.StringInput
	// ImageBuilderArn is the Image Builder image AmiId was made as (the AMI's Ec2ImageBuilderArn tag),
	// which each host records. Optional: an image without one fails the pack's ec2-image-built-by-account.
	ImageBuilderArn string
	// Replicas is how many streaming replicas follow the primary, 0 to 5. Optional; default 0.
	Replicas int
	// HighAvailability requires at least one replica, in another zone than the primary. Optional.
	HighAvailability bool
	// SynchronousReplication makes every commit wait until a replica has it, and lets Patroni promote
	// only that replica: a transaction a client saw committed survives the loss of the primary, at the
	// cost of a round trip to another zone per commit. Requires a replica. Optional; default false.
	SynchronousReplication bool
	// Subnets are the isolated data subnets, with zones and blocks; the primary takes the first, each
	// replica the next in turn. Required: at least one, and two with HighAvailability.
	Subnets []network.SubnetInfo
	// SecurityGroupId is the database hosts' group (5432 from the application, monitoring and the
	// replicas). Required.
	SecurityGroupId pulumi.StringInput
	// ClientCIDRs are the blocks the application connects from. Required.
	ClientCIDRs []string
	// MonitoringHost is the Nagios host: Postgres admits the monitoring user from its address alone, each
	// host's NRPE answers it alone, and it gets a client certificate from the cluster's CA. Required for a
	// cluster of two hosts, whose store's third voter it runs (Cluster.Witness). Optional otherwise.
	MonitoringHost *MonitoringHost
	// Volume sizes each host's data volume. Optional; defaults as Volume says.
	Volume Volume
	// EbsKeyArn encrypts the volumes; SecretsKeyArn the secrets; BackupKeyArn the backups; LogsKeyArn each
	// host's log group. Required.
	EbsKeyArn, SecretsKeyArn, BackupKeyArn, LogsKeyArn pulumi.StringInput
	// LogRetentionDays is how long each host's log group keeps its logs, a CloudWatch Logs retention of at
	// least 365. Required.
	LogRetentionDays int
	// BackupKeyAlias is the backup key's alias ARN, which pgBackRest names the key by: known before
	// deployment, so each host's whole configuration is, and a preview can check it. Required.
	BackupKeyAlias string
	// BackupBucketName is the backup bucket's name, known before deployment. Required.
	BackupBucketName string
	// BackupBucketArn is the backup bucket's ARN. Required.
	BackupBucketArn pulumi.StringInput
	// BackupRetentionDays is how long full backups (and the WAL they need) are kept. Required.
	BackupRetentionDays int
	// ArchiveTimeoutSeconds bounds the recovery point objective: WAL is archived at least this often,
	// 15 to 3600. Optional; default 60.
	ArchiveTimeoutSeconds int
	// CAGenerations are the cluster's internal CAs, by generation name: the first issues every host's
	// certificate, and every one listed is trusted, by the hosts and the application. One normally; two
	// while the CA rotates, in three updates, each converged everywhere before the next (platformctl
	// rotate --what ca): [old new] trusts the new CA, [new old] issues from it, [new] drops the old one.
	// Optional; default [1].
	CAGenerations []string
	// Region is the cluster's region (the S3 endpoint). Required.
	Region string
	// DisposableSecrets deletes the cluster's secrets at once when they are destroyed, for a stack of
	// synthetic data that is destroyed and created again under the same name: Secrets Manager keeps a
	// deleted secret's name taken for its recovery window (RecoveryWindowInDays, 7 to 30; 0 deletes at
	// once). Optional; default false, a 30-day window in which a deleted secret can be restored.
	DisposableSecrets bool
	// NetworkPaths are the routes and endpoints the hosts reach AWS through as they boot
	// (network.Vpc.Paths): the hosts are created after them. Optional.
	NetworkPaths []pulumi.Resource
	// Drill schedules the restore drill, and every primary writes the canary it checks. Optional; no
	// drill without it.
	Drill *DrillArgs
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// MonitoringHost is the monitoring host, at a fixed address.
type MonitoringHost struct {
	// Name is its name, the common name of its client certificate. Required.
	Name string
	// Address is its fixed private IPv4 address. Required.
	Address string
}

// Monitoring: the NRPE port and the namespace the hosts publish their metrics in.
const (
	NrpePort         = nagios.DefaultNrpePort
	MetricsNamespace = "HIPAA/Database"
)

// Host is one database host as operators and monitoring see it.
type Host struct {
	Name    string `json:"name"`
	Role    string `json:"role"`
	Address string `json:"address"`
	Zone    string `json:"zone"`
}

// Cluster is the database cluster.
type Cluster struct {
	pulumi.ResourceState

	// Hosts lists the hosts, primary first; their addresses are fixed, so they are known before deployment.
	Hosts []Host
	// PrimaryAddress is the private address of the host that is primary when the cluster is made; with
	// replicas Patroni moves the role, and clients name every host (ClientHosts).
	PrimaryAddress pulumi.StringOutput `pulumi:"primaryAddress"`
	// AppSecretArn is the secret holding the application's password.
	AppSecretArn pulumi.StringOutput `pulumi:"appSecretArn"`
	// MonitoringSecretArn is the secret holding the monitoring user's password.
	MonitoringSecretArn pulumi.StringOutput `pulumi:"monitoringSecretArn"`
	// CACertPem is the internal CAs' certificates, every generation's (CAGenerations), which clients
	// verify the servers with.
	CACertPem pulumi.StringOutput `pulumi:"caCertPem"`
	// HostConfig is each host's rendered postgresql.conf, pg_hba.conf and pgbackrest.conf, for operators.
	HostConfig pulumi.StringMapOutput `pulumi:"hostConfig"`
	// MonitoringTLSSecretArn is the secret holding the monitoring host's client key and certificate;
	// empty without a MonitoringHost.
	MonitoringTLSSecretArn pulumi.StringOutput `pulumi:"monitoringTlsSecretArn"`
	// BackupHost is the host that takes the backups.
	BackupHost string
	// InstanceIds are the hosts' instances, by host name.
	InstanceIds map[string]pulumi.StringOutput
	// MonitoringSecretName and MonitoringTLSSecretName name the secrets the monitoring host reads: the
	// monitoring user's password and its client certificate (the latter empty without a MonitoringHost).
	MonitoringSecretName, MonitoringTLSSecretName string
	// MonitoringSecretVersions hold those secrets' values, which the monitoring host waits for.
	MonitoringSecretVersions []pulumi.Resource
	// Patroni says Patroni runs the cluster and chooses its primary (every cluster with a replica).
	Patroni bool
	// DrillGroup is the restore drill host's Auto Scaling group and DrillEvidence where its evidence
	// records are (DrillEvidence); both empty without a drill.
	DrillGroup, DrillEvidence string
	// Witness is the etcd member the monitoring host runs for a cluster of two database hosts, so that
	// the store's majority outlives either of them; its DataDir and TLS are the monitoring host's to
	// fill. Nil for other clusters.
	Witness *hostconfig.Etcd
}

func (a *ClusterArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("database %q: args are required", name)
	}
	if err := check.DedicatedInstanceType(a.InstanceType); err != nil {
		return fmt.Errorf("database %q: InstanceType: %w", name, err)
	}
	if err := check.Between(0, MaxReplicas)(a.Replicas); err != nil {
		return fmt.Errorf("database %q: Replicas: %w", name, err)
	}
	if a.SynchronousReplication && a.Replicas < 1 {
		return fmt.Errorf("database %q: SynchronousReplication: got %d replicas; want at least 1 to commit on", name, a.Replicas)
	}
	if a.Replicas == 1 && a.MonitoringHost == nil {
		return fmt.Errorf("database %q: MonitoringHost is required with 1 replica: it runs the third voter of the cluster's store", name)
	}
	if a.HighAvailability && a.Replicas < 1 {
		return fmt.Errorf("database %q: Replicas: got %d with HighAvailability; want at least 1 replica in another zone", name, a.Replicas)
	}
	if len(a.Subnets) == 0 {
		return fmt.Errorf("database %q: Subnets is empty; want the data subnets", name)
	}
	if a.HighAvailability && len(a.Subnets) < 2 {
		return fmt.Errorf("database %q: Subnets: got %d with HighAvailability; want at least 2 zones", name, len(a.Subnets))
	}
	for i, s := range a.Subnets {
		if !s.CIDR.IsValid() || s.CIDR.Bits() > network.MaxFixedSubnetBits || s.Zone == "" {
			return fmt.Errorf("database %q: Subnets[%d]: want a zone and an IPv4 block of /%d or larger", name, i, network.MaxFixedSubnetBits)
		}
	}
	if err := CheckCAGenerations(a.CAGenerations); err != nil {
		return fmt.Errorf("database %q: CAGenerations: %w", name, err)
	}
	if len(a.ClientCIDRs) == 0 {
		return fmt.Errorf("database %q: ClientCIDRs is empty; want the application's subnets", name)
	}
	for i, c := range a.ClientCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			return fmt.Errorf("database %q: ClientCIDRs[%d] %q is not a CIDR block", name, i, c)
		}
	}
	if m := a.MonitoringHost; m != nil {
		if addr, err := netip.ParseAddr(m.Address); err != nil || !addr.Is4() {
			return fmt.Errorf("database %q: MonitoringHost.Address %q is not an IPv4 address", name, m.Address)
		}
		if m.Name == "" {
			return fmt.Errorf("database %q: MonitoringHost.Name is required", name)
		}
	}
	if err := check.LogRetention(a.LogRetentionDays); err != nil {
		return fmt.Errorf("database %q: LogRetentionDays: %w", name, err)
	}
	for field, v := range map[string]pulumi.StringInput{"AmiId": a.AmiId, "SecurityGroupId": a.SecurityGroupId, "EbsKeyArn": a.EbsKeyArn,
		"SecretsKeyArn": a.SecretsKeyArn, "BackupKeyArn": a.BackupKeyArn, "BackupBucketArn": a.BackupBucketArn, "LogsKeyArn": a.LogsKeyArn} {
		if v == nil {
			return fmt.Errorf("database %q: %s is required", name, field)
		}
	}
	if a.BackupBucketName == "" {
		return fmt.Errorf("database %q: BackupBucketName is required", name)
	}
	if !strings.HasPrefix(a.BackupKeyAlias, "arn:") || !strings.Contains(a.BackupKeyAlias, ":alias/") {
		return fmt.Errorf("database %q: BackupKeyAlias %q is not a KMS alias ARN (arn:aws:kms:<region>:<account>:alias/<name>)", name, a.BackupKeyAlias)
	}
	if err := check.BackupRetention(a.BackupRetentionDays); err != nil {
		return fmt.Errorf("database %q: BackupRetentionDays: %w", name, err)
	}
	if t := a.ArchiveTimeoutSeconds; t != 0 && (t < MinArchiveTimeout || t > MaxArchiveTimeout) {
		return fmt.Errorf("database %q: ArchiveTimeoutSeconds: got %d, want %d to %d (or 0 for %d)", name, t, MinArchiveTimeout, MaxArchiveTimeout, defaultArchiveTimeout)
	}
	// Zero means the default; anything else must be within the limits.
	for _, dial := range []struct {
		field    string
		value    int
		min, max int
	}{
		{"Volume.SizeGiB", a.Volume.SizeGiB, MinVolumeGiB, MaxVolumeGiB},
		{"Volume.Iops", a.Volume.Iops, MinIops, MaxIops},
		{"Volume.ThroughputMiBps", a.Volume.ThroughputMiBps, MinThroughputMiBps, MaxThroughputMiBps},
	} {
		if dial.value == 0 {
			continue
		}
		if err := check.Between(dial.min, dial.max)(dial.value); err != nil {
			return fmt.Errorf("database %q: %s: %w", name, dial.field, err)
		}
	}
	if err := a.withDefaults().Volume.Check(); err != nil {
		return fmt.Errorf("database %q: %w", name, err)
	}
	if a.Region == "" {
		return fmt.Errorf("database %q: Region is required", name)
	}
	if a.Drill != nil {
		return a.Drill.validate(name)
	}
	return nil
}

// gp3's ratios (Amazon EBS User Guide, "General Purpose SSD volumes", gp3): at most 500 provisioned
// IOPS per GiB of volume, and at most 0.25 MiB/s of provisioned throughput per provisioned IOPS. EC2
// refuses a volume outside them when it creates or modifies it.
const (
	MaxIopsPerGiB       = 500
	IopsPerMiBps        = 4 // 0.25 MiB/s per IOPS
	volumeRatioGuidance = "EBS allows a gp3 volume at most 500 IOPS per GiB and 0.25 MiB/s of throughput per IOPS"
)

// VolumeError is a combination of a volume's dials that EBS refuses; Field is the Volume field to change.
type VolumeError struct{ Field, Message string }

func (e *VolumeError) Error() string { return "Volume." + e.Field + ": " + e.Message }

// Check checks the volume's dials against each other: IOPS within what its size allows, throughput
// within what its IOPS allow. It returns a *VolumeError.
func (v Volume) Check() error {
	if v.Iops > MaxIopsPerGiB*v.SizeGiB {
		return &VolumeError{"Iops", fmt.Sprintf("got %d IOPS for %d GiB; want at most %d (%s)", v.Iops, v.SizeGiB, MaxIopsPerGiB*v.SizeGiB, volumeRatioGuidance)}
	}
	if v.ThroughputMiBps*IopsPerMiBps > v.Iops {
		return &VolumeError{"ThroughputMiBps", fmt.Sprintf("got %d MiB/s with %d IOPS; want at most %d MiB/s, or more IOPS (%s)", v.ThroughputMiBps, v.Iops, v.Iops/IopsPerMiBps, volumeRatioGuidance)}
	}
	return nil
}

// recoveryWindow is the recovery window of the cluster's secrets.
func (a *ClusterArgs) recoveryWindow() int {
	if a.DisposableSecrets {
		return 0
	}
	return secretRecoveryDays
}

func (a ClusterArgs) withDefaults() ClusterArgs {
	if a.Volume.SizeGiB == 0 {
		a.Volume.SizeGiB = defaultVolumeGiB
	}
	if a.Volume.Iops == 0 {
		a.Volume.Iops = defaultIops
	}
	if a.Volume.ThroughputMiBps == 0 {
		a.Volume.ThroughputMiBps = defaultThroughputMiBps
	}
	if a.ArchiveTimeoutSeconds == 0 {
		a.ArchiveTimeoutSeconds = defaultArchiveTimeout
	}
	if len(a.CAGenerations) == 0 {
		a.CAGenerations = []string{FirstCAGeneration}
	}
	return a
}

// plan places the hosts: the primary in the first subnet, each replica in the next subnet in turn, each
// at the next fixed address of its subnet, in the block the network reserves for them.
func plan(name string, a ClusterArgs) ([]Host, error) {
	used := map[int]int{}
	var hosts []Host
	for i := 0; i <= a.Replicas; i++ {
		sn := i % len(a.Subnets)
		addr, err := a.Subnets[sn].Fixed(used[sn])
		if err != nil {
			return nil, fmt.Errorf("database %q: placing host %d: %w", name, i, err)
		}
		used[sn]++
		role := hostconfig.Replica
		if i == 0 {
			role = hostconfig.Primary
		}
		hosts = append(hosts, Host{Name: fmt.Sprintf("%s-%d", name, i), Role: role, Address: addr.String(), Zone: a.Subnets[sn].Zone})
	}
	return hosts, nil
}

// slot names a replica's replication slot.
func slot(host string) string { return strings.NewReplacer("-", "_", ".", "_").Replace(host) }

// NewCluster creates the cluster.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	hosts, err := plan(name, a)
	if err != nil {
		return nil, err
	}

	comp := &Cluster{Hosts: hosts}
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	creds, err := newCredentials(ctx, name, &a, parent)
	if err != nil {
		return nil, err
	}
	certified := hosts
	if m := a.MonitoringHost; m != nil {
		certified = append(slices.Clone(hosts), Host{Name: m.Name, Role: "monitoring", Address: m.Address})
	}
	pki, err := newPKI(ctx, name, &a, certified, parent)
	if err != nil {
		return nil, err
	}
	configs := pulumi.StringMap{}
	comp.InstanceIds = map[string]pulumi.StringOutput{}
	for i, h := range hosts {
		logs, err := hostrole.NewLogGroup(ctx, h.Name, a.LogsKeyArn, a.LogRetentionDays, a.Tags, parent)
		if err != nil {
			return nil, err
		}
		// A host that may lead rotates the clients' credentials when it does.
		rotates := pulumi.StringArray{}
		if mayLead(h, a.patroni()) {
			for _, c := range RotatedCredentials {
				rotates = append(rotates, creds.arns[c])
			}
		}
		identity, err := newInstanceProfile(ctx, name, h, &a, secretsOf(h, a.patroni(), creds, pki), rotates, logs.Arn, parent)
		if err != nil {
			return nil, err
		}
		cfg, id, err := newHost(ctx, name, &a, hosts, i, creds, pki, identity, parent)
		if err != nil {
			return nil, err
		}
		configs[h.Name] = cfg
		comp.InstanceIds[h.Name] = id
	}

	if a.Drill != nil {
		if _, err := newDrill(ctx, name, &a, params(name, &a, hosts, 0, creds, pki), parent); err != nil {
			return nil, err
		}
		comp.DrillGroup, comp.DrillEvidence = DrillGroup(name), DrillEvidence(a.Drill.EvidenceBucketName, name)
	}
	comp.PrimaryAddress = pulumi.String(hosts[0].Address).ToStringOutput()
	comp.AppSecretArn = creds.arns["app"]
	comp.MonitoringSecretArn = creds.arns["monitoring"]
	comp.CACertPem = pki.caCert
	comp.HostConfig = configs.ToStringMapOutput()
	comp.BackupHost = backupHost(hosts)
	comp.MonitoringSecretName = creds.names["monitoring"]
	comp.Witness = comp.witness(name, &a)
	comp.Patroni = a.patroni()
	comp.MonitoringTLSSecretArn = pulumi.String("").ToStringOutput()
	if m := a.MonitoringHost; m != nil {
		comp.MonitoringTLSSecretArn = pki.hostSecretArns[m.Name]
		comp.MonitoringTLSSecretName = pki.hostSecretNames[m.Name]
		comp.MonitoringSecretVersions = []pulumi.Resource{creds.versions["monitoring"], pki.hostSecretVersions[m.Name]}
	}
	hostsJSON, _ := json.Marshal(hosts)
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"primaryAddress":         comp.PrimaryAddress,
		"hosts":                  pulumi.String(hostsJSON),
		"appSecretArn":           comp.AppSecretArn,
		"monitoringSecretArn":    comp.MonitoringSecretArn,
		"caCertPem":              comp.CACertPem,
		"hostConfig":             comp.HostConfig,
		"monitoringTlsSecretArn": comp.MonitoringTLSSecretArn,
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// InitialStage is the staging label of a rotated credential's first version, which keeps it.
const InitialStage = "hipaa-initial"

// firstLogins are the credentials that rotate (hostconfig.Params.Credentials), by name, which is also
// the role their password is generated for, with the login role each is made with.
var firstLogins = func() map[string]string {
	out := map[string]string{}
	for _, c := range (hostconfig.Params{AppUser: AppUser, MonitoringUser: MonitoringUser}).Credentials() {
		out[c.Name] = c.Logins[0]
	}
	return out
}()

// RotatedCredentials are the credentials the leader rotates, by the names hipaa-db rotate and their
// CredentialAgeSeconds metric's Credential dimension give them.
var RotatedCredentials = slices.Sorted(maps.Keys(firstLogins))

// The clients' credentials' rotation (hostconfig.Rotation): checked at RotationSchedule every day on
// every member, rotated by the leader when older than RotationEveryDays; the previous credential admits
// new connections for RotationOverlapSeconds after, eight times the 15 minutes in which every client host
// reads the new one (converge.Every), so one that misses a run or two still has it in time.
const (
	RotationEveryDays      = 30
	RotationOverlapSeconds = 2 * 3600
	RotationSchedule       = "*-*-* 03:30:00"
)

// credentials are the generated passwords, each in its own secret.
type credentials struct {
	names    map[string]string // role → secret name
	arns     map[string]pulumi.StringOutput
	versions map[string]*secretsmanager.SecretVersion
}

func newCredentials(ctx *pulumi.Context, name string, a *ClusterArgs, parent pulumi.ResourceOption) (*credentials, error) {
	c := &credentials{names: map[string]string{}, arns: map[string]pulumi.StringOutput{}, versions: map[string]*secretsmanager.SecretVersion{}}
	// Only the clients' credentials are passwords: the members replicate and rewind with their
	// certificates, and the postgres superuser logs in over the socket alone (peer), so neither has one
	// to keep or rotate.
	for _, role := range RotatedCredentials {
		n := name + "-" + role
		pw, err := random.NewRandomPassword(ctx, n, &random.RandomPasswordArgs{
			Length: pulumi.Int(40), Special: pulumi.Bool(false), MinLower: pulumi.Int(4), MinUpper: pulumi.Int(4), MinNumeric: pulumi.Int(4),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("generating the %s password: %w", role, err)
		}
		secretName := name + "/" + role
		// The leader rotates the credential (hipaa-db rotate), not Secrets Manager: the secret says how
		// often, for the pack's secrets-passwords-rotated.
		tags := naming.Tags(a.Tags, n)
		tags[naming.RotationDaysTag] = pulumi.String(strconv.Itoa(RotationEveryDays))
		sec, err := secretsmanager.NewSecret(ctx, n, &secretsmanager.SecretArgs{
			Name:                 pulumi.String(secretName),
			Description:          pulumi.String("PostgreSQL " + role + " password of " + name),
			KmsKeyId:             a.SecretsKeyArn,
			RecoveryWindowInDays: pulumi.Int(a.recoveryWindow()),
			Tags:                 tags,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating the %s secret: %w", role, err)
		}
		// A client's credential is its login role and that role's password, as AWS's database secrets
		// are written; the leader rotates it (hostconfig.Rotation), with versions of its own. This first
		// version keeps a label of its own besides AWSCURRENT, so that it is never left without one:
		// Secrets Manager may delete a version without a label (DescribeSecret, VersionIdsToStages), and
		// the provider drops a deleted version from the state (its Read), so the next update would create
		// it again as AWSCURRENT, an old password put back. Its stages are the rotation's, not the
		// program's, once it runs: a difference there is not a change.
		login := firstLogins[role]
		args := &secretsmanager.SecretVersionArgs{
			SecretId: sec.ID(),
			SecretString: pw.Result.ApplyT(func(password string) (string, error) {
				b, err := json.Marshal(map[string]string{"username": login, "password": password})
				return string(b), err
			}).(pulumi.StringOutput),
			VersionStages: pulumi.StringArray{pulumi.String("AWSCURRENT"), pulumi.String(InitialStage)},
		}
		version, err := secretsmanager.NewSecretVersion(ctx, n, args, parent, pulumi.IgnoreChanges([]string{"versionStages"}))
		if err != nil {
			return nil, fmt.Errorf("storing the %s password: %w", role, err)
		}
		c.versions[role] = version
		c.names[role] = secretName
		c.arns[role] = sec.Arn
	}
	return c, nil
}

// mayLead is whether a host may be its cluster's primary, which makes the clients' logins and rotates
// them: any Patroni member, and a fixed primary.
func mayLead(h Host, patroni bool) bool { return patroni || h.Role == hostconfig.Primary }

// readsAtBoot are the credentials a host reads as it boots: those of the logins it makes if it leads.
func readsAtBoot(h Host, patroni bool) []string {
	if mayLead(h, patroni) {
		return RotatedCredentials
	}
	return nil
}

// secretsOf lists, in a fixed order, the secrets a host reads at boot: its own TLS bundle and the
// passwords readsAtBoot names.
func secretsOf(h Host, patroni bool, creds *credentials, pki *pki) pulumi.StringArray {
	arns := pulumi.StringArray{pki.hostSecretArns[h.Name]}
	for _, role := range readsAtBoot(h, patroni) {
		arns = append(arns, creds.arns[role])
	}
	return arns
}

// versionsOf are the secret versions behind secretsOf: the host is created after them, so that its
// first boot finds every value it reads.
func versionsOf(h Host, patroni bool, creds *credentials, pki *pki) []pulumi.Resource {
	out := []pulumi.Resource{pki.hostSecretVersions[h.Name]}
	for _, role := range readsAtBoot(h, patroni) {
		out = append(out, creds.versions[role])
	}
	return out
}

// newInstanceProfile gives one host exactly what it needs: its own secrets (through the secrets key,
// only via Secrets Manager), the listing of the backup bucket and the objects of the cluster's prefix
// (through the backup key, only via S3), and Session Manager in place of SSH. A replica cannot read another host's TLS key or the
// application's password. A host that may lead (mayLead) may also put new values in the secrets in rotates: the
// clients' credentials, which the leader rotates.
func newInstanceProfile(ctx *pulumi.Context, name string, h Host, a *ClusterArgs, secrets, rotates pulumi.StringArray,
	logGroupArn pulumi.StringOutput, parent pulumi.ResourceOption,
) (*hostrole.Role, error) {
	prefix := name + "/"
	policy := pulumi.All(secrets.ToStringArrayOutput(), a.BackupBucketArn, a.BackupKeyArn, a.SecretsKeyArn, logGroupArn, rotates).ApplyT(
		func(v []any) string {
			secrets, bucket, backupKey, secretsKey, logs := v[0].([]string), v[1].(string), v[2].(string), v[3].(string), v[4].(string)
			statements := append(hostrole.ReadSecrets(secrets, secretsKey, a.Region),
				// The CloudWatch agent ships the converge and PostgreSQL logs to the host's own group.
				hostrole.WriteLogs("WriteOwnLogs", logs),
			)
			statements = append(statements, hostrole.WriteSessionLogs(logs)...)
			statements = append(statements,
				// Plain ListBucket on the stack's own backup bucket, not limited to the prefix: without
				// it S3 answers a GET of a missing object with 403 instead of 404 (S3 API reference,
				// GetObject, "Permissions"), and pgBackRest cannot tell a WAL file or backup that is not
				// there yet from one it may not read. Reading and writing stay limited to the prefix.
				iampolicy.Allow("ListBackupBucket", []string{"s3:ListBucket"}, []string{bucket}),
				iampolicy.Allow("ReadWriteOwnBackups", []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, []string{bucket + "/" + prefix + "*"}),
				iampolicy.Allow("UseBackupKey", []string{"kms:Decrypt", "kms:GenerateDataKey"}, []string{backupKey}).
					When("StringEquals", "kms:ViaService", "s3."+a.Region+".amazonaws.com"),
				// PutMetricData names no resource; the namespace condition is its only limit.
				iampolicy.Allow("PublishDatabaseMetrics", []string{"cloudwatch:PutMetricData"}, []string{"*"}).
					When("StringEquals", "cloudwatch:namespace", MetricsNamespace),
				hostrole.PublishAgentMetrics(),
				hostrole.PublishConvergence(),
			)
			if rotated := v[5].([]string); len(rotated) > 0 {
				statements = append(statements, hostrole.WriteSecrets(rotated, secretsKey, a.Region)...)
			}
			return iampolicy.New(statements...).JSON()
		}).(pulumi.StringOutput)
	return hostrole.New(ctx, h.Name, "PostgreSQL "+h.Role+" "+h.Name, policy, a.Tags, parent)
}

// newHost creates one host: its data volume, its instance with the rendered user data, and the
// attachment.
func newHost(ctx *pulumi.Context, name string, a *ClusterArgs, hosts []Host, i int, creds *credentials, pki *pki,
	identity *hostrole.Role, parent pulumi.ResourceOption,
) (pulumi.StringOutput, pulumi.StringOutput, error) {
	h := hosts[i]
	subnet := a.Subnets[i%len(a.Subnets)]
	tags := naming.Tags(a.Tags, h.Name)
	tags[naming.RoleTag] = pulumi.String(naming.RoleDatabase)
	tags["DatabaseRole"] = pulumi.String(h.Role)

	vol, err := ebs.NewVolume(ctx, h.Name+"-data", &ebs.VolumeArgs{
		AvailabilityZone: pulumi.String(h.Zone),
		Type:             pulumi.String("gp3"),
		Size:             pulumi.Int(a.Volume.SizeGiB),
		Iops:             pulumi.Int(a.Volume.Iops),
		Throughput:       pulumi.Int(a.Volume.ThroughputMiBps),
		Encrypted:        pulumi.Bool(true),
		KmsKeyId:         a.EbsKeyArn,
		Tags:             naming.Tags(a.Tags, h.Name+"-data"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("creating %s's volume: %w", h.Name, err)
	}

	// Every parameter is known before deployment, so the rendered setup is too, and a preview (with the
	// policy pack's db-tls-only) sees exactly what the host will run.
	p := params(name, a, hosts, i, creds, pki)
	files, err := hostconfig.Config(p)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	userData, err := hostconfig.UserData(p)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}

	inst, err := identity.NewInstance(ctx, h.Name, hostrole.Instance{
		Ami: a.AmiId, InstanceType: a.InstanceType,
		SubnetId: subnet.ID, PrivateIp: h.Address, SecurityGroupId: a.SecurityGroupId,
		EbsKeyArn: a.EbsKeyArn, RootVolumeGiB: rootVolumeGiB,
		UserDataBase64: userData, WaitFor: append(versionsOf(h, a.patroni(), creds, pki), a.NetworkPaths...), Tags: tags, BaseTags: a.Tags,
		ImageBuilderArn: a.ImageBuilderArn,
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	attachment, err := ec2.NewVolumeAttachment(ctx, h.Name+"-data", &ec2.VolumeAttachmentArgs{
		DeviceName: pulumi.String(dataDevice), InstanceId: inst.ID(), VolumeId: vol.ID(),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, fmt.Errorf("attaching %s's volume: %w", h.Name, err)
	}
	document, err := hostconfig.Document(p)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	if err := hostrole.NewConvergence(ctx, h.Name, document, inst, a.Tags, parent, pulumi.DependsOn([]pulumi.Resource{attachment})); err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	exported, err := json.Marshal(files)
	if err != nil {
		return pulumi.StringOutput{}, pulumi.StringOutput{}, err
	}
	return pulumi.String(exported).ToStringOutput(), inst.ID().ToStringOutput(), nil
}

// ClientHosts are every host's address, comma-separated, as libpq's host takes a multi-host
// connection's: the clients select the primary with target_session_attrs.
func (c *Cluster) ClientHosts() string {
	addrs := make([]string, len(c.Hosts))
	for i, h := range c.Hosts {
		addrs[i] = h.Address
	}
	return strings.Join(addrs, ",")
}

// backupHost is the host that takes the backups: the first replica, so the primary is not slowed, or
// the primary of a cluster without replicas.
func backupHost(hosts []Host) string {
	if len(hosts) > 1 {
		return hosts[1].Name
	}
	return hosts[0].Name
}

// params are one host's hostconfig parameters on AWS.
func params(name string, a *ClusterArgs, hosts []Host, i int, creds *credentials, pki *pki) hostconfig.Params {
	h := hosts[i]
	base := fmt.Sprintf("/var/lib/postgresql/%d", pgVersion)
	conf := fmt.Sprintf("/etc/postgresql/%d/main", pgVersion)
	tlsDir := "/etc/postgresql/tls"
	p := hostconfig.Params{
		Role: h.Role, Name: h.Name, PgVersion: pgVersion,
		DataDir: base + "/main", ConfDir: conf, SocketDir: "/var/run/postgresql", LogDir: "/var/log/postgresql",
		LoggingCollector: true, ListenAddress: "*", Port: PgPort, MaxConnections: 200, MaxWalSenders: 2*MaxReplicas + 2,
		TLS:         hostconfig.TLSFiles{CertFile: tlsDir + "/server.crt", KeyFile: tlsDir + "/server.key", CAFile: tlsDir + "/ca.crt"},
		TLSDir:      tlsDir,
		DataDevice:  dataDevice,
		AppDatabase: AppDatabase, AppUser: AppUser, ReplicationUser: "replicator", MonitoringUser: MonitoringUser,
		ClientCIDRs:           a.ClientCIDRs,
		ApplicationName:       h.Name,
		SlotPrefix:            slot(name) + "_",
		PrimaryWaitSeconds:    primaryWaitSeconds,
		MountPoint:            "/var/lib/postgresql",
		AWSCLI:                "/usr/bin/aws",
		LogGroup:              hostrole.LogGroupName(h.Name),
		ArchiveTimeoutSeconds: a.ArchiveTimeoutSeconds,
		Secrets:               hostconfig.Secrets{TLS: pki.hostSecretNames[h.Name], App: creds.names["app"], Monitoring: creds.names["monitoring"]},
		Backup: hostconfig.Backup{
			ConfigFile: "/etc/pgbackrest/pgbackrest.conf", Stanza: "main",
			Bucket: a.BackupBucketName, Endpoint: "s3." + a.Region + ".amazonaws.com", Region: a.Region, URIStyle: "host", KeyType: "auto",
			KMSKeyID: a.BackupKeyAlias, Path: "/" + name + "/pgbackrest", RetentionDays: a.BackupRetentionDays, ProcessMax: 2,
			LogDir: "/var/log/pgbackrest", LockDir: "/tmp/pgbackrest", SpoolDir: "/var/spool/pgbackrest",
			FullSchedule: "Sun *-*-* 01:00:00", IncrSchedule: "Mon..Sat *-*-* 01:00:00",
		},
	}
	backupHost := backupHost(hosts)
	if m := a.MonitoringHost; m != nil {
		p.MonitoringCIDRs = []string{m.Address + "/32"}
		p.Monitoring = monitoring(name, m, p, h.Name == backupHost)
		if a.Drill != nil && h.Name == backupHost {
			p.Monitoring.DrillMarker = drillMarker(a, name)
		}
	}
	if a.Drill != nil {
		p.CanaryTable = CanaryTable
	}
	if mayLead(h, a.patroni()) {
		p.Rotation = &hostconfig.Rotation{EveryDays: RotationEveryDays, OverlapSeconds: RotationOverlapSeconds, Schedule: RotationSchedule,
			AsPostgres: []string{"runuser", "-u", "postgres", "--"}}
	}
	if a.patroni() {
		patroniRoles(&p, name, a, hosts, i, backupHost)
		return p
	}
	for _, r := range hosts[1:] {
		p.ReplicaCIDRs, p.ReplicaNames = append(p.ReplicaCIDRs, r.Address+"/32"), append(p.ReplicaNames, r.Name)
	}
	switch h.Role {
	case hostconfig.Primary:
		for _, r := range hosts[1:] {
			p.Slots = append(p.Slots, slot(r.Name))
		}
		if len(hosts) > 1 {
			p.Backup.TLSServer = &hostconfig.TLSServer{Address: h.Address, Port: PgBackRestTLSPort, ClientCN: backupHost}
		}
	case hostconfig.Replica:
		p.Primary = hostconfig.Endpoint{Host: hosts[0].Address, Port: PgPort}
		p.SlotName = slot(h.Name)
	}
	if h.Name == backupHost {
		p.Backup.Scheduled = true
		p.Backup.FromStandby = h.Role == hostconfig.Replica
		if p.Backup.FromStandby {
			p.Backup.Peers = []hostconfig.Peer{{Host: hosts[0].Address, TLSServerPort: PgBackRestTLSPort, DataDir: p.DataDir, Port: PgPort}}
		}
	}
	return p
}

// monitoring is how the monitoring host watches one database host; backups adds the check of the
// newest backup's age, on the host that takes them.
func monitoring(name string, m *MonitoringHost, p hostconfig.Params, backups bool) *hostconfig.Monitoring {
	nrpe := nagios.NrpeParams{PluginDir: "/usr/lib/nagios/plugins", DataDir: p.DataDir, CertFile: p.TLS.CertFile}
	if backups {
		nrpe.Backup = &nagios.NrpeBackup{Stanza: p.Backup.Stanza, ConfigFile: p.Backup.ConfigFile}
	}
	mon := &hostconfig.Monitoring{
		NrpePort: NrpePort, AllowedHosts: []string{m.Address}, NrpeDir: "/etc/hipaa/nrpe", NrpeConfig: "/etc/nagios/nrpe-hipaa.cfg",
		NrpeUser: "nagios", PidFile: "/run/nagios/nrpe.pid", Namespace: MetricsNamespace, Cluster: name, AsPostgres: "runuser -u postgres --",
	}
	for _, c := range nagios.NrpeCommands(nrpe) {
		mon.Commands = append(mon.Commands, hostconfig.Command{Name: c.Name, Line: c.Line})
	}
	return mon
}

// patroniRoles makes the host a Patroni member: any member may be the primary, so each admits the
// others' replication and pg_rewind, serves pgBackRest to the host that takes the backups, and that
// host reaches every other member, whichever is primary, and backs up from a standby.
func patroniRoles(p *hostconfig.Params, name string, a *ClusterArgs, hosts []Host, i int, backupHost string) {
	h := hosts[i]
	p.HA = ha(name, a, hosts)
	for j, r := range hosts {
		if j != i {
			p.ReplicaCIDRs, p.ReplicaNames = append(p.ReplicaCIDRs, r.Address+"/32"), append(p.ReplicaNames, r.Name)
		}
	}
	p.Backup.TLSServer = &hostconfig.TLSServer{Address: h.Address, Port: PgBackRestTLSPort, ClientCN: backupHost}
	if h.Name == backupHost {
		p.Backup.Scheduled, p.Backup.FromStandby = true, true
		for j, r := range hosts {
			if j != i {
				p.Backup.Peers = append(p.Backup.Peers, hostconfig.Peer{Host: r.Address, TLSServerPort: PgBackRestTLSPort, DataDir: p.DataDir, Port: PgPort})
			}
		}
	}
}
