package nagios

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
	"github.com/hipaa-platform/platform/internal/standin"
)

// runner runs the generated checks as Nagios (or NRPE) would, with the real plugins, as the user the
// test servers run as.
type runner struct {
	t        *testing.T
	env      *pgtest.Env
	commands map[string]string // command_name: command_line
	users    map[string]string // $USERn$ macros
	hosts    map[string]Object
}

func newRunner(t *testing.T, env *pgtest.Env, files Files) *runner {
	r := &runner{t: t, env: env, commands: map[string]string{}, users: map[string]string{}, hosts: map[string]Object{}}
	for _, o := range Parse(files["commands.cfg"]) {
		r.commands[o.Get("command_name")] = o.Get("command_line")
	}
	// resource.cfg, and the login the host writes from the monitoring credential's secret (the one the
	// test clusters' roles are made with).
	for _, line := range strings.Split(files["resource.cfg"]+"\n"+CredentialMacro+"=nagios_a", "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "$USER") {
			r.users[k] = v
		}
	}
	for _, o := range Parse(files["hosts.cfg"]) {
		if o.Kind == "host" {
			r.hosts[o.Get("host_name")] = o
		}
	}
	return r
}

// expand turns a service's check_command into the command line Nagios runs.
func (r *runner) expand(host, checkCommand string) string {
	parts := strings.Split(checkCommand, "!")
	line, ok := r.commands[parts[0]]
	if !ok {
		r.t.Fatalf("no command %s", parts[0])
	}
	h := r.hosts[host]
	repl := []string{"$HOSTADDRESS$", h.Get("address"), "$_HOSTPGPORT$", h.Get("_PGPORT"), "$_HOSTNRPEPORT$", h.Get("_NRPEPORT")}
	for k, v := range r.users {
		repl = append(repl, k, v)
	}
	for i := len(parts) - 1; i >= 1; i-- { // $ARG10$ before $ARG1$
		repl = append(repl, "$ARG"+strconv.Itoa(i)+"$", parts[i])
	}
	line = strings.NewReplacer(repl...).Replace(line)
	return strings.ReplaceAll(line, "$$", "$")
}

// run runs a command line with sh, as Nagios and NRPE do, and returns the plugin's state and output.
func (r *runner) run(line string) (int, string) {
	out, err := r.env.Command("/bin/sh", "-c", line).CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, strings.TrimSpace(string(out))
	case errors.As(err, &exit):
		return exit.ExitCode(), strings.TrimSpace(string(out))
	}
	r.t.Fatalf("%s: %v", line, err)
	return -1, ""
}

// service runs one service of the generated configuration.
func (r *runner) service(files Files, host, description string) (int, string) {
	for _, o := range Parse(files["hosts.cfg"]) {
		if o.Kind == "service" && o.Get("host_name") == host && o.Get("service_description") == description {
			return r.run(r.expand(host, o.Get("check_command")))
		}
	}
	r.t.Fatalf("no service %s on %s", description, host)
	return -1, ""
}

var states = []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

func (r *runner) want(what string, state int, got int, out string) {
	r.t.Helper()
	if got != state {
		r.t.Errorf("%s: %s (%d), want %s:\n%s", what, stateName(got), got, states[state], out)
	} else {
		r.t.Logf("%s: %s", what, out)
	}
}

func stateName(s int) string {
	if s >= 0 && s < len(states) {
		return states[s]
	}
	return "?"
}

