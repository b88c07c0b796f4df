package monitoring

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"slices"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/monitoring/nagios"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/check"
	"github.com/hipaa-platform/platform/internal/iampolicy"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Type is the component's type token.
const Type = "hipaa:monitoring:Monitoring"

// Defaults.
const (
	rootVolumeGiB = 30
	// HostOffset is the monitoring host's place in its subnet's block of fixed addresses.
	HostOffset = 0
)

// Database is the cluster Nagios and the alarms watch.
type Database struct {
	// Hosts are its hosts, primary first. Required.
	Hosts []database.Host
	// InstanceIds are the hosts' instance IDs, by host name, for their alarms. Required.
	InstanceIds map[string]pulumi.StringInput
	// BackupHost is the host that takes the backups. Required.
	BackupHost string
	// Cluster is the name the hosts publish their metrics under. Required.
	Cluster string
	// PasswordSecret and TLSSecret name the secrets of the monitoring user's password and of this
	// host's client certificate (names, known before deployment). Required.
	PasswordSecret, TLSSecret string
	// SecretArns are those two secrets' ARNs, which the host's role may read. Required.
	SecretArns pulumi.StringArrayInput
	// SecretVersions hold those two secrets' values: the host is created after them, since its first
	// boot reads them. Optional.
	SecretVersions []pulumi.Resource
	// Drill are the restore drill's limits, which its alarms hold it to. Optional; no drill alarms
	// without it.
	Drill *DrillLimits
	// Patroni says Patroni chooses the cluster's primary (database.Cluster.Patroni): the checks and alarms
	// of replication then follow whichever host leads, and a promotion is alarmed once. Optional.
	Patroni bool
	// Witness is the etcd member this host runs as the third voter of a two-host cluster's store
	// (database.Cluster.Witness), at this host's address, with this host's certificate from the
	// cluster's CA. Optional.
	Witness *hostconfig.Etcd
}

// DrillLimits are what the cluster's restore drills are held to.
type DrillLimits struct {
	// MaxAge is how long the cluster may go without a passed drill. Required.
	MaxAge time.Duration
	// RestoreObjective is the longest a drill's restore may take. Required.
	RestoreObjective time.Duration
}

// LoadBalancer is the application's load balancer, for its alarms and HTTPS checks.
type LoadBalancer struct {
	// ArnSuffix and TargetGroupArnSuffix name it in CloudWatch. Required.
	ArnSuffix, TargetGroupArnSuffix pulumi.StringInput
	// Domain is its public name; HealthPath the health check's path. Required.
	Domain, HealthPath string
}

// MonitoringArgs configures the monitoring.
type MonitoringArgs struct {
	// InstanceType is the Nagios host's EC2 type, a family that runs with dedicated tenancy. Required.
	InstanceType string
	// AmiId is the account's monitoring image: Nagios 4, the monitoring plugins, check_nrpe,
	// check_pgbackrest, Apache and the AWS CLI installed. Required.
	AmiId pulumi.StringInput
	// ImageBuilderArn is the Image Builder image AmiId was made as (the AMI's Ec2ImageBuilderArn tag),
	// which the host records. Optional: an image without one fails the pack's ec2-image-built-by-account.
	ImageBuilderArn string
	// Subnet is the private subnet the host runs in; it takes the fixed address HostOffset of it. Required.
	Subnet network.SubnetInfo
	// SecurityGroupId is the monitoring group. Required.
	SecurityGroupId pulumi.StringInput
	// EbsKeyArn encrypts the volume; SecretsKeyArn the secrets it reads; AlertsKeyArn the topic; LogsKeyArn
	// the host's log group. Required.
	EbsKeyArn, SecretsKeyArn, AlertsKeyArn, LogsKeyArn pulumi.StringInput
	// LogRetentionDays is how long the host's log group keeps its logs, at least 365. Required.
	LogRetentionDays int
	// Database is the cluster to watch. Required.
	Database Database
	// LoadBalancer is the application's load balancer. Optional.
	LoadBalancer *LoadBalancer
	// NetworkPaths are the routes and endpoints the hosts reach AWS through as they boot
	// (network.Vpc.Paths): the host is created after them. Optional.
	NetworkPaths []pulumi.Resource
	// Tiers are the application tiers whose hosts publish Converged under the tier's name: each gets an
	// alarm that fires when any of its hosts has not converged. Optional.
	Tiers []string
	// AlertEmails subscribe to the topic (each confirms by e-mail). Optional.
	AlertEmails []string
	// Thresholds are the checks' and alarms' limits. Optional; default nagios.DefaultThresholds.
	Thresholds *nagios.Thresholds
	// AccountID and Region are the stack's. Required.
	AccountID, Region string
	// Tags are added to every resource. Optional.
	Tags map[string]string
}

