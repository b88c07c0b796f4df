package hostconfig

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hipaa-platform/platform/internal/cloudinit"
)

// Drill is the restore drill a throwaway host runs: the newest backup restored to a recent point in
// time and checked, its result and restore time published, and an evidence record written to the log
// bucket.
type Drill struct {
	// Cluster is the metrics' Cluster dimension and the evidence's cluster; Namespace the metrics'.
	Cluster, Namespace string
	// Dir is the scratch directory the copy is restored into; Port where the copy listens, on its
	// socket alone.
	Dir  string
	Port int
	// TargetAgeSeconds is how long before the drill the restore's target time is.
	TargetAgeSeconds int
	// CanaryTable is the application database's table of the rows the primary writes every minute
	// (column at); the copy must have one within CanaryToleranceSeconds before the target.
	CanaryTable            string
	CanaryToleranceSeconds int
	// EvidenceBucket, EvidencePrefix and EvidenceKeyID are where the evidence records go (the log
	// bucket, under its retention) and the key they are encrypted with.
	EvidenceBucket, EvidencePrefix, EvidenceKeyID string
	// AsPostgres prefixes what runs as the postgres user ("runuser -u postgres --" on a host; empty in
	// the tests, which run as that user already).
	AsPostgres string
	// Group is the drill host's Auto Scaling group, which it scales back to zero when done (DrillHost).
	Group string
	// MarkerBucket and MarkerKey, when set, are where a passed drill writes the time it passed, in the
	// cluster's backup prefix, for the host that takes the backups to publish the drills' age.
	MarkerBucket, MarkerKey string
}

func (d *Drill) validate() error {
	switch {
	case !stanzaName.MatchString(d.Cluster) || !namespace.MatchString(d.Namespace):
		return fmt.Errorf("Drill: Cluster %q or Namespace %q is malformed", d.Cluster, d.Namespace)
	case !strings.HasPrefix(d.Dir, "/") || strings.ContainsAny(d.Dir, "'\" \n"):
		return fmt.Errorf("Drill.Dir %q: want an absolute path without quotes or spaces", d.Dir)
	case d.Port < 1 || d.Port > 65535:
		return fmt.Errorf("Drill.Port %d: want 1 to 65535", d.Port)
	case d.TargetAgeSeconds < 0:
		return fmt.Errorf("Drill.TargetAgeSeconds %d: want 0 or more", d.TargetAgeSeconds)
	case !identifier.MatchString(d.CanaryTable):
		return fmt.Errorf("Drill.CanaryTable %q: want a lower-case SQL identifier", d.CanaryTable)
	case d.CanaryToleranceSeconds < 60:
		return fmt.Errorf("Drill.CanaryToleranceSeconds %d: want at least 60, the canary's period", d.CanaryToleranceSeconds)
	case d.MarkerBucket != "" && (!bucketName.MatchString(d.MarkerBucket) || !evidencePrefix.MatchString(d.MarkerKey)):
		return fmt.Errorf("Drill: MarkerBucket %q or MarkerKey %q is malformed", d.MarkerBucket, d.MarkerKey)
	case !bucketName.MatchString(d.EvidenceBucket) || !evidencePrefix.MatchString(d.EvidencePrefix) || d.EvidenceKeyID == "" || strings.ContainsAny(d.EvidenceKeyID, " '\"\n"):
		return fmt.Errorf("Drill: EvidenceBucket %q, EvidencePrefix %q or EvidenceKeyID %q is malformed", d.EvidenceBucket, d.EvidencePrefix, d.EvidenceKeyID)
	}
	return nil
}

// DrillScript renders the restore drill of a host whose Params have Drill set: its pgBackRest
// configuration reaches the cluster's repository.
func DrillScript(p Params) (string, error) {
	if p.Drill == nil {
		return "", fmt.Errorf("host %s: DrillScript needs Drill", p.Name)
	}
	if err := p.Drill.validate(); err != nil {
		return "", fmt.Errorf("host %s: %w", p.Name, err)
	}
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("host %s: %w", p.Name, err)
	}
	return execute("drill.sh.tmpl", p)
}

// DrillHost is the drill host's user data: its pgBackRest configuration (the cluster's repository),
// the drill, and a unit that runs the drill once at first boot and then scales Drill.Group back to
// zero. The host keeps no state: each drill is a new host from the current configuration.
func DrillHost(p Params) (string, error) {
	drill, err := DrillScript(p)
	if err != nil {
		return "", err
	}
	if !memberName.MatchString(p.Drill.Group) {
		return "", fmt.Errorf("host %s: Drill.Group %q: want the Auto Scaling group's name", p.Name, p.Drill.Group)
	}
	files := []cloudinit.File{
		{Path: "/usr/local/sbin/hipaa-db-drill", Permissions: "0755", Content: drill},
	}
	for path, tmpl := range map[string]string{
		p.Backup.ConfigFile:                          "pgbackrest.conf.tmpl",
		"/usr/local/sbin/hipaa-db-drill-run":         "drill-run.sh.tmpl",
		"/etc/systemd/system/hipaa-db-drill.service": "hipaa-db-drill.service.tmpl",
	} {
		content, err := execute(tmpl, p)
		if err != nil {
			return "", err
		}
		mode := "0644"
		if strings.HasPrefix(path, "/usr/local/sbin/") {
			mode = "0755"
		}
		files = append(files, cloudinit.File{Path: path, Permissions: mode, Content: content})
	}
	slices.SortFunc(files, func(a, b cloudinit.File) int { return strings.Compare(a.Path, b.Path) })
	return cloudinit.Encode(files, [][]string{
		{"install", "-d", "-o", "postgres", "-g", "postgres", "-m", "700", p.Backup.LogDir, p.Backup.LockDir, p.Backup.SpoolDir},
		{"systemctl", "daemon-reload"},
		{"systemctl", "start", "--no-block", "hipaa-db-drill.service"},
	})
}
