package database

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/naming"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
	"github.com/hipaa-platform/platform/internal/placeholder"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
)

// cluster is the component under test, run as a program of its own.
var cluster = offlinetest.For(NewCluster, "db")

const (
	ebsKey     = "arn:aws:kms:us-east-1:123456789012:key/ebs"
	secretsKey = "arn:aws:kms:us-east-1:123456789012:key/secrets"
	backupKey  = "arn:aws:kms:us-east-1:123456789012:key/s3"
	logsKey    = "arn:aws:kms:us-east-1:123456789012:key/logs"
	bucketArn  = "arn:aws:s3:::hipaa-unit-backups"
)

func subnets(n int) []network.SubnetInfo {
	var out []network.SubnetInfo
	for i, z := range []string{"a", "b", "c", "d", "e", "f"}[:n] {
		out = append(out, network.SubnetInfo{
			ID:   pulumi.String("subnet-" + z).ToStringOutput(),
			Zone: "us-east-1" + z,
			CIDR: netip.MustParsePrefix([]string{"10.40.128.0/21", "10.40.136.0/21", "10.40.144.0/21", "10.40.152.0/21", "10.40.160.0/21", "10.40.168.0/21"}[i]),
		})
	}
	return out
}

func validArgs() *ClusterArgs {
	return &ClusterArgs{
		InstanceType: "r6i.large", AmiId: pulumi.String("ami-123"), Replicas: 1, HighAvailability: true,
		Subnets: subnets(3), SecurityGroupId: pulumi.String("sg-db"),
		ClientCIDRs: []string{"10.40.64.0/21", "10.40.72.0/21"}, MonitoringHost: &MonitoringHost{Name: "monitoring", Address: "10.40.64.16"},
		Volume:    Volume{SizeGiB: 200, Iops: 6000, ThroughputMiBps: 250},
		EbsKeyArn: pulumi.String(ebsKey), SecretsKeyArn: pulumi.String(secretsKey), BackupKeyArn: pulumi.String(backupKey),
		LogsKeyArn: pulumi.String(logsKey), LogRetentionDays: 365,
		BackupBucketName: "hipaa-unit-backups", BackupBucketArn: pulumi.String(bucketArn),
		BackupKeyAlias:      "arn:aws:kms:us-east-1:123456789012:alias/hipaa-unit-keys-s3",
		BackupRetentionDays: 35, Region: "us-east-1", Tags: map[string]string{"DataClass": "phi"},
	}
}

// userData returns an instance's user data as encoded and as the host reads it.
func userData(t *testing.T, r offline.Resource) (raw string, decoded string) {
	t.Helper()
	raw = r.String("userDataBase64")
	decoded, err := cloudinit.Document(raw)
	if err != nil {
		t.Fatalf("%s: %v", r.Name, err)
	}
	return raw, decoded
}

func TestHostsAreDedicatedPrivateEncryptedAndSpread(t *testing.T) {
	t.Parallel()
	rs := cluster.MustRun(t, validArgs())
	instances := offlinetest.Of(rs, "aws:ec2/instance:Instance")
	if len(instances) != 2 {
		t.Fatalf("%d instances, want a primary and a replica", len(instances))
	}
	zones := map[string]bool{}
	for _, in := range instances {
		for k, want := range map[string]any{
			"tenancy": "dedicated", "associatePublicIpAddress": false, "monitoring": true,
			"metadataOptions.httpTokens": "required", "rootBlockDevice.encrypted": true, "rootBlockDevice.kmsKeyId": ebsKey,
			"tags.Role": "database", "tags.DataClass": "phi", "instanceType": "r6i.large",
		} {
			if got := in.Value(k); got != want {
				t.Errorf("%s: %s = %v, want %v", in.Name, k, got, want)
			}
		}
		if sgs, _ := in.Value("vpcSecurityGroupIds").([]any); len(sgs) != 1 || sgs[0] != "sg-db" {
			t.Errorf("%s: security groups %v, want only the database group", in.Name, sgs)
		}
		zones[in.String("subnetId")] = true
	}
	if len(zones) != 2 {
		t.Errorf("primary and replica share a subnet: %v", zones)
	}
	if p, _ := offlinetest.Named(rs, "aws:ec2/instance:Instance", "db-0"); p.String("privateIp") != "10.40.128.16" {
		t.Errorf("primary address %q, want the fixed 10.40.128.16", p.String("privateIp"))
	}
	for _, v := range offlinetest.Of(rs, "aws:ebs/volume:Volume") {
		for k, want := range map[string]any{"encrypted": true, "kmsKeyId": ebsKey, "type": "gp3", "size": 200.0, "iops": 6000.0, "throughput": 250.0} {
			if got := v.Value(k); got != want {
				t.Errorf("%s: %s = %v, want %v", v.Name, k, got, want)
			}
		}
	}
	if n := len(offlinetest.Of(rs, "aws:ec2/volumeAttachment:VolumeAttachment")); n != 2 {
		t.Errorf("%d volume attachments, want 2", n)
	}
}

