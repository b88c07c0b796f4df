package app

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/hosttest"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
	"github.com/hipaa-platform/platform/internal/standin"
)

// dockerStandIn stands in for the Docker CLI and engine, which this machine does not have: it records
// the converge script's calls and keeps the state the script asks about (images pulled, containers with
// their running state and spec label). It runs nothing.
const dockerStandIn = `#!/bin/bash
set -eu
d=/var/lib/docker-standin
mkdir -p "$d/images" "$d/containers"
echo "$*" >> "$d/calls"
key() { printf '%s' "$1" | sha256sum | cut -c1-16; }
case "$1" in
login) cat > "$d/login-password"; echo "Login Succeeded" ;;
logout) ;;
pull) touch "$d/images/$(key "$2")" ;;
image) [ "$2" = inspect ] && [ -e "$d/images/$(key "$3")" ] ;;
inspect)
  name=${!#}
  [ -e "$d/containers/$name" ] || { echo "Error: No such object: $name" >&2; exit 1; }
  cat "$d/containers/$name" ;;
run)
  shift
  args=("$@") name= spec=
  while [ $# -gt 0 ]; do
    case "$1" in --name) name=$2; shift ;; --label) spec=${2#hipaa.spec=}; shift ;; esac
    shift
  done
  printf '%s\n' "${args[@]}" > "$d/containers/$name.args"
  echo "true $spec" > "$d/containers/$name" ;;
rm) rm -f "$d/containers/${!#}" "$d/containers/${!#}.args" ;;
start) sed -i 's/^false /true /' "$d/containers/$2" ;;
*) echo "docker stand-in: no $1" >&2; exit 1 ;;
esac
`

// dockerUnit stands in for the Docker engine's unit, which the converge script keeps running.
const dockerUnit = "[Unit]\nDescription=the Docker engine's stand-in\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n\n[Install]\nWantedBy=multi-user.target\n"

