package nagios

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const nagiosBin = "/usr/sbin/nagios4"

// params are a prod-like cluster: a primary and two replicas, the second taking the backups.
func params(dir string) Params {
	return Params{
		Stack: "hipaa-prod", Dir: dir + "/etc", StateDir: dir + "/var", LogDir: dir + "/log",
		PluginDir: "/usr/lib/nagios/plugins", User: "nagios", Group: "nagios",
		Self: Host{Name: "hipaa-prod-monitoring", Address: "10.40.8.5"},
		Hosts: []Host{
			{Name: "hipaa-prod-db-0", Role: Primary, Address: "10.40.16.10", Port: 5432},
			{Name: "hipaa-prod-db-1", Role: Replica, Address: "10.40.17.11", Port: 5432, ApplicationName: "hipaa_prod_db_1", Backups: true},
			{Name: "hipaa-prod-db-2", Role: Replica, Address: "10.40.18.12", Port: 5432, ApplicationName: "hipaa_prod_db_2"},
		},
		AppDomain: "clinic.example.com", HealthPath: "/healthz",
		Database: "postgres",
		CAFile:   dir + "/pki/ca.crt", PassFile: dir + "/pgpass", CredentialFile: dir + "/credential.cfg", NrpeCertFile: dir + "/pki/nagios.crt", NrpeKeyFile: dir + "/pki/nagios.key",
		NotifyCommand: "/usr/local/bin/notify-sns",
	}
}

// write renders p into its directories.
func write(t *testing.T, p Params) Files {
	t.Helper()
	files, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{p.Dir, p.StateDir, p.StateDir + "/spool/checkresults", p.StateDir + "/rw", p.LogDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(p.Dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// What the host writes from the monitoring credential's secret.
	if err := os.WriteFile(p.CredentialFile, []byte(CredentialMacro+"=nagios_a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return files
}

// TestNagiosAcceptsTheConfiguration hands the rendered configuration to the real nagios4 -v.
func TestNagiosAcceptsTheConfiguration(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(nagiosBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install nagios4-core: %v", err)
		}
		t.Skip("nagios4 is not installed (apt-get install nagios4-core)")
	}
	verify(t, params(t.TempDir()), 25, 5)
	// Under Patroni: the writable host, with two replication checks per database host.
	ha := params(t.TempDir())
	ha.Patroni = true
	ha.Hosts[0].ApplicationName = "hipaa_prod_db_0"
	verify(t, ha, 28, 6)
}

// verify writes p's configuration where nagios4 -v reads it as the nagios user, and checks its verdict
// and counts.
func verify(t *testing.T, p Params, services, hosts int) {
	t.Helper()
	dir := filepath.Dir(p.Dir)
	// nagios4 reads its configuration as nagios_user once it has started.
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if info, err := os.Stat(d); err == nil && info.Mode().Perm()&0o005 != 0o005 {
			if err := os.Chmod(d, info.Mode().Perm()|0o005); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(t, p)
	if os.Geteuid() == 0 {
		u, err := user.Lookup(p.User)
		if err != nil {
			t.Fatalf("nagios4-core makes the %s user: %v", p.User, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := filepath.Walk(p.StateDir, func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Chown(path, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(nagiosBin, "-v", filepath.Join(p.Dir, "nagios.cfg")).CombinedOutput()
	if err != nil {
		t.Fatalf("nagios4 -v: %v\n%s", err, out)
	}
	for _, want := range []string{"Total Warnings: 0", "Total Errors:   0", fmt.Sprintf("Checked %d services.", services), fmt.Sprintf("Checked %d hosts.", hosts)} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nagios4 -v output lacks %q:\n%s", want, out)
		}
	}
}

func TestEveryHostGetsItsChecks(t *testing.T) {
	t.Parallel()
	files, err := Render(params("/x"))
	if err != nil {
		t.Fatal(err)
	}
	objects := Parse(files["hosts.cfg"])
	services := map[string][]string{}
	for _, o := range objects {
		if o.Kind == "service" {
			services[o.Get("host_name")] = append(services[o.Get("host_name")], o.Get("service_description"))
		}
	}
	want := map[string]string{
		"hipaa-prod-monitoring": "disk load memory",
		"hipaa-prod-db-0":       "postgres-tls disk load memory certificate replication-hipaa-prod-db-1 replication-lag-hipaa-prod-db-1 replication-hipaa-prod-db-2 replication-lag-hipaa-prod-db-2",
		"hipaa-prod-db-1":       "postgres-tls disk load memory certificate backup-age",
		"hipaa-prod-db-2":       "postgres-tls disk load memory certificate",
		"application":           "https-health certificate",
	}
	for host, list := range want {
		if got := strings.Join(services[host], " "); got != list {
			t.Errorf("%s: services %q, want %q", host, got, list)
		}
	}
	// Under Patroni the replication checks are the writable host's, whichever it is, for every host.
	ha := params("/x")
	ha.Patroni = true
	ha.Hosts[0].ApplicationName = "hipaa_prod_db_0"
	haFiles, err := Render(ha)
	if err != nil {
		t.Fatal(err)
	}
	haServices := map[string][]string{}
	for _, o := range Parse(haFiles["hosts.cfg"]) {
		if o.Kind == "service" {
			haServices[o.Get("host_name")] = append(haServices[o.Get("host_name")], o.Get("service_description"))
		}
	}
	for host, list := range map[string]string{
		"hipaa-prod-db-0": "postgres-tls disk load memory certificate",
		"hipaa-prod-db-primary": "writable-primary replication-hipaa-prod-db-0 replication-lag-hipaa-prod-db-0 replication-hipaa-prod-db-1 " +
			"replication-lag-hipaa-prod-db-1 replication-hipaa-prod-db-2 replication-lag-hipaa-prod-db-2",
	} {
		if got := strings.Join(haServices[host], " "); got != list {
			t.Errorf("Patroni: %s: services %q, want %q", host, got, list)
		}
	}
	if strings.Contains(files["resource.cfg"]+files["commands.cfg"], "password") && !strings.Contains(files["resource.cfg"], "No password is kept here") {
		t.Error("a password is in the configuration")
	}
	for _, o := range Parse(files["commands.cfg"]) {
		if line := o.Get("command_line"); strings.Contains(line, "check_pgsql") && !strings.Contains(line, "sslmode=verify-full") {
			t.Errorf("%s connects without verified TLS: %s", o.Get("command_name"), line)
		}
	}
}

func TestBadParamsAreRefused(t *testing.T) {
	t.Parallel()
	for want, mutate := range map[string]func(*Params){
		`Dir "etc"`:                   func(p *Params) { p.Dir = "etc" },
		`Stack "Prod!"`:               func(p *Params) { p.Stack = "Prod!" },
		"NotifyCommand":               func(p *Params) { p.NotifyCommand = "" },
		"must start with the primary": func(p *Params) { p.Hosts = p.Hosts[1:] },
		`Address "10.0.0"`:            func(p *Params) { p.Hosts[0].Address = "10.0.0" },
		"Port 0":                      func(p *Params) { p.Hosts[1].Port = 0 },
		"ApplicationName":             func(p *Params) { p.Hosts[1].ApplicationName = "" },
		`AppDomain "clinic"`:          func(p *Params) { p.AppDomain = "clinic" },
	} {
		p := params("/x")
		mutate(&p)
		if _, err := Render(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want one containing %q", err, want)
		}
	}
}
