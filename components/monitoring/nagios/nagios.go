// Package nagios renders the monitoring host's Nagios 4 configuration from the stack itself: one host
// per database host and for the application and the monitoring host, with the checks each needs. The
// component renders it for AWS; the tests render it for servers on loopback and hand it to the real
// nagios4 -v and the real plugins.
package nagios

import (
	"bytes"
	"embed"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Roles of the hosts Nagios watches.
const (
	Primary    = "primary"
	Replica    = "replica"
	Monitoring = "monitoring"
)

// NRPE commands each database host's NRPE daemon offers (hostconfig renders them there).
const (
	NrpeDisk        = "check_disk"
	NrpeLoad        = "check_load"
	NrpeMemory      = "check_memory"
	NrpeCert        = "check_tls_cert"
	NrpeBackupAge   = "check_backup_age"
	DefaultNrpePort = 5666
)

// Host is one database host.
type Host struct {
	// Name is the host's name, such as hipaa-prod-db-0. Required.
	Name string
	// Role is Primary or Replica. Required.
	Role string
	// Address is its private IPv4 address. Required.
	Address string
	// Port is Postgres's port. Required.
	Port int
	// NrpePort is where its NRPE daemon listens. Optional; default 5666.
	NrpePort int
	// Backups marks the host that takes the backups, whose backup age is checked there.
	Backups bool
	// ApplicationName is a replica's name in pg_stat_replication. Required for a replica.
	ApplicationName string
}

// Thresholds are when a check warns and when it is critical.
type Thresholds struct {
	DiskFreeWarn, DiskFreeCrit             int // percent free
	Load1Warn, Load1Crit                   float64
	MemoryAvailWarn, MemoryAvailCrit       int           // percent available
	ReplicationLagWarn, ReplicationLagCrit int64         // bytes of WAL the replica has not replayed
	BackupMaxAge                           time.Duration // newest backup older than this is critical
	CertDaysWarn, CertDaysCrit             int
}

// DefaultThresholds are the platform's.
var DefaultThresholds = Thresholds{
	DiskFreeWarn: 20, DiskFreeCrit: 10,
	Load1Warn: 4, Load1Crit: 8,
	MemoryAvailWarn: 10, MemoryAvailCrit: 5,
	ReplicationLagWarn: 64 << 20, ReplicationLagCrit: 1 << 30,
	BackupMaxAge: 26 * time.Hour, // a daily backup, with two hours to finish
	CertDaysWarn: 30, CertDaysCrit: 7,
}

// Params are everything the configuration is rendered from.
type Params struct {
	// Stack names the stack in notifications. Required.
	Stack string
	// Dir is the configuration directory (/etc/nagios4 on the host); StateDir holds Nagios's state
	// (/var/lib/nagios4); LogDir its log (/var/log/nagios4). Required.
	Dir, StateDir, LogDir string
	// PluginDir is where the plugins are ($USER1$). Required.
	PluginDir string
	// User and Group run Nagios. Required.
	User, Group string
	// Self is the monitoring host: its name and address. Required.
	Self Host
	// Hosts are the database hosts, primary first. Required.
	Hosts []Host
	// AppDomain is the application's public name, checked over HTTPS; empty to leave it out.
	AppDomain string
	// HealthPath is the application's health path. Required with AppDomain.
	HealthPath string
	// Database is the database the monitoring checks connect to. Required.
	Database string
	// CAFile verifies the database hosts' certificates; PassFile holds the monitoring login's password
	// (libpq's passfile, never on a command line); CredentialFile is a resource file that defines
	// $USER6$, the login the checks connect as. The last two are written on the host from the monitoring
	// credential's secret, which a rotation changes: a changed login is a reload. Required.
	CAFile, PassFile, CredentialFile string
	// NrpeCertFile and NrpeKeyFile are the monitoring host's client certificate for NRPE. Required.
	NrpeCertFile, NrpeKeyFile string
	// NotifyCommand is the command line that delivers a notification, reading the subject from
	// $NAGIOS_SUBJECT and the message from $NAGIOS_MESSAGE (the component publishes to SNS). Required.
	NotifyCommand string
	// Thresholds are the checks' limits. Optional; default DefaultThresholds.
	Thresholds *Thresholds
	// Patroni says Patroni chooses the primary among Hosts: the replication checks then run on whichever
	// host accepts writes, for every host, rather than on the first. Optional.
	Patroni bool
}

//go:embed templates/*.tmpl
var templates embed.FS

var tmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
}).ParseFS(templates, "templates/*.tmpl"))

// CredentialMacro is the macro CredentialFile defines: the monitoring login the checks connect as.
const CredentialMacro = "$USER6$"

// Files are the rendered files, by name relative to Params.Dir.
type Files map[string]string