// TestTheBootedWebHostGivesTheContainerItsFilesAndNoMore boots a web tier host from the user data the
// component renders, with stand-ins for the AWS APIs it calls and for Docker. The host fetches the
// container's password, writes it with the CA and its TLS key where only the container's user may read
// them, pulls the release with a registry token and runs it as that user with the files mounted
// read-only; a second run changes nothing, a stopped container is started again, and a rotated password
// reaches the file without replacing the container.
func TestTheBootedWebHostGivesTheContainerItsFilesAndNoMore(t *testing.T) {
	root := hosttest.Root(t)
	n := hosttest.NewNetwork(t, root, "unused")
	rs := tier.MustRun(t, webArgs())
	userData, err := base64.StdEncoding.DecodeString(offlinetest.One(t, rs, "aws:ec2/launchTemplate:LaunchTemplate").String("userData"))
	if err != nil {
		t.Fatal(err)
	}
	n.AWS.SetSecret(secret, "app-Passw0rd-1")
	unit := "hipaa-web-converge.service"
	m := n.Boot(t, hosttest.Config{
		Name: "web", Addr: n.Addr(0), UserData: userData,
		Environment: map[string]string{"HIPAA_AWS_ENDPOINT": n.AWS.URL, "AWS_EC2_METADATA_SERVICE_ENDPOINT": n.AWS.URL + "/"},
		Units:       []string{unit},
		Files:       map[string]string{"/etc/systemd/system/docker.service": dockerUnit},
		Executables: map[string]string{"/usr/local/bin/docker": dockerStandIn},
	})
	log := func() string { return m.File("/var/log/hipaa/converge.log") }
	m.WaitFor(t, "the first converge run", 3*time.Minute, func() bool { return strings.Contains(log(), ": converged: ") }, log)
	for _, want := range []string{"changed: pulled " + image, "changed: started the web container", "changed: made the host's TLS key", "changed: /run/hipaa/web/database-credentials.json"} {
		if !strings.Contains(log(), want) {
			t.Errorf("the first run lacks %q:\n%s", want, log())
		}
	}
	if ms := n.AWS.Metrics("Converged", "hipaa-unit-web"); len(ms) == 0 || ms[len(ms)-1].Value != "1" {
		t.Errorf("the host published %v, want Converged 1 under the tier's name", ms)
	}
	if got := strings.TrimSpace(m.File("/var/lib/docker-standin/login-password")); got != standin.RegistryPassword {
		t.Errorf("docker login was given %q, not the registry token's password", got)
	}
	run := strings.Join(strings.Fields(m.File("/var/lib/docker-standin/containers/web.args")), " ")
	for _, want := range []string{"--user 10001:10001", "--read-only", "--cap-drop ALL", "--volume /run/hipaa/web:/run/secrets/platform:ro",
		"--env DATABASE_CREDENTIALS_FILE=/run/secrets/platform/database-credentials.json", "--env DATABASE_CA_FILE=/run/secrets/platform/database-ca.pem",
		"--env TLS_KEY_FILE=/run/secrets/platform/tls.key", "--log-opt awslogs-stream=i-0standin0000000", "--publish 443:8443"} {
		if !strings.Contains(run, want) {
			t.Errorf("the container is run without %q:\n%s", want, run)
		}
	}
	if strings.Contains(run, "Passw0rd") || strings.Contains(run, "secretsmanager") {
		t.Errorf("the container is given a secret or its ARN:\n%s", run)
	}

	// Sessions have their unprivileged user, as on the account's own images.
	if out, err := m.Exec("id", "-Gn", hostrole.SessionUser); err != nil || out != hostrole.SessionUser+"\n" {
		t.Errorf("the session user %s: %v %q, want a user in its own group only", hostrole.SessionUser, err, out)
	}

	// The files are the container's user's alone: it reads them, another user reads none, and it reads
	// nothing of the host's own setup.
	as := func(uid string, args ...string) (string, error) {
		return m.Exec(append([]string{"setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--"}, args...)...)
	}
	if out, _ := m.Exec("stat", "-c", "%a %u:%g", "/run/hipaa/web", "/run/hipaa/web/database-credentials.json", "/run/hipaa/web/tls.key", "/run/hipaa/web/database-ca.pem"); out != "500 10001:10001\n400 10001:10001\n400 10001:10001\n400 10001:10001\n" {
		t.Errorf("the container's files have the modes and owners:\n%s", out)
	}
	if out, err := as("10001", "cat", "/run/hipaa/web/database-credentials.json"); err != nil || out != "app-Passw0rd-1" {
		t.Errorf("the container's user cannot read its password: %v %q", err, out)
	}
	if out, err := as("10001", "head", "-c", "27", "/run/hipaa/web/tls.key"); err != nil || out != "-----BEGIN PRIVATE KEY-----" {
		t.Errorf("the container's user cannot read its TLS key: %v %q", err, out)
	}
	for _, path := range []string{"/usr/local/sbin/hipaa-web-converge", "/var/lib/hipaa/converged"} {
		if _, err := as("10001", "cat", path); err == nil {
			t.Errorf("the container's user reads %s", path)
		}
	}
	if _, err := as("10002", "cat", "/run/hipaa/web/database-credentials.json"); err == nil {
		t.Error("another user reads the container's password")
	}

	// Again: nothing changes.
	mark := len(log())
	if _, err := m.Start(unit); err != nil {
		t.Fatal(err)
	}
	if again := log()[mark:]; !strings.Contains(again, "converged: 0 change(s)") {
		t.Errorf("the second run changed something:\n%s", again)
	}
	// A container that stopped is started again; a rotated password reaches its file, and the container
	// that reads it stays.
	if _, err := m.Exec("sed", "-i", "s/^true /false /", "/var/lib/docker-standin/containers/web"); err != nil {
		t.Fatal(err)
	}
	n.AWS.SetSecret(secret, "app-Passw0rd-2")
	mark = len(log())
	if _, err := m.Start(unit); err != nil {
		t.Fatal(err)
	}
	last := log()[mark:]
	for _, want := range []string{"changed: started the web container again", "changed: /run/hipaa/web/database-credentials.json", "converged: 2 change(s)"} {
		if !strings.Contains(last, want) {
			t.Errorf("the run after a stop and a rotation lacks %q:\n%s", want, last)
		}
	}
	if out, _ := as("10001", "cat", "/run/hipaa/web/database-credentials.json"); out != "app-Passw0rd-2" {
		t.Errorf("the rotated password is not in the file: %q", out)
	}
}
