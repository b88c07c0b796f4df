package monitoring

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// monitor is the component under test, run as a program of its own.
var monitor = offlinetest.For(NewMonitoring, "mon")

const (
	ebsKey    = "arn:aws:kms:us-east-1:123456789012:key/ebs"
	alertsKey = "arn:aws:kms:us-east-1:123456789012:key/logs"
)

func args() *MonitoringArgs {
	hosts := []database.Host{
		{Name: "db-0", Role: "primary", Address: "10.40.128.10", Zone: "us-east-1a"},
		{Name: "db-1", Role: "replica", Address: "10.40.136.10", Zone: "us-east-1b"},
	}
	return &MonitoringArgs{
		InstanceType: "m6i.large", AmiId: pulumi.String("ami-nagios"),
		Subnet:          network.SubnetInfo{ID: pulumi.String("subnet-app-a").ToStringOutput(), Zone: "us-east-1a", CIDR: netip.MustParsePrefix("10.40.64.0/21")},
		SecurityGroupId: pulumi.String("sg-monitoring"),
		EbsKeyArn:       pulumi.String(ebsKey), SecretsKeyArn: pulumi.String("arn:aws:kms:us-east-1:123456789012:key/secrets"), AlertsKeyArn: pulumi.String(alertsKey),
		LogsKeyArn: pulumi.String(alertsKey), LogRetentionDays: 365,
		Database: Database{
			Hosts:       hosts,
			InstanceIds: map[string]pulumi.StringInput{"db-0": pulumi.String("i-db0"), "db-1": pulumi.String("i-db1")},
			BackupHost:  "db-1", Cluster: "db",
			PasswordSecret: "db/monitoring", TLSSecret: "db/tls/mon",
			SecretArns: pulumi.StringArray{pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:db/monitoring"), pulumi.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:db/tls/mon")},
		},
		LoadBalancer: &LoadBalancer{ArnSuffix: pulumi.String("app/web/1"), TargetGroupArnSuffix: pulumi.String("targetgroup/web/2"), Domain: "clinic.example.com", HealthPath: "/healthz"},
		AlertEmails:  []string{"oncall@example.com", "security@example.com"},
		AccountID:    "123456789012", Region: "us-east-1",
		Tags: map[string]string{"DataClass": "phi"},
	}
}

