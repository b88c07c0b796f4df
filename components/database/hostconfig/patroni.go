package hostconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// HA makes a host a member of a Patroni cluster: Patroni runs PostgreSQL, keeps the cluster's leader key
// in etcd, promotes the healthiest replica when the primary stops renewing it, and owns the settings
// every member must share. Every connection between the members is TLS with certificates of the
// cluster's CA: PostgreSQL's replication and pg_rewind, Patroni's REST API, etcd's peers and clients.
type HA struct {
	// Scope is the cluster's name in the store (Patroni's scope, etcd's cluster token).
	Scope string
	// Members are every database host of the cluster, this one included.
	Members []Member
	// Store are the etcd members of the cluster's store, which Patroni reaches; an odd number, so a
	// majority survives the loss of any minority.
	Store []Voter
	// RewindUser is the role pg_rewind connects as, to rewind a former primary into a replica.
	RewindUser string
	// PgPass is the password file Patroni writes for its own connections.
	PgPass string
	// CASet names the set of CAs TLS.CAFile holds (the cluster's CA generations); the REST API reads a
	// copy named by it (Params.RestCAFile).
	CASet string
	// ConfigFile is where patroni.yml is installed.
	ConfigFile string
	// Synchronous makes a commit wait until a replica has it, and lets only that replica be promoted:
	// a transaction a client saw committed survives the loss of the primary.
	Synchronous bool
	// TTL is how long the leader key lives without renewal: the bound on noticing a lost primary.
	// LoopWait is how often Patroni runs its loop; RetryTimeout how long it retries the store and
	// PostgreSQL before it demotes a primary. Patroni needs LoopWait + 2*RetryTimeout <= TTL.
	TTL, LoopWait, RetryTimeout int
	// MaximumLagOnFailover is the most WAL, in bytes, a replica may lag and still be promoted.
	MaximumLagOnFailover int
	// Watchdog is Patroni's watchdog mode: off, automatic or required.
	Watchdog string
	// LogDir is where Patroni writes its log; empty for standard error (the journal).
	LogDir string
	// Patronictl is patronictl's path; StateDir keeps the follow check's state.
	Patronictl, StateDir string
	// FollowGraceSeconds is how long a replica may stay on an older timeline than its leader's before
	// the follow check restarts it.
	FollowGraceSeconds int
	// Callback is where the role-change callback (role-change.sh) is installed, which Patroni runs when
	// this member's role changes: a promotion is published once. Optional; none without it.
	Callback string
	// EtcdDataDir is where this host's etcd member keeps its data, and EtcdTLSDir where the copies of the
	// host's certificate and key that the etcd user reads are, when this host is one of Store. A directory
	// of the cluster's own, not the package's default: the package starts a single-member etcd of its
	// own there when it is installed, and a member with data ignores the initial cluster it is given.
	EtcdDataDir, EtcdTLSDir string
}

// Member is one database host of a cluster, as the others reach it.
type Member struct {
	Name     string
	Address  string
	Port     int
	RestPort int
}

// Voter is one etcd member of a cluster's store.
type Voter struct {
	Name       string
	Address    string
	ClientPort int
	PeerPort   int
}

// Etcd is the configuration of one etcd member of a cluster's store: the database hosts run one each,
// and a cluster of two database hosts has its third voter on the monitoring host.
type Etcd struct {
	Voter
	// Scope is the cluster's name: the etcd cluster's token.
	Scope string
	// Voters are every member of the store, this one included.
	Voters []Voter
	// DataDir is where the member keeps its data.
	DataDir string
	// TLS is the member's certificate and key (for serving and for its peers) and the cluster's CA.
	TLS TLSFiles
}

// Defaults of a cluster's timing: Patroni's own, which its documentation gives as the tested ones.
// A lost primary is replaced within about TTL + LoopWait.
const (
	DefaultTTL, DefaultLoopWait, DefaultRetryTimeout = 30, 10, 10
	DefaultMaximumLagOnFailover                      = 1 << 20
)

var (
	caSet       = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
	memberName  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	watchdogSet = []string{"off", "automatic", "required"}
)

// Strict reports whether, under synchronous replication, a primary with no healthy standby refuses
// commits (Patroni's synchronous_mode_strict) rather than acknowledge them alone. It does in a cluster
// of three or more: there the loss of one standby leaves another to name, and in a cluster of three the
// loss of both takes two of the store's three voters (the component's store is the first three
// members), which stops the primary's writes in any case; strictness costs writes only while every
// standby's PostgreSQL is down and its host up. It closes the window after a promotion, before the new
// primary names a standby, in which a non-strict primary acknowledges commits that only it has: a
// failover then ends when the surviving replica streams from the new primary (measured here: 1 to 2 s
// later, with the replicas' wal_retrieve_retry_interval of 1 s in patroni-dynamic.yml). A cluster of
// two would stop writing at its one replica's loss, so it is not strict: its primary writes alone, its
// lag alarm says so, and Patroni promotes no member that may lack an acknowledged commit (the
// synchronous state then names the primary alone).
func (h *HA) Strict() bool { return h.Synchronous && len(h.Members) >= 3 }