func TestSecretsAreGeneratedAndKeptUnderTheSecretsKey(t *testing.T) {
	t.Parallel()
	alone := validArgs()
	alone.Replicas, alone.HighAvailability = 0, false
	// Only the clients' credentials are passwords: the members replicate with their certificates and the
	// superuser logs in over the socket alone.
	for what, rs := range map[string][]offline.Resource{"one host": cluster.MustRun(t, alone), "Patroni": cluster.MustRun(t, validArgs())} {
		var names []string
		for _, pw := range offlinetest.Of(rs, "random:index/randomPassword:RandomPassword") {
			names = append(names, pw.Name)
		}
		if !slices.Equal(names, []string{"db-app", "db-monitoring"}) {
			t.Errorf("%s: generated passwords %v, want the application's and the monitoring host's alone", what, names)
		}
	}
	rs := cluster.MustRun(t, validArgs())
	secrets := offlinetest.Of(rs, "aws:secretsmanager/secret:Secret")
	if len(secrets) != 5 {
		t.Errorf("%d secrets, want 2 credentials, 2 host TLS bundles and the monitoring host's", len(secrets))
	}
	for _, s := range secrets {
		if s.String("kmsKeyId") != secretsKey {
			t.Errorf("%s is not encrypted with the secrets key", s.Name)
		}
	}
	for _, v := range offlinetest.Of(rs, "aws:secretsmanager/secretVersion:SecretVersion") {
		if v.JSON().Inputs["secretString"] != placeholder.Secret {
			t.Errorf("%s: the secret value is not marked secret", v.Name)
		}
	}
	for _, c := range offlinetest.Of(rs, "tls:index/certRequest:CertRequest") {
		ips, _ := c.Value("ipAddresses").([]any)
		if len(ips) != 1 {
			t.Errorf("%s: certificate for %v, want the host's fixed address", c.Name, ips)
			continue
		}
		// pgBackRest matches an address only against the names.
		if names, _ := c.Value("dnsNames").([]any); len(names) != 2 || names[1] != ips[0] {
			t.Errorf("%s: certificate names %v, want the host's name and its address %v", c.Name, names, ips[0])
		}
	}
}

// TestTheClientsCredentialsRotateOnTheLeader checks what the rotation needs of the program: each
// client credential's first version (the application's, the monitoring host's) keeps a label of its own,
// so Secrets Manager never deletes it and the program never puts it back; every Patroni member, any of
// which may lead, may put new values in those secrets alone; and each has the daily timer and hipaa-db's
// rotate. A host with no Patroni has neither.
func TestTheClientsCredentialsRotateOnTheLeader(t *testing.T) {
	t.Parallel()
	alone := validArgs()
	alone.Replicas, alone.HighAvailability = 0, false
	// Every Patroni member may lead, and a cluster's one host is its primary: each may rotate.
	for _, c := range []struct {
		what  string
		args  *ClusterArgs
		hosts []string
		ops   string
	}{
		{"a Patroni cluster", validArgs(), []string{"db-0", "db-1"}, `COMMANDS = {"status": status, "switchover": switchover, "failover": failover, "rotate": rotate}`},
		{"a fixed primary", alone, []string{"db-0"}, `COMMANDS = {"rotate": rotate}`},
	} {
		rs := cluster.MustRun(t, c.args)
		for _, v := range offlinetest.Of(rs, "aws:secretsmanager/secretVersion:SecretVersion") {
			stages, _ := v.Value("versionStages").([]any)
			if want := v.Name == "db-app" || v.Name == "db-monitoring"; want != (len(stages) == 2 && stages[0] == "AWSCURRENT" && stages[1] == InitialStage) {
				t.Errorf("%s: %s: versionStages %v; want [AWSCURRENT %s] on the clients' credentials alone", c.what, v.Name, stages, InitialStage)
			}
		}
		var arns []string
		for _, name := range []string{"db-app", "db-monitoring"} {
			s, _ := offlinetest.Named(rs, "aws:secretsmanager/secret:Secret", name)
			arns = append(arns, `"arn:aws:secretsmanager:us-east-1:`+offline.AccountID+":Secret/"+s.ID+`"`)
			// The period the secret declares, for the pack, is the one its hosts rotate it at.
			if got := s.String("tags." + naming.RotationDaysTag); got != strconv.Itoa(RotationEveryDays) {
				t.Errorf("%s: %s: tag %s = %q; want %d", c.what, name, naming.RotationDaysTag, got, RotationEveryDays)
			}
		}
		for _, host := range c.hosts {
			p, _ := offlinetest.Named(rs, "aws:iam/policy:Policy", host)
			for _, fragment := range []string{
				`{"Sid":"RotateOwnSecrets","Effect":"Allow","Action":["secretsmanager:PutSecretValue"],"Resource":[` + strings.Join(arns, ",") + `]}`,
				`{"Sid":"EncryptRotatedSecret","Effect":"Allow","Action":["kms:GenerateDataKey"],"Resource":["` + secretsKey + `"],"Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}`,
			} {
				if !strings.Contains(p.String("policy"), fragment) {
					t.Errorf("%s: %s's policy lacks %s:\n%s", c.what, host, fragment, p.String("policy"))
				}
			}
			if n := strings.Count(p.String("policy"), "secretsmanager:PutSecretValue"); n != 1 {
				t.Errorf("%s: %s may put secret values in %d statements; want one, of the clients' credentials", c.what, host, n)
			}
			doc, _ := offlinetest.Named(rs, "aws:ssm/document:Document", host+"-converge")
			files, err := converge.DocumentFiles(doc.String("content"))
			if err != nil {
				t.Fatal(err)
			}
			ops := files[hostconfig.OperationsCommand]
			if !strings.Contains(files["/etc/hipaa/systemd/hipaa-db-rotate.timer"], "OnCalendar="+RotationSchedule) ||
				!strings.Contains(ops, `CREDENTIALS = {"app": ("db/app", ["app_a","app_b"]), "monitoring": ("db/monitoring", ["nagios_a","nagios_b"])}`) ||
				!strings.Contains(ops, c.ops) || !strings.Contains(ops, "EVERY_DAYS = "+strconv.Itoa(RotationEveryDays)+"\n") {
				t.Errorf("%s: %s lacks the rotation's timer or hipaa-db with %s", c.what, host, c.ops)
			}
		}
	}
}

func TestInstanceProfileAllowsOnlyWhatTheHostNeeds(t *testing.T) {
	t.Parallel()
	alone := validArgs()
	alone.Replicas, alone.HighAvailability = 0, false
	// A Patroni member, any of which may lead, reads the credentials the leader makes the logins of.
	assertInstanceProfiles(t, cluster.MustRun(t, validArgs()), map[string][]string{
		"db-0": {"db-0-tls", "db-app", "db-monitoring"},
		"db-1": {"db-1-tls", "db-app", "db-monitoring"},
	})
	assertInstanceProfiles(t, cluster.MustRun(t, alone), map[string][]string{
		"db-0": {"db-0-tls", "db-app", "db-monitoring"},
	})
}

