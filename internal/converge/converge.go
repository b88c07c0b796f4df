// Package converge is how every stateful host of the platform (the database hosts, the monitoring host)
// reaches and keeps its configuration. A host's setup is one idempotent script, run by a systemd unit:
// at first boot (cloud-init starts it), every Every after it finished (a timer), and whenever
// configuration changes (a Systems Manager document writes the new files and starts the unit). Each step
// changes only what differs from the rendered configuration, and says what it changed; a run that fails
// is retried by systemd, after a back-off that grows with each failure; every run ends by publishing
// the host's Converged metric (1 or 0), whose alarm fires when a host has not converged.
//
// The package renders what all such hosts share: the script's prelude and epilogue (logging, back-off,
// the AWS CLI, secrets, idempotent file installs, the metric), the service and timer units, the first
// boot's commands, and the Systems Manager document that delivers a new configuration.
package converge

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/hipaa-platform/platform/internal/cloudinit"
)

// Namespace is the CloudWatch namespace of every host's Converged metric.
const Namespace = "HIPAA/Hosts"

// MaxDocumentBytes is the largest content of a Systems Manager document: 64 KB (Systems Manager
// CreateDocument, Content; pulumi-aws ssm.Document "must not exceed 64KB").
const MaxDocumentBytes = 64 * 1024

// Where every host of the platform keeps its convergence state and log, and how long after each run
// the next starts.
const (
	StateDir = "/var/lib/hipaa"
	LogFile  = "/var/log/hipaa/converge.log"
	Every    = "15min"
)

// Host is one converging host.
type Host struct {
	// Name is the host's name: the metric's Host dimension, and the prefix of every log line.
	Name string
	// Unit names the systemd unit and the script (/usr/local/sbin/<Unit>), such as hipaa-db-converge.
	Unit string
	// Description says what the unit converges.
	Description string
	// Region is the AWS region the AWS CLI calls.
	Region string
	// AWSCLI is the AWS CLI's path on the image.
	AWSCLI string
	// StateDir keeps the failure count and the time of the last convergence; LogFile every run's log,
	// which the CloudWatch agent ships to the host's log group.
	StateDir, LogFile string
	// Every is how long after a run finished the next starts, as systemd's time span (15min).
	Every string
}

var unitName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

func (h Host) check() error {
	switch {
	case !unitName.MatchString(h.Unit):
		return fmt.Errorf("converge: Unit %q: want a lower-case systemd unit name", h.Unit)
	case h.Name == "" || strings.ContainsAny(h.Name, " '\"\n$`\\"):
		return fmt.Errorf("converge: Name %q: want a host name", h.Name)
	case h.Region == "" || h.AWSCLI == "" || !strings.HasPrefix(h.StateDir, "/") || !strings.HasPrefix(h.LogFile, "/") || h.Every == "":
		return fmt.Errorf("converge: %s needs Region, AWSCLI, an absolute StateDir and LogFile, and Every", h.Name)
	}
	return nil
}

// AgentLog is the converge log as the CloudWatch agent ships it, to the stream <instance>/converge.
func (h Host) AgentLog() cloudinit.LogFile {
	return cloudinit.LogFile{Path: h.LogFile, Stream: "converge"}
}

// ScriptPath is where the converge script is installed.
func (h Host) ScriptPath() string { return "/usr/local/sbin/" + h.Unit }

// Service is the unit's name.
func (h Host) Service() string { return h.Unit + ".service" }

