// Package hostconfig renders the files that set up a PostgreSQL host of the platform: postgresql.conf,
// pg_hba.conf, pgbackrest.conf, the roles and replication slots, the systemd units of the backups and the
// bootstrap script, packed as cloud-init user data. The database component renders them for its hosts;
// the host-configuration tests render the same templates for servers on loopback and run them on real
// PostgreSQL and pgBackRest.
package hostconfig

import (
	"bytes"
	"embed"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/converge"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"json": jsonString, "hostPort": hostPort, "indent": indent, "add": func(a, b int) int { return a + b },
	"auditRole": func() string { return AuditRole },
}).ParseFS(templateFS, "templates/*.tmpl"))

// AuditRole marks the tables pgaudit audits: every read and write of a table it is granted is logged
// (pgaudit.role, object audit logging). It cannot log in. roles.sql grants it every table the
// application's role owns, now and later.
const AuditRole = "hipaa_auditor"

// Roles of a host.
const (
	Primary = "primary"
	Replica = "replica"
)

// Params describe one host. Every value is plain: the component fills them from known values (fixed
// private IPs, subnet CIDRs, names), the tests from their loopback servers.
type Params struct {
	Role      string // Primary or Replica
	Name      string // host name, for comments and application_name
	PgVersion int
	DataDir   string
	ConfDir   string
	SocketDir string
	LogDir    string
	// LoggingCollector sends the server log to files in LogDir; the tests read stderr instead.
	LoggingCollector bool
	ListenAddress    string
	Port             int
	MaxConnections   int
	MaxWalSenders    int

	TLS    TLSFiles
	TLSDir string
	// DataDevice is the block device of the data volume.
	DataDevice string

	AppDatabase, AppUser, ReplicationUser, MonitoringUser string
	ClientCIDRs, MonitoringCIDRs, ReplicaCIDRs            []string
	// ReplicaNames are the certificate names (CN) of the hosts at ReplicaCIDRs: each replicates as
	// ReplicationUser (and, under HA, rewinds as HA.RewindUser) with its certificate alone, no password.
	ReplicaNames []string

	// Primary is where a replica streams from; SlotName its replication slot.
	Primary  Endpoint
	SlotName string
	// Slots are the replication slots the primary creates, one per replica.
	Slots []string
	// ApplicationName names the replica to the primary (pg_stat_replication.application_name).
	ApplicationName string

	// SlotPrefix begins the name of every replica's slot of the cluster: a slot with it that no replica
	// wants any more is dropped.
	SlotPrefix string
	// PrimaryWaitSeconds bounds how long one converge run of a replica waits for its primary to accept
	// replication before it fails (and is retried).
	PrimaryWaitSeconds int

	// MountPoint is where the data volume is mounted: the parent of the version's data directories.
	MountPoint string
	// AWSCLI is the AWS CLI's path on the image.
	AWSCLI string
	// LogGroup is the host's log group, where the CloudWatch agent ships the converge log.
	LogGroup string

	// ArchiveTimeoutSeconds bounds the recovery point objective.
	ArchiveTimeoutSeconds int
	Backup                Backup
	// Secrets are the Secrets Manager IDs the bootstrap reads.
	Secrets Secrets
	// Monitoring is how the monitoring host watches this one. Optional.
	Monitoring *Monitoring
	// HA makes the host a member of a Patroni cluster, whose primary is elected; Role is then the role
	// it is given at first, and Primary, SlotName and Slots are Patroni's to manage. Optional.
	HA *HA
	// Drill is the restore drill of a drill host. Optional.
	Drill *Drill
	// CanaryTable is the application database's table a primary writes a row to every minute, which the
	// restore drill looks for at its target time (Drill.CanaryTable). Optional; no canary without it.
	CanaryTable string
	// Rotation is how the cluster's leader rotates the Credentials: a Patroni member's, where the member
	// that leads acts, or a fixed primary's. Optional; not on a fixed replica, which has its primary's
	// roles.
	Rotation *Rotation
}