func assertInstanceProfiles(t *testing.T, rs []offline.Resource, secrets map[string][]string) {
	t.Helper()
	secretArn := func(name string) string {
		s, ok := offlinetest.Named(rs, "aws:secretsmanager/secret:Secret", name)
		if !ok {
			t.Fatalf("no secret %s", name)
		}
		return "arn:aws:secretsmanager:us-east-1:" + offline.AccountID + ":Secret/" + s.ID
	}
	for host, readable := range secrets {
		p, ok := offlinetest.Named(rs, "aws:iam/policy:Policy", host)
		if !ok {
			t.Fatalf("no role policy for %s", host)
		}
		doc := p.String("policy")
		var want []string
		for _, s := range readable {
			want = append(want, `"`+secretArn(s)+`"`)
		}
		if !strings.Contains(doc, `"Resource":[`+strings.Join(want, ",")+`]`) {
			t.Errorf("%s reads other secrets than its own %v:\n%s", host, readable, doc)
		}
		for _, fragment := range []string{
			`"Resource":["` + bucketArn + `/db/*"]`,
			`{"Sid":"ListBackupBucket","Effect":"Allow","Action":["s3:ListBucket"],"Resource":["` + bucketArn + `"]}`,
			`"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"`,
			`"kms:ViaService":"s3.us-east-1.amazonaws.com"`,
			`"Resource":["` + backupKey + `"]`,
		} {
			if !strings.Contains(doc, fragment) {
				t.Errorf("%s's policy lacks %s:\n%s", host, fragment, doc)
			}
		}
		// Only PutMetricData, which names no resource, may say "*", and only for its own namespaces.
		var parsed struct {
			Statement []struct {
				Action    []string
				Resource  []string
				Condition map[string]map[string]string
			}
		}
		if err := json.Unmarshal([]byte(doc), &parsed); err != nil {
			t.Fatal(err)
		}
		for _, st := range parsed.Statement {
			if len(st.Resource) == 1 && st.Resource[0] == "*" &&
				(len(st.Action) != 1 || st.Action[0] != "cloudwatch:PutMetricData" || st.Condition["StringEquals"]["cloudwatch:namespace"] == "") {
				t.Errorf("%s's policy grants %v on every resource:\n%s", host, st.Action, doc)
			}
		}
	}
}

func TestRenderedConfigurationIsTLSOnlyAndBacksUpFromTheStandby(t *testing.T) {
	t.Parallel()
	rs := cluster.MustRun(t, validArgs())
	primary, _ := offlinetest.Named(rs, "aws:ec2/instance:Instance", "db-0")
	replica, _ := offlinetest.Named(rs, "aws:ec2/instance:Instance", "db-1")
	_, p := userData(t, primary)
	_, r := userData(t, replica)
	// Either member may lead: each admits the other's replication and pg_rewind, serves pgBackRest to
	// the host that takes the backups, and runs Patroni against the store of both and the monitoring
	// host, every link verified against the cluster's CA.
	both := []string{"ssl = on", "ssl_min_protocol_version = 'TLSv1.2'", "password_encryption = scram-sha-256", "archive_timeout = 60",
		"tls-server-auth=db-1=main", "repo1-s3-kms-key-id=arn:aws:kms:us-east-1:123456789012:alias/hipaa-unit-keys-s3",
		"repo1-s3-bucket=hipaa-unit-backups", "repo1-path=/db/pgbackrest", "repo1-retention-full=35",
		`scope: "db"`, `- "10.40.128.16:2379"`, `- "10.40.136.16:2379"`, `- "10.40.64.16:2379"`, "protocol: https", "verify_client: required",
		"sslmode: verify-full", `username: "rewinder"`, "synchronous_mode: false", "ETCD_CLIENT_CERT_AUTH=true", "ETCD_PEER_CLIENT_CERT_AUTH=true",
		"ETCD_INITIAL_CLUSTER=db-0=https://10.40.128.16:2380,db-1=https://10.40.136.16:2380,monitoring=https://10.40.64.16:2380",
		"rm -f /etc/patroni_env.conf", "members    db-", "ident_file: \"/etc/postgresql/15/main/pg_ident.conf\"",
		`on_role_change: "/usr/local/sbin/hipaa-db-role-change"`, "--metric-name Promotions"}
	for _, want := range append(both, "hostssl  replication       replicator  10.40.136.16/32  cert map=members",
		"hostssl  postgres          rewinder  10.40.136.16/32  cert map=members", "members    db-1  replicator", "members    db-1  rewinder",
		`listen: "10.40.128.16:8008"`) {
		if !strings.Contains(p, want) {
			t.Errorf("db-0's user data lacks %q", want)
		}
	}
	for _, want := range append(both, "hostssl  replication       replicator  10.40.128.16/32  cert map=members", "members    db-0  rewinder",
		"backup-standby=y", "pg2-host=10.40.128.16", "pg2-host-type=tls", "pgbackrest-full.timer", "pgbackrest-incr.timer",
		"waiting for a leader of the db cluster") {
		if !strings.Contains(r, want) {
			t.Errorf("db-1's user data lacks %q", want)
		}
	}
	// Patroni keeps the slots and the primary's connection; no fixed role is rendered.
	for _, host := range []string{p, r} {
		for _, fixed := range []string{"primary_conninfo", "primary_slot_name", "slots.sql", "pg_basebackup -h", "PATRONI_REPLICATION_PASSWORD", "PGPASSFILE"} {
			if strings.Contains(host, fixed) {
				t.Errorf("a Patroni member's user data has the fixed roles' %q", fixed)
			}
		}
	}
	if strings.Contains(p, "pgbackrest-full.timer") {
		t.Error("db-0 schedules backups; the standby db-1 takes them")
	}

	// A cluster of one host runs PostgreSQL alone, with no store and no Patroni.
	alone := validArgs()
	alone.Replicas, alone.HighAvailability = 0, false
	only, _ := offlinetest.Named(cluster.MustRun(t, alone), "aws:ec2/instance:Instance", "db-0")
	_, o := userData(t, only)
	for _, want := range []string{"starts_with(slot_name::text, 'db_')", "initdb --data-checksums", "pgbackrest-full.timer"} {
		if !strings.Contains(o, want) {
			t.Errorf("the single host's user data lacks %q", want)
		}
	}
	for _, absent := range []string{"patroni", "etcd", "tls-server-auth"} {
		if strings.Contains(o, absent) {
			t.Errorf("the single host's user data has %q", absent)
		}
	}
	for _, host := range []string{p, r} {
		if strings.Contains(host, "mock-password") || strings.Contains(host, "PRIVATE KEY") {
			t.Error("a secret is written into user data")
		}
	}
	// The policy pack's own rule reads the same user data.
	for _, in := range []offline.Resource{primary, replica} {
		if f := engine.CheckResource(hipaa.Pack().Rule("db-tls-only"), engine.FromPropertyMap(in.URN, in.Type, in.Name, in.Parent, in.Inputs, nil, nil), engine.Config{}); len(f) != 0 {
			t.Errorf("%s fails db-tls-only: %v", in.Name, f)
		}
	}
}

