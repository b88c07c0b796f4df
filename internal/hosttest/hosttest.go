// Package hosttest boots machines for tests of what the platform's hosts run: each a Debian 12 root
// (built by .ci/host-root from Debian's packages) booted with systemd-nspawn as a container with its own
// systemd, its own address on a bridge of its own, a block device for its data volume, and cloud-init
// reading the host's real user data from a NoCloud seed, so the first boot runs exactly what EC2 would
// hand the host. The only stand-ins are for AWS's APIs (package standin), which the machines reach on
// the bridge's gateway; what a machine gets to reach them (their endpoints, pgBackRest's S3 keys) is
// given as drop-ins, never rendered into the host's files. Test code only; it needs root.
package hosttest

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/internal/standin"
)

// RootEnv names the environment variable that gives the root the machines boot.
const RootEnv = "HIPAA_HOST_ROOT"

// Root returns the root the machines boot, skipping the test where it cannot be had (failing it under
// CI, which builds it).
func Root(t testing.TB) string {
	t.Helper()
	root := os.Getenv(RootEnv)
	var missing string
	switch {
	case os.Geteuid() != 0:
		missing = "root privileges (machines are booted with systemd-nspawn)"
	case root == "":
		missing = RootEnv + ": build the root with `.ci/host-root DIR` and set " + RootEnv + "=DIR"
	default:
		for _, p := range []string{"/lib/systemd/systemd", "/usr/bin/cloud-init", "/usr/lib/postgresql/15/bin/postgres", "/usr/bin/aws"} {
			if _, err := os.Stat(filepath.Join(root, p)); err != nil {
				missing = fmt.Sprintf("%s in %s (rebuild it with .ci/host-root)", p, root)
				break
			}
		}
	}
	if missing == "" {
		for _, tool := range []string{"systemd-nspawn", "nsenter", "losetup", "ip"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = tool + " (apt-get install systemd-container util-linux iproute2)"
				break
			}
		}
	}
	if missing != "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must provide %s (see .ci/run)", missing)
		}
		t.Skipf("not available: %s", missing)
	}
	return root
}

// Network is a bridge the machines are on, with the AWS stand-ins on its gateway.
type Network struct {
	Bridge  string
	Prefix  netip.Prefix
	Gateway netip.Addr
	CA      *standin.CA
	AWS     *standin.AWS
	S3      *standin.S3
	root    string
}

// NewNetwork makes a bridge with a /24 of its own, the CA, and the stand-ins of the AWS APIs, with bucket
// made in S3. Everything is removed when the test ends.
func NewNetwork(t *testing.T, root, bucket string) *Network {
	t.Helper()
	n := &Network{root: root}
	id := lease(t)
	n.Bridge = fmt.Sprintf("hipaa%d", id)
	n.Prefix = netip.MustParsePrefix(fmt.Sprintf("10.77.%d.0/24", id))
	n.Gateway = netip.MustParseAddr(fmt.Sprintf("10.77.%d.1", id))
	_ = run("ip", "link", "del", n.Bridge) // a bridge a killed run left behind: its lease is free
	for _, args := range [][]string{
		// A bridge takes the lowest address of its ports unless it has one of its own: each machine that
		// joins could then change the gateway's address under the others, whose cached one stops answering.
		{"link", "add", n.Bridge, "address", fmt.Sprintf("02:00:0a:4d:%02x:01", id), "type", "bridge"},
		{"addr", "add", n.Gateway.String() + "/24", "dev", n.Bridge},
		{"link", "set", n.Bridge, "up"},
	} {
		if err := run("ip", args...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = run("ip", "link", "del", n.Bridge) })
	var err error
	if n.CA, err = standin.NewCA(); err != nil {
		t.Fatal(err)
	}
	if n.AWS, err = standin.StartAWS(n.Gateway.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.AWS.Close)
	if n.S3, err = standin.StartS3(n.CA, n.Gateway.String(), bucket); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.S3.Close)
	return n
}

// leases is where the networks of every test process on this machine hold their numbers: test binaries
// of several packages run at once, and two networks with one number would share a bridge.
const leases = "/run/hipaa-hosttest"

// lease is a network number (20-219) no other live network holds, held until the test ends. A lease is
// a lock on a file of its own: the kernel frees it when its process ends, however it ends.
func lease(t *testing.T) int {
	t.Helper()
	if err := os.MkdirAll(leases, 0o755); err != nil {
		t.Fatal(err)
	}
	start := os.Getpid() % 200
	for i := range 200 {
		id := (start+i)%200 + 20
		f, err := os.OpenFile(filepath.Join(leases, strconv.Itoa(id)), os.O_CREATE|os.O_RDWR, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			continue
		}
		t.Cleanup(func() { f.Close() })
		return id
	}
	t.Fatalf("every network number in %s is held", leases)
	return 0
}

