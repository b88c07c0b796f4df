package hostconfig_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
	"github.com/hipaa-platform/platform/internal/standin"
)

type credential = pgtest.Credential

// TestRotationKeepsEveryClientConnected rotates the application's
// credential on a real two-member Patroni cluster while clients connect in a loop, each reading the
// credential from a file as the application does, which is rewritten from the secret a while after
// each rotation, as an application host's converge run does. No connection fails; the previous password
// admits connections through the overlap and none after it, which PostgreSQL ends by itself; a second
// rotation during the overlap is refused, --complete ends an overlap at once, and only the leader
// rotates. What either login role creates is the application role's, so each reads what the other made.
// No password reaches PostgreSQL's logs, which record each role change with its SCRAM verifier.
func TestRotationKeepsEveryClientConnected(t *testing.T) {
	pgtest.NeedHA(t)
	aws, awsEnv := pgtest.StartSecrets(t)
	const secret, overlap = pgtest.AppSecret, 30 * time.Second
	first := credential{Username: "app_a", Password: pgtest.AppPassword}
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	ha, err := env.StartHA(2, false, pgtest.WithRotation(overlap))
	must(t, err)
	t.Cleanup(ha.Close)
	leader := ha.Leader()
	var replica *pgtest.Member
	for _, m := range ha.Members {
		if m != leader {
			replica = m
		}
	}
	_, err = ha.ClientAs(first.Username, first.Password, "CREATE TABLE visits (id serial PRIMARY KEY, at timestamptz DEFAULT now())")
	must(t, err)

	// Before the first rotation, each credential is as old as the cluster.
	made := credentialAges(t, env, leader.Params)
	if made["app"] <= 0 || made["app"] > 600 || made["monitoring"] != made["app"] {
		t.Fatalf("the credentials' ages before a rotation: %v; want the cluster's, a few seconds", made)
	}

	file, refresh := credentialFile(t, aws, secret)
	clients := startClients(t, ha.ClientAs, file, 3)

	rotate := func(m *pgtest.Member, args ...string) (string, string, int) {
		t.Helper()
		stdout, stderr, code, err := m.DBWith(awsEnv, append([]string{"rotate"}, args...)...)
		must(t, err)
		return stdout, stderr, code
	}
	time.Sleep(2 * time.Second)
	if _, stderr, code := rotate(replica, "app"); code != 2 || !strings.Contains(stderr, "not the leader") {
		t.Fatalf("rotate on the replica: exit %d, %s; want a refusal naming the leader", code, stderr)
	}
	if out, _, code := rotate(replica, "app", "--scheduled"); code != 0 || !strings.Contains(out, "not the leader") {
		t.Fatalf("the replica's scheduled run: exit %d, %s; want it to leave the rotation to the leader", code, out)
	}
	// The credential made with the cluster has never rotated: its first scheduled run rotates it.
	started := time.Now()
	out, stderr, code := rotate(leader, "app", "--scheduled")
	rotated := time.Now()
	if code != 0 || !strings.Contains(out, "rotated app") {
		t.Fatalf("the first scheduled run: exit %d: %s%s", code, out, stderr)
	}
	t.Log(strings.TrimSpace(out))
	value, _ := aws.Secret(secret)
	var second credential
	must(t, json.Unmarshal([]byte(value), &second))
	if second.Username != "app_b" || len(second.Password) != 40 || aws.Puts(secret) != 1 {
		t.Fatalf("after the rotation the secret names %q with a %d-character password (%d puts); want app_b, 40, 1", second.Username, len(second.Password), aws.Puts(secret))
	}
	// The primary publishes the rotated credential as new, the other as old as the cluster.
	if ages := credentialAges(t, env, leader.Params); ages["app"] < 0 || ages["app"] > int(time.Since(started).Seconds())+1 || ages["monitoring"] < made["monitoring"] {
		t.Errorf("the credentials' ages after the application's rotation: %v; want app's since the rotation, monitoring's since the cluster was made", ages)
	}
	if _, stderr, code := rotate(leader, "app"); code != 2 || !strings.Contains(stderr, "overlap") {
		t.Fatalf("a second rotation within the overlap: exit %d, %s; want it refused", code, stderr)
	}
	if got, err := ha.ClientAs(first.Username, first.Password, "SELECT current_user"); err != nil || got != "app" {
		t.Fatalf("the previous credential within the overlap: %q, %v; want it to connect, acting as app", got, err)
	}
	// The clients' hosts read the new credential within the overlap.
	time.Sleep(3 * time.Second)
	refresh()
	waitFor(t, "the clients to use the new credential", func() (bool, error) { return clients.used("app_b"), nil })
	if _, err := ha.ClientAs(second.Username, second.Password, "INSERT INTO visits DEFAULT VALUES"); err != nil {
		t.Fatalf("app_b writing to what app_a made: %v", err)
	}
	// PostgreSQL ends the overlap by itself.
	time.Sleep(time.Until(rotated.Add(overlap + time.Second)))
	if _, err := ha.ClientAs(first.Username, first.Password, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("the previous credential after the overlap: %v; want it refused", err)
	}
	if out, _, code := rotate(leader, "app", "--scheduled"); code != 0 || !strings.Contains(out, "days old") || aws.Puts(secret) != 1 {
		t.Fatalf("a scheduled run the day after: exit %d, %s (%d puts); want nothing rotated", code, out, aws.Puts(secret))
	}

	// On demand, and the overlap ended at once.
	if out, stderr, code := rotate(leader, "app"); code != 0 {
		t.Fatalf("rotate app: exit %d: %s%s", code, out, stderr)
	}
	third := refresh()
	if third.Username != "app_a" || third.Password == first.Password {
		t.Fatalf("the second rotation named %q; want app_a with a new password", third.Username)
	}
	// A client that read the file just before finishes its connection; then the operator ends the overlap.
	time.Sleep(2 * time.Second)
	if out, stderr, code := rotate(leader, "app", "--complete"); code != 0 || !strings.Contains(out, "completed") {
		t.Fatalf("rotate app --complete: exit %d: %s%s", code, out, stderr)
	}
	if _, err := ha.ClientAs(second.Username, second.Password, "SELECT 1"); err == nil {
		t.Fatal("app_b's password still admits a connection after --complete")
	}
	if _, err := ha.ClientAs(first.Username, first.Password, "SELECT 1"); err == nil {
		t.Fatal("app_a's first password admits a connection after app_a's new one")
	}
	time.Sleep(2 * time.Second)
	n, failures := clients.stop()
	if len(failures) > 0 || n < 50 {
		t.Fatalf("%d connections, %d failed; want many and none failed: %s", n, len(failures), strings.Join(failures[:min(3, len(failures))], "; "))
	}
	t.Logf("%d connections through two rotations, as %s; none failed", n, strings.Join(clients.users(), " and "))

	owners, err := ha.ClientAs(third.Username, third.Password, "SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE tablename = 'visits'")
	must(t, err)
	if rows, err := ha.ClientAs(third.Username, third.Password, "SELECT count(*) FROM visits"); owners != "app" || err != nil || rows != "1" {
		t.Fatalf("visits is owned by %q and app_a reads %s rows (%v); want app's, and app_b's row", owners, rows, err)
	}
	// The monitoring host's credential rotates the same way.
	if out, stderr, code := rotate(leader, "monitoring"); code != 0 || !strings.Contains(out, "rotated monitoring: the secret names nagios_b") {
		t.Fatalf("rotate monitoring: exit %d: %s%s", code, out, stderr)
	}
	value, _ = aws.Secret(pgtest.MonitoringSecret)
	var monitoring credential
	must(t, json.Unmarshal([]byte(value), &monitoring))
	for _, c := range []credential{{Username: "nagios_a", Password: pgtest.MonitoringPassword}, monitoring} {
		if got, err := ha.ClientAs(c.Username, c.Password, "SELECT pg_has_role('pg_monitor', 'USAGE')"); err != nil || got != "t" {
			t.Errorf("%s within the overlap: %q, %v; want it to connect with pg_monitor's privileges", c.Username, got, err)
		}
	}
	logs := memberLogs(t, ha)
	for _, c := range []credential{second, third, monitoring} {
		if strings.Contains(logs, c.Password) {
			t.Errorf("a rotated password is in PostgreSQL's or Patroni's logs")
		}
	}
	if !strings.Contains(logs, "ALTER ROLE app_b WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:") {
		t.Errorf("the logs do not record the rotation's role change, with its verifier")
	}
}