// Rotation is how the leader rotates the Credentials (hipaa-db rotate app|monitoring), with the
// alternating-users pattern: the client logs in as one of two roles (Credential.Logins), members of a
// group role that holds the privileges (the application's owns its database and every table); a
// rotation gives the login not in use a new password, writes it and that login's name to the
// credential's secret, and leaves the other login's password valid for OverlapSeconds more, so a client
// that still holds it connects until it reads the new one. PostgreSQL ends the overlap by itself: the
// old login's VALID UNTIL is set to the overlap's end.
type Rotation struct {
	// EveryDays is how old the credential may grow: the timer's daily run rotates it when older.
	EveryDays int
	// OverlapSeconds is how long the previous credential admits new connections after a rotation:
	// more than a client takes to read the new one.
	OverlapSeconds int
	// Schedule is when the timer runs (systemd OnCalendar), on every member; only the leader acts.
	Schedule string
	// AsPostgres is what runs psql as the postgres user (runuser -u postgres -- on a host; none in the
	// tests, which run as that user already).
	AsPostgres []string
}

// AppLogins are the two roles the application logs in as, in turns (Rotation): members of AppUser,
// each set to act as AppUser, so that whatever it creates is AppUser's.
func (p Params) AppLogins() []string { return logins(p.AppUser) }

// MonitoringLogins are the two roles the monitoring host logs in as, in turns: members of
// MonitoringUser, which is a member of pg_monitor.
func (p Params) MonitoringLogins() []string { return logins(p.MonitoringUser) }

func logins(group string) []string { return []string{group + "_a", group + "_b"} }

// Credential is one credential that rotates (hipaa-db rotate NAME): a group role that does not log
// in, and two login roles, its members, that take turns; its secret holds the login role in use and its
// password, as JSON.
type Credential struct {
	// Name is what hipaa-db rotate calls it, and the psql variables roles.sql takes (NAME_login,
	// NAME_password) when it makes the roles.
	Name string
	// Group is the role that holds the privileges; InRole the role it is a member of, if any; ActAs
	// makes each login act as Group (SET role), so that what it creates is Group's.
	Group, InRole string
	ActAs         bool
	Logins        []string
	// Secret is the credential's secret.
	Secret string
}

// Credentials are the credentials that rotate: the application's and the monitoring host's.
func (p Params) Credentials() []Credential {
	return []Credential{
		{Name: "app", Group: p.AppUser, ActAs: true, Logins: p.AppLogins(), Secret: p.Secrets.App},
		{Name: "monitoring", Group: p.MonitoringUser, InRole: "pg_monitor", Logins: p.MonitoringLogins(), Secret: p.Secrets.Monitoring},
	}
}

// Monitoring is what a host runs for the monitoring host: an NRPE daemon that answers only the Nagios
// host, over TLS 1.2+ with a client certificate from the internal CA, the CloudWatch agent (disk and
// memory), and a timer that publishes the replication lag (primary) and the newest backup's age (the
// host that takes the backups) to CloudWatch.
type Monitoring struct {
	// NrpePort is where NRPE listens, on ListenAddress.
	NrpePort int
	// AllowedHosts are the addresses NRPE answers: the monitoring host's.
	AllowedHosts []string
	// NrpeDir holds the copies of this host's certificate and key that the NRPE user reads; NrpeConfig is
	// the configuration NRPE runs with.
	NrpeDir, NrpeConfig string
	// NrpeUser runs the checks; PidFile is the daemon's.
	NrpeUser, PidFile string
	// Commands are NRPE's commands, by name.
	Commands []Command
	// Namespace is the CloudWatch namespace of the published metrics; Cluster their Cluster dimension.
	Namespace, Cluster string
	// AsPostgres prefixes the commands the metrics script runs as the postgres user ("runuser -u postgres --"
	// on a host; empty in the tests, which run as that user already).
	AsPostgres string
	// DrillMarker is the S3 URL (s3://bucket/key) a passed restore drill writes its time to: the host
	// that takes the backups publishes the drills' age from it. Optional.
	DrillMarker string
}

