package hostconfig_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
)

// haParams are a member's parameters as the loopback environment gives them, in a cluster of three.
func haParams(t *testing.T) hostconfig.Params {
	t.Helper()
	requireServers(t)
	env, err := pgtest.New(t.TempDir())
	must(t, err)
	t.Cleanup(env.Close)
	p, err := env.Params(hostconfig.Replica, "db-1")
	must(t, err)
	var members []hostconfig.Member
	var voters []hostconfig.Voter
	for i, name := range []string{"db-0", "db-1", "db-2"} {
		addr := "10.0.0." + string(rune('4'+i))
		members = append(members, hostconfig.Member{Name: name, Address: addr, Port: 5432, RestPort: 8008})
		voters = append(voters, hostconfig.Voter{Name: name, Address: addr, ClientPort: 2379, PeerPort: 2380})
	}
	p.HA = &hostconfig.HA{Scope: "main", Members: members, Store: voters, RewindUser: "rewinder", CASet: "1",
		PgPass: "/var/lib/postgresql/.pgpass-patroni", ConfigFile: "/etc/patroni/config.yml", Synchronous: true,
		TTL: hostconfig.DefaultTTL, LoopWait: hostconfig.DefaultLoopWait, RetryTimeout: hostconfig.DefaultRetryTimeout,
		MaximumLagOnFailover: hostconfig.DefaultMaximumLagOnFailover, Watchdog: "automatic",
		Patronictl: "/usr/bin/patronictl", StateDir: "/var/lib/hipaa", FollowGraceSeconds: 60,
		EtcdDataDir: "/var/lib/etcd/main", EtcdTLSDir: "/etc/hipaa/etcd-tls"}
	p.ReplicaNames = []string{"db-0", "db-2"}
	return p
}

// TestPatroniOwnsTheSharedSettingsAndEveryLinkIsTLS reads a member's rendered configuration: the
// settings every member must share are Patroni's (not in postgresql.conf), synchronous replication is
// the dial's, the REST API and the store are TLS with client certificates, and no password is written.
func TestPatroniOwnsTheSharedSettingsAndEveryLinkIsTLS(t *testing.T) {
	files, err := hostconfig.Config(haParams(t))
	must(t, err)
	conf, patroni, dynamic := files["postgresql.conf"], files["patroni.yml"], files["patroni-dynamic.yml"]
	for _, owned := range []string{"max_connections", "wal_level", "listen_addresses", "primary_conninfo", "data_directory"} {
		if strings.Contains(conf, owned+" =") {
			t.Errorf("postgresql.conf sets %s, which Patroni owns", owned)
		}
		if owned == "max_connections" || owned == "wal_level" {
			if !strings.Contains(dynamic, owned+":") {
				t.Errorf("the shared settings lack %s", owned)
			}
		}
	}
	for _, want := range []string{"synchronous_mode: true", "use_pg_rewind: true", "ttl: 30", "loop_wait: 10", "retry_timeout: 10"} {
		if !strings.Contains(dynamic, want) {
			t.Errorf("the shared settings lack %q:\n%s", want, dynamic)
		}
	}
	for _, want := range []string{"verify_client: required", "protocol: https", `listen: "10.0.0.5:8008"`,
		`- "10.0.0.4:2379"`, `- "10.0.0.6:2379"`, "sslmode: verify-full", `mode: "automatic"`, "synchronous_mode: true"} {
		if !strings.Contains(patroni, want) {
			t.Errorf("patroni.yml lacks %q:\n%s", want, patroni)
		}
	}
	if strings.Contains(patroni, "password:") {
		t.Errorf("patroni.yml carries a password:\n%s", patroni)
	}
	// The other members replicate and rewind by their certificates alone, each mapped to both roles.
	for _, want := range []string{"hostssl  postgres          rewinder  127.0.0.1/32  cert map=members", "hostssl  replication       replicator  127.0.0.1/32  cert map=members"} {
		if !strings.Contains(files["pg_hba.conf"], want) {
			t.Errorf("pg_hba.conf lacks %q:\n%s", want, files["pg_hba.conf"])
		}
	}
	for _, want := range []string{"members    db-0  replicator", "members    db-0  rewinder", "members    db-2  replicator", "members    db-2  rewinder"} {
		if !strings.Contains(files["pg_ident.conf"], want) {
			t.Errorf("pg_ident.conf lacks %q:\n%s", want, files["pg_ident.conf"])
		}
	}
	// A voter of the store runs its etcd member from its own data directory, with certificates only.
	for _, want := range []string{"ETCD_NAME=db-1", "ETCD_DATA_DIR=/var/lib/etcd/main", "ETCD_CERT_FILE=/etc/hipaa/etcd-tls/server.crt",
		"ETCD_INITIAL_CLUSTER=db-0=https://10.0.0.4:2380,db-1=https://10.0.0.5:2380,db-2=https://10.0.0.6:2380"} {
		if !strings.Contains(files["etcd.env"], want) {
			t.Errorf("etcd.env lacks %q:\n%s", want, files["etcd.env"])
		}
	}
	p := haParams(t)
	p.HA.Store = p.HA.Store[:1]
	if files, err := hostconfig.Config(p); err != nil || files["etcd.env"] != "" {
		t.Errorf("a member that is not a voter: etcd.env %q, %v; want none", files["etcd.env"], err)
	}
}