func TestUserDataOfTheLargestClusterFitsEC2(t *testing.T) {
	t.Parallel()
	args := validArgs()
	args.Replicas = MaxReplicas
	args.Subnets = subnets(6)
	for i := 0; i < 40; i++ {
		args.ClientCIDRs = append(args.ClientCIDRs, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 50, byte(i), 0}), 24).String())
	}
	rs := cluster.MustRun(t, args)
	// "User data is limited to 16 KB, in raw form, before it is base64-encoded" (EC2 User Guide, "Work
	// with instance user data"): the gzip stream, not its base64 text, is what counts.
	const limit = 16 * 1024
	for _, in := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
		encoded, decoded := userData(t, in)
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatal(err)
		}
		if len(raw) > limit {
			t.Errorf("%s: user data is %d bytes, over EC2's %d", in.Name, len(raw), limit)
		}
		t.Logf("%s: %d bytes of configuration, %d bytes of user data (%d base64-encoded)", in.Name, len(decoded), len(raw), len(encoded))
	}
	for _, d := range offlinetest.Of(rs, "aws:ssm/document:Document") {
		if n := len(d.String("content")); n > converge.MaxDocumentBytes {
			t.Errorf("%s: the document is %d bytes, over Systems Manager's %d", d.Name, n, converge.MaxDocumentBytes)
		}
	}
}

func TestEachRunningHostTakesItsConfigurationFromSystemsManager(t *testing.T) {
	t.Parallel()
	rs := cluster.MustRun(t, validArgs())
	for _, in := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
		doc, ok := offlinetest.Named(rs, "aws:ssm/document:Document", in.Name+"-converge")
		if !ok {
			t.Fatalf("%s has no configuration document", in.Name)
		}
		if doc.String("documentType") != "Command" || doc.String("targetType") != "/AWS::EC2::Instance" {
			t.Errorf("%s: document type %q target %q", doc.Name, doc.String("documentType"), doc.String("targetType"))
		}
		commands, err := converge.Commands(doc.String("content"))
		if err != nil {
			t.Fatal(err)
		}
		// The document writes the same files as the first boot, then runs the converge unit.
		_, firstBoot := userData(t, in)
		for _, path := range []string{"/etc/hipaa/postgresql.conf", "/etc/hipaa/pg_hba.conf", "/usr/local/sbin/hipaa-db-converge"} {
			if !strings.Contains(commands, "put "+path+" ") || !strings.Contains(firstBoot, path) {
				t.Errorf("%s: %s is not in both the first boot and the document", in.Name, path)
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(commands), "systemctl start hipaa-db-converge.service") {
			t.Errorf("%s: the document does not end by running the converge unit:\n%s", in.Name, commands)
		}
		assoc, ok := offlinetest.Named(rs, "aws:ssm/association:Association", in.Name+"-converge")
		if !ok {
			t.Fatalf("%s has no association", in.Name)
		}
		if assoc.String("name") != doc.ID || assoc.String("targets.0.key") != "InstanceIds" || assoc.String("targets.0.values.0") != in.ID {
			t.Errorf("%s: association %v does not run %s on %s", in.Name, assoc.Inputs, doc.ID, in.ID)
		}
		// A new content is a new default version, which updates the association, which runs it.
		if !slices.Contains(assoc.PropertyDependencies["documentVersion"], doc.URN) || assoc.String("scheduleExpression") != "rate(30 minutes)" {
			t.Errorf("%s: the association does not follow the document's default version (%v) or has no schedule", in.Name, assoc.PropertyDependencies)
		}
		group, ok := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", in.Name)
		if !ok || group.String("name") != "/"+in.Name+"/host" || group.String("kmsKeyId") != logsKey || group.Value("retentionInDays") != 365.0 {
			t.Errorf("%s: log group %v", in.Name, group.Inputs)
		}
		policy, _ := offlinetest.Named(rs, "aws:iam/policy:Policy", in.Name)
		for _, sid := range []string{`"Sid":"WriteOwnLogs"`, `"cloudwatch:namespace":"` + converge.Namespace + `"`} {
			if !strings.Contains(policy.String("policy"), sid) {
				t.Errorf("%s's policy lacks %s", in.Name, sid)
			}
		}
	}
}

