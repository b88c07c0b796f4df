package pgtest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
)

// Where Debian installs Patroni and etcd.
const (
	PatroniBin = "/usr/bin/patroni"
	EtcdBin    = "/usr/bin/etcd"
)

// MissingHA reports what of Patroni and etcd is not installed, or "".
func MissingHA() string {
	if m := Missing(); m != "" {
		return m
	}
	for _, p := range []string{PatroniBin, EtcdBin} {
		if _, err := os.Stat(p); err != nil {
			return p + " (apt-get install patroni etcd-server)"
		}
	}
	return ""
}

// HA is a Patroni cluster on loopback: an etcd member beside each database member (and a witness when
// the members are even, as the monitoring host is on AWS), each configured with the files hostconfig
// renders, every connection between them TLS with certificates of the environment's CA.
type HA struct {
	Members []*Member
	Witness *Etcd
	env     *Env
	etcd    []*Etcd
	client  *http.Client
}

// Member is one database member: Patroni, which runs its PostgreSQL.
type Member struct {
	Name   string
	Params hostconfig.Params
	Files  hostconfig.Files
	Etcd   *Etcd
	env    *Env
	cmd    *exec.Cmd
	done   chan struct{}
}

// Etcd is one etcd member.
type Etcd struct {
	Name   string
	Config string
	env    *Env
	cmd    *exec.Cmd
	done   chan struct{}
	log    string
}

// HATiming is the cluster's timing for tests: a lost primary is noticed within seconds rather than
// the production defaults' half a minute. The same rules hold (LoopWait + 2*RetryTimeout <= TTL).
func HATiming(h *hostconfig.HA) { h.TTL, h.LoopWait, h.RetryTimeout = 10, 2, 3 }

// StartHA starts a cluster of n members named db-0 to db-(n-1), with synchronous replication when
// synchronous is set, and waits until it has a leader and every other member replicates from it. tune,
// if given, adjusts each member's parameters before its files are rendered.
func (e *Env) StartHA(n int, synchronous bool, tune func(*hostconfig.Params)) (*HA, error) {
	h := &HA{env: e}
	var members []hostconfig.Member
	var voters []hostconfig.Voter
	var params []hostconfig.Params
	// Every port at once: ports asked for one by one may be given twice.
	ports, err := freePorts(4*n + 2)
	if err != nil {
		return nil, err
	}
	for i := range n {
		name := fmt.Sprintf("db-%d", i)
		p, err := e.Params(hostconfig.Replica, name)
		if err != nil {
			return nil, err
		}
		p.Port = ports[4*i]
		members = append(members, hostconfig.Member{Name: name, Address: "127.0.0.1", Port: p.Port, RestPort: ports[4*i+1]})
		voters = append(voters, hostconfig.Voter{Name: name, Address: "127.0.0.1", ClientPort: ports[4*i+2], PeerPort: ports[4*i+3]})
		params = append(params, p)
	}
	if n%2 == 0 {
		voters = append(voters, hostconfig.Voter{Name: "witness", Address: "127.0.0.1", ClientPort: ports[4*n], PeerPort: ports[4*n+1]})
	}
	for i, v := range voters {
		var home string
		if i < n {
			home = filepath.Dir(params[i].DataDir)
		} else {
			home = filepath.Join(e.Dir, v.Name)
			if err := e.mkdir(home); err != nil {
				return nil, err
			}
		}
		etcd, err := e.startEtcd(v, voters, home)
		if err != nil {
			h.Close()
			return nil, err
		}
		h.etcd = append(h.etcd, etcd)
	}
	if n%2 == 0 {
		h.Witness = h.etcd[n]
	}
	for i, p := range params {
		home := filepath.Dir(p.DataDir)
		p.HA = &hostconfig.HA{
			Scope: "main", Members: members, Store: voters, RewindUser: "rewinder", CASet: "1",
			PgPass: home + "/patroni.pgpass", ConfigFile: home + "/conf/patroni.yml",
			Synchronous: synchronous, MaximumLagOnFailover: hostconfig.DefaultMaximumLagOnFailover,
			Watchdog: "off", LogDir: p.LogDir,
			Patronictl: "/usr/bin/patronictl", StateDir: home, FollowGraceSeconds: 10,
			EtcdDataDir: home + "/etcd", EtcdTLSDir: home + "/etcd-tls",
		}
		HATiming(p.HA)
		p.ReplicaNames = nil
		for _, m := range members {
			if m.Name != p.Name {
				p.ReplicaNames = append(p.ReplicaNames, m.Name)
			}
		}
		if i == 0 {
			p.Role = hostconfig.Primary
		}
		// Backups come from a standby, whichever member is primary: each member's pgBackRest knows the
		// others.
		p.Backup.FromStandby = true
		for j, q := range params {
			if j != i {
				p.Backup.Peers = append(p.Backup.Peers, hostconfig.Peer{DataDir: q.DataDir, Port: q.Port, SocketDir: q.SocketDir})
			}
		}
		if tune != nil {
			tune(&p)
		}
		s, err := e.Install(p)
		if err != nil {
			h.Close()
			return nil, err
		}
		// The etcd member runs the configuration the host's converge run installs.
		if s.Files["etcd.env"] != h.etcd[i].Config {
			h.Close()
			return nil, fmt.Errorf("%s: the rendered etcd.env is not what its etcd member runs:\n%s\nruns:\n%s", p.Name, s.Files["etcd.env"], h.etcd[i].Config)
		}
		m := &Member{Name: p.Name, Params: p, Files: s.Files, Etcd: h.etcd[i], env: e}
		h.Members = append(h.Members, m)
	}
	client, err := e.restClient()
	if err != nil {
		h.Close()
		return nil, err
	}
	h.client = client
	// The first member makes the cluster; its converge run then makes the roles and the backups'
	// stanza, and the others join it.
	if err := h.Members[0].Start(); err != nil {
		h.Close()
		return nil, err
	}
	leader, err := h.WaitHealthy(1, 2*time.Minute)
	if err == nil {
		err = leader.RunRoles()
	}
	if err == nil {
		_, err = leader.PgBackRest("stanza-create")
	}
	for _, m := range h.Members[1:] {
		if err == nil {
			err = m.Start()
		}
	}
	if err == nil {
		_, err = h.WaitHealthy(n, 2*time.Minute)
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// NeedHA skips t where Patroni or etcd is missing, and under CI, which installs them, fails it.
func NeedHA(t testing.TB) {
	t.Helper()
	if missing := MissingHA(); missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install %s (see .ci/run)", missing)
		}
		t.Skip("missing " + missing)
	}
}

