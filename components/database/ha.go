package database

import (
	"strings"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/internal/converge"
)

// Ports of a Patroni cluster's members: Patroni's REST API (health, role, switchover), and etcd's
// clients and peers (the ports IANA assigned to etcd).
const (
	PatroniRestPort = 8008
	EtcdClientPort  = 2379
	EtcdPeerPort    = 2380
)

// Where a member keeps Patroni's and etcd's files. Debian's patroni.service reads /etc/patroni/config.yml
// and /etc/patroni_env.conf; its etcd.service reads /etc/default/etcd.
const (
	patroniConfig     = "/etc/patroni/config.yml"
	patronictl        = "/usr/bin/patronictl"
	rewindUser        = "rewinder"
	etcdTLSDir        = "/etc/hipaa/etcd-tls"
	followGraceSecond = 60
)

// Patroni runs every cluster with a replica: it elects the primary through a store of etcd members,
// promotes the healthiest replica when the primary is lost, and rewinds the old primary into a replica.
// A cluster of one host has no replica to promote; it runs PostgreSQL alone, and its recovery from the
// loss of its host is a restore from the backups, which the restore drill measures.
func (a *ClusterArgs) patroni() bool { return a.Replicas > 0 }

// store places the etcd members whose majority holds the leader key: the first three database hosts,
// in three zones where the subnets have them, so the store outlives the loss of any one host or zone; a
// cluster of two hosts has its third voter on the monitoring host, so that either database host can be
// lost (but not the first zone, which the primary and the monitoring host share: production has three
// database hosts).
func store(hosts []Host, monitoring *MonitoringHost) []hostconfig.Voter {
	var voters []hostconfig.Voter
	for _, h := range hosts[:min(3, len(hosts))] {
		voters = append(voters, hostconfig.Voter{Name: h.Name, Address: h.Address, ClientPort: EtcdClientPort, PeerPort: EtcdPeerPort})
	}
	if len(voters) == 2 && monitoring != nil {
		voters = append(voters, hostconfig.Voter{Name: monitoring.Name, Address: monitoring.Address, ClientPort: EtcdClientPort, PeerPort: EtcdPeerPort})
	}
	return voters
}

// scope is the cluster's name in its store.
func scope(name string) string { return name }

// ha is one member's Patroni configuration.
func ha(name string, a *ClusterArgs, hosts []Host) *hostconfig.HA {
	var members []hostconfig.Member
	for _, h := range hosts {
		members = append(members, hostconfig.Member{Name: h.Name, Address: h.Address, Port: PgPort, RestPort: PatroniRestPort})
	}
	return &hostconfig.HA{
		Scope: scope(name), Members: members, Store: store(hosts, a.MonitoringHost),
		RewindUser: rewindUser, PgPass: "/var/lib/postgresql/.pgpass-patroni", ConfigFile: patroniConfig,
		Synchronous: a.SynchronousReplication, CASet: strings.Join(a.CAGenerations, "-"),
		TTL: hostconfig.DefaultTTL, LoopWait: hostconfig.DefaultLoopWait, RetryTimeout: hostconfig.DefaultRetryTimeout,
		MaximumLagOnFailover: hostconfig.DefaultMaximumLagOnFailover,
		// automatic: Patroni uses /dev/watchdog where the image provides it (softdog), and runs without
		// one where it does not (the host tests' machines).
		Watchdog:   "automatic",
		Patronictl: patronictl, StateDir: converge.StateDir, FollowGraceSeconds: followGraceSecond,
		EtcdDataDir: "/var/lib/etcd/" + scope(name), EtcdTLSDir: etcdTLSDir,
		Callback: "/usr/local/sbin/hipaa-db-role-change",
	}
}

// witness is the monitoring host's etcd member of a two-host cluster's store, or nil.
func (c *Cluster) witness(name string, a *ClusterArgs) *hostconfig.Etcd {
	m := a.MonitoringHost
	if !a.patroni() || m == nil {
		return nil
	}
	voters := store(c.Hosts, m)
	for _, v := range voters {
		if v.Name == m.Name {
			return &hostconfig.Etcd{Voter: v, Scope: scope(name), Voters: voters}
		}
	}
	return nil
}