// TestGeneratedChecksAgainstARealPrimaryAndReplica starts PostgreSQL 15 and pgBackRest on loopback with
// the database hosts' rendered configuration (the database tests' harness), renders the monitoring
// configuration for them, and runs its checks with the real plugins: OK when healthy, CRITICAL when the
// newest backup is older than the threshold and when the replica is stopped.
func TestGeneratedChecksAgainstARealPrimaryAndReplica(t *testing.T) {
	t.Parallel()
	if missing := pgtest.Missing(); missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install %s", missing)
		}
		t.Skip("missing " + missing)
	}
	for _, plugin := range []string{"/usr/lib/nagios/plugins/check_pgsql", "/usr/bin/check_pgbackrest"} {
		if _, err := os.Stat(plugin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI must install the monitoring plugins: %v", err)
			}
			t.Skip(err)
		}
	}
	env, err := pgtest.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	c, err := env.StartCluster(nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Replica.PgBackRest("backup", "--type=full"); err != nil {
		t.Fatalf("backup from the standby: %v\n%s", err, out)
	}

	passFile := filepath.Join(env.Dir, "nagios.pgpass")
	if err := env.WriteFile(passFile, "127.0.0.1:*:*:nagios_a:"+pgtest.MonitoringPassword+"\n", 0o600); err != nil {
		t.Fatal(err)
	}
	p := Params{
		Stack: "hipaa-loopback", Dir: env.Dir + "/nagios", StateDir: env.Dir + "/nagios-state", LogDir: env.Dir + "/nagios-log",
		PluginDir: "/usr/lib/nagios/plugins", User: "nagios", Group: "nagios",
		Self: Host{Name: "monitoring", Address: "127.0.0.1"},
		Hosts: []Host{
			{Name: "db-0", Role: Primary, Address: "127.0.0.1", Port: c.Primary.Params.Port},
			{Name: "db-1", Role: Replica, Address: "127.0.0.1", Port: c.Replica.Params.Port, ApplicationName: c.Replica.Params.ApplicationName, Backups: true, NrpePort: nrpePort(t)},
		},
		Database: "postgres",
		CAFile:   env.CAFile, PassFile: passFile, CredentialFile: env.Dir + "/nagios-credential.cfg", NrpeCertFile: env.Dir + "/nagios-client.crt", NrpeKeyFile: env.Dir + "/nagios-client.key",
		NotifyCommand: "/bin/true",
	}
	files, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, env, files)
	nrpe := func(tune func(*Thresholds)) map[string]string {
		th := DefaultThresholds
		if tune != nil {
			tune(&th)
		}
		cmds := map[string]string{}
		for _, cmd := range NrpeCommands(NrpeParams{
			PluginDir: p.PluginDir, DataDir: c.Replica.Params.DataDir, CertFile: c.Replica.Params.TLS.CertFile,
			Backup: &NrpeBackup{Stanza: pgtest.Stanza, ConfigFile: c.Replica.Params.Backup.ConfigFile}, Thresholds: &th,
		}) {
			cmds[cmd.Name] = cmd.Line
		}
		return cmds
	}

	// Healthy.
	for _, svc := range []struct{ host, desc string }{
		{"db-0", "postgres-tls"}, {"db-1", "postgres-tls"}, {"db-0", "replication-db-1"}, {"db-0", "replication-lag-db-1"},
	} {
		code, out := r.service(files, svc.host, svc.desc)
		r.want(svc.host+" "+svc.desc, 0, code, out)
	}
	healthy := nrpe(nil)
	for _, name := range []string{NrpeBackupAge, NrpeMemory} {
		code, out := r.run(healthy[name])
		r.want("db-1 "+name, 0, code, out)
	}
	// The harness's certificates live a day: inside the 7-day critical window, outside a 0-day one.
	code, out := r.run(healthy[NrpeCert])
	r.want("db-1 certificate (valid a day)", 2, code, out)
	code, out = r.run(nrpe(func(th *Thresholds) { th.CertDaysWarn, th.CertDaysCrit = 0, 0 })[NrpeCert])
	r.want("db-1 certificate with 0-day thresholds", 0, code, out)
	// Disk and load depend on the machine the test runs on: they must answer as plugins do.
	for _, name := range []string{NrpeDisk, NrpeLoad} {
		code, out := r.run(healthy[name])
		if code > 2 || !strings.Contains(out, " - ") && !strings.Contains(out, ": ") {
			t.Errorf("db-1 %s: %d %q is not a plugin's answer", name, code, out)
		}
		t.Logf("db-1 %s: %s", name, out)
	}

	// The same NRPE commands through the real NRPE daemon, with the configuration the host renders, asked
	// by the generated check_nrpe command over TLS with a client certificate.
	if nrpeInstalled(t) {
		startNRPE(t, env, c.Replica, r, files, p)
		for name, want := range map[string]int{"memory": 0, "certificate": 2} {
			code, out := r.service(files, "db-1", name)
			r.want("db-1 "+name+" through NRPE", want, code, out)
		}
		for _, name := range []string{"disk", "load"} {
			code, out := r.service(files, "db-1", name)
			if code > 2 || !strings.Contains(out, "OK") && !strings.Contains(out, "WARNING") && !strings.Contains(out, "CRITICAL") {
				t.Errorf("db-1 %s through NRPE: %d %q", name, code, out)
			}
			t.Logf("db-1 %s through NRPE: %s", name, out)
		}
		// A client without a certificate from the CA is turned away.
		bad := strings.Replace(r.expand("db-1", "check_nrpe_tls!check_memory"), " -C "+p.NrpeCertFile+" -K "+p.NrpeKeyFile, "", 1)
		if code, out := r.run(bad); code == 0 {
			t.Errorf("NRPE answered a client without a certificate: %s", out)
		}
	}

	// What the hosts publish to CloudWatch for the alarms: the script each host's timer runs, with a
	// stand-in for the AWS CLI that records its arguments.
	published := publishMetrics(t, env, c)
	for _, want := range []string{"--metric-name ReplicationLagBytes --unit Bytes --value 0 --dimensions Cluster=db,Replica=db-1",
		"--metric-name BackupAgeSeconds --unit Seconds --value "} {
		if !strings.Contains(published, want) {
			t.Errorf("the metrics scripts did not publish %q:\n%s", want, published)
		}
	}

	// The newest backup is older than the threshold.
	time.Sleep(2 * time.Second)
	code, out = r.run(nrpe(func(th *Thresholds) { th.BackupMaxAge = time.Second })[NrpeBackupAge])
	r.want("db-1 backup-age with a 1 s threshold", 2, code, out)

	// The replica is stopped.
	if err := c.Replica.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, svc := range []struct {
		host, desc string
		state      int
	}{
		{"db-0", "replication-db-1", 2}, {"db-1", "postgres-tls", 2}, {"db-0", "postgres-tls", 0},
	} {
		code, out := r.service(files, svc.host, svc.desc)
		r.want(svc.host+" "+svc.desc+" with the replica stopped", svc.state, code, out)
	}
}

