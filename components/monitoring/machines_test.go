package monitoring

import (
	"encoding/base64"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/images/imagetest"
	"github.com/hipaa-platform/platform/components/monitoring/nagios"
	"github.com/hipaa-platform/platform/components/network"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/hosttest"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// renderNagios is the Nagios host the component declares on the test network: its user data as EC2
// receives it and its Systems Manager document.
func renderNagios(t *testing.T, n *hosttest.Network, thresholds *nagios.Thresholds) (addr netip.Addr, userData []byte, document string) {
	t.Helper()
	a := args()
	a.Subnet = network.SubnetInfo{ID: pulumi.String("subnet-app-a").ToStringOutput(), Zone: "us-east-1a", CIDR: netip.PrefixFrom(n.Addr(0), 26)}
	a.Thresholds = thresholds
	a.Database.Witness = witnessOf(t, a)
	rs := monitor.MustRun(t, a)
	in := offlinetest.One(t, rs, "aws:ec2/instance:Instance")
	raw, err := base64.StdEncoding.DecodeString(in.String("userDataBase64"))
	if err != nil {
		t.Fatal(err)
	}
	doc, ok := offlinetest.Named(rs, "aws:ssm/document:Document", "mon-converge")
	if !ok {
		t.Fatal("the Nagios host has no configuration document")
	}
	return netip.MustParseAddr(in.String("privateIp")), raw, doc.String("content")
}

// TestTheBootedNagiosHostConvergesAndReloadsChangedChecks boots the Nagios host the component renders,
// on the monitoring image as its own harden.sh leaves it, and changes its checks' thresholds through its Systems Manager document: Nagios verifies and reloads
// the new configuration, and keeps running.
func TestTheBootedNagiosHostConvergesAndReloadsChangedChecks(t *testing.T) {
	n := hosttest.NewNetwork(t, imagetest.Hardened(t, "monitoring"), "unused")
	addr, userData, _ := renderNagios(t, n, nil)
	cert, key, err := n.CA.Issue("mon", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := json.Marshal(map[string]string{"key": string(key), "cert": string(cert), "ca": string(n.CA.PEM())})
	n.AWS.SetSecret("db/tls/mon", string(bundle))
	n.AWS.SetSecret("db/monitoring", `{"username":"nagios_a","password":"monitoringPassw0rd"}`)
	m := n.Boot(t, hosttest.Config{
		Name: "mon", Addr: addr, UserData: userData,
		Environment: map[string]string{"HIPAA_AWS_ENDPOINT": n.AWS.URL, "AWS_EC2_METADATA_SERVICE_ENDPOINT": n.AWS.URL + "/"},
		Units:       []string{"hipaa-monitoring-converge.service"},
	})
	log := func() string { return m.File("/var/log/hipaa/converge.log") }
	runs := func() int { return strings.Count(log(), ": converged: ") }
	m.WaitFor(t, "the first converge run", 3*time.Minute, func() bool { return runs() >= 1 }, log)
	for _, want := range []string{"changed: started nagios4", "changed: /etc/apache2/ports.conf", "changed: /etc/nagios4/pki/client.key"} {
		if !strings.Contains(log(), want) {
			t.Errorf("the first run lacks %q:\n%s", want, log())
		}
	}
	// The web interface listens on loopback only, whether the package had started Apache or not.
	if out, err := m.Exec("ss", "-Hltn", "sport", "= :80"); err != nil || !strings.Contains(out, "127.0.0.1:80") || strings.Contains(out, "*:80") || strings.Contains(out, "0.0.0.0:80") {
		t.Errorf("the web interface listens beyond loopback (%v):\n%s", err, out)
	}
	// The store's third voter runs its etcd member, from copies of the host's certificate, waiting for
	// the database hosts (not booted here) to make a majority.
	if out, _ := m.Exec("systemctl", "show", "-p", "ActiveState", "--value", "etcd"); !strings.Contains("active activating", strings.TrimSpace(out)) || strings.TrimSpace(out) == "" {
		t.Errorf("etcd is %q, want it started", out)
	}
	if env := m.File("/etc/default/etcd"); !strings.Contains(env, "ETCD_NAME=mon\n") || !strings.Contains(env, "ETCD_LISTEN_PEER_URLS=https://"+addr.String()+":2380") {
		t.Errorf("etcd runs another configuration than the witness's:\n%s", env)
	}
	if out, _ := m.Exec("stat", "-c", "%U %a", "/etc/hipaa/etcd-tls/server.key"); strings.TrimSpace(out) != "etcd 600" {
		t.Errorf("the witness's key is %q, want etcd's alone", out)
	}
	pid := func() string {
		out, err := m.Exec("systemctl", "show", "-p", "MainPID", "--value", "nagios4")
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(out)
	}
	before := pid()
	if before == "0" {
		t.Fatalf("Nagios is not running:\n%s", log())
	}

	// Tighter thresholds reach the running host through its document: verified, then reloaded.
	tighter := nagios.DefaultThresholds
	tighter.DiskFreeWarn, tighter.DiskFreeCrit = 30, 15
	_, _, document := renderNagios(t, n, &tighter)
	script, err := converge.Commands(document)
	if err != nil {
		t.Fatal(err)
	}
	mark := len(log())
	if out, err := m.Run(script); err != nil {
		t.Fatalf("the document failed: %v\n%s\n%s", err, out, log()[mark:])
	}
	run := log()[mark:]
	for _, want := range []string{"changed: /etc/nagios4/hipaa/", "changed: reloaded nagios4"} {
		if !strings.Contains(run, want) {
			t.Errorf("the change's run lacks %q:\n%s", want, run)
		}
	}
	if after := pid(); after != before {
		t.Errorf("Nagios was restarted (%s, then %s), not reloaded", before, after)
	}
	if hosts := m.File("/etc/nagios4/hipaa/hosts.cfg"); !strings.Contains(hosts, "check_local_disk!30!15!/") {
		t.Errorf("the new thresholds are not in the running configuration:\n%s", hosts)
	}
	if got := m.File("/etc/nagios4/hipaa-credential.cfg"); got != "$USER6$=nagios_a\n" {
		t.Errorf("the checks' login file is %q, want nagios_a", got)
	}

	// A rotation of the monitoring credential (the leader's hipaa-db rotate): the next run writes the new
	// login and its password, keeps the previous login's line for the checks Nagios runs before its
	// reload, and reloads Nagios.
	n.AWS.SetSecret("db/monitoring", `{"username": "nagios_b", "password": "rotatedPassw0rd"}`)
	mark = len(log())
	if out, err := m.Run(script); err != nil {
		t.Fatalf("the run after a rotation failed: %v\n%s\n%s", err, out, log()[mark:])
	}
	if run := log()[mark:]; !strings.Contains(run, "changed: reloaded nagios4") {
		t.Errorf("the run after a rotation did not reload Nagios:\n%s", run)
	}
	if got := m.File("/var/lib/nagios/.pgpass"); got != "*:*:*:nagios_b:rotatedPassw0rd\n*:*:*:nagios_a:monitoringPassw0rd\n" {
		t.Errorf("the passfile after a rotation holds %q; want the new login's line, then the previous one's", strings.ReplaceAll(got, "Passw0rd", "…"))
	}
	if got := m.File("/etc/nagios4/hipaa-credential.cfg"); got != "$USER6$=nagios_b\n" {
		t.Errorf("the checks' login file after a rotation is %q, want nagios_b", got)
	}
	if after := pid(); after != before {
		t.Errorf("Nagios was restarted for the new login (%s, then %s), not reloaded", before, after)
	}
	// The announcement platformctl db patch makes: the real Nagios takes each host's downtime and its
	// services', and the end withdraws those and leaves an operator's own downtime of the same host.
	status := func() string { return m.File("/var/lib/nagios4/status.dat") }
	downtimes := func(comment string) int {
		n := 0
		for _, block := range strings.Split(status(), "downtime {")[1:] {
			if strings.Contains(block, "\tcomment="+comment+"\n") {
				n++
			}
		}
		return n
	}
	ours, theirs := "patching by platformctl db patch, started by tester at 2026-12-02T06:00:00Z", "disk replacement"
	for _, args := range [][]string{{"start", "90", ours, "db-0", "db-1"}, {"start", "30", theirs, "db-1"}} {
		if out, err := m.Exec(append([]string{DowntimeCommand}, args...)...); err != nil {
			t.Fatalf("%s %v: %v\n%s", DowntimeCommand, args, err, out)
		}
	}
	// Nagios writes its status every ten seconds (status_update_interval's default).
	m.WaitFor(t, "the downtimes in Nagios's status", time.Minute, func() bool { return downtimes(ours) >= 2 && downtimes(theirs) >= 1 }, status)
	if !strings.Contains(status(), "servicedowntime {") {
		t.Errorf("no service is in downtime:\n%s", status())
	}
	if out, err := m.Exec(DowntimeCommand, "end", ours, "db-0", "db-1"); err != nil {
		t.Fatalf("%s end: %v\n%s", DowntimeCommand, err, out)
	}
	m.WaitFor(t, "our downtimes withdrawn", time.Minute, func() bool { return downtimes(ours) == 0 }, status)
	if downtimes(theirs) == 0 {
		t.Errorf("the end withdrew an operator's own downtime too:\n%s", status())
	}
	if out, err := m.Exec(DowntimeCommand, "start", "90", "a;b", "db-0"); err == nil || !strings.Contains(out, "usage:") {
		t.Errorf("a comment with a semicolon was taken (%v): %s", err, out)
	}

	// And again: nothing changes, nothing is reloaded.
	if _, err := m.Start("hipaa-monitoring-converge.service"); err != nil {
		t.Fatal(err)
	}
	if last := log()[strings.LastIndex(log(), "converging"):]; !strings.Contains(last, "converged: 0 change(s)") {
		t.Errorf("the second run changed something:\n%s", last)
	}
}
