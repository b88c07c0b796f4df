package database

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

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
	return a
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

// machineNetwork is a network for the booted hosts of a cluster with replicas, their rendered setup,
// and the secrets they read at boot stored in its stand-in.
func machineNetwork(t *testing.T, replicas int) (*hosttest.Network, map[string]rendered) {
	t.Helper()
	n := hosttest.NewNetwork(t, hosttest.Root(t), machineBucket)
	hosts := renderHosts(t, machineCluster(n, replicas))
	storeSecrets(t, n, hosts)
	return n, hosts
}

// storeSecrets puts the cluster's passwords and each host's TLS bundle where the stand-in serves them,
// under the names the component gives them.
func storeSecrets(t *testing.T, n *hosttest.Network, hosts map[string]rendered) {
	t.Helper()
	for _, role := range []string{"superuser", "replication", "app", "monitoring"} {
		n.AWS.SetSecret("db/"+role, role+"Passw0rd"+strconv.Itoa(len(role)))
	}
	for name, h := range hosts {
		cert, key, err := n.CA.Issue(name, h.address)
		if err != nil {
			t.Fatal(err)
		}
		bundle, _ := json.Marshal(map[string]string{"key": string(key), "cert": string(cert), "ca": string(n.CA.PEM())})
		n.AWS.SetSecret("db/tls/"+name, string(bundle))
	}
}

// units are the units that call AWS: each is told the stand-ins' endpoints, and pgBackRest the stand-in
// S3's address and keys (pgBackRest takes its options from the environment before its file).
var units = []string{"hipaa-db-converge.service", "postgresql@.service", "hipaa-db-metrics.service",
	"pgbackrest-server.service", "pgbackrest-backup@.service"}

func bootHost(t *testing.T, n *hosttest.Network, name string, h rendered) *hosttest.Machine {
	t.Helper()
	env := map[string]string{
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

func TestBootedHostsConvergeAndTakeChangesWithoutARestart(t *testing.T) {
	n, hosts := machineNetwork(t, 1)

	// The replica boots first, and waits for a primary that is not there yet, saying so.
	replica := bootHost(t, n, "db-1", hosts["db-1"])
	replica.WaitFor(t, "the replica to wait for its primary", 3*time.Minute,
		func() bool {
			return strings.Contains(convergeLog(replica), "waiting for the primary "+hosts["db-0"].address)
		},
		func() string { return convergeLog(replica) })
	primary := bootHost(t, n, "db-0", hosts["db-0"])
	waitConverged(t, primary, 1, 4*time.Minute)
	waitConverged(t, replica, 1, 4*time.Minute)
	for _, want := range []string{"accepts replication through slot db_1", "cloned /var/lib/postgresql/15/main from the primary"} {
		if !strings.Contains(convergeLog(replica), want) {
			t.Errorf("the replica's log lacks %q:\n%s", want, convergeLog(replica))
		}
	}
	if got := sql(t, primary, "SELECT application_name || ' ' || state FROM pg_stat_replication"); got != "db-1 streaming" {
		t.Errorf("replication on the primary: %q, want db-1 streaming", got)
	}
	for _, m := range []*hosttest.Machine{primary, replica} {
		if out, _ := m.Exec("ps", "-o", "args=", "-C", "nrpe"); !strings.Contains(out, "/etc/nagios/nrpe-hipaa.cfg") {
			t.Errorf("%s's NRPE runs %q, not the platform's configuration", m.Name, strings.TrimSpace(out))
		}
	}

	// A second run changes nothing, on either host, and restarts nothing.
	pids := map[*hosttest.Machine]string{primary: postmaster(t, primary), replica: postmaster(t, replica)}
	for m := range pids {
		rerun(t, m)
		if got := lastRun(m); !strings.HasSuffix(got, "converged: 0 change(s)") {
			t.Errorf("%s's second run: %q, want no change\n%s", m.Name, got, convergeLog(m))
		}
		if got := postmaster(t, m); got != pids[m] {
			t.Errorf("%s's PostgreSQL restarted (%s, then %s)", m.Name, pids[m], got)
		}
	}
	for _, h := range []string{"db-0", "db-1"} {
		if ms := n.AWS.Metrics("Converged", h); len(ms) == 0 || ms[len(ms)-1].Value != "1" || ms[len(ms)-1].Namespace != converge.Namespace {
			t.Errorf("%s published %v, want Converged 1 in %s", h, ms, converge.Namespace)
		}
	}

	// A replica added to the running cluster: the primary's new document creates its slot and admits it,
	// with a reload; the new host boots and joins.
	grown := renderHosts(t, machineCluster(n, 2))
	storeSecrets(t, n, grown)
	out := apply(t, primary, grown["db-0"].document)
	for _, want := range []string{"changed: /etc/postgresql/15/main/pg_hba.conf", "changed: reloaded postgresql@15-main.service", "changed: created slot db_2"} {
		if !strings.Contains(out, want) {
			t.Errorf("adding a replica: the primary's run lacks %q:\n%s", want, out)
		}
	}
	if got := postmaster(t, primary); got != pids[primary] {
		t.Errorf("adding a replica restarted the primary (%s, then %s)", pids[primary], got)
	}
	third := bootHost(t, n, "db-2", grown["db-2"])
	waitConverged(t, third, 1, 4*time.Minute)
	primary.WaitFor(t, "db-2 to stream", time.Minute,
		func() bool {
			return strings.Contains(sql(t, primary, "SELECT string_agg(application_name || ' ' || state, ',') FROM pg_stat_replication"), "db-2 streaming")
		},
		func() string { return sql(t, primary, "SELECT * FROM pg_stat_replication") + "\n" + convergeLog(third) })

	// Changed dials reach the running primary with a reload: a new client network and a shorter archive
	// timeout.
	changed := machineCluster(n, 2)
	changed.ClientCIDRs = append(changed.ClientCIDRs, netip.PrefixFrom(n.Addr(224), 28).String())
	changed.ArchiveTimeoutSeconds = 30
	out = apply(t, primary, renderHosts(t, changed)["db-0"].document)
	if !strings.Contains(out, "changed: reloaded postgresql@15-main.service") || !strings.HasSuffix(strings.TrimSpace(lastRun(primary)), "change(s)") {
		t.Errorf("the change was not reloaded:\n%s", out)
	}
	if got := sql(t, primary, "SHOW archive_timeout"); got != "30s" {
		t.Errorf("archive_timeout is %s after the change, want 30s", got)
	}
	if got := sql(t, primary, "SELECT count(*) FROM pg_hba_file_rules WHERE address = '"+n.Addr(224).String()+"'"); got != "1" {
		t.Errorf("the new client network has %s rules in force, want 1", got)
	}
	if got := postmaster(t, primary); got != pids[primary] {
		t.Errorf("the change restarted the primary (%s, then %s)", pids[primary], got)
	}
	if strings.Contains(convergeLog(primary), "waiting for a restart") {
		t.Errorf("a reloadable change was left waiting for a restart:\n%s", convergeLog(primary))
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