// Command is one NRPE command.
type Command struct{ Name, Line string }

// TLSFiles are the paths of this host's certificate, key and the internal CA.
type TLSFiles struct{ CertFile, KeyFile, CAFile string }

// Endpoint is a PostgreSQL server.
type Endpoint struct {
	Host string
	Port int
}

// Secrets names the secrets a host's bootstrap reads: its TLS bundle, and the clients' credentials,
// which a primary (any Patroni member) makes the logins of. The members' own roles have no password.
type Secrets struct{ TLS, App, Monitoring string }

// MemberRoles are the roles the other database hosts connect as, by their certificates alone:
// replication's, and pg_rewind's under HA.
func (p Params) MemberRoles() []string {
	if p.HA != nil {
		return []string{p.ReplicationUser, p.HA.RewindUser}
	}
	return []string{p.ReplicationUser}
}

// Backup configures pgBackRest.
type Backup struct {
	ConfigFile string
	Stanza     string
	Bucket     string
	Endpoint   string
	Region     string
	// URIStyle is host (AWS) or path (an S3 stand-in).
	URIStyle string
	// KeyType is auto (the instance profile) or shared (keys in PGBACKREST_REPO1_S3_KEY and _SECRET).
	KeyType  string
	KMSKeyID string
	// StorageHost connects to another address than the endpoint's name (the tests' stand-in).
	StorageHost   string
	StoragePort   int
	StorageCAFile string
	Path          string
	RetentionDays int
	ProcessMax    int
	LogDir        string
	LockDir       string
	SpoolDir      string
	// Scheduled makes this host take the scheduled backups (systemd timers).
	Scheduled bool
	// FromStandby makes this standby take them (backup-standby), with the primary among Peers.
	FromStandby bool
	// Peers are the cluster's other hosts pgBackRest reaches (pg2, pg3, ...): the primary of a fixed
	// standby, or every other member of a Patroni cluster, any of which may be the primary.
	Peers []Peer
	// TLSServer, on the primary, serves pgBackRest to the backup standby.
	TLSServer    *TLSServer
	FullSchedule string
	IncrSchedule string
}

// Peer is another host of the cluster as pgBackRest reaches it: over its TLS server when Host is set,
// or on this machine (the tests) when it is not.
type Peer struct {
	Host          string
	TLSServerPort int
	DataDir       string
	Port          int
	SocketDir     string
}

// TLSServer is pgBackRest's TLS server on the primary; only a client certificate with ClientCN is admitted.
type TLSServer struct {
	Address  string
	Port     int
	ClientCN string
}

// PgBin is where the PostgreSQL binaries of the host's version are.
func (p Params) PgBin() string { return fmt.Sprintf("/usr/lib/postgresql/%d/bin", p.PgVersion) }

// PgUnit is the systemd unit of the host's cluster, as Debian's packaging names it.
func (p Params) PgUnit() string { return fmt.Sprintf("postgresql@%d-main.service", p.PgVersion) }

// Converge is how the host converges: its unit, state, log and the AWS CLI it calls.
func (p Params) Converge() converge.Host {
	return converge.Host{
		Name: p.Name, Unit: "hipaa-db-converge", Description: "converge the PostgreSQL " + p.Role + " to its rendered configuration",
		Region: p.Backup.Region, AWSCLI: p.AWSCLI, StateDir: converge.StateDir, LogFile: converge.LogFile, Every: converge.Every,
	}
}

// Files maps each rendered file's destination path to its content.
type Files map[string]string

var (
	identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	stanzaName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	namespace  = regexp.MustCompile(`^[A-Za-z0-9/_.-]{1,255}$`)
	// bucketName is an S3 bucket's name (3 to 63 lower-case letters, digits, dots and hyphens);
	// evidencePrefix a key prefix of path segments.
	bucketName     = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	evidencePrefix = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	// calendar is what a systemd calendar event is written with (systemd.time(7)).
	calendar = regexp.MustCompile(`^[A-Za-z0-9*:.,/~ -]+$`)
)