var prelude = template.Must(template.New("prelude").Parse(`#!/bin/bash
# {{.Name}}: {{.Description}}.
# Rendered by the platform. Idempotent: each step changes only what differs, and logs what it changed.
# Run by {{.Unit}}.service at boot, {{.Every}} after each run, and by the Systems Manager document that
# delivers a new configuration; a failed run is retried after a back-off that grows with each failure.
set -Eeuo pipefail
# The last command of a pipeline runs in this shell, so "... | put" counts its change.
shopt -s lastpipe
umask 077
state={{.StateDir}}
install -d -m 700 "$state"

log() { printf '%s {{.Name}}: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"; }
changes=0
changed() { changes=$((changes + 1)); log "changed: $*"; }

# The AWS CLI, with the instance's role from the instance metadata service, given more than the CLI's
# default one second and single attempt to answer: a busy host's first call otherwise finds no
# credentials. HIPAA_AWS_ENDPOINT is unset on AWS.
export AWS_METADATA_SERVICE_TIMEOUT=5 AWS_METADATA_SERVICE_NUM_ATTEMPTS=3
aws_() { {{.AWSCLI}} --region {{.Region}} ${HIPAA_AWS_ENDPOINT:+--endpoint-url "$HIPAA_AWS_ENDPOINT"} "$@"; }
secret() { aws_ secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text; }
metric() {
  aws_ cloudwatch put-metric-data --namespace {{.Namespace}} --metric-name Converged --unit Count \
    --dimensions Host={{.Name}} --value "$1" || log "could not publish Converged=$1"
}

failures() { cat "$state/failures" 2>/dev/null || echo 0; }
failed() {
  local rc=$1 line=$2
  # In a command substitution the trap fires too: there the failure only ends the subshell, and the run
  # fails where it used the value.
  [ "$BASHPID" = "$$" ] || exit "$rc"
  echo $(($(failures) + 1)) > "$state/failures"
  log "failed at line $line (exit $rc); systemd retries"
  metric 0
  exit "$rc"
}
trap 'failed $? $LINENO' ERR

# put DEST MODE OWNER: standard input becomes DEST when its content, mode or owner differs from DEST's;
# PUT_CHANGED says whether it did. The file is replaced whole, never written in place. OWNER is names
# or numbers (a container's user has no name on the host).
PUT_CHANGED=0
put() {
  local dest=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp "$(dirname "$dest")/.converge.XXXXXX")
  cat > "$tmp"
  if [ -f "$dest" ] && cmp -s "$tmp" "$dest" && stat --printf '%a %U:%G\n%a %u:%g\n' "$dest" | grep -qxF "$mode $owner"; then
    rm -f "$tmp"
    PUT_CHANGED=0
    return 0
  fi
  chmod "$mode" "$tmp"
  chown "$owner" "$tmp"
  mv -f "$tmp" "$dest"
  PUT_CHANGED=1
  changed "$dest"
}

# running UNIT: the unit is enabled and active, started if it was not.
running() {
  if ! systemctl is-enabled --quiet "$1" || ! systemctl is-active --quiet "$1"; then
    systemctl enable --now "$1"
    changed "started $1"
  fi
}

n=$(failures)
if [ "$n" -gt 0 ]; then
  delay=$((n > 5 ? 600 : 10 << n))
  log "attempt $((n + 1)) after $n failed: waiting ${delay}s"
  sleep "$delay"
fi
log "converging"
`))

var epilogue = template.Must(template.New("epilogue").Parse(`
echo 0 > "$state/failures"
date -u +%Y-%m-%dT%H:%M:%SZ > "$state/converged"
metric 1
log "converged: $changes change(s)"
`))

var service = template.Must(template.New("service").Parse(`# {{.Name}}: {{.Description}}.
[Unit]
Description={{.Name}}: {{.Description}}
Wants=network-online.target
After=network-online.target
# Never give up: every failure is retried, after the script's own back-off.
StartLimitIntervalSec=0

[Service]
Type=oneshot
# Everything the script prints goes to the journal and to {{.LogFile}}, which the CloudWatch agent ships.
ExecStartPre=/usr/bin/install -d -m 750 {{.LogDir}}
ExecStart=/bin/bash -o pipefail -c '{{.ScriptPath}} 2>&1 | tee -a {{.LogFile}}'
Restart=on-failure
RestartSec=5
TimeoutStartSec=2h

[Install]
WantedBy=multi-user.target
`))

var timer = template.Must(template.New("timer").Parse(`# {{.Name}}: {{.Description}}, again {{.Every}} after each run.
[Unit]
Description={{.Name}}: converge again {{.Every}} after each run

[Timer]
OnUnitInactiveSec={{.Every}}
Unit={{.Unit}}.service

[Install]
WantedBy=timers.target
`))