// StartHAFor starts, for the test t, a cluster of n members as StartHA does, in an environment of its
// own under t's temporary directory; both stop when t ends. Where Patroni or etcd is missing t is
// skipped, and under CI, which installs them, it fails.
func StartHAFor(t testing.TB, n int, synchronous bool) (*Env, *HA) {
	t.Helper()
	NeedHA(t)
	env, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Close)
	ha, err := env.StartHA(n, synchronous, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ha.Close)
	return env, ha
}

// freePorts are n distinct free loopback ports: each is held until all are had.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// startEtcd starts one etcd member with its rendered configuration (the environment its unit reads).
func (e *Env) startEtcd(v hostconfig.Voter, voters []hostconfig.Voter, home string) (*Etcd, error) {
	tlsDir := filepath.Join(home, "etcd-tls")
	if err := e.mkdir(tlsDir); err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := e.issue(v.Name)
	if err != nil {
		return nil, err
	}
	// Where a member's rendered etcd.env (Params.Etcd) says: copies beside each other.
	files := hostconfig.TLSFiles{CertFile: tlsDir + "/server.crt", KeyFile: tlsDir + "/server.key", CAFile: tlsDir + "/ca.crt"}
	for path, content := range map[string]string{files.CertFile: string(certPEM), files.KeyFile: string(keyPEM), files.CAFile: string(e.ca.PEM())} {
		if err := e.write(path, content, 0o600); err != nil {
			return nil, err
		}
	}
	config, err := hostconfig.EtcdConfig(hostconfig.Etcd{Voter: v, Scope: "main", Voters: voters, DataDir: filepath.Join(home, "etcd"), TLS: files})
	if err != nil {
		return nil, err
	}
	etcd := &Etcd{Name: v.Name, Config: config, env: e, log: filepath.Join(home, "etcd.log")}
	return etcd, etcd.Start()
}