// Monitoring is the Nagios host, the topic and the alarms.
type Monitoring struct {
	pulumi.ResourceState

	// TopicArn is the notification topic.
	TopicArn pulumi.StringOutput `pulumi:"topicArn"`
	// InstanceId is the Nagios host.
	InstanceId pulumi.StringOutput `pulumi:"instanceId"`
	// Address is the Nagios host's fixed address.
	Address string
	// NagiosConfig is the generated Nagios configuration, by file name.
	NagiosConfig nagios.Files
	// Alarms are the CloudWatch alarms' names.
	Alarms []string
}

func (a *MonitoringArgs) validate(name string) error {
	if a == nil {
		return fmt.Errorf("monitoring %q: args are required", name)
	}
	fail := func(format string, v ...any) error {
		return fmt.Errorf("monitoring %q: %s", name, fmt.Sprintf(format, v...))
	}
	if err := check.DedicatedInstanceType(a.InstanceType); err != nil {
		return fail("InstanceType: %v", err)
	}
	if err := check.LogRetention(a.LogRetentionDays); err != nil {
		return fail("LogRetentionDays: %v", err)
	}
	for field, v := range map[string]pulumi.StringInput{"LogsKeyArn": a.LogsKeyArn, "AmiId": a.AmiId, "SecurityGroupId": a.SecurityGroupId, "EbsKeyArn": a.EbsKeyArn,
		"SecretsKeyArn": a.SecretsKeyArn, "AlertsKeyArn": a.AlertsKeyArn, "Subnet.ID": a.Subnet.ID} {
		if v == nil || v == (pulumi.StringOutput{}) {
			return fail("%s is required", field)
		}
	}
	if !a.Subnet.CIDR.IsValid() || a.Subnet.CIDR.Bits() > network.MaxFixedSubnetBits {
		return fail("Subnet.CIDR %v: want an IPv4 block of /%d or larger", a.Subnet.CIDR, network.MaxFixedSubnetBits)
	}
	d := a.Database
	switch {
	case len(d.Hosts) == 0:
		return fail("Database.Hosts is empty; want the cluster's hosts, primary first")
	case !slices.ContainsFunc(d.Hosts, func(h database.Host) bool { return h.Name == d.BackupHost }):
		return fail("Database.BackupHost %q is not one of Database.Hosts", d.BackupHost)
	case d.PasswordSecret == "" || d.TLSSecret == "" || d.SecretArns == nil:
		return fail("Database.PasswordSecret, TLSSecret and SecretArns are required")
	case d.Cluster == "":
		return fail("Database.Cluster is required")
	}
	for _, h := range d.Hosts {
		if d.InstanceIds[h.Name] == nil {
			return fail("Database.InstanceIds has no instance for host %s", h.Name)
		}
	}
	if lb := a.LoadBalancer; lb != nil {
		if lb.ArnSuffix == nil || lb.TargetGroupArnSuffix == nil {
			return fail("LoadBalancer.ArnSuffix and TargetGroupArnSuffix are required")
		}
		if err := check.HostName(lb.Domain); err != nil {
			return fail("LoadBalancer.Domain: %v", err)
		}
	}
	for i, e := range a.AlertEmails {
		if addr, err := mail.ParseAddress(e); err != nil || addr.Address != e {
			return fail("AlertEmails[%d] %q is not an e-mail address", i, e)
		}
	}
	if !check.IsAccountID(a.AccountID) || a.Region == "" {
		return fail("AccountID %q and Region %q are required", a.AccountID, a.Region)
	}
	return nil
}