func render(t *template.Template, h Host) (string, error) {
	var b bytes.Buffer
	data := struct {
		Host
		Namespace, ScriptPath, LogDir string
	}{h, Namespace, h.ScriptPath(), path.Dir(h.LogFile)}
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Script is the whole converge script: the prelude, the host's own steps in body, and the epilogue.
func (h Host) Script(body string) (string, error) {
	if err := h.check(); err != nil {
		return "", err
	}
	head, err := render(prelude, h)
	if err != nil {
		return "", err
	}
	tail, err := render(epilogue, h)
	if err != nil {
		return "", err
	}
	return head + "\n" + strings.TrimSpace(body) + "\n" + tail, nil
}

// Files are the script and its units, to install with the host's own files.
func (h Host) Files(body string) ([]cloudinit.File, error) {
	script, err := h.Script(body)
	if err != nil {
		return nil, err
	}
	svc, err := render(service, h)
	if err != nil {
		return nil, err
	}
	tmr, err := render(timer, h)
	if err != nil {
		return nil, err
	}
	return []cloudinit.File{
		{Path: h.ScriptPath(), Permissions: "0700", Content: script},
		{Path: "/etc/systemd/system/" + h.Unit + ".service", Permissions: "0644", Content: svc},
		{Path: "/etc/systemd/system/" + h.Unit + ".timer", Permissions: "0644", Content: tmr},
	}, nil
}

// FirstBoot are cloud-init's commands after it wrote the files: start the unit without waiting for it
// (cloud-init's own final stage would otherwise wait on a unit ordered after it), and its timer.
func (h Host) FirstBoot() [][]string {
	return [][]string{
		{"systemctl", "daemon-reload"},
		{"systemctl", "enable", h.Unit + ".timer", h.Service()},
		{"systemctl", "start", "--no-block", h.Unit + ".timer", h.Service()},
	}
}

// UserData is the first boot's cloud-config: files (those marked Later left to the document), then the
// unit started.
func (h Host) UserData(files []cloudinit.File) (string, error) {
	return cloudinit.Encode(slices.DeleteFunc(slices.Clone(files), func(f cloudinit.File) bool { return f.Later }), h.FirstBoot())
}

// Document is the content of the Systems Manager Command document that brings a running host to files:
// it writes each file whole (the same files the first boot wrote), reloads systemd and runs the converge
// unit, waiting for it, so the command's status is the run's. It is refused above MaxDocumentBytes.
func (h Host) Document(files []cloudinit.File) (string, error) {
	if err := h.check(); err != nil {
		return "", err
	}
	lines := []string{
		"set -eu",
		"# Rendered by the platform: the configuration of " + h.Name + ", then a converge run.",
		`put() { install -d -m 755 "$(dirname "$1")"; printf '%s' "$3" | base64 -d | gunzip > "$1.ssm"; chmod "$2" "$1.ssm"; mv -f "$1.ssm" "$1"; }`,
	}
	for _, f := range files {
		packed, err := pack(f.Content)
		if err != nil {
			return "", err
		}
		lines = append(lines, fmt.Sprintf("put %s %s %s", f.Path, f.Permissions, packed))
	}
	lines = append(lines, "systemctl daemon-reload", "systemctl start "+h.Service())
	doc := map[string]any{
		"schemaVersion": "2.2",
		"description":   "Converge " + h.Name + " to its rendered configuration",
		"mainSteps": []any{map[string]any{
			"action": "aws:runShellScript",
			"name":   "converge",
			"inputs": map[string]any{"runCommand": lines, "timeoutSeconds": "7200"},
		}},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	if len(out) > MaxDocumentBytes {
		return "", fmt.Errorf("converge: the document of %s is %d bytes; Systems Manager takes at most %d", h.Name, len(out), MaxDocumentBytes)
	}
	return string(out), nil
}

// pack is content gzipped and base64-encoded, one shell word.
func pack(content string) (string, error) {
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression) // the level is valid
	if _, err := zw.Write([]byte(content)); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

// Commands are a document's shell lines, as Systems Manager's aws:runShellScript runs them: for tests
// that run a document on a host.
func Commands(document string) (string, error) {
	var doc struct {
		MainSteps []struct {
			Inputs struct {
				RunCommand []string `json:"runCommand"`
			} `json:"inputs"`
		} `json:"mainSteps"`
	}
	if err := json.Unmarshal([]byte(document), &doc); err != nil {
		return "", err
	}
	if len(doc.MainSteps) != 1 {
		return "", fmt.Errorf("converge: want one step, got %d", len(doc.MainSteps))
	}
	return strings.Join(doc.MainSteps[0].Inputs.RunCommand, "\n") + "\n", nil
}

// DocumentFiles are the files a document writes, by path: for tests that read what it brings.
func DocumentFiles(document string) (map[string]string, error) {
	commands, err := Commands(document)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for _, line := range strings.Split(commands, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "put" {
			continue
		}
		packed, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil {
			return nil, fmt.Errorf("converge: %s: %w", f[1], err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(packed))
		if err != nil {
			return nil, fmt.Errorf("converge: %s: %w", f[1], err)
		}
		content, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("converge: %s: %w", f[1], err)
		}
		files[f[1]] = string(content)
	}
	return files, nil
}