// validate checks the values that end up in configuration syntax, so no value can break out of it.
func (p *Params) validate() error {
	if p.Role != Primary && p.Role != Replica {
		return fmt.Errorf("Role %q: want %s or %s", p.Role, Primary, Replica)
	}
	if p.CanaryTable != "" && !identifier.MatchString(p.CanaryTable) {
		return fmt.Errorf("CanaryTable %q: want a lower-case SQL identifier", p.CanaryTable)
	}
	// The logins are their group's name and a suffix: the longer must be an identifier too.
	for field, v := range map[string]string{
		"AppDatabase": p.AppDatabase, "AppUser": p.AppUser, "ReplicationUser": p.ReplicationUser, "MonitoringUser": p.MonitoringUser,
		"SlotName": p.SlotName, "AppUser's second login": p.AppLogins()[1], "MonitoringUser's second login": p.MonitoringLogins()[1],
	} {
		if (v != "" || field != "SlotName") && !identifier.MatchString(v) {
			return fmt.Errorf("%s %q: want a lower-case SQL identifier", field, v)
		}
	}
	for _, s := range p.Slots {
		if !identifier.MatchString(s) {
			return fmt.Errorf("Slots: %q is not a lower-case SQL identifier", s)
		}
	}
	if !stanzaName.MatchString(p.Backup.Stanza) {
		return fmt.Errorf("Backup.Stanza %q: want lower-case letters, digits, - and _", p.Backup.Stanza)
	}
	for field, list := range map[string][]string{"ClientCIDRs": p.ClientCIDRs, "MonitoringCIDRs": p.MonitoringCIDRs, "ReplicaCIDRs": p.ReplicaCIDRs} {
		for _, c := range list {
			if _, err := netip.ParsePrefix(c); err != nil {
				return fmt.Errorf("%s: %q is not a CIDR", field, c)
			}
		}
	}
	if len(p.ReplicaCIDRs) > 0 && len(p.ReplicaNames) == 0 {
		return fmt.Errorf("ReplicaNames: ReplicaCIDRs admit replication from %s, but no certificate name may replicate; want the replicas' names", strings.Join(p.ReplicaCIDRs, ", "))
	}
	for _, n := range p.ReplicaNames {
		if !memberName.MatchString(n) {
			return fmt.Errorf("ReplicaNames: %q: want a lower-case host name, as the replica's certificate names it", n)
		}
	}
	if p.HA != nil {
		if err := p.HA.validate(p); err != nil {
			return err
		}
	}
	if r := p.Rotation; r != nil {
		switch {
		case p.HA == nil && p.Role != Primary:
			return fmt.Errorf("Rotation on a %s: a fixed replica has its primary's roles, and the primary rotates them; want Rotation on a Patroni member or a fixed primary", p.Role)
		case r.EveryDays < 1 || r.OverlapSeconds < 1 || r.OverlapSeconds >= r.EveryDays*86400:
			return fmt.Errorf("Rotation: EveryDays %d and OverlapSeconds %d: want a day or more, and an overlap shorter than that", r.EveryDays, r.OverlapSeconds)
		case !calendar.MatchString(r.Schedule):
			return fmt.Errorf("Rotation.Schedule %q: want a systemd calendar event (letters, digits, *-:., and spaces)", r.Schedule)
		}
	}
	if p.HA == nil && p.Role == Replica && (p.Primary.Host == "" || p.SlotName == "" || p.PrimaryWaitSeconds < 5) {
		return fmt.Errorf("a replica needs Primary.Host, SlotName and PrimaryWaitSeconds of at least 5")
	}
	if p.HA == nil && p.Role == Primary && !identifier.MatchString(p.SlotPrefix) {
		return fmt.Errorf("SlotPrefix %q: want the beginning of a lower-case SQL identifier", p.SlotPrefix)
	}
	for _, s := range p.Slots {
		if !strings.HasPrefix(s, p.SlotPrefix) {
			return fmt.Errorf("Slots: %q does not begin with SlotPrefix %q, so it would be dropped", s, p.SlotPrefix)
		}
	}
	if m := p.Monitoring; m != nil {
		for _, a := range m.AllowedHosts {
			if _, err := netip.ParseAddr(a); err != nil {
				return fmt.Errorf("Monitoring.AllowedHosts: %q is not an IP address", a)
			}
		}
		if len(m.AllowedHosts) == 0 || m.NrpePort < 1 || m.NrpePort > 65535 {
			return fmt.Errorf("Monitoring: want AllowedHosts and an NrpePort")
		}
		for _, c := range m.Commands {
			if !identifier.MatchString(c.Name) || strings.ContainsAny(c.Line, "\n") {
				return fmt.Errorf("Monitoring.Commands: %q must be an identifier with a one-line command", c.Name)
			}
		}
		if !namespace.MatchString(m.Namespace) || !stanzaName.MatchString(m.Cluster) {
			return fmt.Errorf("Monitoring: Namespace %q or Cluster %q is malformed", m.Namespace, m.Cluster)
		}
	}
	if p.ArchiveTimeoutSeconds < 1 {
		return fmt.Errorf("ArchiveTimeoutSeconds %d: want at least 1", p.ArchiveTimeoutSeconds)
	}
	for field, v := range map[string]string{"DataDir": p.DataDir, "ConfDir": p.ConfDir, "SocketDir": p.SocketDir,
		"TLS.CertFile": p.TLS.CertFile, "TLS.KeyFile": p.TLS.KeyFile, "TLS.CAFile": p.TLS.CAFile, "MountPoint": p.MountPoint, "AWSCLI": p.AWSCLI} {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, "'\" \n") {
			return fmt.Errorf("%s %q: want an absolute path without quotes or spaces", field, v)
		}
	}
	return nil
}

