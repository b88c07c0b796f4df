package database

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/images/imagetest"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/hosttest"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
	"github.com/hipaa-platform/platform/internal/standin"
)

// These tests boot the database hosts the component renders, as machines of their own (internal/hosttest):
// each first boot is cloud-init running the host's real user data, and each later change is the host's
// real Systems Manager document, run as the agent runs it. Only AWS's APIs are stood in for.

const machineBucket = "hipaa-unit-backups"

// machineCluster is the cluster's arguments on the test network: one zone per /26 of its /24, so the
// hosts take .16, .80 and .144, the application connects from .192/27 and the monitoring host is .250.
func machineCluster(n *hosttest.Network, replicas int) *ClusterArgs {
	a := validArgs()
	a.Replicas, a.HighAvailability = replicas, replicas > 0
	a.Subnets = nil
	for i, zone := range []string{"a", "b", "c"} {
		a.Subnets = append(a.Subnets, network.SubnetInfo{
			ID: pulumi.String("subnet-" + zone).ToStringOutput(), Zone: "us-east-1" + zone,
			CIDR: netip.PrefixFrom(n.Addr(64*i), 26),
		})
	}
	a.ClientCIDRs = []string{netip.PrefixFrom(n.Addr(192), 27).String()}
	a.MonitoringHost = &MonitoringHost{Name: "monitoring", Address: n.Addr(250).String()}
	a.BackupBucketName = machineBucket
	// A drill aimed a minute and a half back: the test's newest backup is minutes old.
	a.Drill = &DrillArgs{Schedule: "0 4 * * 0", EvidenceBucketName: "hipaa-unit-logs", EvidenceBucketArn: pulumi.String("arn:aws:s3:::hipaa-unit-logs"),
		EvidenceKeyArn: pulumi.String(logsKey), EvidenceKeyAlias: "arn:aws:kms:us-east-1:123456789012:alias/hipaa-unit-keys-logs", TargetAgeSeconds: 90}
	return a
}