// TestAFixedPrimaryRotatesItsClientsCredentials rotates the application's credential on a cluster of one
// host, which has no Patroni (the stacks without replicas), while clients connect in a loop reading the
// credential from a file as the application does. The primary rotates on its schedule's first run; no
// connection fails; the previous password admits connections through the overlap, a second rotation
// within it is refused, and --complete ends it. The primary's hipaa-db has nothing but rotate.
func TestAFixedPrimaryRotatesItsClientsCredentials(t *testing.T) {
	requireServers(t)
	aws, awsEnv := pgtest.StartSecrets(t)
	const secret, overlap = pgtest.AppSecret, 60 * time.Second
	first := credential{Username: "app_a", Password: pgtest.AppPassword}
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	primary, err := env.StartPrimary(pgtest.WithRotation(overlap))
	must(t, err)
	if _, stderr, code, err := primary.DBWith(awsEnv, "switchover"); err != nil || code != 2 || !strings.Contains(stderr, "usage: hipaa-db rotate") {
		t.Fatalf("hipaa-db switchover on a fixed primary: exit %d, %s, %v; want the usage of rotate alone", code, stderr, err)
	}
	_, err = primary.ClientAs(first.Username, first.Password, "CREATE TABLE visits (id serial PRIMARY KEY, at timestamptz DEFAULT now())")
	must(t, err)
	if made := credentialAges(t, env, primary.Params); made["app"] <= 0 || made["app"] > 600 {
		t.Fatalf("the credentials' ages before a rotation: %v; want the cluster's, a few seconds", made)
	}

	file, refresh := credentialFile(t, aws, secret)
	clients := startClients(t, primary.ClientAs, file, 2)
	rotate := func(args ...string) (string, string, int) {
		t.Helper()
		stdout, stderr, code, err := primary.DBWith(awsEnv, append([]string{"rotate"}, args...)...)
		must(t, err)
		return stdout, stderr, code
	}
	time.Sleep(time.Second)
	started := time.Now()
	if out, stderr, code := rotate("app", "--scheduled"); code != 0 || !strings.Contains(out, "rotated app: the secret names app_b") {
		t.Fatalf("the primary's first scheduled run: exit %d: %s%s; want app rotated to app_b", code, out, stderr)
	}
	if ages := credentialAges(t, env, primary.Params); ages["app"] < 0 || ages["app"] > int(time.Since(started).Seconds())+1 {
		t.Errorf("the credentials' ages after the rotation: %v; want app's since the rotation", ages)
	}
	if _, stderr, code := rotate("app"); code != 2 || !strings.Contains(stderr, "overlap") {
		t.Fatalf("a second rotation within the overlap: exit %d, %s; want it refused", code, stderr)
	}
	if got, err := primary.ClientAs(first.Username, first.Password, "SELECT current_user"); err != nil || got != "app" {
		t.Fatalf("the previous credential within the overlap: %q, %v; want it to connect, acting as app", got, err)
	}
	second := refresh()
	waitFor(t, "the clients to use the new credential", func() (bool, error) { return clients.used("app_b"), nil })
	if out, stderr, code := rotate("app", "--complete"); code != 0 || !strings.Contains(out, "completed") {
		t.Fatalf("rotate app --complete: exit %d: %s%s", code, out, stderr)
	}
	if _, err := primary.ClientAs(first.Username, first.Password, "SELECT 1"); err == nil || !strings.Contains(err.Error(), "password authentication failed") {
		t.Fatalf("the previous credential after --complete: %v; want it refused", err)
	}
	time.Sleep(time.Second)
	n, failures := clients.stop()
	if len(failures) > 0 || n < 20 {
		t.Fatalf("%d connections, %d failed; want many and none failed: %s", n, len(failures), strings.Join(failures[:min(3, len(failures))], "; "))
	}
	if got, err := primary.ClientAs(second.Username, second.Password, "SELECT count(*) FROM visits"); err != nil || got != "0" {
		t.Fatalf("app_b reading what app_a made: %q, %v", got, err)
	}
	t.Logf("%d connections through a rotation of a fixed primary, as %s; none failed", n, strings.Join(clients.users(), " and "))
}

