package hostconfig

import (
	"fmt"
	"strings"
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