func nrpeInstalled(t *testing.T) bool {
	for _, bin := range []string{"/usr/sbin/nrpe", "/usr/lib/nagios/plugins/check_nrpe"} {
		if _, err := os.Stat(bin); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("CI must install nagios-nrpe-server and nagios-nrpe-plugin: %v", err)
			}
			t.Logf("skipping the NRPE checks: %v", err)
			return false
		}
	}
	return true
}

func nrpePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNRPE renders the replica's NRPE configuration as the database component does (with loopback
// paths and the test's user), gives the daemon the replica's certificate and Nagios a client
// certificate from the same CA, and starts the real daemon.
func startNRPE(t *testing.T, env *pgtest.Env, replica *pgtest.Server, r *runner, files Files, p Params) {
	t.Helper()
	dir, port := renderNRPE(t, env, replica.Params, p)
	serverCert, serverKey, err := env.Issue("db-1")
	if err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey, err := env.Issue("monitoring")
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(env.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, env, map[string]string{
		dir + "/server.crt": string(serverCert), dir + "/server.key": string(serverKey),
		dir + "/ca.crt": string(ca), p.NrpeCertFile: string(clientCert), p.NrpeKeyFile: string(clientKey),
	})
	launchNRPE(t, dir, port)
}

// renderNRPE writes the NRPE configuration a database host with parameters hp renders for the monitoring
// of p (loopback paths, the test's user) and returns its directory, where the daemon reads its CA,
// certificate and key, and its port.
func renderNRPE(t *testing.T, env *pgtest.Env, hp hostconfig.Params, p Params) (string, int) {
	t.Helper()
	dir := filepath.Join(env.Dir, "nrpe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mon := &hostconfig.Monitoring{
		NrpePort: p.Hosts[1].NrpePort, AllowedHosts: []string{"127.0.0.1"}, NrpeDir: dir, NrpeUser: env.User(), PidFile: dir + "/nrpe.pid",
		Namespace: "HIPAA/Database", Cluster: "db",
	}
	hp.AWSCLI = "/bin/false"
	for _, c := range NrpeCommands(NrpeParams{PluginDir: p.PluginDir, DataDir: hp.DataDir, CertFile: hp.TLS.CertFile}) {
		mon.Commands = append(mon.Commands, hostconfig.Command{Name: c.Name, Line: c.Line})
	}
	hp.Monitoring = mon
	rendered, err := hostconfig.Config(hp)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, env, map[string]string{dir + "/nrpe.cfg": rendered["nrpe.cfg"]})
	return dir, mon.NrpePort
}