// Place is where the Nagios host named name will be: the fixed address HostOffset of subnet's block, known before anything is created so that the database can admit it
// alone. The stack places the host with it before the database, and NewMonitoring puts it there.
func Place(name string, subnet network.SubnetInfo) (database.MonitoringHost, error) {
	addr, err := subnet.Fixed(HostOffset)
	if err != nil {
		return database.MonitoringHost{}, fmt.Errorf("monitoring %q: placing the host: %w", name, err)
	}
	return database.MonitoringHost{Name: name, Address: addr.String()}, nil
}

func (a MonitoringArgs) withDefaults() MonitoringArgs {
	if a.Thresholds == nil {
		t := nagios.DefaultThresholds
		a.Thresholds = &t
	}
	return a
}

// NewMonitoring creates the topic, the Nagios host and the alarms.
func NewMonitoring(ctx *pulumi.Context, name string, args *MonitoringArgs, opts ...pulumi.ResourceOption) (*Monitoring, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	a := args.withDefaults()
	host, err := Place(name, a.Subnet)
	if err != nil {
		return nil, err
	}
	if w := a.Database.Witness; w != nil && w.Address != host.Address {
		return nil, fmt.Errorf("monitoring %q: Database.Witness.Address %s is not this host's address %s", name, w.Address, host.Address)
	}
	comp := &Monitoring{Address: host.Address}
	params := nagiosParams(name, &a, comp.Address)
	files, err := nagios.Render(params)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	comp.NagiosConfig = files
	if err := ctx.RegisterComponentResource(Type, name, comp, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(comp)

	topic, err := newTopic(ctx, name, &a, parent)
	if err != nil {
		return nil, err
	}
	logs, err := hostrole.NewLogGroup(ctx, name, a.LogsKeyArn, a.LogRetentionDays, a.Tags, parent)
	if err != nil {
		return nil, err
	}
	identity, err := hostrole.New(ctx, name, "Nagios monitoring host "+name, hostPolicy(&a, topic.Arn, logs.Arn), a.Tags, parent)
	if err != nil {
		return nil, err
	}
	bundle, err := Bundle(name, &a, params, files)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	converging := Converge(name, a.Region)
	userData, err := converging.UserData(bundle)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	document, err := converging.Document(bundle)
	if err != nil {
		return nil, fmt.Errorf("monitoring %q: %w", name, err)
	}
	tags := naming.Tags(a.Tags, name)
	tags[naming.RoleTag] = pulumi.String("monitoring")
	inst, err := identity.NewInstance(ctx, name, hostrole.Instance{
		Ami: a.AmiId, InstanceType: a.InstanceType,
		SubnetId: a.Subnet.ID, PrivateIp: comp.Address, SecurityGroupId: a.SecurityGroupId,
		EbsKeyArn: a.EbsKeyArn, RootVolumeGiB: rootVolumeGiB,
		UserDataBase64: userData, WaitFor: append(slices.Clone(a.Database.SecretVersions), a.NetworkPaths...),
		Tags: tags, BaseTags: a.Tags, ImageBuilderArn: a.ImageBuilderArn,
	}, parent)
	if err != nil {
		return nil, err
	}
	if err := hostrole.NewConvergence(ctx, name, document, inst, a.Tags, parent); err != nil {
		return nil, err
	}
	comp.Alarms, err = newAlarms(ctx, name, &a, inst.ID().ToStringOutput(), topic.Arn, parent)
	if err != nil {
		return nil, err
	}

	comp.TopicArn = topic.Arn
	comp.InstanceId = inst.ID().ToStringOutput()
	config, _ := json.Marshal(files)
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"topicArn":     comp.TopicArn,
		"instanceId":   comp.InstanceId,
		"address":      pulumi.String(comp.Address),
		"nagiosConfig": pulumi.String(config),
		"alarms":       pulumi.ToStringArray(comp.Alarms),
	}); err != nil {
		return nil, err
	}
	return comp, nil
}

