package nagios

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/pgtest"
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
	for _, line := range strings.Split(files["resource.cfg"], "\n") {
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
	if err := env.WriteFile(passFile, "127.0.0.1:*:*:nagios:"+pgtest.MonitoringPassword+"\n", 0o600); err != nil {
		t.Fatal(err)
	}
	p := Params{
		Stack: "hipaa-loopback", Dir: env.Dir + "/nagios", StateDir: env.Dir + "/nagios-state", LogDir: env.Dir + "/nagios-log",
		PluginDir: "/usr/lib/nagios/plugins", User: "nagios", Group: "nagios",
		Self: Host{Name: "monitoring", Address: "127.0.0.1"},
		Hosts: []Host{
			{Name: "db-0", Role: Primary, Address: "127.0.0.1", Port: c.Primary.Params.Port},
			{Name: "db-1", Role: Replica, Address: "127.0.0.1", Port: c.Replica.Params.Port, ApplicationName: c.Replica.Params.ApplicationName, Backups: true},
		},
		Database: "postgres", MonitoringUser: "nagios",
		CAFile: env.CAFile, PassFile: passFile, NrpeCertFile: "/unused", NrpeKeyFile: "/unused",
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