func TestNoReplicaMeansThePrimaryTakesTheBackups(t *testing.T) {
	t.Parallel()
	args := validArgs()
	args.Replicas, args.HighAvailability = 0, false
	rs := cluster.MustRun(t, args)
	in := offlinetest.Of(rs, "aws:ec2/instance:Instance")
	if len(in) != 1 {
		t.Fatalf("%d instances", len(in))
	}
	_, p := userData(t, in[0])
	if !strings.Contains(p, "pgbackrest-full.timer") || strings.Contains(p, "backup-standby") || strings.Contains(p, "tls-server") {
		t.Error("a lone primary must schedule its own backups, without a standby or TLS server")
	}
}

func TestHostConfigIsExported(t *testing.T) {
	t.Parallel()
	var cfg map[string]string
	offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		c, err := NewCluster(ctx, "db", validArgs())
		if err != nil {
			return err
		}
		// Wait for the output inside the program: applies run on their own goroutines.
		got := make(chan map[string]string, 1)
		c.HostConfig.ApplyT(func(m map[string]string) int { got <- m; return 0 })
		select {
		case cfg = <-got:
		case <-time.After(30 * time.Second):
			return errors.New("HostConfig never resolved")
		}
		return nil
	})
	var files map[string]string
	if err := json.Unmarshal([]byte(cfg["db-1"]), &files); err != nil || !strings.Contains(files["pgbackrest.conf"], "backup-standby=y") {
		t.Errorf("exported configuration of db-1: %v, %v", files, err)
	}
}

func TestBadArgsNameTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mutate func(*ClusterArgs)
		want   string
	}{
		{"no replica with HA", func(a *ClusterArgs) { a.Replicas = 0 }, "Replicas: got 0 with HighAvailability; want at least 1 replica in another zone"},
		{"synchronous without a replica", func(a *ClusterArgs) { a.Replicas, a.HighAvailability, a.SynchronousReplication = 0, false, true },
			"SynchronousReplication: got 0 replicas; want at least 1 to commit on"},
		{"two hosts without the store's third voter", func(a *ClusterArgs) { a.MonitoringHost = nil },
			"MonitoringHost is required with 1 replica: it runs the third voter of the cluster's store"},
		{"too many replicas", func(a *ClusterArgs) { a.Replicas = 6 }, "Replicas: got 6, want 0 to 5"},
		{"burstable", func(a *ClusterArgs) { a.InstanceType = "t3.large" }, `InstanceType: got "t3.large", whose family t3 does not run with dedicated tenancy`},
		{"short retention", func(a *ClusterArgs) { a.BackupRetentionDays = 7 }, "BackupRetentionDays: got 7, want 30 to 3653"},
		{"one zone with HA", func(a *ClusterArgs) { a.Subnets = subnets(1) }, "Subnets: got 1 with HighAvailability; want at least 2 zones"},
		{"no subnets", func(a *ClusterArgs) { a.Subnets = nil; a.HighAvailability = false }, "Subnets is empty"},
		{"archive timeout", func(a *ClusterArgs) { a.ArchiveTimeoutSeconds = 5 }, "ArchiveTimeoutSeconds: got 5, want 15 to 3600"},
		{"iops", func(a *ClusterArgs) { a.Volume.Iops = 100 }, "Volume.Iops: got 100, want 3000 to 16000"},
		{"size", func(a *ClusterArgs) { a.Volume.SizeGiB = 5 }, "Volume.SizeGiB: got 5"},
		{"iops for the size", func(a *ClusterArgs) { a.Volume = Volume{SizeGiB: 20, Iops: 16000} }, "Volume.Iops: got 16000 IOPS for 20 GiB; want at most 10000"},
		{"throughput for the iops", func(a *ClusterArgs) { a.Volume = Volume{SizeGiB: 100, ThroughputMiBps: 1000} },
			"Volume.ThroughputMiBps: got 1000 MiB/s with 3000 IOPS; want at most 750 MiB/s"},
		{"small subnet", func(a *ClusterArgs) { a.Subnets[0].CIDR = netip.MustParsePrefix("10.40.128.0/27") }, "Subnets[0]: want a zone and an IPv4 block of /26 or larger"},
		{"client cidr", func(a *ClusterArgs) { a.ClientCIDRs = []string{"anywhere"} }, `ClientCIDRs[0] "anywhere" is not a CIDR block`},
		{"no clients", func(a *ClusterArgs) { a.ClientCIDRs = nil }, "ClientCIDRs is empty"},
		{"no bucket", func(a *ClusterArgs) { a.BackupBucketName = "" }, "BackupBucketName is required"},
		{"key by ARN", func(a *ClusterArgs) { a.BackupKeyAlias = backupKey }, "BackupKeyAlias " + `"` + backupKey + `" is not a KMS alias ARN`},
		{"no key", func(a *ClusterArgs) { a.EbsKeyArn = nil }, "EbsKeyArn is required"},
		{"no region", func(a *ClusterArgs) { a.Region = "" }, "Region is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			tc.mutate(args)
			cluster.Refused(t, args, tc.want)
		})
	}
}

