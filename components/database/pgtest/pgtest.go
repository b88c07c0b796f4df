// Package pgtest starts real PostgreSQL 15 servers and pgBackRest, from Debian's packages, on loopback,
// configured with the very files the database component renders (hostconfig), with an internal CA it
// makes and an S3 stand-in served over TLS in-process. The host-configuration tests and the backup
// benchmark use it; everything it starts lives under one directory and is stopped by Close.
package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/internal/standin"
)

// Bin is where Debian installs PostgreSQL 15's programs.
const Bin = "/usr/lib/postgresql/15/bin"

// The backup bucket and stanza of the tests.
const (
	Bucket = "hipaa-backups"
	Stanza = "main"
)

// Passwords of the test roles: the clients'. The members replicate with their certificates.
const (
	AppPassword        = "app-test-password"
	MonitoringPassword = "monitoring-test-password"
)

// Missing reports what of PostgreSQL 15, pgaudit and pgBackRest is not installed, or "".
func Missing() string {
	for _, p := range []string{Bin + "/initdb", Bin + "/postgres", Bin + "/psql", Bin + "/pg_basebackup"} {
		if _, err := os.Stat(p); err != nil {
			return p + " (apt-get install postgresql-15)"
		}
	}
	if _, err := os.Stat(Bin + "/../lib/pgaudit.so"); err != nil {
		return "pgaudit (apt-get install postgresql-15-pgaudit)"
	}
	if _, err := exec.LookPath("pgbackrest"); err != nil {
		return "pgbackrest (apt-get install pgbackrest)"
	}
	return ""
}

// Env is one test environment: a directory owned by the postgres user, a CA, an S3 stand-in and the
// servers started in it.
type Env struct {
	Dir     string
	CAFile  string
	s3      *standin.S3
	s3Port  int
	uid     uint32
	gid     uint32
	servers []*Server
	ca      *standin.CA
}

// New makes an environment under dir (which it makes traversable by the postgres user).
func New(dir string) (*Env, error) {
	e := &Env{Dir: filepath.Join(dir, "pg")}
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: everything runs as the postgres user Debian's package made.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		e.uid, e.gid = uint32(uid), uint32(gid)
		for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
			if info, err := os.Stat(d); err == nil && info.Mode().Perm()&0o011 == 0 {
				if err := os.Chmod(d, info.Mode().Perm()|0o011); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := e.mkdir(e.Dir); err != nil {
		return nil, err
	}
	if err := e.startS3(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Env) mkdir(path string) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	return e.chown(path)
}

func (e *Env) chown(path string) error {
	if e.uid == 0 {
		return nil
	}
	return os.Chown(path, int(e.uid), int(e.gid))
}

func (e *Env) write(path, content string, mode os.FileMode) error {
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		return err
	}
	return e.chown(path)
}

// Issue makes a key and a certificate from the test CA for name, for servers and clients alike.
func (e *Env) Issue(name string) (certPEM, keyPEM []byte, err error) {
	return e.issue(name)
}

// User is the user the servers run as (the postgres user when the tests run as root), by name.
func (e *Env) User() string {
	if e.uid == 0 {
		if u, err := user.Current(); err == nil {
			return u.Username
		}
		return ""
	}
	u, err := user.LookupId(strconv.Itoa(int(e.uid)))
	if err != nil {
		return ""
	}
	return u.Username
}

// WriteFile writes a file owned by the user the servers run as, for a test's own clients (a password
// file, a configuration).
func (e *Env) WriteFile(path, content string, mode os.FileMode) error {
	return e.write(path, content, mode)
}

// Command prepares a program to run as the postgres user, with pgBackRest's S3 credentials in its
// environment.
func (e *Env) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = e.Dir
	cmd.Env = append(os.Environ(), "PGBACKREST_REPO1_S3_KEY="+standin.S3Key, "PGBACKREST_REPO1_S3_KEY_SECRET="+standin.S3Secret,
		"HOME="+e.Dir, "PGCONNECT_TIMEOUT=10")
	if e.uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: e.uid, Gid: e.gid}}
	}
	return cmd
}