// Config renders the PostgreSQL and pgBackRest configuration of one host, keyed by file name.
func Config(p Params) (Files, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("host %s: %w", p.Name, err)
	}
	names := []string{"postgresql.conf", "pg_hba.conf", "pg_ident.conf", "pgbackrest.conf"}
	switch {
	case p.HA != nil:
		// Any member may be the primary: each has the roles' script; Patroni keeps the slots.
		names = append(names, "roles.sql", "missing.sql")
	case p.Role == Primary:
		names = append(names, "roles.sql", "missing.sql", "slots.sql")
		if p.Rotation != nil {
			// A fixed primary's operations are its rotation alone (a Patroni member's are patroniFiles').
			names = append(names, "db.py")
		}
	}
	if p.Monitoring != nil {
		names = append(names, "nrpe.cfg", "metrics.sh")
	}
	if p.CanaryTable != "" {
		names = append(names, "canary.sql")
	}
	files := Files{}
	if p.Monitoring != nil {
		agent := cloudinit.Agent{DiskPaths: []string{"/", p.MountPoint}}
		if p.LogGroup != "" {
			agent.LogGroup = p.LogGroup
			agent.Logs = []cloudinit.LogFile{p.Converge().AgentLog(), {Path: p.LogDir + "/*.log", Stream: "postgresql"}}
		}
		files["cloudwatch-agent.json"] = agent.Config()
	}
	for _, n := range names {
		out, err := execute(n+".tmpl", p)
		if err != nil {
			return nil, err
		}
		files[n] = out
	}
	if p.HA != nil {
		if err := patroniFiles(p, files); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func execute(name string, p Params) (string, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, p); err != nil {
		return "", fmt.Errorf("rendering %s: %w", name, err)
	}
	return b.String(), nil
}

