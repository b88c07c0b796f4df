package images

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/database"
)

func TestEachRolePinsItsPackages(t *testing.T) {
	t.Parallel()
	for role, want := range map[string][]string{
		"db":         {"postgresql-15", "postgresql-15-pgaudit", "pgbackrest", "patroni", "etcd-server", "nagios-nrpe-server", "auditd", "chrony"},
		"monitoring": {"nagios4-core", "nagios-nrpe-plugin", "etcd-server", "monitoring-plugins-basic", "auditd", "chrony"},
	} {
		pins, err := Packages(role)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range pins {
			if seen[p.Package] {
				t.Errorf("%s: %s is pinned twice", role, p.Package)
			}
			seen[p.Package] = true
			// A pin names a release and leaves Debian's revision free: a bare "*" or an exact version would not.
			if !regexp.MustCompile(`^[0-9:.]+[0-9][-.*]`).MatchString(p.Release) || !strings.HasSuffix(p.Release, "*") {
				t.Errorf("%s: %s is pinned to %q; want a release pattern such as 3.0.2-*", role, p.Package, p.Release)
			}
		}
		for _, p := range want {
			if !seen[p] {
				t.Errorf("the %s image does not pin %s", role, p)
			}
		}
		if role == "monitoring" && seen["postgresql-15"] {
			t.Error("the monitoring image pins PostgreSQL")
		}
	}
	if _, err := Packages("web"); err == nil || !strings.Contains(err.Error(), `"web": want one of db, monitoring`) {
		t.Errorf("Packages(web) = %v; want an error naming the roles", err)
	}
}

// The ports a booted database image may listen on are the ports the database component opens to its peers.
func TestTheDatabaseImageListensOnTheDatabasesPorts(t *testing.T) {
	t.Parallel()
	image, err := Script("image.sh")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^db\) LISTEN_PORTS=\(([0-9 ]+)\)`).FindStringSubmatch(image)
	if m == nil {
		t.Fatal("image.sh sets no LISTEN_PORTS for db")
	}
	var got []int
	for _, f := range strings.Fields(m[1]) {
		p, _ := strconv.Atoi(f)
		got = append(got, p)
	}
	want := []int{database.PgPort, database.PatroniRestPort, database.EtcdClientPort, database.EtcdPeerPort, database.PgBackRestTLSPort, database.NrpePort}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("image.sh lets the db image listen on %v; the database component opens %v", got, want)
	}
}

func TestTheScriptsPassShellcheck(t *testing.T) {
	t.Parallel()
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must install shellcheck (see .ci/run)")
		}
		t.Skip("not installed: shellcheck")
	}
	scripts, _ := filepath.Glob("files/*.sh")
	if out, err := exec.Command(shellcheck, append([]string{"-x", "--severity=style"}, scripts...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck %v: %v\n%s", scripts, err, out)
	}
	for _, s := range scripts {
		info, err := os.Stat(s)
		if err != nil {
			t.Fatal(err)
		}
		if executable := info.Mode()&0o111 != 0; executable != (filepath.Base(s) != "image.sh") {
			t.Errorf("%s: executable is %v; the scripts run, image.sh is sourced", s, executable)
		}
	}
}

// A script given a role that is not an image's refuses before it changes anything, naming the roles.
func TestTheScriptsRefuseAnUnknownRole(t *testing.T) {
	t.Parallel()
	for _, script := range []string{"install.sh", "harden.sh", "check.sh"} {
		for _, args := range [][]string{{"web"}, {}} {
			cmd := exec.Command("bash", append([]string{filepath.Join("files", script)}, args...)...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Errorf("%s %v: %v, want exit status 2\n%s", script, args, err, out)
			}
			want := "the role must be db or monitoring, not '" + strings.Join(args, "") + "'"
			if len(args) == 0 && script == "install.sh" {
				want = "usage: install.sh ROLE... (db, monitoring)"
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("%s %v says %q; want %q", script, args, out, want)
			}
		}
	}
}