// Run runs a program as the postgres user and returns its combined output.
func (e *Env) Run(name string, args ...string) (string, error) {
	out, err := e.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// ca is the environment's internal certificate authority.
// issue makes a key and a certificate for name, valid for 127.0.0.1 and localhost.
func (e *Env) issue(name string) (certPEM, keyPEM []byte, err error) {
	return e.ca.Issue(name, "localhost", "127.0.0.1")
}

// startS3 makes the CA and serves an in-memory S3 over TLS on loopback with a certificate of it.
func (e *Env) startS3() error {
	ca, err := standin.NewCA()
	if err != nil {
		return err
	}
	e.ca = ca
	e.CAFile = filepath.Join(e.Dir, "ca.crt")
	if err := e.write(e.CAFile, string(ca.PEM()), 0o644); err != nil {
		return err
	}
	s3, err := standin.StartS3(ca, "127.0.0.1", Bucket)
	if err != nil {
		return err
	}
	e.s3, e.s3Port = s3, s3.Port
	return nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Server is one PostgreSQL server of the environment.
type Server struct {
	Name   string
	Params hostconfig.Params
	Files  hostconfig.Files
	env    *Env
	cmd    *exec.Cmd
	log    *os.File
}

// Params returns a host's parameters for a server named name on loopback, as the component would give
// them on AWS but for the paths, ports, addresses and the S3 endpoint.
func (e *Env) Params(role, name string) (hostconfig.Params, error) {
	port, err := freePort()
	if err != nil {
		return hostconfig.Params{}, err
	}
	home := filepath.Join(e.Dir, name)
	for _, d := range []string{home, home + "/conf", home + "/run", home + "/log", home + "/tls", home + "/pgbackrest",
		home + "/pgbackrest/log", home + "/pgbackrest/lock", home + "/pgbackrest/spool"} {
		if err := e.mkdir(d); err != nil {
			return hostconfig.Params{}, err
		}
	}
	slot := ""
	if role == hostconfig.Replica {
		slot = strings.ReplaceAll(name, "-", "_")
	}
	return hostconfig.Params{
		Role: role, Name: name, PgVersion: 15,
		DataDir: home + "/data", ConfDir: home + "/conf", SocketDir: home + "/run", LogDir: home + "/log",
		ListenAddress: "127.0.0.1", Port: port, MaxConnections: 50, MaxWalSenders: 10,
		TLS:         hostconfig.TLSFiles{CertFile: home + "/tls/server.crt", KeyFile: home + "/tls/server.key", CAFile: e.CAFile},
		TLSDir:      home + "/tls",
		AppDatabase: "clinic", AppUser: "app", ReplicationUser: "replicator", MonitoringUser: "nagios",
		ClientCIDRs: []string{"127.0.0.1/32"}, MonitoringCIDRs: []string{"127.0.0.1/32"}, ReplicaCIDRs: []string{"127.0.0.1/32"},
		// The replica a pair starts with; StartReplica admits another.
		ReplicaNames: []string{"db-1"},
		SlotName:     slot, ApplicationName: name, SlotPrefix: "db_", PrimaryWaitSeconds: 60,
		MountPoint: home, AWSCLI: "/bin/false",
		ArchiveTimeoutSeconds: 60,
		Backup: hostconfig.Backup{
			ConfigFile: home + "/pgbackrest/pgbackrest.conf", Stanza: Stanza,
			Bucket: Bucket, Endpoint: "localhost", StorageHost: "127.0.0.1", StoragePort: e.s3Port, StorageCAFile: e.CAFile,
			Region: "us-east-1", URIStyle: "path", KeyType: "shared", KMSKeyID: "arn:aws:kms:us-east-1:123456789012:key/test",
			Path: "/hipaa-test/db", RetentionDays: 35, ProcessMax: 2,
			LogDir: home + "/pgbackrest/log", LockDir: home + "/pgbackrest/lock", SpoolDir: home + "/pgbackrest/spool",
		},
	}, nil
}

// Install renders a server's files and writes them where PostgreSQL and pgBackRest read them (and
// Patroni, for a member of a Patroni cluster), with its TLS key and certificate.
func (e *Env) Install(p hostconfig.Params) (*Server, error) {
	files, err := hostconfig.Config(p)
	if err != nil {
		return nil, err
	}
	certPEM, keyPEM, err := e.issue(p.Name)
	if err != nil {
		return nil, err
	}
	install := map[string]string{
		p.TLS.CertFile:                 string(certPEM),
		p.TLS.KeyFile:                  string(keyPEM),
		p.ConfDir + "/postgresql.conf": files["postgresql.conf"],
		p.ConfDir + "/pg_hba.conf":     files["pg_hba.conf"],
		p.ConfDir + "/pg_ident.conf":   files["pg_ident.conf"],
		p.Backup.ConfigFile:            files["pgbackrest.conf"],
	}
	if p.HA != nil {
		install[p.HA.ConfigFile] = files["patroni.yml"]
		// The REST API's copy of the CAs, as the converge run puts it.
		install[p.RestCAFile()] = string(e.ca.PEM())
	}
	for path, content := range install {
		if err := e.write(path, content, 0o600); err != nil {
			return nil, err
		}
	}
	s := &Server{Name: p.Name, Params: p, Files: files, env: e}
	e.servers = append(e.servers, s)
	return s, nil
}

// InitPrimary makes a new cluster in the server's data directory.
func (s *Server) InitPrimary() error {
	_, err := s.env.Run(Bin+"/initdb", "--data-checksums", "--auth-local=peer", "--auth-host=scram-sha-256", "-D", s.Params.DataDir)
	return err
}

// Start starts the server with its rendered configuration (extra settings, such as archive_mode=off for
// a restored copy, as -c name=value) and waits until it accepts connections.
func (s *Server) Start(extra ...string) error {
	args := []string{"-D", s.Params.ConfDir}
	for _, x := range extra {
		args = append(args, "-c", x)
	}
	log, err := os.OpenFile(filepath.Join(s.Params.LogDir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	s.log = log
	s.cmd = s.env.Command(Bin+"/postgres", args...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	// A process group of its own, so that Stop can end the server's children (the archiver running
	// pgBackRest) too if the server does not stop by itself.
	if s.cmd.SysProcAttr == nil {
		s.cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	s.cmd.SysProcAttr.Setpgid = true
	if err := s.cmd.Start(); err != nil {
		return err
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := s.env.Run(Bin+"/pg_isready", "-q", "-h", s.Params.SocketDir, "-p", strconv.Itoa(s.Params.Port)); err == nil {
			return nil
		}
		if s.cmd.ProcessState != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s did not start:\n%s", s.Name, s.Log())
}

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Params.LogDir, "server.log"))
	return string(b)
}

// Stop shuts the server down (fast) and waits for it.
func (s *Server) Stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.cmd = nil
	if s.log != nil {
		s.log.Close()
	}
	return nil
}

// SQL runs statements as the postgres superuser over the local socket and returns the unaligned output.
func (s *Server) SQL(sql string, vars ...string) (string, error) {
	args := []string{"-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", s.Params.SocketDir, "-p", strconv.Itoa(s.Params.Port), "-d", "postgres"}
	for _, v := range vars {
		args = append(args, "-v", v)
	}
	cmd := s.env.Command(Bin+"/psql", append(args, "-c", sql)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", sql, err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Connect runs a query over TCP as a client would, with the given libpq connection string; it returns
// the output or the server's refusal.
func (s *Server) Connect(conninfo, sql string) (string, error) {
	cmd := s.env.Command(Bin+"/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
		fmt.Sprintf("host=127.0.0.1 port=%d %s", s.Params.Port, conninfo))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", errors.New(strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// RunRoles runs the rendered roles.sql with the test passwords, then slots.sql, as a primary's converge
// script does.
func (s *Server) RunRoles() error {
	return s.runFiles("roles.sql", "slots.sql")
}

// runFiles runs the server's rendered SQL files in turn, with the test passwords and the first login
// roles set as the converge script sets them.
func (s *Server) runFiles(names ...string) error {
	for _, name := range names {
		path := filepath.Join(s.Params.ConfDir, name)
		if err := s.env.write(path, s.Files[name], 0o600); err != nil {
			return err
		}
		if _, err := s.env.Run(Bin+"/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", s.Params.SocketDir, "-p", strconv.Itoa(s.Params.Port),
			"-d", "postgres", "-v", "app_login="+s.Params.AppLogins()[0], "-v", "app_password="+AppPassword,
			"-v", "monitoring_login="+s.Params.MonitoringLogins()[0], "-v", "monitoring_password="+MonitoringPassword, "-f", path); err != nil {
			return err
		}
	}
	return nil
}

// BaseBackup makes the replica's data directory from the primary, over TLS with verify-full and the
// replica's certificate, through its replication slot, as the bootstrap of a replica does.
func (s *Server) BaseBackup(primary *Server) error {
	cmd := s.env.Command(Bin+"/pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.Params.Port),
		"-U", s.Params.ReplicationUser, "-D", s.Params.DataDir, "-X", "stream", "-S", s.Params.SlotName, "-c", "fast")
	cmd.Env = append(cmd.Env, "PGSSLMODE=verify-full", "PGSSLROOTCERT="+s.Params.TLS.CAFile,
		"PGSSLCERT="+s.Params.TLS.CertFile, "PGSSLKEY="+s.Params.TLS.KeyFile)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_basebackup: %w\n%s", err, out)
	}
	return s.env.write(filepath.Join(s.Params.DataDir, "standby.signal"), "", 0o600)
}

// PgBackRest runs pgBackRest with this server's rendered configuration.
func (s *Server) PgBackRest(args ...string) (string, error) {
	return s.env.Run("pgbackrest", append([]string{"--config=" + s.Params.Backup.ConfigFile, "--stanza=" + Stanza}, args...)...)
}

// S3 is the environment's S3 stand-in, which holds the backup repository.
func (e *Env) S3() *standin.S3 { return e.s3 }

// Close stops every server and the S3 stand-in.
func (e *Env) Close() {
	for _, s := range e.servers {
		_ = s.Stop()
	}
	if e.s3 != nil {
		e.s3.Close()
	}
}

// Cluster is a primary with one streaming replica that takes the backups, as the component sets up a
// cluster with replicas.
type Cluster struct {
	Primary, Replica *Server
}

// StartCluster starts a primary (roles, slot and stanza made as its bootstrap makes them) and a replica
// from a base backup over TLS through its slot, configured to take the backups from itself. tune, if
// given, adjusts both hosts' parameters before their files are rendered.
func (e *Env) StartCluster(tune func(*hostconfig.Params)) (*Cluster, error) {
	pp, err := e.Params(hostconfig.Primary, "db-0")
	if err != nil {
		return nil, err
	}
	pp.Slots = []string{"db_1"}
	if tune != nil {
		tune(&pp)
	}
	primary, err := e.bootPrimary(pp)
	if err != nil {
		return nil, err
	}
	replica, err := e.StartReplica(primary, "db-1", tune)
	if err != nil {
		return nil, err
	}
	return &Cluster{Primary: primary, Replica: replica}, nil
}

// StartPrimary starts a cluster's one host, a fixed primary with no replica (roles and stanza made as its
// bootstrap makes them), as the stacks without replicas run it. tune, if given, adjusts its parameters
// before its files are rendered.
func (e *Env) StartPrimary(tune func(*hostconfig.Params)) (*Server, error) {
	p, err := e.Params(hostconfig.Primary, "db-0")
	if err != nil {
		return nil, err
	}
	p.ReplicaCIDRs, p.ReplicaNames = nil, nil
	if tune != nil {
		tune(&p)
	}
	return e.bootPrimary(p)
}

// bootPrimary installs a primary with parameters p and makes it as its bootstrap does: a new cluster,
// started, with its roles, slots and pgBackRest stanza.
func (e *Env) bootPrimary(p hostconfig.Params) (*Server, error) {
	s, err := e.Install(p)
	if err != nil {
		return nil, err
	}
	if err := s.InitPrimary(); err != nil {
		return nil, err
	}
	if err := s.Start(); err != nil {
		return nil, err
	}
	if err := s.RunRoles(); err != nil {
		return nil, err
	}
	if _, err := s.PgBackRest("stanza-create"); err != nil {
		return nil, err
	}
	return s, nil
}

// ClientAs runs one statement in the application's database as a client over TLS would, logged in as
// user with password (in the environment, never on the command line): its output, or what psql said
// when it failed.
func (s *Server) ClientAs(user, password, sql string) (string, error) {
	return s.env.client(fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s sslmode=verify-full sslrootcert=%s connect_timeout=5",
		s.Params.Port, s.Params.AppDatabase, user, s.Params.TLS.CAFile), password, sql)
}

// StartReplica builds a replica named name from the primary, as a replica's bootstrap does, and starts it.
// The primary admits its certificate first, if it did not.
func (e *Env) StartReplica(primary *Server, name string, tune func(*hostconfig.Params)) (*Server, error) {
	pp := primary.Params
	rp, err := e.Params(hostconfig.Replica, name)
	if err != nil {
		return nil, err
	}
	rp.Primary = hostconfig.Endpoint{Host: "127.0.0.1", Port: pp.Port}
	rp.Backup.Scheduled, rp.Backup.FromStandby = true, true
	rp.Backup.Peers = []hostconfig.Peer{{DataDir: pp.DataDir, Port: pp.Port, SocketDir: pp.SocketDir}}
	if tune != nil {
		tune(&rp)
	}
	replica, err := e.Install(rp)
	if err != nil {
		return nil, err
	}
	if err := primary.admit(name); err != nil {
		return nil, err
	}
	// A rebuilt replica gets a fresh slot, as the runbook's rebuild does; the first ones come with the
	// primary's roles.sql.
	if _, err := primary.SQL(fmt.Sprintf(`SELECT pg_create_physical_replication_slot('%s')
		WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = '%s')`, rp.SlotName, rp.SlotName)); err != nil {
		return nil, err
	}
	if err := replica.BaseBackup(primary); err != nil {
		return nil, err
	}
	if err := replica.Start(); err != nil {
		return nil, err
	}
	return replica, nil
}

// admit lets the host named name replicate from the server by its certificate: it is added to the
// server's ReplicaNames, whose pg_ident.conf is rendered again and reloaded.
func (s *Server) admit(name string) error {
	if slices.Contains(s.Params.ReplicaNames, name) {
		return nil
	}
	s.Params.ReplicaNames = append(s.Params.ReplicaNames, name)
	files, err := hostconfig.Config(s.Params)
	if err != nil {
		return err
	}
	s.Files = files
	if err := s.env.write(s.Params.ConfDir+"/pg_ident.conf", files["pg_ident.conf"], 0o600); err != nil {
		return err
	}
	_, err = s.SQL("SELECT pg_reload_conf()")
	return err
}