// OperationsCommand is where a Patroni member has the cluster's operations (db.py), which `platformctl
// db` and `platformctl rotate` run through Systems Manager, and a fixed primary its rotation.
const OperationsCommand = "/usr/local/sbin/hipaa-db"

// Bundle is a host's whole setup, as files: the configuration under /etc/hipaa, the units of the backups
// and of monitoring staged under /etc/hipaa/systemd (the converge script installs them), and the converge
// script with its own units. The first boot writes it from the user data, and the Systems Manager
// document writes it again whenever it changes, with what a running cluster needs and the first boot
// does not (Later): hipaa-db and the rotation's units.
func Bundle(p Params) ([]cloudinit.File, error) {
	files, err := Config(p)
	if err != nil {
		return nil, err
	}
	var out []cloudinit.File
	for _, n := range slices.Sorted(maps.Keys(files)) {
		if n == "db.py" {
			// The cluster's operations are for a running cluster: they come with the document.
			out = append(out, cloudinit.File{Path: OperationsCommand, Permissions: "0755", Content: files[n], Later: true})
			continue
		}
		out = append(out, cloudinit.File{Path: "/etc/hipaa/" + n, Permissions: "0600", Content: files[n]})
	}
	units := map[string]string{}
	if p.Backup.Scheduled {
		units["pgbackrest-backup@.service"] = "pgbackrest-backup@.service.tmpl"
		units["pgbackrest-full.timer"] = "pgbackrest-full.timer.tmpl"
		units["pgbackrest-incr.timer"] = "pgbackrest-incr.timer.tmpl"
	}
	if p.Backup.TLSServer != nil {
		units["pgbackrest-server.service"] = "pgbackrest-server.service.tmpl"
	}
	if p.CanaryTable != "" {
		units["hipaa-db-canary.service"] = "hipaa-db-canary.service.tmpl"
		units["hipaa-db-canary.timer"] = "hipaa-db-canary.timer.tmpl"
	}
	if p.HA != nil {
		units["hipaa-db-follow.service"] = "hipaa-db-follow.service.tmpl"
		units["hipaa-db-follow.timer"] = "hipaa-db-follow.timer.tmpl"
	}
	if p.Rotation != nil {
		units["hipaa-db-rotate.service"] = "hipaa-db-rotate.service.tmpl"
		units["hipaa-db-rotate.timer"] = "hipaa-db-rotate.timer.tmpl"
	}
	if p.Monitoring != nil {
		units["hipaa-db-metrics.service"] = "hipaa-db-metrics.service.tmpl"
		units["hipaa-db-metrics.timer"] = "hipaa-db-metrics.timer.tmpl"
		units["nagios-nrpe-server.service.d/hipaa.conf"] = "nrpe-dropin.conf.tmpl"
	}
	for _, n := range slices.Sorted(maps.Keys(units)) {
		content, err := execute(units[n], p)
		if err != nil {
			return nil, err
		}
		// The rotation runs hipaa-db, which comes with the document: so do its units.
		later := strings.HasPrefix(n, "hipaa-db-rotate.")
		out = append(out, cloudinit.File{Path: "/etc/hipaa/systemd/" + n, Permissions: "0644", Content: content, Later: later})
	}
	body, err := execute("converge.sh.tmpl", p)
	if err != nil {
		return nil, err
	}
	own, err := p.Converge().Files(body)
	if err != nil {
		return nil, err
	}
	return append(out, own...), nil
}

// UserData is the host's first boot as cloud-init user data: the bundle written and the converge unit
// started; gzip-compressed and base64 encoded, as EC2's userDataBase64 takes it.
func UserData(p Params) (string, error) {
	bundle, err := Bundle(p)
	if err != nil {
		return "", err
	}
	return p.Converge().UserData(bundle)
}

// Document is the Systems Manager document that brings the running host to this configuration.
func Document(p Params) (string, error) {
	bundle, err := Bundle(p)
	if err != nil {
		return "", err
	}
	return p.Converge().Document(bundle)
}
