package preview

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/project"
)

// requireTool finds a program the test needs, skipping without it (failing under CI, which installs it).
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install %s (apt-get install %s; see .ci/run)", name, pkg)
		}
		t.Skipf("not installed: %s (apt-get install %s)", name, pkg)
	}
	return path
}

// TestEveryRenderedScriptAndCloudConfigPasses checks what every host of every stack runs, as its
// previews render it: each cloud-config passes `cloud-init schema`, and each shell script it writes or
// runs, the tiers' boot scripts and the Systems Manager documents' commands pass shellcheck, and the
// Python programs they install compile.
func TestEveryRenderedScriptAndCloudConfigPasses(t *testing.T) {
	shellcheck := requireTool(t, "shellcheck", "shellcheck")
	cloudInit := requireTool(t, "cloud-init", "cloud-init")
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	stacks, err := p.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	seen := map[[32]byte]bool{}
	// write stores content once, under a name that says where it comes from.
	write := func(name, content string) (string, bool) {
		sum := sha256.Sum256([]byte(content))
		if seen[sum] {
			return "", false
		}
		seen[sum] = true
		path := filepath.Join(dir, fmt.Sprintf("%03d-%s", len(seen), strings.NewReplacer("/", "_", " ", "_").Replace(name)))
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path, true
	}
	var scripts, configs, programs []string
	for _, stack := range append(stacks, "demo-acme") {
		rs, err := Stack(p, stack, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			switch r.Type {
			case "aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate":
				encoded := r.String("userDataBase64")
				if encoded == "" {
					encoded = r.String("userData")
				}
				doc, err := cloudinit.Document(encoded)
				if err != nil {
					t.Fatalf("%s %s: %v", stack, r.Name, err)
				}
				if strings.HasPrefix(doc, "#!") {
					if path, ok := write(r.Name+"-user-data", doc); ok {
						scripts = append(scripts, path)
					}
					continue
				}
				if path, ok := write(r.Name+"-cloud-config.yaml", doc); ok {
					configs = append(configs, path)
				}
				files, err := cloudinit.Files(doc)
				if err != nil {
					t.Fatalf("%s %s: %v", stack, r.Name, err)
				}
				for name, content := range files {
					switch {
					case strings.HasPrefix(content, "#!/usr/bin/python3"):
						if path, ok := write(r.Name+name+".py", content); ok {
							programs = append(programs, path)
						}
					case strings.HasPrefix(content, "#!"):
						if path, ok := write(r.Name+name, content); ok {
							scripts = append(scripts, path)
						}
					}
				}
			case "aws:ssm/document:Document":
				if r.String("documentType") != "Command" {
					continue // Session Manager's preferences run no script
				}
				commands, err := converge.Commands(r.String("content"))
				if err != nil {
					t.Fatalf("%s %s: %v", stack, r.Name, err)
				}
				// Systems Manager runs aws:runShellScript's commands with sh.
				if path, ok := write(r.Name+"-document.sh", "#!/bin/sh\n"+commands); ok {
					scripts = append(scripts, path)
				}
				// What the document alone brings (the first boot leaves it out): hipaa-db.
				files, err := converge.DocumentFiles(r.String("content"))
				if err != nil {
					t.Fatalf("%s %s: %v", stack, r.Name, err)
				}
				for name, content := range files {
					if strings.HasPrefix(content, "#!/usr/bin/python3") {
						if path, ok := write(r.Name+name+".py", content); ok {
							programs = append(programs, path)
						}
					}
				}
			}
		}
	}
	// The Python programs the hosts run (hipaa-db) compile.
	for _, path := range programs {
		if out, err := exec.Command("python3", "-m", "py_compile", path).CombinedOutput(); err != nil {
			t.Errorf("%s does not compile: %v\n%s", filepath.Base(path), err, out)
		}
	}
	if len(scripts) == 0 || len(configs) == 0 || len(programs) == 0 {
		t.Fatalf("found %d scripts, %d programs and %d cloud-configs; the previews render hosts", len(scripts), len(programs), len(configs))
	}
	if out, err := exec.Command(shellcheck, append([]string{"--severity=style"}, scripts...)...).CombinedOutput(); err != nil {
		t.Errorf("shellcheck of %d scripts: %v\n%s", len(scripts), err, out)
	}
	for _, c := range configs {
		if out, err := exec.Command(cloudInit, "schema", "--config-file", c).CombinedOutput(); err != nil {
			t.Errorf("cloud-init schema %s: %v\n%s", filepath.Base(c), err, out)
		}
	}
	t.Logf("shellcheck: %d scripts; python3 -m py_compile: %d programs; cloud-init schema: %d cloud-configs, of %d stacks",
		len(scripts), len(programs), len(configs), len(stacks)+1)
}