// Start starts the etcd member with its configuration.
func (x *Etcd) Start() error {
	log, err := os.OpenFile(x.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	x.cmd = x.env.Command(EtcdBin)
	x.cmd.Env = append(x.cmd.Env, environment(x.Config)...)
	x.cmd.Stdout, x.cmd.Stderr = log, log
	if err := x.cmd.Start(); err != nil {
		log.Close()
		return err
	}
	x.done = make(chan struct{})
	go func() { _ = x.cmd.Wait(); log.Close(); close(x.done) }()
	return nil
}

// Stop stops the etcd member.
func (x *Etcd) Stop() { stop(x.cmd, x.done, syscall.SIGTERM) }

// Log is the member's log so far.
func (x *Etcd) Log() string {
	b, _ := os.ReadFile(x.log)
	return string(b)
}

// environment is the KEY=VALUE lines of an environment file, as systemd's EnvironmentFile reads them.
func environment(file string) []string {
	var env []string
	sc := bufio.NewScanner(strings.NewReader(file))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || !strings.Contains(line, "=") {
			continue
		}
		env = append(env, line)
	}
	return env
}

func stop(cmd *exec.Cmd, done chan struct{}, sig syscall.Signal) {
	if cmd == nil || cmd.Process == nil || done == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Start starts the member's Patroni, with nothing in its environment: the members replicate and rewind
// with their certificates.
func (m *Member) Start() error {
	log, err := os.OpenFile(filepath.Join(m.Params.LogDir, "patroni.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	m.cmd = m.env.Command(PatroniBin, m.Params.HA.ConfigFile)
	m.cmd.Stdout, m.cmd.Stderr = log, log
	if m.cmd.SysProcAttr == nil {
		m.cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	m.cmd.SysProcAttr.Setpgid = true
	if err := m.cmd.Start(); err != nil {
		log.Close()
		return err
	}
	m.done = make(chan struct{})
	go func() { _ = m.cmd.Wait(); log.Close(); close(m.done) }()
	return nil
}

// Stop stops Patroni as its unit does, which stops PostgreSQL first.
func (m *Member) Stop() {
	stop(m.cmd, m.done, syscall.SIGTERM)
	m.kill(m.postmaster())
}

// Kill ends the member as a lost host does: Patroni and PostgreSQL killed at once, nothing shut down.
func (m *Member) Kill() {
	pg := m.postmaster()
	if m.cmd != nil && m.cmd.Process != nil {
		_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
		<-m.done
	}
	m.kill(pg)
}

func (m *Member) kill(pid int) {
	if pid > 0 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		for range 100 {
			if syscall.Kill(pid, 0) != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// postmaster is the PID of the member's running PostgreSQL, or 0.
func (m *Member) postmaster() int {
	b, err := os.ReadFile(filepath.Join(m.Params.DataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if pid > 0 && syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

// Log is the member's Patroni log and the end of its PostgreSQL log.
func (m *Member) Log() string {
	var b strings.Builder
	for _, f := range []string{"patroni.out", "patroni.log"} {
		data, err := os.ReadFile(filepath.Join(m.Params.LogDir, f))
		if err != nil {
			continue
		}
		// PostgreSQL's lines of every connection say nothing of what went wrong.
		var lines []string
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "LOG:  connection ") && !strings.Contains(line, "LOG:  disconnection:") &&
				!strings.Contains(line, "the database system is starting up") && !strings.Contains(line, "rejecting connections") {
				lines = append(lines, line)
			}
		}
		fmt.Fprintf(&b, "--- %s %s\n%s\n", m.Name, f, tail(strings.Join(lines, "\n"), 4000))
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// SQL runs statements as the postgres superuser over the member's socket.
func (m *Member) SQL(sql string) (string, error) {
	s := &Server{Name: m.Name, Params: m.Params, env: m.env}
	return s.SQL(sql)
}

// RunRoles runs the member's rendered roles.sql with the test passwords, as the converge script of the
// member that is primary does.
func (m *Member) RunRoles() error {
	s := &Server{Name: m.Name, Params: m.Params, Files: m.Files, env: m.env}
	return s.runFiles("roles.sql")
}

// PgBackRest runs pgBackRest with the member's rendered configuration.
func (m *Member) PgBackRest(args ...string) (string, error) {
	return m.env.Run("pgbackrest", append([]string{"--config=" + m.Params.Backup.ConfigFile, "--stanza=" + Stanza}, args...)...)
}

// Follow runs the member's rendered follow check (hipaa-db-follow), as its timer does.
func (m *Member) Follow() (string, error) {
	path := filepath.Join(m.Params.ConfDir, "follow.sh")
	if err := m.env.write(path, m.Files["follow.sh"], 0o700); err != nil {
		return "", err
	}
	return m.env.Run("/bin/bash", path)
}

// DB runs the member's rendered cluster operations (hipaa-db, which `platformctl db` runs on a host)
// with args, and returns its standard output, its standard error and its exit code.
func (m *Member) DB(args ...string) (stdout, stderr string, code int, err error) {
	return m.DBWith(nil, args...)
}

// DBWith runs hipaa-db as DB does, with env added to its environment (where the AWS CLI it calls
// finds its endpoint and credentials).
func (m *Member) DBWith(env []string, args ...string) (stdout, stderr string, code int, err error) {
	return m.env.runDB(m.Params, m.Files, env, args)
}

// DBWith runs a fixed primary's rendered operations (hipaa-db, its rotation alone) as Member.DBWith does.
func (s *Server) DBWith(env []string, args ...string) (stdout, stderr string, code int, err error) {
	return s.env.runDB(s.Params, s.Files, env, args)
}

func (e *Env) runDB(p hostconfig.Params, files hostconfig.Files, env, args []string) (stdout, stderr string, code int, err error) {
	path := filepath.Join(p.ConfDir, "db.py")
	if err := e.write(path, files["db.py"], 0o700); err != nil {
		return "", "", 0, err
	}
	cmd := e.Command("/usr/bin/python3", append([]string{path}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode(), nil
	}
	return out.String(), errOut.String(), 0, err
}

// Patronictl runs patronictl with the member's configuration.
func (m *Member) Patronictl(args ...string) (string, error) {
	return m.env.Run("/usr/bin/patronictl", append([]string{"-c", m.Params.HA.ConfigFile}, args...)...)
}

// restClient is an HTTPS client of the members' REST APIs, with a client certificate of the CA.
func (e *Env) restClient() (*http.Client, error) {
	certPEM, keyPEM, err := e.issue("patronictl")
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(e.ca.PEM())
	return &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	}}, nil
}

// ClusterMember is a member as Patroni's /cluster reports it.
type ClusterMember struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	State    string `json:"state"`
	Timeline int    `json:"timeline"`
	Lag      any    `json:"lag"`
}

// Cluster is Patroni's /cluster, asked of the first member that answers.
func (h *HA) Cluster() ([]ClusterMember, error) {
	var errs []error
	for _, m := range h.Members {
		if m.cmd == nil || m.done == nil || closed(m.done) {
			continue
		}
		var out struct {
			Members []ClusterMember `json:"members"`
		}
		self, _ := m.Params.Self()
		if err := h.get(self, "/cluster", &out); err != nil {
			errs = append(errs, err)
			continue
		}
		return out.Members, nil
	}
	return nil, fmt.Errorf("no member answers: %w", errors.Join(errs...))
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// REST is the member's REST API answer to a request of method and path, with its status code.
func (h *HA) REST(m *Member, method, path string, body any) (int, string, error) {
	self, _ := m.Params.Self()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, "https://"+hostPort(self.Address, self.RestPort)+path, r)
	if err != nil {
		return 0, "", err
	}
	// A switchover's answer waits for the switchover (measured here: 2 s alone, more than the polls' 3 s
	// with other clusters starting beside it).
	client := *h.client
	client.Timeout = time.Minute
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func (h *HA) get(self hostconfig.Member, path string, v any) error {
	resp, err := h.client.Get("https://" + hostPort(self.Address, self.RestPort) + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s", self.Name, path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func hostPort(address string, port int) string { return address + ":" + strconv.Itoa(port) }

// Leader is the member Patroni reports as the leader, or nil.
func (h *HA) Leader() *Member {
	members, err := h.Cluster()
	if err != nil {
		return nil
	}
	for _, cm := range members {
		if cm.Role == "leader" && cm.State == "running" {
			return h.Member(cm.Name)
		}
	}
	return nil
}

// SyncStandby waits up to timeout until a running member is the leader's synchronous standby, and
// returns it: under synchronous replication only it may be promoted, so a cluster without one cannot
// fail over.
func (h *HA) SyncStandby(timeout time.Duration) (*Member, error) {
	deadline := time.Now().Add(timeout)
	for {
		members, err := h.Cluster()
		for _, m := range members {
			if m.Role == "sync_standby" && m.State == "running" {
				return h.Member(m.Name), nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no synchronous standby within %s: %+v %v", timeout, members, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Member is the member named name, or nil.
func (h *HA) Member(name string) *Member {
	for _, m := range h.Members {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// WaitHealthy waits until the cluster has a leader that takes writes and want members in all, each
// replica streaming from the leader, and returns the leader. The leader key comes first: a member
// holds it while its promotion runs, and a replica may already stream from it then (measured: a write
// right after the key and the streams alone found every member read-only, two runs in four).
func (h *HA) WaitHealthy(want int, timeout time.Duration) (*Member, error) {
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if leader := h.Leader(); leader != nil {
			// Patroni names each replica's connection after its member (a base backup's is pg_basebackup).
			var names []string
			for _, m := range h.Members {
				names = append(names, "'"+m.Name+"'")
			}
			// -1 while the leader is still in recovery.
			streaming, err := leader.SQL("SELECT CASE WHEN pg_is_in_recovery() THEN -1 ELSE (SELECT count(*) FROM pg_stat_replication" +
				" WHERE state = 'streaming' AND application_name IN (" + strings.Join(names, ", ") + ")) END")
			members, _ := h.Cluster()
			running := 0
			for _, cm := range members {
				if cm.State == "running" || cm.State == "streaming" {
					running++
				}
			}
			if err == nil && streaming == strconv.Itoa(want-1) && running == want {
				return leader, nil
			}
			last = fmt.Sprintf("leader %s, %s replica(s) streaming (%v), members %+v", leader.Name, streaming, err, members)
		} else {
			members, err := h.Cluster()
			last = fmt.Sprintf("no leader: %v %v", members, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil, fmt.Errorf("the cluster was not healthy within %s: %s\n%s", timeout, last, h.Logs())
}

// Rejoin waits until the cluster is healthy again after a failover, running every member's follow
// check every 15 s as their timers do (a replica left on the old timeline is restarted, and rewound).
// It returns the leader and what the checks said.
func (h *HA) Rejoin(want int, timeout time.Duration) (*Member, string, error) {
	deadline := time.Now().Add(timeout)
	var said strings.Builder
	for {
		leader, err := h.WaitHealthy(want, 15*time.Second)
		if err == nil {
			return leader, said.String(), nil
		}
		if time.Now().After(deadline) {
			return nil, said.String(), err
		}
		for _, m := range h.Members {
			out, err := m.Follow()
			said.WriteString(out)
			if err != nil {
				fmt.Fprintf(&said, "%s: the follow check failed: %v\n", m.Name, err)
			}
		}
	}
}

// Logs are every member's logs, for a failure's message.
func (h *HA) Logs() string {
	var b strings.Builder
	for _, m := range h.Members {
		b.WriteString(m.Log())
	}
	for _, x := range h.etcd {
		fmt.Fprintf(&b, "--- etcd %s\n%s", x.Name, tail(x.Log(), 1500))
	}
	return b.String()
}

// ConnInfo is a libpq connection string for the application that names every member and selects the
// one that takes writes (target_session_attrs=read-write), as the application tiers connect: after a
// failover a new connection finds the new primary, with no change of configuration.
func (h *HA) ConnInfo(attrs string) string {
	return h.connInfo(attrs, h.Members[0].Params.AppLogins()[0])
}

func (h *HA) connInfo(attrs, user string) string {
	var hosts, ports []string
	for _, m := range h.Members {
		self, _ := m.Params.Self()
		hosts, ports = append(hosts, self.Address), append(ports, strconv.Itoa(self.Port))
	}
	p := h.Members[0].Params
	return fmt.Sprintf("host=%s port=%s dbname=%s user=%s sslmode=verify-full sslrootcert=%s target_session_attrs=%s connect_timeout=2",
		strings.Join(hosts, ","), strings.Join(ports, ","), p.AppDatabase, user, p.TLS.CAFile, attrs)
}

// Client runs one statement as the application, with the connection string conninfo and the
// application's password in the environment: its output, or what psql said when it failed.
func (h *HA) Client(conninfo, sql string) (string, error) {
	return h.runClient(conninfo, AppPassword, sql)
}

// ClientAs runs one statement as Client does, logged in as user with password, on the member that
// takes writes: the application after a rotation of its credential.
func (h *HA) ClientAs(user, password, sql string) (string, error) {
	return h.runClient(h.connInfo("read-write", user), password, sql)
}

func (h *HA) runClient(conninfo, password, sql string) (string, error) {
	return h.env.client(conninfo, password, sql)
}

// client runs one statement with psql as a client, with conninfo and password (in the environment,
// never on the command line): its output, or what psql said when it failed.
func (e *Env) client(conninfo, password, sql string) (string, error) {
	cmd := e.Command(Bin+"/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql, conninfo)
	cmd.Env = append(cmd.Env, "PGPASSWORD="+password)
	// Standard output alone: a warning on standard error is not the statement's result.
	var out, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Close stops every member and etcd.
func (h *HA) Close() {
	for _, m := range h.Members {
		m.Stop()
	}
	for _, x := range h.etcd {
		x.Stop()
	}
}
