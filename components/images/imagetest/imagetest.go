// Package imagetest makes, for tests, the roots the platform's hosts boot from: a layer of the Debian 12
// test root (internal/hosttest) into which the image pipeline's own component documents write their
// files, hardened for a role by the harden component's own commands. It reads the documents as AWSTOE
// would on a build instance (AWSTOE itself is not to be had here): CreateFile writes a file, ExecuteBash
// runs its commands as one bash script, {{ Role }} is the recipe's role. Test code only; it needs root.
package imagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/components/images"
	"github.com/hipaa-platform/platform/internal/hosttest"
)

// Scripts is where the image keeps the build's files, in a root made here as on an instance.
const Scripts = images.Dir

// document is a component document as read back from its YAML.
type document struct {
	Phases []struct {
		Name  string
		Steps []struct {
			Name, Action string
			Inputs       yaml.Node
		}
	}
}

// parse reads the component's document.
func parse(component string) (document, error) {
	var d document
	text, err := images.ComponentDocument("hipaa", component)
	if err != nil {
		return d, err
	}
	if err := yaml.Unmarshal([]byte(text), &d); err != nil {
		return d, fmt.Errorf("component %s: %w", component, err)
	}
	return d, nil
}

// Files are the files the components' CreateFile steps write, in the components' order, with the step
// that writes each.
func Files(t testing.TB) []images.File {
	t.Helper()
	var files []images.File
	for _, c := range images.Components() {
		d, err := parse(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Phases {
			for _, s := range p.Steps {
				if s.Action != "CreateFile" {
					continue
				}
				var fs []images.File
				if err := s.Inputs.Decode(&fs); err != nil {
					t.Fatalf("component %s, step %s: %v", c, s.Name, err)
				}
				files = append(files, fs...)
			}
		}
	}
	return files
}

// Commands are the bash scripts of the component's ExecuteBash steps in phase, for role.
func Commands(t testing.TB, component, phase, role string) []string {
	t.Helper()
	d, err := parse(component)
	if err != nil {
		t.Fatal(err)
	}
	var scripts []string
	for _, p := range d.Phases {
		if p.Name != phase {
			continue
		}
		for _, s := range p.Steps {
			if s.Action != "ExecuteBash" {
				continue
			}
			var in images.Bash
			if err := s.Inputs.Decode(&in); err != nil {
				t.Fatalf("component %s, step %s: %v", component, s.Name, err)
			}
			scripts = append(scripts, strings.ReplaceAll(strings.Join(in.Commands, "\n"), "{{ "+images.RoleParameter+" }}", role))
		}
	}
	return scripts
}

// Run runs the component's commands of phase for role in root, as AWSTOE runs them on an instance, and
// returns their output; it stops at the first step that fails.
func Run(t testing.TB, root, component, phase, role string) (string, error) {
	t.Helper()
	var out strings.Builder
	for _, script := range Commands(t, component, phase, role) {
		o, err := hosttest.RunIn(root, "bash", "-c", script)
		out.WriteString(o)
		if err != nil {
			return out.String(), err
		}
	}
	return out.String(), nil
}

// WithScripts is a layer of root with the files every component writes, where it writes them.
func WithScripts(t *testing.T, root string) string {
	t.Helper()
	layer := hosttest.Layer(t, root)
	for _, f := range Files(t) {
		path := filepath.Join(layer, f.Path)
		mode, err := strconv.ParseUint(f.Permissions, 8, 32)
		if err != nil {
			t.Fatalf("%s: permissions %q: %v", f.Path, f.Permissions, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(f.Content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, os.FileMode(mode)); err != nil {
			t.Fatal(err)
		}
	}
	return layer
}

// Hardened is the root a host of role boots from: the test root (hosttest.Root) with the build's files,
// hardened by the harden component's commands. Boot it as a network's root.
func Hardened(t *testing.T, role string) string {
	t.Helper()
	layer := WithScripts(t, hosttest.Root(t))
	if out, err := Run(t, layer, "harden", "build", role); err != nil {
		t.Fatalf("the harden component for %s: %v\n%s", role, err, out)
	}
	return layer
}
