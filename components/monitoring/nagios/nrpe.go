package nagios

import (
	"fmt"
	"strings"
)

// NrpeParams are what a database host's NRPE commands check.
type NrpeParams struct {
	// PluginDir is where the plugins are. Required.
	PluginDir string
	// DataDir is the Postgres data directory, whose file system the disk check watches. Required.
	DataDir string
	// CertFile is the host's TLS certificate, whose expiry is checked. Required.
	CertFile string
	// Backup, when set, adds the backup-age check: the newest backup in the repository of this stanza,
	// read with this pgBackRest configuration.
	Backup *NrpeBackup
	// Thresholds are the limits. Optional; default DefaultThresholds.
	Thresholds *Thresholds
}

// NrpeBackup names the repository a backup-age check reads.
type NrpeBackup struct {
	Stanza, ConfigFile string
}

// NrpeCommand is one command a host's NRPE daemon runs for Nagios.
type NrpeCommand struct {
	Name, Line string
}

// NrpeCommands are the command lines behind the check_nrpe_tls services, in the order nrpe.cfg lists
// them. The same lines run under NRPE on the hosts and, in the tests, directly.
func NrpeCommands(p NrpeParams) []NrpeCommand {
	t := DefaultThresholds
	if p.Thresholds != nil {
		t = *p.Thresholds
	}
	cmds := []NrpeCommand{
		{NrpeDisk, fmt.Sprintf("%s/check_disk -w %d%% -c %d%% -p %s", p.PluginDir, t.DiskFreeWarn, t.DiskFreeCrit, p.DataDir)},
		{NrpeLoad, fmt.Sprintf("%s/check_load -w %s -c %s", p.PluginDir, triple(t.Load1Warn), triple(t.Load1Crit))},
		{NrpeMemory, MemoryCheck(t.MemoryAvailWarn, t.MemoryAvailCrit, false)},
		{NrpeCert, CertCheck(p.CertFile, t.CertDaysWarn, t.CertDaysCrit)},
	}
	if b := p.Backup; b != nil {
		// pgBackRest reads the repository with the host's role; its file log is off, as the check runs as
		// the NRPE user and only reads.
		cmds = append(cmds, NrpeCommand{NrpeBackupAge, fmt.Sprintf(
			"/usr/bin/check_pgbackrest --service retention --stanza %s --config %s --retention-age %ds --prefix 'env PGBACKREST_LOG_LEVEL_FILE=off PGBACKREST_LOG_LEVEL_CONSOLE=warn'",
			b.Stanza, b.ConfigFile, int(t.BackupMaxAge.Seconds()))})
	}
	return cmds
}

func triple(v float64) string {
	s := strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
	return s + "," + s + "," + s
}

// MemoryCheck is a check of available memory, as a percentage of the total, against MemAvailable in
// /proc/meminfo. forNagios doubles the $ signs, as a Nagios command line needs.
func MemoryCheck(warn, crit int, forNagios bool) string {
	line := fmt.Sprintf(`/usr/bin/awk -v w=%d -v c=%d '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{p=100*a/t; s=(p<c?2:(p<w?1:0)); split("OK WARNING CRITICAL",n," "); printf "MEMORY %%s - %%.1f%%%% available|available=%%.1f%%%%;%%d;%%d\n", n[s+1], p, p, w, c; exit s}' /proc/meminfo`, warn, crit)
	if forNagios {
		line = strings.ReplaceAll(line, "$", "$$")
	}
	return line
}

// CertCheck is a check of a certificate's expiry with openssl: CRITICAL within crit days, WARNING
// within warn days.
func CertCheck(file string, warn, crit int) string {
	return fmt.Sprintf(`/usr/bin/openssl x509 -noout -in %[1]s -checkend %[2]d >/dev/null && { /usr/bin/openssl x509 -noout -in %[1]s -checkend %[3]d >/dev/null && echo "CERTIFICATE OK - %[1]s valid beyond %[4]d days" || { echo "CERTIFICATE WARNING - %[1]s expires within %[4]d days"; exit 1; }; } || { echo "CERTIFICATE CRITICAL - %[1]s expires within %[5]d days"; exit 2; }`,
		file, crit*86400, warn*86400, warn, crit)
}