// nagiosParams are the Nagios configuration of the monitoring host on AWS.
func nagiosParams(name string, a *MonitoringArgs, self string) nagios.Params {
	p := nagios.Params{
		Stack: name, Dir: "/etc/nagios4/hipaa", StateDir: "/var/lib/nagios4", LogDir: "/var/log/nagios4",
		PluginDir: "/usr/lib/nagios/plugins", User: "nagios", Group: "nagios",
		Self:     nagios.Host{Name: name, Address: self},
		Database: "postgres",
		CAFile:   pkiDir + "/ca.crt", PassFile: "/var/lib/nagios/.pgpass", CredentialFile: credentialFile, NrpeCertFile: pkiDir + "/client.crt", NrpeKeyFile: pkiDir + "/client.key",
		NotifyCommand: "/usr/local/bin/hipaa-notify",
		Thresholds:    a.Thresholds,
		Patroni:       a.Database.Patroni,
	}
	for _, h := range a.Database.Hosts {
		role := nagios.Primary
		if h.Role != nagios.Primary {
			role = nagios.Replica
		}
		p.Hosts = append(p.Hosts, nagios.Host{
			Name: h.Name, Role: role, Address: h.Address, Port: database.PgPort, NrpePort: database.NrpePort,
			Backups: h.Name == a.Database.BackupHost, ApplicationName: h.Name,
		})
	}
	if lb := a.LoadBalancer; lb != nil {
		p.AppDomain, p.HealthPath = lb.Domain, lb.HealthPath
	}
	return p
}

// newTopic creates the encrypted topic, lets CloudWatch alarms of this account and the account itself
// publish to it, and subscribes the e-mail addresses.
func newTopic(ctx *pulumi.Context, name string, a *MonitoringArgs, parent pulumi.ResourceOption) (*sns.Topic, error) {
	topic, err := sns.NewTopic(ctx, name+"-alerts", &sns.TopicArgs{
		Name:           pulumi.String(name + "-alerts"),
		KmsMasterKeyId: a.AlertsKeyArn,
		Tags:           naming.Tags(a.Tags, name+"-alerts"),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the alert topic: %w", err)
	}
	partition := iampolicy.Partition(a.Region)
	policy := topic.Arn.ApplyT(func(arn string) string {
		return iampolicy.New(
			iampolicy.Allow("AccountManagesAndPublishes", []string{"sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"}, []string{arn}).
				ForAccount(partition, a.AccountID),
			iampolicy.Allow("CloudWatchAlarmsPublish", []string{"sns:Publish"}, []string{arn}).
				ForService("cloudwatch.amazonaws.com").When("StringEquals", "aws:SourceAccount", a.AccountID),
		).JSON()
	}).(pulumi.StringOutput)
	if _, err := sns.NewTopicPolicy(ctx, name+"-alerts", &sns.TopicPolicyArgs{Arn: topic.Arn, Policy: policy}, parent); err != nil {
		return nil, fmt.Errorf("setting the alert topic's policy: %w", err)
	}
	for i, e := range a.AlertEmails {
		if _, err := sns.NewTopicSubscription(ctx, fmt.Sprintf("%s-alerts-%d", name, i), &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(e),
		}, parent); err != nil {
			return nil, fmt.Errorf("subscribing %s: %w", e, err)
		}
	}
	return topic, nil
}

// hostPolicy lets the Nagios host read its two secrets, publish to the topic, send its agent's metrics
// and its convergence, and write its own log group.
func hostPolicy(a *MonitoringArgs, topic, logGroupArn pulumi.StringOutput) pulumi.StringOutput {
	return pulumi.All(topic, a.Database.SecretArns.ToStringArrayOutput(), a.SecretsKeyArn, a.AlertsKeyArn, logGroupArn).ApplyT(func(v []any) string {
		topic, secrets, secretsKey, alertsKey, logs := v[0].(string), v[1].([]string), v[2].(string), v[3].(string), v[4].(string)
		statements := append(hostrole.ReadSecrets(secrets, secretsKey, a.Region),
			hostrole.WriteLogs("WriteOwnLogs", logs),
			hostrole.PublishConvergence(),
			iampolicy.Allow("Notify", []string{"sns:Publish"}, []string{topic}),
			iampolicy.Allow("EncryptNotifications", []string{"kms:GenerateDataKey*", "kms:Decrypt"}, []string{alertsKey}).
				When("StringEquals", "kms:ViaService", "sns."+a.Region+".amazonaws.com"),
			hostrole.PublishAgentMetrics(),
		)
		return iampolicy.New(append(statements, hostrole.WriteSessionLogs(logs)...)...).JSON()
	}).(pulumi.StringOutput)
}
