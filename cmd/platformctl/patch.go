package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/components/monitoring"
	"github.com/hipaa-platform/platform/components/monitoring/nagios"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// patchRun installs a host's approved updates (Patch Manager's AWS-RunPatchBaseline, Install, rebooting
// when an update needs it) and waits until the host reports the run done.
type patchRun func(ctx context.Context, t dbTarget, host string) error

// alarmMute turns off the actions of the stack's alarms whose names begin with one of prefixes and
// whose actions are on, and returns their names; alarmUnmute turns those back on.
type (
	alarmMute   func(ctx context.Context, t dbTarget, prefixes []string) ([]string, error)
	alarmUnmute func(ctx context.Context, t dbTarget, names []string) error
)

// maxPatchLagMB is how far behind a patched replica may be and count as returned: the replication lag
// alarm's threshold, in Patroni's unit.
var maxPatchLagMB = float64(nagios.DefaultThresholds.ReplicationLagCrit) / (1 << 20)

// patchStep is one host's turn in a cluster's patching.
type patchStep struct {
	Host string
	// Switchover is set for the primary: its role moves to a replica before it is patched.
	Switchover bool
}

func patchCmd(d deps) *cobra.Command {
	var wait time.Duration
	var dryRun bool
	c := &cobra.Command{
		Use:   "patch --stack STACK [--wait DURATION] [--dry-run]",
		Short: "Patch the cluster's hosts one at a time: replicas, the backup host, then the primary after a switchover",
		Long: `patch installs the approved updates of the stack's patch baseline on each database host in turn, through
Systems Manager (AWS-RunPatchBaseline, rebooting where an update needs it): the replicas, then the
backup host, then the primary once a switchover has made it a replica. After each host, it waits up to
--wait for every member to run, a leader to lead, and the host to stream again within the replication
lag alarm's threshold; a host that does not return stops the run, leaving the hosts after it unpatched.

It starts only with every member running. For its duration Nagios has the database hosts in scheduled
downtime and the hosts' CloudWatch alarms have their actions off, so a planned reboot or switchover
notifies no one; both are restored when it ends, however it ends, and a host that did not return then
alarms. --dry-run prints the order and changes nothing.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := findProject(cmd)
			if err != nil {
				return err
			}
			if wait <= 0 {
				return refusal.New("--wait must be a positive duration, such as 15m; got %s", wait)
			}
			stack, _ := cmd.Flags().GetString("stack")
			t, err := dbTargetOf(p, stack, true)
			if err != nil {
				return err
			}
			if len(t.Hosts) == 1 {
				return refusal.New("%s has one database host and no replica: nothing can take its place, so the maintenance window's install task patches it with the monitoring host", stack)
			}
			// An interrupted run (Ctrl-C, a cancelled workflow) still restores the alarms and the downtime.
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPatch(ctx, d, t, p.Name+"-"+stack+"-monitoring", wait, dryRun)
		},
	}
	c.Flags().String("stack", "", "the `STACK` whose database hosts to patch")
	c.Flags().DurationVar(&wait, "wait", 15*time.Minute, "the `DURATION` each host has to return to health after its updates")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "print the order and change nothing")
	return c
}

// runPatch patches t's hosts in the order patchOrder gives, announcing the run to the monitoring first.
func runPatch(ctx context.Context, d deps, t dbTarget, monitor string, wait time.Duration, dryRun bool) error {
	s, asked, err := askStatus(ctx, d, t, "")
	if err != nil {
		return err
	}
	if why := unhealthy(s, t, ""); why != "" {
		return refusal.New("%s: %s; patching starts only with every member running (asked on %s)", t.Stack, why, asked)
	}
	steps := patchOrder(s, t.Hosts[1])
	var order []string
	for _, st := range steps {
		if st.Switchover {
			order = append(order, st.Host+" (after a switchover)")
		} else {
			order = append(order, st.Host)
		}
	}
	fmt.Fprintf(d.stdout, "patching %s in this order: %s\n", t.Stack, strings.Join(order, ", "))
	if dryRun {
		return nil
	}

	// The announcement: Nagios's downtime covers the whole run, however long each host may take.
	minutes := strconv.Itoa(len(steps) * int(math.Ceil((wait + patchTimeout).Minutes())))
	comment := "patching by platformctl db patch, started by " + strings.NewReplacer(";", " ", "\\", " ").Replace(d.user()) + " at " + d.now().UTC().Format(time.RFC3339)
	if err := downtime(ctx, d, t, monitor, append([]string{"start", minutes, comment}, t.Hosts...)); err != nil {
		return fmt.Errorf("announcing the patching to Nagios on %s: %w; nothing was patched", monitor, err)
	}
	// The alarms components/monitoring names after each host (<host>-status, -replication-lag, ...) and
	// the cluster's promotion alarm (<cluster>-promoted), which a switchover fires.
	prefixes := []string{t.Cluster + "-promoted"}
	for _, h := range t.Hosts {
		prefixes = append(prefixes, h+"-")
	}
	muted, muteErr := d.muteAlarms(ctx, t, prefixes)
	defer func() {
		// Restored whatever happened, with a context of its own: an interrupted run restores them too.
		restore, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := d.unmuteAlarms(restore, t, muted); err != nil {
			fmt.Fprintf(d.stderr, "could not turn the alarms' actions back on (%v); they stay off until someone runs\n  aws cloudwatch enable-alarm-actions --region %s --alarm-names %s\n",
				err, t.Region, strings.Join(muted, " "))
		}
		if err := downtime(restore, d, t, monitor, append([]string{"end", comment}, t.Hosts...)); err != nil {
			fmt.Fprintf(d.stderr, "could not end the database hosts' downtime on %s: %v\n", monitor, err)
		}
	}()
	if muteErr != nil {
		return fmt.Errorf("turning off the database hosts' alarm actions: %w; nothing was patched", muteErr)
	}

	for i, st := range steps {
		if st.Switchover {
			if err := patchSwitchover(ctx, d, t, st.Host); err != nil {
				return fmt.Errorf("%w; not patched: %s", err, hostsOf(steps[i:]))
			}
			if err := awaitHealth(ctx, d, t, st.Host, wait); err != nil {
				return fmt.Errorf("after the switchover, %w; not patched: %s", err, hostsOf(steps[i:]))
			}
		}
		started := time.Now()
		fmt.Fprintf(d.stdout, "%s: installing updates (%d of %d)\n", st.Host, i+1, len(steps))
		if err := d.patchHost(ctx, t, st.Host); err != nil {
			return fmt.Errorf("%s: installing its updates: %w; refusing to go on, not patched: %s", st.Host, err, hostsOf(steps[i:]))
		}
		fmt.Fprintf(d.stdout, "%s: updates installed in %s; waiting for it to stream again\n", st.Host, time.Since(started).Round(time.Second))
		if err := awaitHealth(ctx, d, t, st.Host, wait); err != nil {
			return fmt.Errorf("%w; refusing to go on, not patched: %s", err, hostsOf(steps[i+1:]))
		}
	}
	s, _, err = askStatus(ctx, d, t, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "patched %d hosts of %s; the primary is %s\n", len(steps), t.Stack, leaderOf(s))
	return nil
}

// patchTimeout is how long a host's install may take before platformctl gives up on it: our bound,
// not one AWS documents.
const patchTimeout = 2 * time.Hour

// hostsOf names the steps' hosts, or says there are none.
func hostsOf(steps []patchStep) string {
	names := make([]string, len(steps))
	for i, st := range steps {
		names[i] = st.Host
	}
	return namesOrNone(names)
}

// namesOrNone lists names, or says there are none.
func namesOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// patchOrder is the order in which a healthy cluster's hosts take their updates: the replicas other
// than the backup host, by name; the backup host, which a replica can stand in for least; and the
// primary last, after a switchover, so that the cluster's primary changes once.
func patchOrder(s clusterStatus, backup string) []patchStep {
	var replicas []string
	leader := leaderOf(s)
	for _, m := range s.Members {
		if m.Member != leader && m.Member != backup {
			replicas = append(replicas, m.Member)
		}
	}
	slices.Sort(replicas)
	var steps []patchStep
	for _, r := range replicas {
		steps = append(steps, patchStep{Host: r})
	}
	if backup != leader {
		steps = append(steps, patchStep{Host: backup})
	}
	return append(steps, patchStep{Host: leader, Switchover: true})
}

// unhealthy says why s is not a cluster to patch or go on patching, or "": every host of t a member,
// running, one of them the leader; and host, if given, a replica the primary streams to (its
// pg_stat_replication, which hipaa-db status reports), lagging no more than maxPatchLagMB.
func unhealthy(s clusterStatus, t dbTarget, host string) string {
	seen := map[string]bool{}
	var down []string
	for _, m := range s.Members {
		seen[m.Member] = true
		if !runs(m.State) {
			down = append(down, m.Member+" is "+m.State)
		}
	}
	for _, h := range t.Hosts {
		if !seen[h] {
			down = append(down, h+" is not a member (its Patroni is not running)")
		}
	}
	if len(down) > 0 {
		return strings.Join(down, ", ")
	}
	if leaderOf(s) == "" {
		return "no member leads"
	}
	for _, m := range s.Members {
		if m.Member != host {
			continue
		}
		if m.Role == "Leader" {
			return host + " leads: it was to be a replica"
		}
		if s.Streaming == nil {
			return "the primary could not say which replicas stream from it"
		}
		if !slices.Contains(s.Streaming, host) {
			return fmt.Sprintf("%s is %s but not streaming from the primary (which streams to %s)", host, m.State, namesOrNone(s.Streaming))
		}
		if lag, ok := lagMB(m.Lag); !ok || lag > maxPatchLagMB {
			return fmt.Sprintf("%s lags %v MB, more than the alarm's %g MB", host, dash(m.Lag), maxPatchLagMB)
		}
	}
	return ""
}

// runs says whether a member in state runs its PostgreSQL, as hipaa-db's RUNNING does.
func runs(state string) bool { return state == "running" || state == "streaming" }

// leaderOf is the member that leads s, or "".
func leaderOf(s clusterStatus) string {
	for _, m := range s.Members {
		if m.Role == "Leader" && runs(m.State) {
			return m.Member
		}
	}
	return ""
}

// lagMB is Patroni's "Lag in MB", which is "unknown" when a replica's position is not known.
func lagMB(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	return 0, false
}

// askStatus is hipaa-db status from the first of t's hosts that answers, asking last (it may be
// rebooting) the host given.
func askStatus(ctx context.Context, d deps, t dbTarget, last string) (clusterStatus, string, error) {
	hosts := slices.DeleteFunc(slices.Clone(t.Hosts), func(h string) bool { return h == last })
	if last != "" {
		hosts = append(hosts, last)
	}
	var problems []string
	for _, h := range hosts {
		out, errOut, code, err := d.onHost(ctx, t, h, []string{hipaaDB, "status"})
		if err == nil && code == 0 {
			s, err := decodeStatus(h, out)
			return s, h, err
		}
		if err == nil {
			err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(errOut))
		}
		problems = append(problems, h+": "+err.Error())
	}
	return clusterStatus{}, "", fmt.Errorf("no database host of %s answered hipaa-db status:\n  %s", t.Stack, strings.Join(problems, "\n  "))
}

// awaitHealth waits up to wait for host to be back as unhealthy defines it, asking every few seconds.
func awaitHealth(ctx context.Context, d deps, t dbTarget, host string, wait time.Duration) error {
	started := time.Now()
	poll := min(5*time.Second, wait/10)
	why := "no host answered"
	for {
		s, _, err := askStatus(ctx, d, t, host)
		if err == nil {
			if why = unhealthy(s, t, host); why == "" {
				fmt.Fprintf(d.stdout, "%s: streaming again after %s\n", host, time.Since(started).Round(time.Second))
				return nil
			}
		} else {
			why = err.Error()
		}
		if time.Since(started) >= wait {
			return fmt.Errorf("%s did not return to health within %s: %s", host, wait, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
		}
	}
}

// patchSwitchover hands the primary role from host to the replica hipaa-db chooses (the synchronous
// standby), asking another host, since the primary's own Patroni stops serving as leader mid-way.
func patchSwitchover(ctx context.Context, d deps, t dbTarget, host string) error {
	others := slices.DeleteFunc(slices.Clone(t.Hosts), func(h string) bool { return h == host })
	on, stdout, stderr, code, err := onFirstHost(ctx, d, t, others, []string{hipaaDB, "switchover"})
	switch {
	case err != nil:
		return fmt.Errorf("the switchover from %s: %w", host, err)
	case code == 0:
		fmt.Fprintf(d.stdout, "%s: %s\n", host, strings.TrimSpace(stdout))
		return nil
	case code == 2:
		return fmt.Errorf("the switchover from %s was refused: %s", host, refusedBecause(stderr))
	default:
		return fmt.Errorf("the switchover from %s failed on %s: exit %d: %s", host, on, code, strings.TrimSpace(stderr+stdout))
	}
}

// downtime runs the monitoring host's hipaa-nagios-downtime with args.
func downtime(ctx context.Context, d deps, t dbTarget, monitor string, args []string) error {
	out, errOut, code, err := d.onHost(ctx, t, monitor, append([]string{monitoring.DowntimeCommand}, args...))
	if err == nil && code != 0 {
		err = errors.New(strings.TrimSpace(errOut + out))
	}
	return err
}
