package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// dbTarget is a stack's database cluster as the db commands reach it: its hosts by name, tried in
// order, in the stack's region and through its account's profile. Cluster is the name the program
// gives the cluster, which its hosts and its alarms are named after.
type dbTarget struct {
	Stack, Region, Profile, Cluster string
	Hosts                           []string
}

// hostRun runs a command on one host of a target and returns its standard output and error and its
// exit code; err is for a host that could not run it at all (not running, not managed).
type hostRun func(ctx context.Context, t dbTarget, host string, command []string) (stdout, stderr string, code int, err error)

// drillStart raises a stack's drill group to one host, refusing while a drill runs.
type drillStart func(ctx context.Context, t dbTarget, group string) error

// hipaaDB is where each Patroni member has the cluster's operations (hostconfig's db.py).
const hipaaDB = hostconfig.OperationsCommand

func dbCmd(d deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Operate a stack's database cluster: its status, a switchover, a failover, a restore drill, patching",
		Long: `db runs the cluster's operations on one of its database hosts through Systems Manager (Run Command,
AWS-RunShellScript), as the operator's AWS identity: no SSH, nothing opened. Each host carries them as
hipaa-db, which acts through Patroni and refuses (exit 2, saying why) what the cluster is not healthy
enough to do safely. A stack of one database host has no Patroni, and nothing to switch to.`,
	}
	var to string
	status := &cobra.Command{
		Use:   "status --stack STACK",
		Short: "The cluster's members, their roles, state, timeline and lag, and its last failover",
		Long: `status asks the first database host that answers what Patroni knows: each member's role (Leader,
Sync Standby, Replica), state, timeline and lag in MB, which replicas the primary streams to (its
pg_stat_replication), whether replication is synchronous (and strict: no commit without a standby), and
the last failover or switchover (when, to whom, from which timeline and LSN, and why). It changes
nothing.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDB(cmd, d, "status", "") },
	}
	switchover := &cobra.Command{
		Use:   "switchover --stack STACK [--to HOST]",
		Short: "Move the primary to a replica for maintenance: no transaction lost beyond a client's retry",
		Long: `switchover hands the primary role to --to, or to the synchronous standby (the replica that lags least
without synchronous replication). It is refused while any member is down, when --to may not take over
(not a running replica, too far behind, or not the synchronous standby under synchronous replication),
and under synchronous replication with no synchronous standby.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDB(cmd, d, "switchover", to) },
	}
	failover := &cobra.Command{
		Use:   "failover --stack STACK [--to HOST]",
		Short: "Promote a replica when the primary is gone and Patroni has not (paused, or no candidate it trusts)",
		Long: `failover promotes --to, or the best replica, when no primary runs. It is refused while a primary runs
(use switchover) and when no replica may take over.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDB(cmd, d, "failover", to) },
	}
	for _, c := range []*cobra.Command{status, switchover, failover} {
		c.Flags().String("stack", "", "the `STACK` whose cluster to operate")
	}
	for _, c := range []*cobra.Command{switchover, failover} {
		c.Flags().StringVar(&to, "to", "", "the replica (`HOST`, such as hipaa-prod-db-1) to promote")
	}
	drill := &cobra.Command{
		Use:   "drill --stack STACK",
		Short: "Run the restore drill now: a throwaway host restores the newest backup, checks it and writes the evidence",
		Long: `drill raises the stack's drill group to one host, as its weekly schedule does: the host restores the
newest backup to ten minutes before, checks it (pgbackrest verify, PostgreSQL answering, amcheck, the
canary row), publishes DrillSucceeded and RestoreSeconds, writes an evidence record under
drills/<cluster>/ in the stack's log bucket (platformctl audit names the place), and scales the group
back to zero. Refused while a drill runs.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := findProject(cmd)
			if err != nil {
				return err
			}
			stack, _ := cmd.Flags().GetString("stack")
			t, err := dbTargetOf(p, stack, true)
			if err != nil {
				return err
			}
			group := p.Name + "-" + stack + "-db-drill"
			if err := d.startDrill(cmd.Context(), t, group); err != nil {
				return err
			}
			fmt.Fprintf(d.stdout, "started a restore drill of %s: %s raised to one host, which scales it back to zero when done;\n"+
				"its result is DrillSucceeded and RestoreSeconds in %s (Cluster=%s-%s-db), its evidence under drills/%s-%s-db/ in the log bucket\n",
				stack, group, "HIPAA/Database", p.Name, stack, p.Name, stack)
			return nil
		},
	}
	drill.Flags().String("stack", "", "the `STACK` whose backups to drill")
	patch := patchCmd(d)
	cmd.AddCommand(status, switchover, failover, drill, patch)
	return cmd
}

// runDB resolves the stack's cluster and runs hipaa-db ACTION on the first of its hosts that answers.
func runDB(cmd *cobra.Command, d deps, action, to string) error {
	p, err := findProject(cmd)
	if err != nil {
		return err
	}
	stack, _ := cmd.Flags().GetString("stack")
	t, err := dbTargetOf(p, stack, false)
	if err != nil {
		return err
	}
	if to != "" && !slices.Contains(t.Hosts, to) {
		return refusal.New("--to %q is not a database host of %s; its hosts are %s", to, stack, strings.Join(t.Hosts, ", "))
	}
	command := []string{hipaaDB, action}
	if to != "" {
		command = append(command, to)
	}
	host, stdout, stderr, code, err := onFirstHost(cmd.Context(), d, t, t.Hosts, command)
	if err != nil {
		return err
	}
	switch code {
	case 0:
		if action == "status" {
			return printStatus(d.stdout, host, stdout)
		}
		fmt.Fprint(d.stdout, stdout)
		return nil
	case 2:
		return refusal.New("%s %s on %s: %s", action, stack, host, refusedBecause(stderr))
	default:
		return fmt.Errorf("%s %s on %s: exit %d: %s", action, stack, host, code, strings.TrimSpace(stderr+stdout))
	}
}