func writeAll(t *testing.T, env *pgtest.Env, files map[string]string) {
	t.Helper()
	for path, content := range files {
		if err := env.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// launchNRPE starts the real NRPE daemon with the configuration in dir, waits until it listens on port,
// and returns it; it is killed when the test ends.
func launchNRPE(t *testing.T, dir string, port int) *exec.Cmd {
	t.Helper()
	os.Remove(dir + "/nrpe.pid")
	cmd := exec.Command("/usr/sbin/nrpe", "-c", dir+"/nrpe.cfg", "-f")
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			conn.Close()
			return cmd
		}
		if i == 50 {
			t.Fatalf("NRPE did not start: %v\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// publishMetrics runs the primary's and the replica's rendered metrics scripts against the running
// cluster and returns what they handed the AWS CLI.
func publishMetrics(t *testing.T, env *pgtest.Env, c *pgtest.Cluster) string {
	t.Helper()
	record := filepath.Join(env.Dir, "cloudwatch.log")
	fake := filepath.Join(env.Dir, "aws")
	if err := env.WriteFile(record, "", 0o600); err != nil {
		t.Fatal(err)
	}
	if err := env.WriteFile(fake, "#!/bin/sh\necho \"$@\" >> "+record+"\n", 0o700); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*pgtest.Server{c.Primary, c.Replica} {
		hp := s.Params
		hp.Monitoring = &hostconfig.Monitoring{
			NrpePort: 5666, AllowedHosts: []string{"127.0.0.1"}, NrpeDir: "/unused", NrpeUser: "nagios", PidFile: "/unused",
			Namespace: "HIPAA/Database", Cluster: "db",
		}
		hp.AWSCLI = fake
		files, err := hostconfig.Config(hp)
		if err != nil {
			t.Fatal(err)
		}
		script := filepath.Join(env.Dir, s.Name+"-metrics.sh")
		if err := env.WriteFile(script, files["metrics.sh"], 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := env.Command("/bin/bash", script).CombinedOutput(); err != nil {
			t.Fatalf("%s's metrics script: %v\n%s", s.Name, err, out)
		}
	}
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGeneratedPatroniChecksFollowThePrimary starts a Patroni cluster of three members on loopback (the
// database tests' harness) and runs the replication checks rendered for it with the real plugins: they
// reach whichever member accepts writes, so they answer OK before and after a switchover, and CRITICAL
// for a member that stops.
func TestGeneratedPatroniChecksFollowThePrimary(t *testing.T) {
	t.Parallel()
	env, ha := pgtest.StartHAFor(t, 3, false)
	passFile := filepath.Join(env.Dir, "nagios.pgpass")
	if err := env.WriteFile(passFile, "127.0.0.1:*:*:nagios_a:"+pgtest.MonitoringPassword+"\n", 0o600); err != nil {
		t.Fatal(err)
	}
	p := Params{
		Stack: "hipaa-loopback", Dir: env.Dir + "/nagios", StateDir: env.Dir + "/nagios-state", LogDir: env.Dir + "/nagios-log",
		PluginDir: "/usr/lib/nagios/plugins", User: "nagios", Group: "nagios",
		Self:     Host{Name: "monitoring", Address: "127.0.0.1"},
		Database: "postgres",
		CAFile:   env.CAFile, PassFile: passFile, CredentialFile: env.Dir + "/nagios-credential.cfg", NrpeCertFile: env.Dir + "/nagios-client.crt", NrpeKeyFile: env.Dir + "/nagios-client.key",
		NotifyCommand: "/bin/true", Patroni: true,
	}
	for i, m := range ha.Members {
		role := Replica
		if i == 0 {
			role = Primary
		}
		// Patroni names each replica's connection after its member.
		p.Hosts = append(p.Hosts, Host{Name: m.Name, Role: role, Address: "127.0.0.1", Port: m.Params.Port, ApplicationName: m.Name})
	}
	files, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, env, files)
	cluster := p.Stack + "-db-primary"
	checkAll := func(when string) {
		t.Helper()
		for _, desc := range []string{"writable-primary", "replication-db-0", "replication-lag-db-0", "replication-db-1", "replication-lag-db-1", "replication-db-2", "replication-lag-db-2"} {
			code, out := r.service(files, cluster, desc)
			r.want(when+": "+desc, 0, code, out)
		}
	}
	checkAll("db-0 leads")

	old, candidate := ha.Leader(), ha.Member("db-1")
	if code, body, err := ha.REST(old, "POST", "/switchover", map[string]string{"leader": old.Name, "candidate": candidate.Name}); err != nil || code != 200 {
		t.Fatalf("switchover: %d %s %v", code, body, err)
	}
	if _, err := ha.WaitHealthy(3, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	if ha.Leader() != candidate {
		t.Fatalf("%v leads after the switchover, want db-1", ha.Leader())
	}
	checkAll("db-1 leads")

	ha.Member("db-2").Stop()
	deadline := time.Now().Add(time.Minute)
	for {
		code, out := r.service(files, cluster, "replication-db-2")
		if code == 2 || time.Now().After(deadline) {
			r.want("db-2 stopped: replication-db-2", 2, code, out)
			break
		}
		time.Sleep(time.Second)
	}
	code, out := r.service(files, cluster, "replication-db-0")
	r.want("db-2 stopped: replication-db-0", 0, code, out)
}

// TestNRPEThroughACARotation takes the real NRPE daemon, with the configuration a database host renders,
// and the generated check_nrpe command through the internal CA's rotation: trust (both CAs on both
// sides), issue (the host's and the monitoring host's certificates from the new CA, in either order)
// and drop (the old CA no longer trusted). Every check answers throughout, until the drop, after which a
// client certificate of the old CA is turned away. The daemon reads its CA when it starts: a reload
// (SIGHUP) leaves it trusting the old one, which is why a host's converge run restarts NRPE when its CA
// changes.
func TestNRPEThroughACARotation(t *testing.T) {
	t.Parallel()
	if !nrpeInstalled(t) {
		return
	}
	env, err := pgtest.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	hp, err := env.Params(hostconfig.Replica, "db-1")
	if err != nil {
		t.Fatal(err)
	}
	hp.Primary = hostconfig.Endpoint{Host: "127.0.0.1", Port: 5432}
	p := Params{
		Stack: "hipaa-loopback", Dir: env.Dir + "/nagios", StateDir: env.Dir + "/nagios-state", LogDir: env.Dir + "/nagios-log",
		PluginDir: "/usr/lib/nagios/plugins", User: "nagios", Group: "nagios",
		Self: Host{Name: "monitoring", Address: "127.0.0.1"},
		Hosts: []Host{
			{Name: "db-0", Role: Primary, Address: "127.0.0.1", Port: 5432},
			{Name: "db-1", Role: Replica, Address: "127.0.0.1", Port: hp.Port, ApplicationName: "db-1", Backups: true, NrpePort: nrpePort(t)},
		},
		Database: "postgres",
		CAFile:   env.Dir + "/monitoring-ca.crt", PassFile: env.Dir + "/nagios.pgpass", CredentialFile: env.Dir + "/nagios-credential.cfg",
		NrpeCertFile: env.Dir + "/nagios-client.crt", NrpeKeyFile: env.Dir + "/nagios-client.key",
		NotifyCommand: "/bin/true",
	}
	files, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, env, files)
	dir, port := renderNRPE(t, env, hp, p)

	old, err := standin.NewNamedCA("hipaa internal CA 1")
	if err != nil {
		t.Fatal(err)
	}
	next, err := standin.NewNamedCA("hipaa internal CA 2")
	if err != nil {
		t.Fatal(err)
	}
	issue := func(ca *standin.CA, name string) (string, string) {
		cert, key, err := ca.Issue(name, "localhost", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		return string(cert), string(key)
	}
	// set gives the database host and the monitoring host their CAs and certificates, as their converge
	// runs write them from their secrets.
	set := func(hostCAs, monitoringCAs []*standin.CA, hostCert, monitoringCert *standin.CA) {
		bundle := func(cas []*standin.CA) string {
			var b strings.Builder
			for _, ca := range cas {
				b.Write(ca.PEM())
			}
			return b.String()
		}
		serverCert, serverKey := issue(hostCert, "db-1")
		clientCert, clientKey := issue(monitoringCert, "monitoring")
		writeAll(t, env, map[string]string{
			dir + "/ca.crt": bundle(hostCAs), dir + "/server.crt": serverCert, dir + "/server.key": serverKey,
			p.CAFile: bundle(monitoringCAs), p.NrpeCertFile: clientCert, p.NrpeKeyFile: clientKey,
		})
	}
	check := func(step string, want int) {
		t.Helper()
		code, out := r.service(files, "db-1", "memory")
		r.want(step, want, code, out)
	}
	var daemon *exec.Cmd
	restart := func() {
		if daemon != nil {
			_ = daemon.Process.Kill()
			_ = daemon.Wait()
		}
		daemon = launchNRPE(t, dir, port)
	}
	both := []*standin.CA{next, old}

	for _, step := range []struct {
		what                     string
		hostCAs, monitoringCAs   []*standin.CA
		hostCert, monitoringCert *standin.CA
	}{
		{"before the rotation", []*standin.CA{old}, []*standin.CA{old}, old, old},
		{"trust: both CAs trusted, certificates of the old", both, both, old, old},
		{"issue: the database host's certificate from the new CA first", both, both, next, old},
		{"issue: the monitoring host's certificate from the new CA first", both, both, old, next},
		{"issue: both certificates from the new CA", both, both, next, next},
	} {
		set(step.hostCAs, step.monitoringCAs, step.hostCert, step.monitoringCert)
		restart()
		check(step.what, 0)
	}

	// drop: the database host no longer trusts the old CA; a client that still has its certificate of
	// the old CA is refused once NRPE has restarted, and not before.
	// The reload is seen to happen: a command added to nrpe.cfg before it answers after it.
	set([]*standin.CA{next}, []*standin.CA{next}, next, old)
	cfg, err := os.ReadFile(dir + "/nrpe.cfg")
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, env, map[string]string{dir + "/nrpe.cfg": string(cfg) + "command[check_reloaded]=/bin/echo reloaded\n"})
	if err := daemon.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reloaded := r.expand("db-1", "check_nrpe_tls!check_reloaded")
	for i := 0; ; i++ {
		if code, out := r.run(reloaded); code == 0 && out == "reloaded" {
			break
		} else if i == 50 {
			t.Fatalf("NRPE did not take its configuration again within 5 s of SIGHUP: %d %s", code, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	check("drop, NRPE reloaded (its commands read again): a certificate of the old CA, still admitted by the CA NRPE read at its start", 0)
	restart()
	if code, out := r.service(files, "db-1", "memory"); code == 0 {
		t.Errorf("drop, NRPE restarted: a client certificate of the old CA was admitted: %s", out)
	} else {
		t.Logf("drop, NRPE restarted: a certificate of the old CA refused: %s", out)
	}
	set([]*standin.CA{next}, []*standin.CA{next}, next, next)
	check("drop: the new CA alone, certificates of the new", 0)
}
