// Package imagetest makes, for tests, the roots the platform's hosts boot from: a layer of the Debian 12
// test root (internal/hosttest) with the image build's files in it, hardened for a role by the image's own
// harden.sh, as the image pipeline does. Test code only; it needs root.
package imagetest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/internal/hosttest"
)

// Scripts is where the image build's files are in a root made here: not /tmp, which a container gets
// empty.
const Scripts = "/var/tmp/hipaa-image"

// WithScripts is a layer of root with the image build's files under Scripts.
func WithScripts(t *testing.T, root string) string {
	t.Helper()
	layer := hosttest.Layer(t, root)
	dir := filepath.Join(layer, Scripts)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(images.Files, "files")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(images.Files, "files/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(e.Name(), ".sh") && e.Name() != "image.sh" {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, mode); err != nil {
			t.Fatal(err)
		}
	}
	return layer
}

// Hardened is the root a host of role boots from: the test root (hosttest.Root) with the build's files,
// hardened by harden.sh. Boot it as a network's root.
func Hardened(t *testing.T, role string) string {
	t.Helper()
	layer := WithScripts(t, hosttest.Root(t))
	if out, err := hosttest.RunIn(layer, Scripts+"/harden.sh", role); err != nil {
		t.Fatalf("harden.sh %s: %v\n%s", role, err, out)
	}
	return layer
}