// onFirstHost runs command on the first of hosts that can run it at all, and returns which one did,
// with its output and exit code. A host that is gone (the primary, in a failover) is why the next is
// asked; err names every host passed over when none could.
func onFirstHost(ctx context.Context, d deps, t dbTarget, hosts, command []string) (host, stdout, stderr string, code int, err error) {
	var unreachable []string
	for _, h := range hosts {
		stdout, stderr, code, err := d.onHost(ctx, t, h, command)
		if err != nil {
			unreachable = append(unreachable, h+": "+err.Error())
			continue
		}
		return h, stdout, stderr, code, nil
	}
	return "", "", "", 0, fmt.Errorf("no database host of %s could run hipaa-db %s:\n  %s", t.Stack, strings.Join(command[1:], " "), strings.Join(unreachable, "\n  "))
}

// refusedBecause is why hipaa-db refused (exit 2), from its standard error: "refused: WHY".
func refusedBecause(stderr string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr), "refused: "))
}

// dbTargetOf is a stack's cluster: its hosts are named as the program names them ({project}-{stack}-db-N,
// one more than its replicas), known before anything is asked of AWS. alone admits a cluster of one
// host, which has a restore drill but no Patroni.
func dbTargetOf(p *project.Project, stack string, alone bool) (dbTarget, error) {
	if stack == "" {
		names, _ := p.Stacks()
		return dbTarget{}, refusal.New("--stack is required; the stacks are %s", strings.Join(names, ", "))
	}
	cfg, _, err := p.StackConfig(stack)
	if err != nil {
		return dbTarget{}, err
	}
	if cfg[p.Name+":accountBaseline"] == "true" {
		return dbTarget{}, refusal.New("%s is an account stack: it holds the account's baseline and registry, no database", stack)
	}
	replicas, err := strconv.Atoi(cfg[p.Name+":dbReplicas"])
	if err != nil {
		return dbTarget{}, fmt.Errorf("%s: %s:dbReplicas %q: %w", stack, p.Name, cfg[p.Name+":dbReplicas"], err)
	}
	if replicas == 0 && !alone {
		return dbTarget{}, refusal.New("%s has one database host and no replica: Patroni does not run it, and there is nothing to switch to (see the runbook's restore)", stack)
	}
	t := dbTarget{Stack: stack, Region: cfg["aws:region"], Cluster: p.Name + "-" + stack + "-db"}
	if accts, err := p.Accounts(); err == nil {
		if a, ok := project.AccountOf(accts, stack); ok {
			t.Profile = a.Profile
		}
	}
	for i := 0; i <= replicas; i++ {
		t.Hosts = append(t.Hosts, fmt.Sprintf("%s-%d", t.Cluster, i))
	}
	return t, nil
}

// clusterStatus is what hipaa-db status prints.
type clusterStatus struct {
	Cluster     string `json:"cluster"`
	Synchronous bool   `json:"synchronous"`
	Strict      bool   `json:"strict"`
	Members     []struct {
		Member string `json:"Member"`
		Host   string `json:"Host"`
		Role   string `json:"Role"`
		State  string `json:"State"`
		TL     any    `json:"TL"`
		Lag    any    `json:"Lag in MB"`
	} `json:"members"`
	// Streaming are the members the primary sends WAL to; nil when it could not be asked.
	Streaming    []string       `json:"streaming"`
	LastFailover map[string]any `json:"lastFailover"`
	Failovers    int            `json:"failovers"`
}

// decodeStatus reads what hipaa-db status printed on host.
func decodeStatus(host, out string) (clusterStatus, error) {
	var s clusterStatus
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber() // an LSN is a large integer
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("hipaa-db status on %s: unexpected answer: %w\n%s", host, err, out)
	}
	return s, nil
}

func printStatus(w io.Writer, host, out string) error {
	s, err := decodeStatus(host, out)
	if err != nil {
		return err
	}
	sync := "asynchronous"
	if s.Strict {
		sync = "strict synchronous" // a primary with no standby takes no commit
	} else if s.Synchronous {
		sync = "synchronous"
	}
	fmt.Fprintf(w, "cluster %s, %s replication (asked on %s)\n\n", s.Cluster, sync, host)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tHOST\tROLE\tSTATE\tTIMELINE\tLAG (MB)")
	for _, m := range s.Members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%v\n", m.Member, m.Host, m.Role, m.State, dash(m.TL), dash(m.Lag))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Streaming != nil {
		fmt.Fprintf(w, "\nthe primary streams to %s\n", namesOrNone(s.Streaming))
	} else {
		fmt.Fprintln(w, "\nthe primary could not say which replicas stream from it")
	}
	if f := s.LastFailover; f != nil {
		fmt.Fprintf(w, "\nlast failover or switchover (%d in all): to %v at %v, timeline %v from LSN %v: %v\n",
			s.Failovers, f["New Leader"], f["Timestamp"], f["TL"], f["LSN"], dash(f["Reason"]))
	} else {
		fmt.Fprintln(w, "\nno failover or switchover since the cluster was made")
	}
	return nil
}

// dash is v, or - for nothing.
func dash(v any) any {
	if v == nil || v == "" {
		return "-"
	}
	return v
}