// Self is this host's own member of the cluster.
func (p Params) Self() (Member, bool) {
	if p.HA == nil {
		return Member{}, false
	}
	i := slices.IndexFunc(p.HA.Members, func(m Member) bool { return m.Name == p.Name })
	if i < 0 {
		return Member{}, false
	}
	return p.HA.Members[i], true
}

func (h *HA) validate(p *Params) error {
	if !stanzaName.MatchString(h.Scope) {
		return fmt.Errorf("HA.Scope %q: want lower-case letters, digits, - and _", h.Scope)
	}
	if !identifier.MatchString(h.RewindUser) {
		return fmt.Errorf("HA.RewindUser %q: want a lower-case SQL identifier", h.RewindUser)
	}
	if _, ok := p.Self(); !ok {
		return fmt.Errorf("HA.Members: %s is not one of them", p.Name)
	}
	for _, m := range h.Members {
		if err := endpoint("HA.Members", m.Name, m.Address, m.Port, m.RestPort); err != nil {
			return err
		}
	}
	if len(h.Store) == 0 || len(h.Store)%2 == 0 {
		return fmt.Errorf("HA.Store: got %d etcd members; want an odd number, so a majority outlives a minority", len(h.Store))
	}
	for _, v := range h.Store {
		if err := endpoint("HA.Store", v.Name, v.Address, v.ClientPort, v.PeerPort); err != nil {
			return err
		}
	}
	if h.Synchronous && len(h.Members) < 2 {
		return fmt.Errorf("HA.Synchronous: a cluster of %d member cannot commit on a replica; want at least 2 members", len(h.Members))
	}
	if h.LoopWait < 1 || h.RetryTimeout < 1 || h.LoopWait+2*h.RetryTimeout > h.TTL {
		return fmt.Errorf("HA: TTL %d, LoopWait %d, RetryTimeout %d: Patroni needs LoopWait + 2*RetryTimeout <= TTL", h.TTL, h.LoopWait, h.RetryTimeout)
	}
	if h.MaximumLagOnFailover < 0 {
		return fmt.Errorf("HA.MaximumLagOnFailover %d: want 0 or more bytes", h.MaximumLagOnFailover)
	}
	if !slices.Contains(watchdogSet, h.Watchdog) {
		return fmt.Errorf("HA.Watchdog %q: want one of %s", h.Watchdog, strings.Join(watchdogSet, ", "))
	}
	if h.FollowGraceSeconds < 1 {
		return fmt.Errorf("HA.FollowGraceSeconds %d: want at least 1", h.FollowGraceSeconds)
	}
	if h.Callback != "" && (!strings.HasPrefix(h.Callback, "/") || strings.ContainsAny(h.Callback, "'\" \n")) {
		return fmt.Errorf("HA.Callback %q: want an absolute path without quotes or spaces", h.Callback)
	}
	for field, v := range map[string]string{"HA.PgPass": h.PgPass, "HA.ConfigFile": h.ConfigFile, "HA.Patronictl": h.Patronictl, "HA.StateDir": h.StateDir} {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "'\" \n") {
			return fmt.Errorf("%s %q: want an absolute path without quotes or spaces", field, v)
		}
	}
	if !caSet.MatchString(h.CASet) {
		return fmt.Errorf("HA.CASet %q: want 1 to 40 lower-case letters, digits and -", h.CASet)
	}
	if _, ok := p.Voter(); ok && (!strings.HasPrefix(h.EtcdDataDir, "/") || !strings.HasPrefix(h.EtcdTLSDir, "/")) {
		return fmt.Errorf("HA.EtcdDataDir %q, HA.EtcdTLSDir %q: %s is one of Store, so it runs etcd; want absolute paths", h.EtcdDataDir, h.EtcdTLSDir, p.Name)
	}
	return nil
}

// RestCAFile is the copy of TLS.CAFile the REST API verifies its clients with, in TLSDir, named by the
// set of CAs it holds (HA.CASet), so that a new set is a new path: the REST API loads its CA once, and
// again at a reload only when a path of its configuration or its own certificate's serial changes
// (patroni/api.py, reload_config). Every other reader loads TLS.CAFile at each connection or reload.
func (p Params) RestCAFile() string { return p.TLSDir + "/" + restCAPrefix + p.HA.CASet + ".crt" }

const restCAPrefix = "rest-ca-"

// Voter is this host's own etcd member, when it is one of the store's.
func (p Params) Voter() (Voter, bool) {
	if p.HA == nil {
		return Voter{}, false
	}
	i := slices.IndexFunc(p.HA.Store, func(v Voter) bool { return v.Name == p.Name })
	if i < 0 {
		return Voter{}, false
	}
	return p.HA.Store[i], true
}

// Etcd is this host's etcd member of the store, or nil when it is not one.
func (p Params) Etcd() *Etcd {
	v, ok := p.Voter()
	if !ok {
		return nil
	}
	d := p.HA.EtcdTLSDir
	return &Etcd{Voter: v, Scope: p.HA.Scope, Voters: p.HA.Store, DataDir: p.HA.EtcdDataDir,
		TLS: TLSFiles{CertFile: d + "/server.crt", KeyFile: d + "/server.key", CAFile: d + "/ca.crt"}}
}