// drillUserData is the drill host's user data as its launch template declares it.
func drillUserData(t *testing.T, a *ClusterArgs) []byte {
	t.Helper()
	lt, ok := offlinetest.Named(cluster.MustRun(t, a), "aws:ec2/launchTemplate:LaunchTemplate", "db-drill")
	if !ok {
		t.Fatal("no drill host")
	}
	raw, err := base64.StdEncoding.DecodeString(lt.String("userData"))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// rendered is what the component declares for one host: its user data as EC2 receives it, and its
// Systems Manager document.
type rendered struct {
	address  string
	userData []byte
	document string
}

func renderHosts(t *testing.T, a *ClusterArgs) map[string]rendered {
	t.Helper()
	rs := cluster.MustRun(t, a)
	out := map[string]rendered{}
	for _, in := range offlinetest.Of(rs, "aws:ec2/instance:Instance") {
		raw, err := base64.StdEncoding.DecodeString(in.String("userDataBase64"))
		if err != nil {
			t.Fatal(err)
		}
		doc, ok := offlinetest.Named(rs, "aws:ssm/document:Document", in.Name+"-converge")
		if !ok {
			t.Fatalf("%s has no configuration document", in.Name)
		}
		out[in.Name] = rendered{address: in.String("privateIp"), userData: raw, document: doc.String("content")}
	}
	return out
}

// machineNetwork is a network for the booted hosts of a cluster with replicas, on the database image as
// its own harden.sh leaves it, their rendered setup, and the secrets they read at boot stored in its
// stand-in.
func machineNetwork(t *testing.T, replicas int) (*hosttest.Network, map[string]rendered) {
	t.Helper()
	n := hosttest.NewNetwork(t, imagetest.Hardened(t, "db"), machineBucket)
	hosts := renderHosts(t, machineCluster(n, replicas))
	storeSecrets(t, n, hosts)
	return n, hosts
}

// storeSecrets puts the clients' credentials and each host's TLS bundle where the stand-in serves them,
// under the names the component gives them.
func storeSecrets(t *testing.T, n *hosttest.Network, hosts map[string]rendered) {
	t.Helper()
	// The clients' credentials name their login roles.
	n.AWS.SetSecret("db/app", `{"username":"app_a","password":"appPassw0rd3"}`)
	n.AWS.SetSecret("db/monitoring", `{"username":"nagios_a","password":"monitoringPassw0rd10"}`)
	for name, h := range hosts {
		cert, key, err := n.CA.Issue(name, h.address)
		if err != nil {
			t.Fatal(err)
		}
		bundle, _ := json.Marshal(map[string]string{"key": string(key), "cert": string(cert), "ca": string(n.CA.PEM())})
		n.AWS.SetSecret("db/tls/"+name, string(bundle))
	}
}

// valueOf is a published datum's value, or "" for none.
func valueOf(m *standin.Metric) string {
	if m == nil {
		return ""
	}
	return m.Value
}

// units are the units that call AWS: each is told the stand-ins' endpoints, and pgBackRest the stand-in
// S3's address and keys (pgBackRest takes its options from the environment before its file).
var units = []string{"hipaa-db-converge.service", "postgresql@.service", "patroni.service", "hipaa-db-metrics.service",
	"pgbackrest-server.service", "pgbackrest-backup@.service", "hipaa-db-drill.service", "hipaa-db-rotate.service"}

// standinEnv is how a host's units reach the stand-ins.
func standinEnv(n *hosttest.Network) map[string]string {
	return map[string]string{
		"HIPAA_AWS_ENDPOINT":                n.AWS.URL,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT": n.AWS.URL + "/",
		"PGBACKREST_REPO1_STORAGE_HOST":     n.Gateway.String(),
		"PGBACKREST_REPO1_STORAGE_PORT":     strconv.Itoa(n.S3.Port),
		"PGBACKREST_REPO1_STORAGE_CA_FILE":  hosttest.CAFile,
		"PGBACKREST_REPO1_S3_URI_STYLE":     "path",
		"PGBACKREST_REPO1_S3_KEY_TYPE":      "shared",
		"PGBACKREST_REPO1_S3_KEY":           standin.S3Key,
		"PGBACKREST_REPO1_S3_KEY_SECRET":    standin.S3Secret,
	}
}

func bootHost(t *testing.T, n *hosttest.Network, name string, h rendered) *hosttest.Machine {
	t.Helper()
	env := standinEnv(n)
	var pgEnv strings.Builder
	for k, v := range env {
		fmt.Fprintf(&pgEnv, "%s = '%s'\n", k, v)
	}
	return n.Boot(t, hosttest.Config{
		Name: name, Addr: netip.MustParseAddr(h.address), UserData: h.userData,
		DataDevice: dataDevice, DiskMiB: 400,
		Environment: env, Units: units,
		// The postmaster's environment: its archive and restore commands run pgBackRest.
		Files: map[string]string{"/etc/postgresql/15/main/environment": pgEnv.String()},
	})
}

// convergeLog is a host's converge log so far.
func convergeLog(m *hosttest.Machine) string { return m.File("/var/log/hipaa/converge.log") }

// runs are the converge runs a host has finished, by their last line.
func runs(m *hosttest.Machine) []string {
	var out []string
	for _, line := range strings.Split(convergeLog(m), "\n") {
		if strings.Contains(line, ": converged: ") {
			out = append(out, line)
		}
	}
	return out
}

func waitConverged(t *testing.T, m *hosttest.Machine, count int, timeout time.Duration) {
	t.Helper()
	m.WaitFor(t, fmt.Sprintf("converge run %d", count), timeout, func() bool { return len(runs(m)) >= count },
		func() string {
			journal, _ := m.Exec("journalctl", "--no-pager", "-n", "80", "-u", "hipaa-db-converge", "-u", "cloud-final")
			return "converge log:\n" + convergeLog(m) + "\njournal:\n" + journal
		})
}

func sql(t *testing.T, m *hosttest.Machine, query string) string {
	t.Helper()
	out, err := m.Exec("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql", "-XAtq", "-h", "/var/run/postgresql", "-d", "postgres", "-c", query)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

func postmaster(t *testing.T, m *hosttest.Machine) string {
	t.Helper()
	// The data volume is mounted inside the machine only.
	out, err := m.Exec("head", "-n", "1", "/var/lib/postgresql/15/main/postmaster.pid")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out)
}

// apply runs a host's Systems Manager document on it as the agent's aws:runShellScript does, and
// returns the converge run's log lines.
func apply(t *testing.T, m *hosttest.Machine, document string) string {
	t.Helper()
	script, err := converge.Commands(document)
	if err != nil {
		t.Fatal(err)
	}
	before := len(convergeLog(m))
	if _, err := m.Run(script); err != nil {
		journal, _ := m.Exec("journalctl", "--no-pager", "-n", "60", "-u", "hipaa-db-converge")
		t.Fatalf("%s: the document failed: %v\nits run:\n%s\njournal:\n%s", m.Name, err, convergeLog(m)[before:], journal)
	}
	return convergeLog(m)[before:]
}

// rerun runs the host's converge unit once more, as its timer does.
func rerun(t *testing.T, m *hosttest.Machine) {
	t.Helper()
	before := len(convergeLog(m))
	if _, err := m.Start("hipaa-db-converge.service"); err != nil {
		journal, _ := m.Exec("journalctl", "--no-pager", "-n", "60", "-u", "hipaa-db-converge")
		t.Fatalf("%s: %v\nits run:\n%s\njournal:\n%s", m.Name, err, convergeLog(m)[before:], journal)
	}
}

func lastRun(m *hosttest.Machine) string {
	all := runs(m)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// member is one Patroni member as patronictl lists it.
type member struct {
	Name  string `json:"Member"`
	Role  string `json:"Role"`
	State string `json:"State"`
	TL    int    `json:"TL"`
}

// members are the cluster's members as patronictl on m sees them, through the store and over TLS.
func members(t *testing.T, m *hosttest.Machine) []member {
	t.Helper()
	out, err := m.Exec("patronictl", "-c", "/etc/patroni/config.yml", "list", "-f", "json")
	if err != nil {
		t.Fatalf("%s: patronictl list: %v", m.Name, err)
	}
	var ms []member
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("%s: patronictl list: %v: %s", m.Name, err, out)
	}
	return ms
}

// roles are the members' roles, "name role", sorted by name, of those running.
func roles(t *testing.T, m *hosttest.Machine) string {
	var out []string
	for _, cm := range members(t, m) {
		if cm.State == "running" || cm.State == "streaming" {
			out = append(out, cm.Name+" "+cm.Role)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func TestBootedPatroniClusterConvergesAndTakesChangesWithoutARestart(t *testing.T) {
	n, hosts := machineNetwork(t, 2)

	// The replicas boot first, and wait for a leader that is not there yet, saying so: started before
	// one exists, they would race to make a cluster of their own.
	first := bootHost(t, n, "db-1", hosts["db-1"])
	second := bootHost(t, n, "db-2", hosts["db-2"])
	first.WaitFor(t, "db-1 to wait for a leader", 3*time.Minute,
		func() bool { return strings.Contains(convergeLog(first), "waiting for a leader of the db cluster") },
		func() string { return convergeLog(first) })
	primary := bootHost(t, n, "db-0", hosts["db-0"])
	all := []*hosttest.Machine{primary, first, second}
	for _, m := range all {
		waitConverged(t, m, 1, 5*time.Minute)
	}
	if got, want := roles(t, first), "db-0 Leader, db-1 Replica, db-2 Replica"; got != want {
		t.Fatalf("members: %s, want %s\n%s", got, want, convergeLog(primary))
	}
	if got := sql(t, primary, "SELECT string_agg(application_name || ' ' || state, ',' ORDER BY application_name) FROM pg_stat_replication"); got != "db-1 streaming,db-2 streaming" {
		t.Errorf("replication on the leader: %q, want db-1 and db-2 streaming", got)
	}
	if got := sql(t, primary, "SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('app', 'app_a', 'app_b', 'nagios', 'nagios_a', 'nagios_b', 'replicator', 'rewinder')"); got != "app,app_a,app_b,nagios,nagios_a,nagios_b,replicator,rewinder" {
		t.Errorf("roles on the leader: %s", got)
	}
	if !strings.Contains(convergeLog(primary), "created the pgBackRest stanza main") {
		t.Errorf("the leader made no stanza:\n%s", convergeLog(primary))
	}
	// Debian's own unit never starts the cluster Patroni runs.
	if out, _ := primary.Exec("cat", "/etc/postgresql/15/main/start.conf"); strings.TrimSpace(out) != "manual" {
		t.Errorf("start.conf is %q, want manual", out)
	}

	// A second run changes nothing, on any host, and restarts nothing.
	pids := map[*hosttest.Machine]string{}
	for _, m := range all {
		pids[m] = postmaster(t, m)
		rerun(t, m)
		if got := lastRun(m); !strings.HasSuffix(got, "converged: 0 change(s)") {
			t.Errorf("%s's second run: %q, want no change\n%s", m.Name, got, convergeLog(m))
		}
		if got := postmaster(t, m); got != pids[m] {
			t.Errorf("%s's PostgreSQL restarted (%s, then %s)", m.Name, pids[m], got)
		}
	}

	// Changed dials reach every member with a reload of Patroni, which passes it on: a new client
	// network and a shorter archive timeout (this host's settings), and synchronous replication (a
	// setting the cluster shares, which the leader applies to the store).
	changed := machineCluster(n, 2)
	changed.ClientCIDRs = append(changed.ClientCIDRs, netip.PrefixFrom(n.Addr(224), 28).String())
	changed.ArchiveTimeoutSeconds = 30
	changed.SynchronousReplication = true
	docs := renderHosts(t, changed)
	for _, m := range all {
		out := apply(t, m, docs[m.Name].document)
		if !strings.Contains(out, "changed: reloaded patroni") {
			t.Errorf("%s: the change was not reloaded:\n%s", m.Name, out)
		}
		if applied := strings.Contains(out, "changed: applied the cluster's shared settings"); applied != (m == primary) {
			t.Errorf("%s applied the shared settings: %v; only the leader does\n%s", m.Name, applied, out)
		}
	}
	primary.WaitFor(t, "a synchronous standby", time.Minute,
		func() bool { return sql(t, primary, "SHOW synchronous_standby_names") != "" },
		func() string { return roles(t, primary) })
	if got := sql(t, primary, "SHOW archive_timeout"); got != "30s" {
		t.Errorf("archive_timeout is %s after the change, want 30s", got)
	}
	if got := sql(t, primary, "SELECT count(*) FROM pg_hba_file_rules WHERE address = '"+n.Addr(224).String()+"'"); got != "1" {
		t.Errorf("the new client network has %s rules in force, want 1", got)
	}
	for _, m := range all {
		if got := postmaster(t, m); got != pids[m] {
			t.Errorf("the change restarted %s's PostgreSQL (%s, then %s)", m.Name, pids[m], got)
		}
	}

	// A switchover to the synchronous standby, asked on another host: Patroni's REST API and the store
	// between the machines, over TLS.
	var candidate string
	first.WaitFor(t, "a synchronous standby in the store", time.Minute, func() bool {
		for _, cm := range members(t, first) {
			if cm.Role == "Sync Standby" {
				candidate = cm.Name
			}
		}
		return candidate != ""
	}, func() string { return roles(t, first) })
	if out, err := first.Exec("patronictl", "-c", "/etc/patroni/config.yml", "switchover", "db", "--leader", "db-0", "--candidate", candidate, "--force"); err != nil {
		t.Fatalf("switchover: %v\n%s", err, out)
	}
	promoted := func(host string) int { return len(n.AWS.Metrics("Promotions", host)) }
	first.WaitFor(t, candidate+" to lead", 2*time.Minute,
		func() bool {
			return strings.Contains(roles(t, first), candidate+" Leader") && strings.Contains(roles(t, first), "db-0 ")
		},
		func() string { return roles(t, first) })

	// The promotion is one event: one datum from the new primary, whose alarm notifies once; the cluster's
	// first leader, made by its bootstrap, published none.
	first.WaitFor(t, candidate+"'s promotion to be published", time.Minute, func() bool { return promoted(candidate) > 0 },
		func() string {
			out, _ := first.Exec("journalctl", "--no-pager", "-n", "40", "-u", "patroni")
			return out
		})
	if all := n.AWS.Metrics("Promotions", ""); len(all) != 1 {
		t.Errorf("%d promotions published, want the one of %s: %v", len(all), candidate, all)
	}

	// The backups keep running from a standby whichever member leads.
	if out, err := first.Exec("systemctl", "start", "pgbackrest-backup@full.service"); err != nil {
		journal, _ := first.Exec("journalctl", "--no-pager", "-n", "40", "-u", "pgbackrest-backup@full.service")
		t.Fatalf("a full backup after the switchover: %v\n%s\n%s", err, out, journal)
	}
	args := []string{"runuser", "-u", "postgres", "--", "env"}
	for k, v := range standinEnv(n) {
		args = append(args, k+"="+v)
	}
	info, _ := first.Exec(append(args, "pgbackrest", "--config=/etc/pgbackrest/pgbackrest.conf", "--stanza=main", "info", "--output=json")...)
	if !strings.Contains(info, `"type":"full"`) {
		t.Errorf("no full backup in the repository after the switchover:\n%s", info)
	}

	// The restore drill: a host booted from the drill's launch template restores that backup to a
	// minute and a half back, finds the canary the primary wrote, writes its evidence and marker, and
	// scales its group back to zero. Its target must follow the backup, and a canary row precede it.
	leader := func() *hosttest.Machine {
		for _, cm := range members(t, first) {
			if cm.Role == "Leader" {
				return map[string]*hosttest.Machine{"db-0": primary, "db-1": first, "db-2": second}[cm.Name]
			}
		}
		return nil
	}()

	// The rotation's daily unit, as its timer starts it: the leader rotates the clients' credentials,
	// never rotated yet, through the image's AWS CLI; a replica leaves them to the leader.
	for _, m := range all {
		if out, err := m.Exec("systemctl", "start", "hipaa-db-rotate.service"); err != nil {
			journal, _ := m.Exec("journalctl", "--no-pager", "-n", "20", "-u", "hipaa-db-rotate.service")
			t.Fatalf("%s: hipaa-db-rotate.service: %v\n%s\n%s", m.Name, err, out, journal)
		}
		journal, _ := m.Exec("journalctl", "--no-pager", "-o", "cat", "-u", "hipaa-db-rotate.service")
		wants := []string{"is not the leader: the leader rotates"}
		if m == leader {
			wants = []string{"rotated app: the secret names app_b", "rotated monitoring: the secret names nagios_b"}
		}
		for _, want := range wants {
			if !strings.Contains(journal, want) {
				t.Errorf("%s's rotation unit: want %q in\n%s", m.Name, want, journal)
			}
		}
	}
	for secret, login := range map[string]string{"db/app": "app_b", "db/monitoring": "nagios_b"} {
		if value, _ := n.AWS.Secret(secret); n.AWS.Puts(secret) != 1 || !strings.Contains(value, `"username": "`+login+`"`) {
			t.Errorf("after the rotation unit %s holds %d new values, the last naming %.30q; want one, %s's", secret, n.AWS.Puts(secret), value, login)
		}
	}
	if got := sql(t, leader, "SELECT string_agg(rolname || ' ' || (rolvaliduntil = 'infinity'), ',' ORDER BY rolname) FROM pg_authid WHERE rolname ~ '^(app|nagios)_[ab]$' AND rolpassword IS NOT NULL"); got != "app_a false,app_b true,nagios_a false,nagios_b true" {
		t.Errorf("the login roles after the rotation: %q; want the first logins' passwords ending, the second's not", got)
	}
	time.Sleep(100 * time.Second)
	// The primary's metrics timer publishes each credential's age: both rotated a minute or two ago.
	for _, c := range []string{"app", "monitoring"} {
		var last *standin.Metric
		for _, m := range n.AWS.Metrics("CredentialAgeSeconds", "") {
			if m.Dimensions["Credential"] == c && m.Dimensions["Cluster"] == "db" {
				last = &m
			}
		}
		if age, err := strconv.Atoi(valueOf(last)); err != nil || age > 300 {
			t.Errorf("the %s credential's published age: %v (%v); want a minute or two", c, last, err)
		}
	}
	if rows, err := leader.Exec("runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/psql", "-XAtq", "-h", "/var/run/postgresql",
		"-d", AppDatabase, "-c", "SELECT count(*) FROM "+CanaryTable); err != nil || strings.TrimSpace(rows) == "0" {
		t.Fatalf("%s wrote no canary row: %q %v", leader.Name, rows, err)
	}
	drill := n.Boot(t, hosttest.Config{Name: "db-drill", Addr: n.Addr(40), UserData: drillUserData(t, changed),
		Environment: standinEnv(n), Units: units})
	drillLog := func() string { return drill.File("/var/log/hipaa/drill.log") }
	drill.WaitFor(t, "the drill to scale its group back to zero", 5*time.Minute,
		func() bool { return len(n.AWS.Scalings()) > 0 }, drillLog)
	if s := n.AWS.Scalings(); len(s) != 1 || s[0] != (standin.Scaling{Group: "db-drill", Capacity: "0"}) {
		t.Errorf("the drill scaled %v, want db-drill to 0", s)
	}
	if ms := n.AWS.Metrics("DrillSucceeded", ""); len(ms) != 1 || ms[0].Value != "1" {
		t.Errorf("the drill published %v, want DrillSucceeded 1\n%s", ms, drillLog())
	}
	evidence := n.AWS.Objects("hipaa-unit-logs/drills/db/")
	if len(evidence) != 1 {
		t.Fatalf("%d evidence records, want 1\n%s", len(evidence), drillLog())
	}
	for key, body := range evidence {
		var record struct {
			Result string
			Checks map[string]bool
		}
		if err := json.Unmarshal(body, &record); err != nil || record.Result != "passed" || !record.Checks["canary"] || !record.Checks["amcheck"] || !record.Checks["verify"] {
			t.Errorf("%s: %s (%v)", key, body, err)
		}
	}
	if marker := n.AWS.Objects(machineBucket + "/db/drills/last-passed"); len(marker) != 1 {
		t.Errorf("the drill left no marker of its pass: %v", marker)
	}
	t.Logf("the drill host's log:\n%s", drillLog())

	rotateTheCA(t, n, hosts, all, leader, changed)
}

// rotateTheCA takes the booted cluster through the CA rotation's three steps (NextCAStep), as an
// operator does: each step's secrets change at once, as an update changes them, and its configuration
// is applied on one member after another, the cluster streaming after each. A member's certificate of
// the new CA is admitted beside the old CA's while both are trusted, every member then serves one of the
// new CA, and once the old CA is dropped a certificate of it is refused; no PostgreSQL restarts.
func rotateTheCA(t *testing.T, n *hosttest.Network, hosts map[string]rendered, all []*hosttest.Machine, leader *hosttest.Machine, args *ClusterArgs) {
	const added = "202612020900"
	next, err := standin.NewNamedCA("db internal CA " + added)
	if err != nil {
		t.Fatal(err)
	}
	// The client is a member that does not lead: its address is one the leader admits for replication.
	var client *hosttest.Machine
	for _, m := range all {
		if m != leader && client == nil {
			client = m
		}
	}
	leaderAddr := hosts[leader.Name].address
	pids := map[*hosttest.Machine]string{}
	for _, m := range all {
		pids[m] = postmaster(t, m)
	}
	// cert puts a certificate of ca for the client's name on the client machine, beside both CAs.
	cert := func(ca *standin.CA, file string) {
		c, k, err := ca.Issue(client.Name, hosts[client.Name].address)
		if err != nil {
			t.Fatal(err)
		}
		script := fmt.Sprintf("set -e; umask 077; mkdir -p /root/ca; cat > /root/ca/%[1]s.crt <<'PEM'\n%[2]sPEM\ncat > /root/ca/%[1]s.key <<'PEM'\n%[3]sPEM\ncat > /root/ca/both.crt <<'PEM'\n%[4]s%[5]sPEM\n",
			file, c, k, n.CA.PEM(), next.PEM())
		if out, err := client.Run(script); err != nil {
			t.Fatalf("writing the client's certificate: %v\n%s", err, out)
		}
	}
	cert(n.CA, "old")
	cert(next, "new")
	// admitted says whether the leader's PostgreSQL (replication) and Patroni REST API admit the client's
	// certificate file, and their errors.
	admitted := func(file string) (replication, rest bool, why string) {
		out, err := client.Exec("/usr/lib/postgresql/15/bin/psql", "-XAt", "-c", "IDENTIFY_SYSTEM", "host="+leaderAddr+" port=5432 dbname=postgres user=replicator replication=true sslmode=verify-full connect_timeout=5 sslrootcert=/root/ca/both.crt sslcert=/root/ca/"+file+".crt sslkey=/root/ca/"+file+".key")
		replication, why = err == nil, out
		out, err = client.Exec("python3", "-c", `
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile="/root/ca/both.crt")
ctx.load_cert_chain(sys.argv[1] + ".crt", sys.argv[1] + ".key")
try:
    urllib.request.urlopen(sys.argv[2], context=ctx, timeout=10).read()
except Exception as e:
    print(e)
    sys.exit(1)
`, "/root/ca/"+file, "https://"+leaderAddr+":8008/patroni")
		if err != nil {
			journal, _ := leader.Exec("journalctl", "--no-pager", "-n", "30", "-u", "patroni")
			out += "\n" + journal
		}
		return replication, err == nil, why + out
	}
	// served is the issuer of the certificate the leader's PostgreSQL serves.
	served := func() string {
		out, _ := client.Exec("sh", "-c", "openssl s_client -starttls postgres -connect "+leaderAddr+":5432 </dev/null 2>/dev/null | openssl x509 -noout -issuer")
		return strings.TrimSpace(out)
	}
	// bundles sets every member's TLS secret: a certificate of issuer when one is given (else its own
	// kept) and the CAs trusted.
	bundles := func(issuer *standin.CA, trusted ...*standin.CA) {
		for name, h := range hosts {
			value, _ := n.AWS.Secret("db/tls/" + name)
			var b map[string]string
			if err := json.Unmarshal([]byte(value), &b); err != nil {
				t.Fatal(err)
			}
			if issuer != nil {
				c, k, err := issuer.Issue(name, h.address)
				if err != nil {
					t.Fatal(err)
				}
				b["cert"], b["key"] = string(c), string(k)
			}
			b["ca"] = ""
			for _, ca := range trusted {
				b["ca"] += string(ca.PEM())
			}
			raw, _ := json.Marshal(b)
			n.AWS.SetSecret("db/tls/"+name, string(raw))
		}
	}
	step := func(gens []string) {
		t.Helper()
		a := *args
		a.CAGenerations = gens
		docs := renderHosts(t, &a)
		for _, m := range all {
			out := apply(t, m, docs[m.Name].document)
			if want := "rest-ca-" + strings.Join(gens, "-") + ".crt"; !strings.Contains(m.File("/etc/patroni/config.yml"), want) {
				t.Errorf("%s: Patroni's REST API does not read %s after the step %v:\n%s", m.Name, want, gens, out)
			}
			leader.WaitFor(t, fmt.Sprintf("the replicas to stream after %s took the step %v", m.Name, gens), 2*time.Minute,
				func() bool {
					return sql(t, leader, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "2"
				},
				func() string { return roles(t, client) + "\n" + out })
		}
		if got := roles(t, client); strings.Count(got, ",") != 2 || !strings.Contains(got, leader.Name+" Leader") {
			t.Errorf("members after the step %v: %s", gens, got)
		}
	}

	// Trust: the new CA beside the old, which still issues.
	bundles(nil, n.CA, next)
	step([]string{"1", added})
	for _, file := range []string{"old", "new"} {
		if replication, rest, why := admitted(file); !replication || !rest {
			t.Errorf("while both CAs are trusted, a certificate of the %s CA: replication %v, REST API %v; want both\n%s", file, replication, rest, why)
		}
	}
	// Issue: every member's certificate of the new CA, the old still trusted.
	bundles(next, next, n.CA)
	step([]string{added, "1"})
	if got := served(); !strings.Contains(got, added) {
		t.Errorf("the leader serves a certificate issued by %q, want the new CA", got)
	}
	// Drop: the old CA no longer trusted anywhere.
	bundles(nil, next)
	step([]string{added})
	if replication, rest, why := admitted("old"); replication || rest || !strings.Contains(why, "unknown ca") {
		t.Errorf("after the old CA is dropped, a certificate of it: replication %v, REST API %v; want both refused as of an unknown CA\n%s", replication, rest, why)
	}
	if replication, rest, why := admitted("new"); !replication || !rest {
		t.Errorf("after the rotation, a certificate of the new CA: replication %v, REST API %v\n%s", replication, rest, why)
	}
	for _, m := range all {
		if got := postmaster(t, m); got != pids[m] {
			t.Errorf("the CA's rotation restarted %s's PostgreSQL (%s, then %s)", m.Name, pids[m], got)
		}
		if old, _ := m.Exec("sh", "-c", "ls /etc/postgresql/tls/rest-ca-*.crt"); strings.TrimSpace(old) != "/etc/postgresql/tls/rest-ca-"+added+".crt" {
			t.Errorf("%s keeps the REST API's CA files %q, want only the last set's", m.Name, old)
		}
	}
}

// TestABootedHostTakesARenewedCertificateWithAReload: a host certificate renewed in its secret (as the
// weekly update does within its early-renewal window) is served by the running primary after its next
// converge run, with a reload: the same postmaster.
func TestABootedHostTakesARenewedCertificateWithAReload(t *testing.T) {
	n, hosts := machineNetwork(t, 0)
	primary := bootHost(t, n, "db-0", hosts["db-0"])
	waitConverged(t, primary, 1, 4*time.Minute)
	pid := postmaster(t, primary)
	served := func() string {
		out, err := primary.Exec("sh", "-c", "openssl s_client -starttls postgres -connect "+hosts["db-0"].address+":5432 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256")
		if err != nil {
			t.Fatal(err)
		}
		return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(out[strings.Index(out, "=")+1:]), ":", ""))
	}
	before := served()

	cert, key, err := n.CA.Issue("db-0", hosts["db-0"].address)
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]string{"key": string(key), "cert": string(cert), "ca": string(n.CA.PEM())})
	n.AWS.SetSecret("db/tls/db-0", string(bundle))
	mark := len(convergeLog(primary))
	rerun(t, primary)
	if run := convergeLog(primary)[mark:]; !strings.Contains(run, "changed: reloaded postgresql@15-main.service") {
		t.Errorf("the renewal's run did not reload PostgreSQL:\n%s", run)
	}
	block, _ := pem.Decode(cert)
	sum := sha256.Sum256(block.Bytes)
	if got, want := served(), strings.ToUpper(hex.EncodeToString(sum[:])); got != want || got == before {
		t.Errorf("the primary serves %s after the renewal (before: %s), want the new certificate %s", got, before, want)
	}
	if got := postmaster(t, primary); got != pid {
		t.Errorf("the renewal restarted PostgreSQL (%s, then %s)", pid, got)
	}
}