// TestMonitoringIsAdmittedFromItsHostAlone checks what each host runs for the monitoring host: Postgres
// admits the monitoring user from the Nagios host's address only, NRPE answers it only over TLS with a
// client certificate, the backup host checks the backups' age, and the metrics are published.
func TestMonitoringIsAdmittedFromItsHostAlone(t *testing.T) {
	t.Parallel()
	// The apply runs on a goroutine of its own: its result comes over a channel, which orders it before
	// the reads below.
	got := make(chan map[string]string, 1)
	rs := offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
		c, err := NewCluster(ctx, "db", validArgs())
		if err != nil {
			return err
		}
		c.HostConfig.ApplyT(func(m map[string]string) map[string]string { got <- m; return m })
		return nil
	})
	var configs map[string]string
	select {
	case configs = <-got:
	case <-time.After(time.Minute):
		t.Fatal("the cluster's host configurations never resolved")
	}
	if len(configs) != 2 {
		t.Fatalf("the hosts' configurations: %d, want db-0's and db-1's", len(configs))
	}
	for host, raw := range configs {
		var files map[string]string
		if err := json.Unmarshal([]byte(raw), &files); err != nil {
			t.Fatal(err)
		}
		hba := files["pg_hba.conf"]
		if !strings.Contains(hba, "nagios  10.40.64.16/32  scram-sha-256") || strings.Contains(hba, "nagios  10.40.64.0/21") {
			t.Errorf("%s pg_hba.conf does not admit monitoring from its host alone:\n%s", host, hba)
		}
		nrpe := files["nrpe.cfg"]
		for _, want := range []string{"allowed_hosts=10.40.64.16\n", "ssl_version=TLSv1.2+", "ssl_client_certs=2", "dont_blame_nrpe=0", "command[check_disk]=", "command[check_tls_cert]="} {
			if !strings.Contains(nrpe, want) {
				t.Errorf("%s nrpe.cfg lacks %q:\n%s", host, want, nrpe)
			}
		}
		if backs := strings.Contains(nrpe, "command[check_backup_age]"); backs != (host == "db-1") {
			t.Errorf("%s checks backup age: %v, want it on the backup host only", host, backs)
		}
		if !strings.Contains(files["metrics.sh"], "put-metric-data") {
			t.Errorf("%s publishes no metrics", host)
		}
	}
	if _, ok := offlinetest.Named(rs, "aws:secretsmanager/secret:Secret", "monitoring-tls"); !ok {
		t.Error("no client certificate secret for the monitoring host")
	}
}

func TestEachHostWaitsForItsPermissionsAndTheSecretsItReadsAtBoot(t *testing.T) {
	t.Parallel()
	rs := cluster.MustRun(t, validArgs())
	byName := map[string]offline.Resource{}
	for _, r := range rs {
		byName[r.Type+" "+r.Name] = r
	}
	urn := func(typ, name string) string {
		r, ok := byName[typ+" "+name]
		if !ok {
			t.Fatalf("no %s %s", typ, name)
		}
		return r.URN
	}
	const version = "aws:secretsmanager/secretVersion:SecretVersion"
	for host, reads := range map[string][]string{
		"db-0": {"db-0-tls", "db-app", "db-monitoring"},
		"db-1": {"db-1-tls", "db-app", "db-monitoring"},
	} {
		in := byName["aws:ec2/instance:Instance "+host]
		want := []string{urn("aws:iam/policy:Policy", host), urn("aws:iam/rolePolicyAttachment:RolePolicyAttachment", host), urn("aws:iam/rolePolicyAttachment:RolePolicyAttachment", host+"-ssm")}
		for _, v := range reads {
			want = append(want, urn(version, v))
		}
		for _, w := range want {
			if !slices.Contains(in.Options.DependsOn, w) {
				t.Errorf("%s does not wait for %s", host, w)
			}
		}
	}
}

func TestAnUpdateNeverStopsOrReplacesAHostOnItsOwn(t *testing.T) {
	t.Parallel()
	for _, in := range offlinetest.Of(cluster.MustRun(t, validArgs()), "aws:ec2/instance:Instance") {
		o := in.Options
		for _, k := range []string{"ami", "userData", "userDataBase64"} {
			if !slices.Contains(o.IgnoreChanges, k) {
				t.Errorf("%s: a change of %s would stop or replace the host", in.Name, k)
			}
		}
		if !o.DeleteBeforeReplace {
			t.Errorf("%s: a replacement would be created while the old host holds its fixed address", in.Name)
		}
		if _, ok := in.Inputs["volumeTags"]; ok {
			t.Errorf("%s: volumeTags would fight the data volume's own tags", in.Name)
		}
		if in.String("rootBlockDevice.tags.Name") != in.Name+"-root" {
			t.Errorf("%s: root volume tagged %v", in.Name, in.Value("rootBlockDevice.tags"))
		}
	}
}

func TestDisposableSecretsAreDeletedAtOnce(t *testing.T) {
	t.Parallel()
	for disposable, want := range map[bool]float64{false: 30, true: 0} {
		args := validArgs()
		args.DisposableSecrets = disposable
		for _, s := range offlinetest.Of(cluster.MustRun(t, args), "aws:secretsmanager/secret:Secret") {
			if got := s.Value("recoveryWindowInDays"); got != want {
				t.Errorf("disposable %v: %s recovery window %v, want %v", disposable, s.Name, got, want)
			}
		}
	}
}

// TestHostCertificatesAreRenewedBeforeTheyExpire: every host certificate (and the CA) is replaced by
// the first update within its early-renewal window, which holds at least three of the weekly updates
// (.github/workflows/renew.yml), and the hosts read it from its secret on their converge timer.
func TestHostCertificatesAreRenewedBeforeTheyExpire(t *testing.T) {
	t.Parallel()
	rs := cluster.MustRun(t, validArgs())
	certs := append(offlinetest.Of(rs, "tls:index/locallySignedCert:LocallySignedCert"), offlinetest.Of(rs, "tls:index/selfSignedCert:SelfSignedCert")...)
	if len(certs) < 2 {
		t.Fatalf("%d certificates", len(certs))
	}
	const week = 7 * 24
	for _, c := range certs {
		early, _ := c.Value("earlyRenewalHours").(float64)
		validity, _ := c.Value("validityPeriodHours").(float64)
		if early < 3*week || early >= validity {
			t.Errorf("%s: renewed %v hours before its %v hours run out; want at least three weekly updates' worth", c.Name, early, validity)
		}
	}
	workflow, err := os.ReadFile("../../.github/workflows/renew.yml")
	if err != nil || !strings.Contains(string(workflow), `cron: "23 6 * * 1"`) {
		t.Errorf("the weekly update that renews them is not scheduled: %v", err)
	}
}