func endpoint(field, name, address string, ports ...int) error {
	if !memberName.MatchString(name) {
		return fmt.Errorf("%s: name %q: want a lower-case host name", field, name)
	}
	if _, err := netip.ParseAddr(address); err != nil {
		return fmt.Errorf("%s: %s: address %q is not an IP address", field, name, address)
	}
	for _, port := range ports {
		if port < 1 || port > 65535 {
			return fmt.Errorf("%s: %s: port %d: want 1 to 65535", field, name, port)
		}
	}
	return nil
}

// hostPort is address:port, bracketed for IPv6.
func hostPort(address string, port int) string { return net.JoinHostPort(address, strconv.Itoa(port)) }

// jsonString is v as a JSON value, which YAML reads as the same value.
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// indent indents every line of s by n spaces.
func indent(n int, s string) string {
	pad := strings.Repeat(" ", n)
	return pad + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+pad)
}

// patroniFiles are the files of a Patroni member: its configuration, and the shared settings alone
// (patroni-dynamic.yml), which the converge script applies to a running cluster when they change.
func patroniFiles(p Params, files Files) error {
	dynamic, err := execute("patroni-dynamic.yml.tmpl", p)
	if err != nil {
		return err
	}
	self, _ := p.Self()
	var b bytes.Buffer
	data := struct {
		Params
		Self    Member
		Dynamic string
	}{p, self, dynamic}
	if err := templates.ExecuteTemplate(&b, "patroni.yml.tmpl", data); err != nil {
		return fmt.Errorf("rendering patroni.yml.tmpl: %w", err)
	}
	follow, err := execute("follow.sh.tmpl", p)
	if err != nil {
		return err
	}
	db, err := execute("db.py.tmpl", p)
	if err != nil {
		return err
	}
	files["patroni.yml"], files["patroni-dynamic.yml"], files["follow.sh"], files["db.py"] = b.String(), dynamic, follow, db
	if p.HA.Callback != "" {
		if files["role-change.sh"], err = execute("role-change.sh.tmpl", p); err != nil {
			return err
		}
	}
	if e := p.Etcd(); e != nil {
		if files["etcd.env"], err = EtcdConfig(*e); err != nil {
			return err
		}
	}
	return nil
}

// EtcdSteps are the converge steps of the host's etcd member, or "" when it is not one of the store.
func (p Params) EtcdSteps() (string, error) {
	e := p.Etcd()
	if e == nil {
		return "", nil
	}
	return EtcdSteps(*e, p.TLS, "/etc/hipaa/etcd.env")
}

// EtcdSteps are the converge steps that run an etcd member: its configuration, staged at config (as
// EtcdConfig renders it), installed where Debian's etcd.service reads it, and copies of the host's
// certificate, key and CA (source) where e.TLS says, for the etcd user.
func EtcdSteps(e Etcd, source TLSFiles, config string) (string, error) {
	dir := path.Dir(e.TLS.CertFile)
	for _, f := range []string{e.TLS.KeyFile, e.TLS.CAFile} {
		if path.Dir(f) != dir {
			return "", fmt.Errorf("etcd: TLS files in %s and %s: want them in one directory", dir, path.Dir(f))
		}
	}
	var b bytes.Buffer
	err := templates.ExecuteTemplate(&b, "etcd-steps.sh.tmpl", struct {
		Etcd        Etcd
		Source      TLSFiles
		Dir, Config string
	}{e, source, dir, config})
	return b.String(), err
}

// EtcdConfig renders an etcd member's configuration, as environment variables for its unit.
func EtcdConfig(e Etcd) (string, error) {
	if !stanzaName.MatchString(e.Scope) {
		return "", fmt.Errorf("etcd: Scope %q: want lower-case letters, digits, - and _", e.Scope)
	}
	if err := endpoint("etcd", e.Name, e.Address, e.ClientPort, e.PeerPort); err != nil {
		return "", err
	}
	if !slices.Contains(e.Voters, e.Voter) {
		return "", fmt.Errorf("etcd: Voters: %s is not one of them", e.Name)
	}
	for _, v := range e.Voters {
		if err := endpoint("etcd.Voters", v.Name, v.Address, v.ClientPort, v.PeerPort); err != nil {
			return "", err
		}
	}
	for field, v := range map[string]string{"DataDir": e.DataDir, "TLS.CertFile": e.TLS.CertFile, "TLS.KeyFile": e.TLS.KeyFile, "TLS.CAFile": e.TLS.CAFile} {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "'\" \n,") {
			return "", fmt.Errorf("etcd: %s %q: want an absolute path without quotes, commas or spaces", field, v)
		}
	}
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, "etcd.env.tmpl", e); err != nil {
		return "", fmt.Errorf("rendering etcd.env.tmpl: %w", err)
	}
	return b.String(), nil
}