// Addr is the network's address at offset.
func (n *Network) Addr(offset int) netip.Addr {
	a := n.Prefix.Addr().As4()
	a[3] = byte(offset)
	return netip.AddrFrom4(a)
}

// CAFile is where a machine finds the CA's certificate.
const CAFile = "/etc/hosttest/ca.crt"

// Machine is one booted machine.
type Machine struct {
	Name   string
	Addr   netip.Addr
	dir    string
	root   string
	cmd    *exec.Cmd
	done   chan struct{}
	leader int
	loop   string
	units  []string
}

// Config describes a machine.
type Config struct {
	Name string
	Addr netip.Addr
	// UserData is the host's user data as EC2 receives it (gzipped or not), for cloud-init's NoCloud seed.
	UserData []byte
	// DataDevice, when set, is where a block device of DiskMiB appears in the machine.
	DataDevice string
	DiskMiB    int
	// Environment is given to each of Units with a drop-in: how the machine reaches the stand-ins.
	Environment map[string]string
	Units       []string
	// Files are further files of the test's own (path to content); Executables the same, executable.
	Files, Executables map[string]string
}

// Boot boots a machine and waits until its systemd has reached its default target.
func (n *Network) Boot(t *testing.T, c Config) *Machine {
	t.Helper()
	m := &Machine{Name: c.Name, Addr: c.Addr, dir: t.TempDir(), done: make(chan struct{}), units: c.Units}
	var err error
	if m.root, err = overlay(n.root, m.dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.stop)

	files := map[string]string{
		"/etc/systemd/network/05-hosttest-host0.network": fmt.Sprintf("[Match]\nName=host0\n\n[Network]\nAddress=%s/24\nGateway=%s\nLinkLocalAddressing=no\n", c.Addr, n.Gateway),
		"/var/lib/cloud/seed/nocloud/meta-data":          fmt.Sprintf("instance-id: i-%s\nlocal-hostname: %s\n", c.Name, c.Name),
		"/var/lib/cloud/seed/nocloud/user-data":          string(c.UserData),
		// The machine's address is the test's, as EC2's DHCP gives the host its fixed one; its locale is
		// one every Debian root has.
		"/etc/cloud/cloud.cfg.d/99-hosttest.cfg": "datasource_list: [NoCloud, None]\nnetwork: {config: disabled}\nlocale: C.UTF-8\n",
		CAFile:                                   string(n.CA.PEM()),
	}
	var env []string
	for _, k := range slices.Sorted(maps.Keys(c.Environment)) {
		env = append(env, fmt.Sprintf("Environment=%q", k+"="+c.Environment[k]))
	}
	for _, u := range c.Units {
		files["/etc/systemd/system/"+u+".d/hosttest.conf"] = "# hosttest: the AWS stand-ins\n[Service]\n" + strings.Join(env, "\n") + "\n"
	}
	for p, content := range c.Files {
		files[p] = content
	}
	write := func(p, content string, mode os.FileMode) {
		full := filepath.Join(m.root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	for p, content := range files {
		write(p, content, 0o644)
	}
	for p, content := range c.Executables {
		write(p, content, 0o755)
	}
	if err := os.Symlink("/lib/systemd/system/systemd-networkd.service", filepath.Join(m.root, "etc/systemd/system/multi-user.target.wants/systemd-networkd.service")); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatal(err)
	}

	args := []string{"-q", "-D", m.root, "--boot", "--register=no", "--keep-unit", "-M", c.Name, "--network-bridge=" + n.Bridge}
	if c.DataDevice != "" {
		disk := filepath.Join(m.dir, "disk.img")
		if err := os.Truncate(mustCreate(t, disk), int64(c.DiskMiB)<<20); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("losetup", "-f", "--show", disk).Output()
		if err != nil {
			t.Fatalf("losetup: %v", err)
		}
		m.loop = strings.TrimSpace(string(out))
		// The machine may make a file system on its device and mount it, as an EC2 host does.
		args = append(args, "--bind="+m.loop+":"+c.DataDevice, "--capability=CAP_SYS_ADMIN")
	}
	console, err := os.Create(filepath.Join(m.dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	m.cmd = exec.Command("systemd-nspawn", args...)
	// The machine's systemd gets a cgroup v2 hierarchy of its own: under the legacy hierarchies, it can
	// neither kill nor remove a finished unit's cgroup, and cannot start the unit again (219/CGROUP).
	m.cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	m.cmd.Stdout, m.cmd.Stderr = console, console
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = m.cmd.Wait(); console.Close(); close(m.done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if m.leader == 0 {
			m.leader = child(m.cmd.Process.Pid, "systemd")
		}
		// Booted when the default target is reached; the units started at boot (a converge run that
		// waits for its primary) may still be running.
		if m.leader != 0 {
			if state, _ := m.Exec("systemctl", "is-active", "multi-user.target"); strings.TrimSpace(state) == "active" {
				return m
			}
		}
		select {
		case <-m.done:
			t.Fatalf("%s stopped while booting:\n%s", c.Name, m.Console())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not boot in 2 minutes:\n%s", c.Name, m.Console())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Exec runs a command in the machine, as root, and returns its combined output.
func (m *Machine) Exec(args ...string) (string, error) {
	cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(m.leader), "-m", "-u", "-i", "-n", "-p", "--"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %s: %w\n%s", m.Name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// Start starts a unit and waits for it, as `systemctl start` does. This machine's systemd sometimes
// believes a unit's cgroup still exists after it removed it, and fails the next start at once with
// 219/CGROUP ("Failed to attach to cgroup ...: No such file or directory"): a start refused that way,
// before the unit ran anything, is made again, up to three times.
func (m *Machine) Start(unit string) (string, error) {
	return m.retryCGroup(func() (string, error) { return m.Exec("systemctl", "start", unit) })
}

// Run runs a shell script in the machine, as Systems Manager's aws:runShellScript does, made again as
// Start says when its unit start was refused before it ran.
func (m *Machine) Run(script string) (string, error) {
	return m.retryCGroup(func() (string, error) { return m.Exec("bash", "-c", script) })
}

func (m *Machine) retryCGroup(do func() (string, error)) (string, error) {
	for attempt := 1; ; attempt++ {
		since := time.Now().Add(-time.Second).Format("2006-01-02 15:04:05")
		out, err := do()
		if err == nil || attempt == 3 {
			return out, err
		}
		journal, _ := m.Exec("journalctl", "--no-pager", "--since", since, "-o", "cat")
		if !strings.Contains(journal, "Failed at step CGROUP") {
			return out, err
		}
		time.Sleep(time.Second)
	}
}

// File reads a file of the machine's root.
func (m *Machine) File(path string) string {
	b, _ := os.ReadFile(filepath.Join(m.root, path))
	return string(b)
}

// Console is what the machine printed on its console.
func (m *Machine) Console() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "console.log"))
	return string(b)
}

// WaitFor polls check every half second until it holds, failing the test after timeout with what
// explains the machine's state: explain's, then the machine's own (Diagnose).
func (m *Machine) WaitFor(t *testing.T, what string, timeout time.Duration, check func() bool, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out after %s waiting for %s\n%s\n%s", m.Name, timeout, what, explain(), m.Diagnose())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// Diagnose is what a person would look at on a machine that did not do what it should: the jobs
// systemd still has queued, the failed units, cloud-init's status and output, the state and journal of
// the machine's own units, and the end of its console.
func (m *Machine) Diagnose() string {
	var b strings.Builder
	section := func(title string, args ...string) {
		out, err := m.Exec(args...)
		if err != nil && out == "" {
			out = err.Error()
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", title, strings.TrimRight(out, "\n"))
	}
	section("queued jobs", "systemctl", "list-jobs", "--no-pager")
	section("failed units", "systemctl", "--failed", "--no-pager")
	section("cloud-init", "cloud-init", "status", "--long")
	section("cloud-init output (end)", "tail", "-n", "30", "/var/log/cloud-init-output.log")
	for _, u := range m.units {
		section(u, "systemctl", "status", "--no-pager", "-n", "40", u)
	}
	console := m.Console()
	if len(console) > 4000 {
		console = console[len(console)-4000:]
	}
	fmt.Fprintf(&b, "--- console (end)\n%s", console)
	return b.String()
}

func (m *Machine) stop() {
	if m.cmd != nil && m.cmd.Process != nil {
		// The machine is thrown away: killing its init ends every process of its PID namespace, and
		// systemd-nspawn then exits and removes its network interface.
		if m.leader != 0 {
			_ = syscall.Kill(m.leader, syscall.SIGKILL)
		}
		select {
		case <-m.done:
		case <-time.After(20 * time.Second):
			_ = m.cmd.Process.Kill()
			<-m.done
		}
	}
	_ = run("umount", "-l", m.root)
	if m.loop != "" {
		_ = run("losetup", "-d", m.loop)
	}
}

// child is the process whose parent is pid and whose name is comm; 0 for none.
func child(pid int, comm string) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 {
			continue
		}
		fields := strings.Fields(s[close+1:])
		if len(fields) > 1 && s[open+1:close] == comm && fields[1] == strconv.Itoa(pid) {
			return p
		}
	}
	return 0
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func mustCreate(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path
}