// TestTheStoreOutlivesTheLossOfAnyOneHost: the store's voters are three, on the first three database
// hosts, or on two and the monitoring host; hosts beyond the third are Patroni members only.
func TestTheStoreOutlivesTheLossOfAnyOneHost(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		replicas int
		voters   string
	}{
		{1, "db-0=https://10.40.128.16:2380,db-1=https://10.40.136.16:2380,monitoring=https://10.40.64.16:2380"},
		{2, "db-0=https://10.40.128.16:2380,db-1=https://10.40.136.16:2380,db-2=https://10.40.144.16:2380"},
		{4, "db-0=https://10.40.128.16:2380,db-1=https://10.40.136.16:2380,db-2=https://10.40.144.16:2380"},
	} {
		a := validArgs()
		a.Replicas = c.replicas
		rs := cluster.MustRun(t, a)
		for i := 0; i <= c.replicas; i++ {
			in, _ := offlinetest.Named(rs, "aws:ec2/instance:Instance", fmt.Sprintf("db-%d", i))
			_, data := userData(t, in)
			if runs, voter := strings.Contains(data, "ETCD_INITIAL_CLUSTER="+c.voters+"\n"), i < 3; runs != voter {
				t.Errorf("%d replicas: db-%d runs the store's etcd member: %v, want %v", c.replicas, i, runs, voter)
			}
			if !strings.Contains(data, "etcd3:") {
				t.Errorf("%d replicas: db-%d is no Patroni member", c.replicas, i)
			}
		}
		witness := store(planned(t, a), a.MonitoringHost)
		if got := strings.Contains(fmt.Sprint(witness), "monitoring"); got != (c.replicas == 1) {
			t.Errorf("%d replicas: the monitoring host votes: %v", c.replicas, got)
		}
	}
}