// credentialFile is the application's credential file, written from the secret, and what rewrites it
// from the secret's current value: whole, through a rename, as the converge run's put does.
func credentialFile(t *testing.T, aws *standin.AWS, secret string) (string, func() credential) {
	file := filepath.Join(t.TempDir(), "database-credentials.json")
	refresh := func() credential {
		value, _ := aws.Secret(secret)
		must(t, os.WriteFile(file+".new", []byte(value), 0o600))
		must(t, os.Rename(file+".new", file))
		var c credential
		must(t, json.Unmarshal([]byte(value), &c))
		return c
	}
	refresh()
	return file, refresh
}

// clients connect in a loop as the application does: each connection reads the credential file first.
type clients struct {
	stopped  atomic.Bool
	wg       sync.WaitGroup
	mu       sync.Mutex
	n        int
	failures []string
	seen     map[string]bool
}

func startClients(t *testing.T, connect func(user, password, sql string) (string, error), file string, n int) *clients {
	c := &clients{seen: map[string]bool{}}
	for range n {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			for !c.stopped.Load() {
				var cred credential
				b, err := os.ReadFile(file)
				if err == nil {
					err = json.Unmarshal(b, &cred)
				}
				if err == nil {
					_, err = connect(cred.Username, cred.Password, "INSERT INTO visits DEFAULT VALUES; DELETE FROM visits WHERE id = lastval()")
				}
				c.mu.Lock()
				c.n++
				c.seen[cred.Username] = true
				if err != nil {
					c.failures = append(c.failures, cred.Username+": "+err.Error())
				}
				c.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() { c.stop() })
	return c
}

func (c *clients) used(user string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[user]
}

func (c *clients) users() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, u := range []string{"app_a", "app_b"} {
		if c.seen[u] {
			out = append(out, u)
		}
	}
	return out
}

