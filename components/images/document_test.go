package images_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/components/images/imagetest"
	"github.com/hipaa-platform/platform/internal/hosttest"
)

// TestTheComponentsCarryEachFileOnceAsItIs reads the component documents back: together they write every
// file of files/ once, byte for byte, into images.Dir, executable where it is a script run on its own; no
// file holds "{{", which AWSTOE would read as a variable (it has no escape); and each document fits
// Image Builder's inline limit.
func TestTheComponentsCarryEachFileOnceAsItIs(t *testing.T) {
	t.Parallel()
	entries, err := fs.ReadDir(images.Files, "files")
	if err != nil {
		t.Fatal(err)
	}
	written := map[string]int{}
	for _, f := range imagetest.Files(t) {
		written[f.Path]++
		name, ok := strings.CutPrefix(f.Path, images.Dir+"/")
		if !ok {
			t.Errorf("a component writes %s, outside %s", f.Path, images.Dir)
			continue
		}
		want, err := images.Script(name)
		if err != nil {
			t.Errorf("a component writes %s, which is not a file of the build: %v", f.Path, err)
			continue
		}
		if f.Content != want {
			t.Errorf("%s as a component writes it differs from files/%s", f.Path, name)
		}
		if mode := map[bool]string{true: "0755", false: "0644"}[strings.HasSuffix(name, ".sh") && name != "image.sh"]; f.Permissions != mode || f.Owner != "root" {
			t.Errorf("%s is written %s by %s, want %s by root", f.Path, f.Permissions, f.Owner, mode)
		}
	}
	for _, e := range entries {
		if n := written[images.Dir+"/"+e.Name()]; n != 1 {
			t.Errorf("files/%s is written by %d components, want 1", e.Name(), n)
		}
		b, _ := fs.ReadFile(images.Files, "files/"+e.Name())
		if strings.Contains(string(b), "{{") {
			t.Errorf("files/%s holds {{, which AWSTOE would substitute", e.Name())
		}
	}
	variable := regexp.MustCompile(`\{\{\s*([^}]*?)\s*\}\}`)
	for _, c := range images.Components() {
		doc, err := images.ComponentDocument("hipaa", c)
		if err != nil {
			t.Fatal(err) // over MaxDocument, among others
		}
		t.Logf("component %s: %d of %d characters", c, len(doc), images.MaxDocument)
		for _, m := range variable.FindAllStringSubmatch(doc, -1) {
			if m[1] != images.RoleParameter {
				t.Errorf("component %s uses the variable %q; it has only %s", c, m[1], images.RoleParameter)
			}
		}
		for _, phase := range []string{"build", "validate", "test"} {
			for _, script := range imagetest.Commands(t, c, phase, "db") {
				if !strings.HasPrefix(script, "set -euo pipefail\n") {
					t.Errorf("component %s's %s step does not stop at the first failure:\n%s", c, phase, script)
				}
			}
		}
	}
	if _, err := images.ComponentDocument("hipaa", "nope"); err == nil || !strings.Contains(err.Error(), "want one of sources, install, harden, check") {
		t.Errorf("an unknown component: %v", err)
	}
}

// TestTheVersionFollowsTheFiles: a version of the form Image Builder takes, the same for the same files.
func TestTheVersionFollowsTheFiles(t *testing.T) {
	t.Parallel()
	v, err := images.Version()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := images.Version()
	if !regexp.MustCompile(`^1\.0\.\d{1,10}$`).MatchString(v) || v != again {
		t.Errorf("version %q then %q, want one 1.0.N for the same files", v, again)
	}
}

// TestTheSourcesStepRefusesAMirrorOverPlainHTTP runs the sources component for real on roots whose apt
// sources it cannot make HTTPS, or can: Debian's own names it rewrites, another mirror it refuses, naming
// the file.
func TestTheSourcesStepRefusesAMirrorOverPlainHTTP(t *testing.T) {
	root := hosttest.Root(t)
	for _, c := range []struct {
		name, file, content string
		want                string // in the file afterwards; empty when the step must fail
	}{
		{"Debian sources in deb822", "etc/apt/sources.list.d/debian.sources",
			"Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\n\nTypes: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\n",
			"URIs: https://deb.debian.org/debian-security"},
		{"Debian mirror list", "etc/apt/mirrors/debian.list", "http://cdn-aws.deb.debian.org/debian\n", "https://cdn-aws.deb.debian.org/debian"},
		{"another mirror", "etc/apt/sources.list", "deb http://mirror.example.net/debian bookworm main\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			layer := imagetest.WithScripts(t, root)
			path := filepath.Join(layer, c.file)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := imagetest.Run(t, layer, "sources", "build", "db")
			got, _ := os.ReadFile(path)
			if c.want == "" {
				if err == nil || !strings.Contains(out, "not HTTPS") || !strings.Contains(out, "/"+c.file) {
					t.Errorf("the step did not refuse %s: %v\n%s", c.content, err, out)
				}
				return
			}
			if err != nil || !strings.Contains(string(got), c.want) || strings.Contains(string(got), "http://") {
				t.Errorf("the step: %v\n%s\nleft %s as:\n%s", err, out, c.file, got)
			}
		})
	}
}