func planned(t *testing.T, a *ClusterArgs) []Host {
	t.Helper()
	hosts, err := plan("db", a.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return hosts
}

func drillArgs() *ClusterArgs {
	a := validArgs()
	a.Drill = &DrillArgs{Schedule: "0 4 * * 0", EvidenceBucketName: "hipaa-unit-logs", EvidenceBucketArn: pulumi.String("arn:aws:s3:::hipaa-unit-logs"),
		EvidenceKeyArn: pulumi.String(logsKey), EvidenceKeyAlias: "arn:aws:kms:us-east-1:123456789012:alias/hipaa-unit-keys-logs",
		LaunchTags: map[string]string{"Owner": "platform-team"}}
	return a
}

// TestTheRestoreDrillIsAThrowawayDedicatedHostOnASchedule: a group of size zero that its schedule
// raises to one, of dedicated, encrypted hosts with room to restore the whole cluster, whose role reads
// the repository and writes only the evidence, the drill's marker and its own group's size; every
// member writes the canary, and the host that takes the backups publishes the drills' age.
func TestTheRestoreDrillIsAThrowawayDedicatedHostOnASchedule(t *testing.T) {
	t.Parallel()
	rs := cluster.MustRun(t, drillArgs())
	group := offlinetest.One(t, rs, "aws:autoscaling/group:Group")
	for k, want := range map[string]any{"name": "db-drill", "minSize": 0.0, "maxSize": 1.0, "desiredCapacity": 0.0} {
		if got := group.Value(k); got != want {
			t.Errorf("the drill's group: %s = %v, want %v", k, got, want)
		}
	}
	if !slices.Contains(group.Options.IgnoreChanges, "desiredCapacity") {
		t.Error("an update would reset a running drill's group to zero: desiredCapacity is not ignored")
	}
	schedule := offlinetest.One(t, rs, "aws:autoscaling/schedule:Schedule")
	for k, want := range map[string]any{"recurrence": "0 4 * * 0", "timeZone": "Etc/UTC", "desiredCapacity": 1.0, "maxSize": 1.0, "minSize": 0.0} {
		if got := schedule.Value(k); got != want {
			t.Errorf("the drill's schedule: %s = %v, want %v", k, got, want)
		}
	}
	lt := offlinetest.One(t, rs, "aws:ec2/launchTemplate:LaunchTemplate")
	for k, want := range map[string]any{"placement.tenancy": "dedicated", "metadataOptions.httpTokens": "required",
		"blockDeviceMappings.0.ebs.encrypted": "true", "blockDeviceMappings.0.ebs.kmsKeyId": ebsKey,
		"blockDeviceMappings.0.ebs.volumeSize": float64(rootVolumeGiB + 200), "networkInterfaces.0.associatePublicIpAddress": "false",
		"tagSpecifications.0.tags.Owner": "platform-team"} {
		if got := lt.Value(k); got != want {
			t.Errorf("the drill host: %s = %v, want %v", k, got, want)
		}
	}
	files, err := cloudinit.Decode(lt.String("userData"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/usr/local/sbin/hipaa-db-drill":     "s3://hipaa-unit-logs/$key",
		"/usr/local/sbin/hipaa-db-drill-run": "--auto-scaling-group-name db-drill --desired-capacity 0",
		"/etc/pgbackrest/pgbackrest.conf":    "repo1-path=/db/pgbackrest",
	} {
		if !strings.Contains(files[path], want) {
			t.Errorf("the drill host's %s lacks %q", path, want)
		}
	}
	if !strings.Contains(files["/usr/local/sbin/hipaa-db-drill"], "drills/db/") {
		t.Error("the drill writes its evidence elsewhere than drills/db/")
	}
	policy, _ := offlinetest.Named(rs, "aws:iam/policy:Policy", "db-drill")
	doc := policy.String("policy")
	for _, want := range []string{`"Resource":["` + bucketArn + `/db/pgbackrest/*"]`, `"Resource":["` + bucketArn + `/db/drills/last-passed"]`,
		`"Resource":["arn:aws:s3:::hipaa-unit-logs/drills/db/*"]`, `"autoscaling:SetDesiredCapacity"`, `autoScalingGroupName/db-drill"]`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the drill host's policy lacks %s:\n%s", want, doc)
		}
	}
	for _, never := range []string{"s3:DeleteObject", "secretsmanager:", `"s3:GetObject"],"Resource":["arn:aws:s3:::hipaa-unit-logs`} {
		if strings.Contains(doc, never) {
			t.Errorf("the drill host may %s:\n%s", never, doc)
		}
	}
	for _, h := range []string{"db-0", "db-1"} {
		in, _ := offlinetest.Named(rs, "aws:ec2/instance:Instance", h)
		_, data := userData(t, in)
		if !strings.Contains(data, "INSERT INTO hipaa_canary DEFAULT VALUES") || !strings.Contains(data, "running hipaa-db-canary.timer") {
			t.Errorf("%s writes no canary", h)
		}
		if marker := strings.Contains(data, "s3://hipaa-unit-backups/db/drills/last-passed"); marker != (h == "db-1") {
			t.Errorf("%s publishes the drills' age: %v; the host that takes the backups does", h, marker)
		}
	}

	bad := drillArgs()
	bad.Drill.Schedule = "weekly"
	if _, err := cluster.Run(t, bad); err == nil || !strings.Contains(err.Error(), `Drill.Schedule: got "weekly", want a cron expression of five fields`) {
		t.Errorf("a bad schedule: %v", err)
	}
}

// TestTheCARotatesWithBothGenerationsTrusted takes a cluster through the CA rotation's steps: every
// generation listed is a CA (the first under the single CA's old name and subject), the first signs every
// host's certificate, every host and client trusts all of them, and Patroni's REST API reads them from a
// file named by the set, so that a change of the set is a change of path it reloads.
func TestTheCARotatesWithBothGenerationsTrusted(t *testing.T) {
	t.Parallel()
	const added = "202612010900"
	// secret is a secret input's plain value, which the recorded inputs hide.
	secret := func(r offline.Resource, key resource.PropertyKey) string {
		v := r.Inputs[key]
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		return v.StringValue()
	}
	for _, gens := range [][]string{{"1"}, {"1", added}, {added, "1"}, {added}} {
		t.Run(strings.Join(gens, ","), func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			args.CAGenerations = gens
			var configs map[string]string
			rs := offlinetest.MustRun(t, func(ctx *pulumi.Context) error {
				c, err := NewCluster(ctx, "db", args)
				if err != nil {
					return err
				}
				got := make(chan map[string]string, 1)
				c.HostConfig.ApplyT(func(m map[string]string) int { got <- m; return 0 })
				select {
				case configs = <-got:
				case <-time.After(30 * time.Second):
					return errors.New("HostConfig never resolved")
				}
				return nil
			})
			cas := offlinetest.Of(rs, "tls:index/selfSignedCert:SelfSignedCert")
			if len(cas) != len(gens) {
				t.Fatalf("%d CAs, want %d", len(cas), len(gens))
			}
			issuerKey := ""
			for i, g := range gens {
				ca, ok := offlinetest.Named(rs, "tls:index/selfSignedCert:SelfSignedCert", "db-ca-"+g)
				if !ok {
					t.Fatalf("no CA of generation %s", g)
				}
				want := "db internal CA"
				if g != FirstCAGeneration {
					want += " " + g
				}
				if cn := ca.String("subject.commonName"); cn != want {
					t.Errorf("generation %s's subject %q, want %q", g, cn, want)
				}
				if i == 0 {
					issuerKey = secret(ca, "privateKeyPem")
				}
			}
			hostCerts := offlinetest.Of(rs, "tls:index/locallySignedCert:LocallySignedCert")
			if len(hostCerts) == 0 {
				t.Fatal("no host certificates")
			}
			for _, c := range hostCerts {
				if secret(c, "caPrivateKeyPem") != issuerKey {
					t.Errorf("%s is not signed by generation %s, the first", c.Name, gens[0])
				}
			}
			for _, host := range []string{"db-0", "db-1"} {
				v, ok := offlinetest.Named(rs, "aws:secretsmanager/secretVersion:SecretVersion", host+"-tls")
				if !ok {
					t.Fatalf("no TLS bundle for %s", host)
				}
				var bundle map[string]string
				if err := json.Unmarshal([]byte(secret(v, "secretString")), &bundle); err != nil {
					t.Fatal(err)
				}
				if n := strings.Count(bundle["ca"], "-----BEGIN MOCK CERTIFICATE-----"); n != len(gens) {
					t.Errorf("%s trusts %d CAs, want every generation's %d", host, n, len(gens))
				}
				cert, _ := offlinetest.Named(rs, "tls:index/locallySignedCert:LocallySignedCert", host)
				if !strings.HasPrefix(bundle["ca"], cert.String("caCertPem")) {
					t.Errorf("%s's CA bundle does not begin with its issuer's certificate", host)
				}
				var files map[string]string
				if err := json.Unmarshal([]byte(configs[host]), &files); err != nil {
					t.Fatal(err)
				}
				if want := "rest-ca-" + strings.Join(gens, "-") + ".crt"; !strings.Contains(files["patroni.yml"], want) {
					t.Errorf("%s's REST API does not read its CAs from %s:\n%s", host, want, files["patroni.yml"])
				}
			}
		})
	}
}

func TestBadCAGenerationsAreRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	for gens, want := range map[string]string{
		"1,2,3": "CAGenerations: got 3 generations [1 2 3]; want one, or two while the CA rotates",
		"1,1":   `CAGenerations: generation "1" twice`,
		"1,New": `CAGenerations: generation "New": want 1 to 16 lower-case letters and digits`,
	} {
		args := validArgs()
		args.CAGenerations = strings.Split(gens, ",")
		cluster.Refused(t, args, want)
	}
}
