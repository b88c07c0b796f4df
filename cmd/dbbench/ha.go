package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/components/database/pgtest"
)

// haTiming names a cluster's timing: the production defaults, or the tests' short one.
type haTiming struct {
	name string
	set  func(*hostconfig.HA)
}

var haTimings = []haTiming{
	{"production (TTL 30 s, loop 10 s, retry 10 s)", func(h *hostconfig.HA) {
		h.TTL, h.LoopWait, h.RetryTimeout = hostconfig.DefaultTTL, hostconfig.DefaultLoopWait, hostconfig.DefaultRetryTimeout
	}},
	{"tests (TTL 10 s, loop 2 s, retry 3 s)", pgtest.HATiming},
}

// haResult is what one timing measured.
type haResult struct {
	timing     string
	failovers  []time.Duration
	switchover time.Duration
	retried    int
	lost       int
}

// failovers measures, on a Patroni cluster of three with synchronous replication and a writer
// committing through the application's connection string: the time from killing the primary's
// Patroni and PostgreSQL to the first commit on a new primary, n times (the old primary rejoining
// between), and a switchover to the synchronous standby.
func (b *bench) failovers(n int) ([]haResult, error) {
	var results []haResult
	for i, timing := range haTimings {
		step("Patroni cluster of three, " + timing.name)
		// An environment of its own: new data directories and a new backup repository.
		dir := filepath.Join(filepath.Dir(b.env.Dir), fmt.Sprintf("ha-%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		env, err := pgtest.New(dir)
		if err != nil {
			return nil, err
		}
		ha, err := env.StartHA(3, true, func(p *hostconfig.Params) { timing.set(p.HA) })
		if err != nil {
			env.Close()
			return nil, err
		}
		r, err := measureHA(ha, n)
		ha.Close()
		env.Close()
		if err != nil {
			return results, err
		}
		r.timing = timing.name
		results = append(results, r)
	}
	return results, nil
}

func measureHA(ha *pgtest.HA, n int) (haResult, error) {
	var r haResult
	if _, err := ha.Client(ha.ConnInfo("read-write"), pgtest.LedgerTable); err != nil {
		return r, err
	}
	w := pgtest.StartWriter(ha, true)
	defer w.Stop()
	for i := range n {
		// A failover needs a synchronous standby to promote: the member that rejoined last may not be
		// one yet.
		if _, err := ha.SyncStandby(2 * time.Minute); err != nil {
			return r, err
		}
		leader := ha.Leader()
		if leader == nil {
			return r, fmt.Errorf("no leader before failover %d", i+1)
		}
		step(fmt.Sprintf("failover %d of %d: killing %s", i+1, n, leader.Name))
		killed := time.Now()
		leader.Kill()
		at, err := w.CommitOn(leader.Params.Port, killed, 3*time.Minute)
		if err != nil {
			return r, fmt.Errorf("%w\n%s", err, ha.Logs())
		}
		r.failovers = append(r.failovers, at.Sub(killed))
		if err := leader.Start(); err != nil {
			return r, err
		}
		if _, _, err := ha.Rejoin(3, 5*time.Minute); err != nil {
			return r, err
		}
	}
	leader := ha.Leader()
	standby, err := ha.SyncStandby(2 * time.Minute)
	if err != nil {
		return r, err
	}
	step(fmt.Sprintf("switchover from %s to %s", leader.Name, standby.Name))
	failedBefore := w.Failures()
	started := time.Now()
	if code, body, err := ha.REST(leader, "POST", "/switchover", map[string]string{"leader": leader.Name, "candidate": standby.Name}); err != nil || code != 200 {
		return r, fmt.Errorf("switchover: %d %s %v", code, body, err)
	}
	at, err := w.CommitOn(leader.Params.Port, started, 3*time.Minute)
	if err != nil {
		return r, err
	}
	r.switchover, r.retried = at.Sub(started), w.Failures()-failedBefore
	lost, err := w.Lost()
	r.lost = len(lost)
	return r, err
}

// printHA writes the failover table.
func printHA(results []haResult, n int) {
	fmt.Printf("\nPatroni 3.0.2 and etcd 3.4.23, three members on loopback, strict synchronous replication (as prod), a writer committing\n")
	fmt.Printf("through the application's connection string (every member, target_session_attrs=read-write)\n\n")
	fmt.Printf("| %-46s | %-28s | %-28s | %s |\n", "timing", fmt.Sprintf("failover, median of %d", n), "switchover (retried commits)", "commits lost")
	fmt.Printf("| %s | %s | %s | %s |\n", dashes(46), dashes(28), dashes(28), dashes(12))
	for _, r := range results {
		sorted := slices.Sorted(slices.Values(r.failovers))
		median := sorted[len(sorted)/2]
		fmt.Printf("| %-46s | %-28s | %-28s | %d |\n", r.timing,
			fmt.Sprintf("%s (%s to %s)", round(median), round(sorted[0]), round(sorted[len(sorted)-1])),
			fmt.Sprintf("%s (%d)", round(r.switchover), r.retried), r.lost)
	}
	fmt.Println("\nA failover is the time from killing the primary's Patroni and PostgreSQL to the first commit a new")
	fmt.Println("primary acknowledged; a switchover the time from the request to the first commit on the new primary.")
}