func (c *clients) stop() (int, []string) {
	c.stopped.Store(true)
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, c.failures
}

// credentialAges runs the host of p's rendered metrics script (hipaa-db-metrics) with an AWS CLI that records what
// it is asked, and returns the CredentialAgeSeconds it published, by credential.
func credentialAges(t *testing.T, env *pgtest.Env, p hostconfig.Params) map[string]int {
	t.Helper()
	record, fake, script := filepath.Join(env.Dir, "cloudwatch.log"), filepath.Join(env.Dir, "aws-recording"), filepath.Join(env.Dir, "metrics.sh")
	must(t, env.WriteFile(record, "", 0o600))
	must(t, env.WriteFile(fake, "#!/bin/sh\necho \"$@\" >> "+record+"\n", 0o700))
	p.AWSCLI = fake
	p.Monitoring = &hostconfig.Monitoring{NrpePort: 5666, AllowedHosts: []string{"127.0.0.1"}, NrpeDir: "/unused", NrpeUser: "nagios",
		PidFile: "/unused", Namespace: "HIPAA/Database", Cluster: "db"}
	files, err := hostconfig.Config(p)
	must(t, err)
	must(t, env.WriteFile(script, files["metrics.sh"], 0o700))
	if out, err := env.Command("/bin/bash", script).CombinedOutput(); err != nil {
		t.Fatalf("%s's metrics script: %v\n%s", p.Name, err, out)
	}
	b, err := os.ReadFile(record)
	must(t, err)
	ages := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "--metric-name CredentialAgeSeconds") {
			continue
		}
		var credential string
		var age int
		fields := strings.Fields(line)
		for i := 0; i+1 < len(fields); i++ {
			switch fields[i] {
			case "--value":
				age, err = strconv.Atoi(fields[i+1])
				must(t, err)
			case "--dimensions":
				_, credential, _ = strings.Cut(fields[i+1], ",Credential=")
			}
		}
		ages[credential] = age
	}
	return ages
}

// memberLogs is every file under the members' log directories.
func memberLogs(t *testing.T, ha *pgtest.HA) string {
	t.Helper()
	var b strings.Builder
	for _, m := range ha.Members {
		must(t, filepath.Walk(m.Params.LogDir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			b.Write(data)
			return err
		}))
	}
	return b.String()
}

// TestAFixedPrimaryHasItsRotationAlone reads what a fixed primary with a rotation is given: hipaa-db with
// rotate and nothing of Patroni's, with the document (not the first boot), and its daily timer, which
// the converge run starts once the document has brought it.
func TestAFixedPrimaryHasItsRotationAlone(t *testing.T) {
	requireServers(t)
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	p, err := env.Params(hostconfig.Primary, "db-0")
	must(t, err)
	pgtest.WithRotation(time.Hour)(&p)
	bundle, err := hostconfig.Bundle(p)
	must(t, err)
	files := map[string]string{}
	later := map[string]bool{}
	for _, f := range bundle {
		files[f.Path], later[f.Path] = f.Content, f.Later
	}
	db := files[hostconfig.OperationsCommand]
	if !later[hostconfig.OperationsCommand] || !strings.Contains(db, `COMMANDS = {"rotate": rotate}`) || strings.Contains(db, "patronictl") || strings.Contains(db, "PATRONICTL") {
		t.Errorf("a fixed primary's hipaa-db (later %v) is not its rotation alone:\n%s", later[hostconfig.OperationsCommand], db)
	}
	service := files["/etc/hipaa/systemd/hipaa-db-rotate.service"]
	if !strings.Contains(service, "After=postgresql@15-main.service") || !strings.Contains(service, "hipaa-db rotate app --scheduled") {
		t.Errorf("the rotation's service on a fixed primary:\n%s", service)
	}
	if !strings.Contains(files["/etc/hipaa/systemd/hipaa-db-rotate.timer"], "OnCalendar=*-*-* 03:30:00") {
		t.Errorf("no daily rotation timer on a fixed primary")
	}
	if converge := files[p.Converge().ScriptPath()]; !strings.Contains(converge, "running hipaa-db-rotate.timer") {
		t.Errorf("the fixed primary's converge script never starts the rotation's timer")
	}
}