func TestNagiosHostIsPrivateDedicatedAndEncrypted(t *testing.T) {
	t.Parallel()
	rs := monitor.MustRun(t, (args()))
	inst := offlinetest.One(t, rs, "aws:ec2/instance:Instance")
	for path, want := range map[string]any{
		"tenancy":                    "dedicated",
		"associatePublicIpAddress":   false,
		"privateIp":                  "10.40.64.16",
		"metadataOptions.httpTokens": "required",
		"rootBlockDevice.encrypted":  true,
		"rootBlockDevice.kmsKeyId":   ebsKey,
		"monitoring":                 true,
	} {
		if got := inst.Value(path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	files := userDataFiles(t, inst.String("userDataBase64"))
	if got := files["/etc/hipaa/apache-ports.conf"]; !strings.Contains(got, "Listen 127.0.0.1:80") {
		t.Errorf("the web interface is not on loopback only: %q", got)
	}
	for _, want := range []string{"/etc/hipaa/nagios/nagios.cfg", "/etc/hipaa/nagios/hosts.cfg", "/etc/hipaa/hipaa-notify", "/usr/local/sbin/hipaa-monitoring-converge"} {
		if files[want] == "" {
			t.Errorf("user data lacks %s", want)
		}
	}
	if !strings.Contains(files["/etc/hipaa/hipaa-notify"], "arn:aws:sns:us-east-1:123456789012:mon-alerts") {
		t.Errorf("notifications go elsewhere: %s", files["/etc/hipaa/hipaa-notify"])
	}
	for path, content := range files {
		if strings.Contains(content, "mock-password") {
			t.Errorf("%s holds a password", path)
		}
	}
}

func userDataFiles(t *testing.T, b64 string) map[string]string {
	t.Helper()
	files, err := cloudinit.Decode(b64)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestTopicIsEncryptedAndSubscribed(t *testing.T) {
	t.Parallel()
	rs := monitor.MustRun(t, (args()))
	topic := offlinetest.One(t, rs, "aws:sns/topic:Topic")
	if topic.String("kmsMasterKeyId") != alertsKey {
		t.Errorf("topic key = %q", topic.String("kmsMasterKeyId"))
	}
	subs := offlinetest.Of(rs, "aws:sns/topicSubscription:TopicSubscription")
	if len(subs) != 2 || subs[0].String("protocol") != "email" {
		t.Errorf("subscriptions = %d", len(subs))
	}
	policy := offlinetest.One(t, rs, "aws:sns/topicPolicy:TopicPolicy").String("policy")
	if !strings.Contains(policy, `"cloudwatch.amazonaws.com"`) || !strings.Contains(policy, `"aws:SourceAccount":"123456789012"`) {
		t.Errorf("topic policy: %s", policy)
	}
}

func TestEveryAlarmNotifiesTheTopic(t *testing.T) {
	t.Parallel()
	rs := monitor.MustRun(t, (args()))
	alarms := offlinetest.Of(rs, "aws:cloudwatch/metricAlarm:MetricAlarm")
	names := map[string]bool{}
	for _, al := range alarms {
		names[al.String("name")] = true
		actions, _ := al.Value("alarmActions").([]any)
		ok, _ := al.Value("okActions").([]any)
		if len(actions) != 1 || len(ok) != 1 || !strings.HasSuffix(actions[0].(string), "mon-alerts") || al.Value("actionsEnabled") != true {
			t.Errorf("%s: alarmActions %v, okActions %v", al.Name, al.Value("alarmActions"), al.Value("okActions"))
		}
	}
	for _, want := range []string{
		"mon-status", "mon-cpu", "mon-disk",
		"db-0-status", "db-0-cpu", "db-0-disk", "db-0-data-disk", "db-1-status", "db-1-data-disk",
		"db-1-replication-lag", "db-backup-age", "mon-lb-5xx", "mon-target-5xx", "mon-unhealthy-targets",
		"mon-converged", "db-0-converged", "db-1-converged",
	} {
		if !names[want] {
			t.Errorf("no alarm %s; have %v", want, names)
		}
	}
	lag, _ := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-1-replication-lag")
	if lag.String("treatMissingData") != "breaching" || lag.String("namespace") != database.MetricsNamespace {
		t.Errorf("a replica that stops reporting must alarm: %v %v", lag.String("treatMissingData"), lag.String("namespace"))
	}
	// A host that has not converged, or stopped saying so, alarms.
	conv, _ := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-1-converged")
	if conv.String("treatMissingData") != "breaching" || conv.String("namespace") != converge.Namespace || conv.String("dimensions.Host") != "db-1" ||
		conv.String("comparisonOperator") != "LessThanThreshold" || conv.Value("threshold") != 1.0 {
		t.Errorf("db-1-converged: %v", conv.Inputs)
	}
	// 4 for the Nagios host, 5 per database host, one lag per replica, the backup age, one per rotated
	// credential, 3 for the load balancer.
	if want := 4 + 5*2 + 1 + 1 + len(database.RotatedCredentials) + 3; len(alarms) != want {
		t.Errorf("%d alarms, want %d", len(alarms), want)
	}
}

func TestBadArgsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for want, mutate := range map[string]func(*MonitoringArgs){
		"InstanceType":               func(a *MonitoringArgs) { a.InstanceType = "t3.small" },
		"AmiId is required":          func(a *MonitoringArgs) { a.AmiId = nil },
		"AlertsKeyArn is required":   func(a *MonitoringArgs) { a.AlertsKeyArn = nil },
		"Database.Hosts is empty":    func(a *MonitoringArgs) { a.Database.Hosts = nil },
		`Database.BackupHost "db-9"`: func(a *MonitoringArgs) { a.Database.BackupHost = "db-9" },
		"no instance for host db-1":  func(a *MonitoringArgs) { delete(a.Database.InstanceIds, "db-1") },
		"LoadBalancer.Domain":        func(a *MonitoringArgs) { a.LoadBalancer.Domain = "not a domain" },
		`AlertEmails[1] "oncall"`:    func(a *MonitoringArgs) { a.AlertEmails[1] = "oncall" },
		"Subnet.CIDR":                func(a *MonitoringArgs) { a.Subnet.CIDR = netip.MustParsePrefix("10.40.64.0/29") },
		"AccountID":                  func(a *MonitoringArgs) { a.AccountID = "x" },
	} {
		a := args()
		mutate(a)
		monitor.Refused(t, a, want)
	}
	monitor.Refused(t, nil, "args are required")
}

// TestUserDataFitsTheLargestCluster: EC2 takes at most 16 KB of user data.
func TestUserDataFitsTheLargestCluster(t *testing.T) {
	t.Parallel()
	a := args()
	a.Database.Hosts = nil
	a.Database.InstanceIds = map[string]pulumi.StringInput{}
	for i := range database.MaxReplicas + 1 {
		role := "replica"
		if i == 0 {
			role = "primary"
		}
		h := database.Host{Name: "hipaa-production-db-" + string(rune('0'+i)), Role: role, Address: "10.40.128." + string(rune('0'+i+1))}
		a.Database.Hosts = append(a.Database.Hosts, h)
		a.Database.InstanceIds[h.Name] = pulumi.String("i-" + h.Name)
	}
	a.Database.BackupHost = a.Database.Hosts[1].Name
	rs := monitor.MustRun(t, (a))
	size := len(offlinetest.One(t, rs, "aws:ec2/instance:Instance").String("userDataBase64"))
	t.Logf("user data for %d database hosts: %d bytes", len(a.Database.Hosts), size)
	if size > 16384 {
		t.Errorf("user data is %d bytes; EC2 takes 16384", size)
	}
}

// witnessOf is the etcd member the monitoring host of a, placed as the component places it, runs for a
// two-host cluster's store.
func witnessOf(t *testing.T, a *MonitoringArgs) *hostconfig.Etcd {
	t.Helper()
	host, err := Place("mon", a.Subnet)
	if err != nil {
		t.Fatal(err)
	}
	me := hostconfig.Voter{Name: "mon", Address: host.Address, ClientPort: database.EtcdClientPort, PeerPort: database.EtcdPeerPort}
	voters := []hostconfig.Voter{me}
	for _, h := range a.Database.Hosts {
		voters = append(voters, hostconfig.Voter{Name: h.Name, Address: h.Address, ClientPort: database.EtcdClientPort, PeerPort: database.EtcdPeerPort})
	}
	return &hostconfig.Etcd{Voter: me, Scope: "db", Voters: voters}
}

// TestTheHostRunsTheStoresThirdVoterOfATwoHostCluster: given the cluster's witness, the host's setup
// runs an etcd member of the store at its own address, over TLS with client certificates of the
// cluster's CA, from copies of its own certificate; a witness at another address is refused.
func TestTheHostRunsTheStoresThirdVoterOfATwoHostCluster(t *testing.T) {
	t.Parallel()
	a := args()
	a.Database.Witness = witnessOf(t, a)
	in := offlinetest.One(t, monitor.MustRun(t, a), "aws:ec2/instance:Instance")
	files := userDataFiles(t, in.String("userDataBase64"))
	env := files["/etc/hipaa/etcd.env"]
	for _, want := range []string{"ETCD_NAME=mon", "ETCD_LISTEN_PEER_URLS=https://10.40.64.16:2380", "ETCD_CLIENT_CERT_AUTH=true",
		"ETCD_PEER_CLIENT_CERT_AUTH=true", "ETCD_DATA_DIR=/var/lib/etcd/db", "ETCD_CERT_FILE=/etc/hipaa/etcd-tls/server.crt"} {
		if !strings.Contains(env, want) {
			t.Errorf("the witness's etcd.env lacks %q:\n%s", want, env)
		}
	}
	script := files[Converge("mon", a.Region).ScriptPath()]
	for _, want := range []string{"put /etc/hipaa/etcd-tls/server.key 600 etcd:etcd < /etc/nagios4/pki/client.key", "put /etc/default/etcd 644 root:root < /etc/hipaa/etcd.env"} {
		if !strings.Contains(script, want) {
			t.Errorf("the converge script lacks %q", want)
		}
	}
	if without := userDataFiles(t, offlinetest.One(t, monitor.MustRun(t, args()), "aws:ec2/instance:Instance").String("userDataBase64")); without["/etc/hipaa/etcd.env"] != "" {
		t.Error("a host without a witness runs etcd")
	}

	wrong := args()
	wrong.Database.Witness = witnessOf(t, wrong)
	wrong.Database.Witness.Address = "10.40.64.17"
	if _, err := monitor.Run(t, wrong); err == nil || !strings.Contains(err.Error(), "Database.Witness.Address 10.40.64.17 is not this host's address 10.40.64.16") {
		t.Errorf("a witness at another address: got %v", err)
	}
}

// TestUnderPatroniTheAlarmsFollowThePrimaryAndAPromotionNotifiesOnce: every host, which may be the
// primary or a replica, has its lag alarm; a promotion fires one alarm that notifies when it fires and
// never when it clears; a rotation of the clients' credentials that stops happening alarms; and the
// replication checks run on whichever host accepts writes.
func TestUnderPatroniTheAlarmsFollowThePrimaryAndAPromotionNotifiesOnce(t *testing.T) {
	t.Parallel()
	a := args()
	a.Database.Patroni = true
	rs := monitor.MustRun(t, a)
	for _, h := range []string{"db-0", "db-1"} {
		lag, ok := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", h+"-replication-lag")
		if !ok || lag.String("dimensions.Replica") != h || lag.String("treatMissingData") != "breaching" {
			t.Errorf("%s: lag alarm %v", h, lag.Inputs)
		}
	}
	promoted, ok := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-promoted")
	if !ok {
		t.Fatal("no alarm on a promotion")
	}
	for k, want := range map[string]any{"namespace": database.MetricsNamespace, "metricName": "Promotions", "dimensions.Cluster": "db",
		"statistic": "Sum", "threshold": 1.0, "comparisonOperator": "GreaterThanOrEqualToThreshold", "treatMissingData": "notBreaching"} {
		if got := promoted.Value(k); got != want {
			t.Errorf("db-promoted: %s = %v, want %v", k, got, want)
		}
	}
	if actions, _ := promoted.Value("alarmActions").([]any); len(actions) != 1 {
		t.Errorf("db-promoted notifies %v", actions)
	}
	if ok, _ := promoted.Value("okActions").([]any); len(ok) != 0 {
		t.Errorf("db-promoted notifies again when it clears: %v", ok)
	}
	// Each rotated credential alarms when its rotation is two days overdue, or when nothing says its age,
	// whether Patroni elects the primary that rotates it or the cluster has no Patroni.
	for what, rs := range map[string][]offline.Resource{"Patroni": rs, "no Patroni": monitor.MustRun(t, args())} {
		for _, c := range []string{"app", "monitoring"} {
			overdue, ok := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", "db-"+c+"-credential-overdue")
			if !ok {
				t.Fatalf("%s: no alarm on the %s credential's rotation", what, c)
			}
			for k, want := range map[string]any{"namespace": database.MetricsNamespace, "metricName": "CredentialAgeSeconds", "dimensions.Cluster": "db",
				"dimensions.Credential": c, "statistic": "Maximum", "threshold": float64((database.RotationEveryDays + 2) * 86400),
				"comparisonOperator": "GreaterThanThreshold", "treatMissingData": "breaching"} {
				if got := overdue.Value(k); got != want {
					t.Errorf("%s: db-%s-credential-overdue: %s = %v, want %v", what, c, k, got, want)
				}
			}
		}
	}
	in := offlinetest.One(t, rs, "aws:ec2/instance:Instance")
	hosts := userDataFiles(t, in.String("userDataBase64"))["/etc/hipaa/nagios/hosts.cfg"]
	for _, want := range []string{"host_name     mon-db-primary", "address       10.40.128.10,10.40.136.10", "service_description  replication-db-0",
		"service_description  replication-lag-db-1", "service_description  writable-primary"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("hosts.cfg lacks %q", want)
		}
	}
}

// TestTheDrillsAreHeldToTheirLimits: a failed drill, a drill overdue (the backup host stops saying
// otherwise, too) and a restore slower than the objective each alarm.
func TestTheDrillsAreHeldToTheirLimits(t *testing.T) {
	t.Parallel()
	a := args()
	a.Database.Drill = &DrillLimits{MaxAge: 8 * 24 * time.Hour, RestoreObjective: 4 * time.Hour}
	rs := monitor.MustRun(t, a)
	for name, want := range map[string]map[string]any{
		"db-drill-failed":      {"metricName": "DrillSucceeded", "statistic": "Minimum", "comparisonOperator": "LessThanThreshold", "threshold": 1.0, "treatMissingData": "notBreaching"},
		"db-drill-overdue":     {"metricName": "DrillAgeSeconds", "statistic": "Maximum", "comparisonOperator": "GreaterThanThreshold", "threshold": 8 * 86400.0, "treatMissingData": "breaching"},
		"db-restore-objective": {"metricName": "RestoreSeconds", "statistic": "Maximum", "comparisonOperator": "GreaterThanThreshold", "threshold": 4 * 3600.0, "treatMissingData": "notBreaching"},
	} {
		al, ok := offlinetest.Named(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", name)
		if !ok {
			t.Errorf("no alarm %s", name)
			continue
		}
		want["namespace"], want["dimensions.Cluster"] = database.MetricsNamespace, "db"
		for k, v := range want {
			if got := al.Value(k); got != v {
				t.Errorf("%s: %s = %v, want %v", name, k, got, v)
			}
		}
		if actions, _ := al.Value("alarmActions").([]any); len(actions) != 1 {
			t.Errorf("%s notifies %v", name, actions)
		}
	}
}