var (
	name    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	absPath = regexp.MustCompile(`^/[A-Za-z0-9._/-]+$`)
	domain  = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

func (p *Params) validate() error {
	for field, v := range map[string]string{"Dir": p.Dir, "StateDir": p.StateDir, "LogDir": p.LogDir, "PluginDir": p.PluginDir,
		"CAFile": p.CAFile, "PassFile": p.PassFile, "CredentialFile": p.CredentialFile, "NrpeCertFile": p.NrpeCertFile, "NrpeKeyFile": p.NrpeKeyFile} {
		if !absPath.MatchString(v) {
			return fmt.Errorf("nagios: %s %q must be an absolute path", field, v)
		}
	}
	for field, v := range map[string]string{"Stack": p.Stack, "User": p.User, "Group": p.Group, "Database": p.Database} {
		if !name.MatchString(v) {
			return fmt.Errorf("nagios: %s %q must be a short lower-case name", field, v)
		}
	}
	if p.NotifyCommand == "" {
		return fmt.Errorf("nagios: NotifyCommand is required")
	}
	if p.AppDomain != "" && (!domain.MatchString(p.AppDomain) || !strings.HasPrefix(p.HealthPath, "/")) {
		return fmt.Errorf("nagios: AppDomain %q and HealthPath %q must be a DNS name and an absolute path", p.AppDomain, p.HealthPath)
	}
	if len(p.Hosts) == 0 || p.Hosts[0].Role != Primary {
		return fmt.Errorf("nagios: Hosts must start with the primary")
	}
	for i, h := range append([]Host{p.Self}, p.Hosts...) {
		if !name.MatchString(h.Name) {
			return fmt.Errorf("nagios: host %d: Name %q must be a short lower-case name", i, h.Name)
		}
		if _, err := netip.ParseAddr(h.Address); err != nil {
			return fmt.Errorf("nagios: host %s: Address %q is not an IP address", h.Name, h.Address)
		}
		if i > 0 && (h.Port < 1 || h.Port > 65535) {
			return fmt.Errorf("nagios: host %s: Port %d is not a TCP port", h.Name, h.Port)
		}
		if i > 0 && (h.Role == Replica || p.Patroni) && !name.MatchString(strings.ReplaceAll(h.ApplicationName, "_", "-")) {
			return fmt.Errorf("nagios: %s %s: ApplicationName %q is required", h.Role, h.Name, h.ApplicationName)
		}
	}
	return nil
}

// view is what the templates see.
type view struct {
	Params
	T        Thresholds
	Primary  Host
	Replicas []Host
	AllDB    []Host
	// ClusterAddresses and ClusterPorts are every database host's address and port, comma-separated, as
	// libpq's host and port take a multi-host connection's.
	ClusterAddresses, ClusterPorts string
}

// Render renders the configuration: nagios.cfg (the main file), resource.cfg, commands.cfg,
// templates.cfg (time periods, contacts, host and service templates), and hosts.cfg (hosts and
// services).
func Render(p Params) (Files, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	v := view{Params: p, T: DefaultThresholds}
	if p.Thresholds != nil {
		v.T = *p.Thresholds
	}
	for i, h := range p.Hosts {
		if h.NrpePort == 0 {
			h.NrpePort = DefaultNrpePort
		}
		v.AllDB = append(v.AllDB, h)
		if v.ClusterAddresses != "" {
			v.ClusterAddresses, v.ClusterPorts = v.ClusterAddresses+",", v.ClusterPorts+","
		}
		v.ClusterAddresses, v.ClusterPorts = v.ClusterAddresses+h.Address, v.ClusterPorts+strconv.Itoa(h.Port)
		if i == 0 {
			v.Primary = h
		} else {
			v.Replicas = append(v.Replicas, h)
		}
	}
	files := Files{}
	for _, f := range []string{"nagios.cfg", "resource.cfg", "commands.cfg", "templates.cfg", "hosts.cfg"} {
		var b bytes.Buffer
		if err := tmpl.ExecuteTemplate(&b, f+".tmpl", v); err != nil {
			return nil, fmt.Errorf("rendering %s: %w", f, err)
		}
		files[f] = b.String()
	}
	return files, nil
}

// Names returns the file names in a fixed order.
func (f Files) Names() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range f {
			if !yield(k) {
				return
			}
		}
	})
}

// MemoryCommand is the monitoring host's own memory check.
func (v view) MemoryCommand() string {
	return MemoryCheck(v.T.MemoryAvailWarn, v.T.MemoryAvailCrit, true)
}

// The NRPE command names, as the host template names them.
func (view) NrpeDiskName() string   { return NrpeDisk }
func (view) NrpeLoadName() string   { return NrpeLoad }
func (view) NrpeMemoryName() string { return NrpeMemory }
func (view) NrpeCertName() string   { return NrpeCert }
func (view) NrpeBackupName() string { return NrpeBackupAge }