// TestStrictnessFollowsTheClustersSize renders the shared settings of a synchronous cluster of three,
// which refuses commits no standby has, and of two, whose primary takes them alone rather than stop
// at its one replica's loss; an asynchronous cluster is never strict.
func TestStrictnessFollowsTheClustersSize(t *testing.T) {
	for _, c := range []struct {
		members     int
		synchronous bool
		strict      bool
	}{{3, true, true}, {2, true, false}, {3, false, false}} {
		p := haParams(t)
		p.HA.Members, p.HA.Synchronous = p.HA.Members[:c.members], c.synchronous
		files, err := hostconfig.Config(p)
		must(t, err)
		want := fmt.Sprintf("synchronous_mode: %t\nsynchronous_mode_strict: %t\n", c.synchronous, c.strict)
		if !strings.Contains(files["patroni-dynamic.yml"], want) {
			t.Errorf("%d members, synchronous %t: the shared settings lack %q:\n%s", c.members, c.synchronous, want, files["patroni-dynamic.yml"])
		}
	}
}

// TestBadHAParamsNameTheField checks that each malformed HA value is refused with its field's name.
func TestBadHAParamsNameTheField(t *testing.T) {
	for field, bad := range map[string]func(h *hostconfig.HA){
		"HA.Store":              func(h *hostconfig.HA) { h.Store = h.Store[:2] },
		"HA.Members":            func(h *hostconfig.HA) { h.Members = h.Members[:1] },
		"HA: TTL":               func(h *hostconfig.HA) { h.TTL = 20 },
		"HA.Watchdog":           func(h *hostconfig.HA) { h.Watchdog = "on" },
		"HA.Scope":              func(h *hostconfig.HA) { h.Scope = "Main Cluster" },
		"HA.RewindUser":         func(h *hostconfig.HA) { h.RewindUser = "re-wind" },
		"HA.FollowGraceSeconds": func(h *hostconfig.HA) { h.FollowGraceSeconds = 0 },
		"HA.EtcdDataDir":        func(h *hostconfig.HA) { h.EtcdDataDir = "etcd" },
	} {
		p := haParams(t)
		bad(p.HA)
		_, err := hostconfig.Config(p)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: got %v, want an error naming it", field, err)
		}
	}
	p := haParams(t)
	p.HA.Members = p.HA.Members[:1]
	p.Name = "db-0"
	if _, err := hostconfig.Config(p); err == nil || !strings.Contains(err.Error(), "HA.Synchronous") {
		t.Errorf("synchronous replication with one member: got %v", err)
	}
}

// TestBadRotationParamsNameTheField checks that a rotation on a fixed replica (its primary rotates), an overlap that
// is not shorter than the rotation's period, a schedule that could break out of its unit, or a group
// role whose logins would not be identifiers is refused, naming what is wrong.
func TestBadRotationParamsNameTheField(t *testing.T) {
	rotation := hostconfig.Rotation{EveryDays: 30, OverlapSeconds: 7200, Schedule: "*-*-* 03:30:00"}
	for want, bad := range map[string]func(p *hostconfig.Params){
		"Rotation on a replica":     func(p *hostconfig.Params) { p.HA, p.Role = nil, hostconfig.Replica },
		"OverlapSeconds 2592000":    func(p *hostconfig.Params) { p.Rotation.OverlapSeconds = 30 * 86400 },
		"EveryDays 0":               func(p *hostconfig.Params) { p.Rotation.EveryDays = 0 },
		"Rotation.Schedule":         func(p *hostconfig.Params) { p.Rotation.Schedule = "daily\nExecStart=/bin/sh" },
		"AppUser's second login":    func(p *hostconfig.Params) { p.AppUser = strings.Repeat("a", 62) },
		"MonitoringUser's second l": func(p *hostconfig.Params) { p.MonitoringUser = strings.Repeat("n", 62) },
	} {
		p := haParams(t)
		r := rotation
		p.Rotation = &r
		if _, err := hostconfig.Config(p); err != nil {
			t.Fatalf("a valid rotation: %v", err)
		}
		bad(&p)
		if _, err := hostconfig.Config(p); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error naming it", want, err)
		}
	}
}
