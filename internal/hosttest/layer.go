package hosttest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// Layer is a writable copy of root for one test: an overlay over it, which the test may change (an image's
// hardening, say) and then boot as a network's root or layer again. Root itself is never written. It is
// unmounted when the test ends. Overlays stack two deep at most: a layer of a layer may be run, not booted.
func Layer(t *testing.T, root string) string {
	t.Helper()
	merged, err := overlay(root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = run("umount", "-l", merged) })
	return merged
}

// overlay mounts a writable overlay of lower at dir/root, its changes kept in dir/upper, and returns
// dir/root. The caller unmounts it.
func overlay(lower, dir string) (string, error) {
	merged := filepath.Join(dir, "root")
	for _, d := range []string{"upper", "work", "root"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	err := run("mount", "-t", "overlay", "overlay", "-o",
		fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, filepath.Join(dir, "upper"), filepath.Join(dir, "work")), merged)
	return merged, err
}

var containers atomic.Int64

// RunIn runs a command in root without booting it, as a build step runs in an image being made: in a
// container of its own (systemd-nspawn without --boot: its own /proc, /dev and a private /tmp, no
// network, no init), as root. It returns the command's combined output; the error says how it exited.
func RunIn(root string, args ...string) (string, error) {
	name := fmt.Sprintf("hosttest-run-%d-%d", os.Getpid(), containers.Add(1))
	cmd := exec.Command("systemd-nspawn", append([]string{"-q", "-D", root, "--register=no", "--keep-unit", "-M", name,
		"--private-network", "--pipe", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	// systemd-nspawn's own note on leaving a root that is a mount of its own, not the command's output.
	var kept []string
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		if !strings.HasPrefix(line, "Attempted to remove disk file system under") {
			kept = append(kept, line)
		}
	}
	if err != nil {
		return strings.Join(kept, ""), fmt.Errorf("%s in %s: %w", strings.Join(args, " "), root, err)
	}
	return strings.Join(kept, ""), nil
}
