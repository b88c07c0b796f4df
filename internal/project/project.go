// Package project reads the Pulumi project file, its stack files and the demo profile, and produces the
// configuration a stack's program receives, as the Pulumi CLI would: the defaults declared in Pulumi.yaml,
// overlaid with the stack's own Pulumi.<stack>.yaml (or a demo's settings, from demo-profile.yaml). It
// reports every value a file gets wrong as a problem of one ConfigError (keys of no namespace or
// provider, with the nearest known key; types; plaintext secrets), which the program's own checks add
// to. It lets the offline preview and the tests run the real program with a stack's real settings,
// without the CLI.
package project

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Key is one configuration key declared in Pulumi.yaml.
type Key struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	Default     any    `yaml:"default"`
	Secret      bool   `yaml:"secret"`
	Items       *struct {
		Type string `yaml:"type"`
	} `yaml:"items"`
}

// Project is a parsed Pulumi.yaml and the directory it was found in.
type Project struct {
	Dir     string
	Name    string         `yaml:"name"`
	Runtime any            `yaml:"runtime"`
	Config  map[string]Key `yaml:"config"`
}

// stackName is what Pulumi accepts as a stack name.
var stackName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,100}$`)

// Find walks up from dir to the directory holding Pulumi.yaml and loads it.
func Find(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "Pulumi.yaml")); err == nil {
			return Load(d)
		}
		if filepath.Dir(d) == d {
			return nil, fmt.Errorf("no Pulumi.yaml in %s or any directory above it", abs)
		}
	}
}

// Load reads dir/Pulumi.yaml.
func Load(dir string) (*Project, error) {
	path := filepath.Join(dir, "Pulumi.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading project: %w", err)
	}
	p := &Project{Dir: dir}
	if err := yaml.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("%s: no project name", path)
	}
	for k, decl := range p.Config {
		switch decl.Type {
		case "string", "integer", "boolean", "array":
		default:
			return nil, fmt.Errorf("%s: config key %q has type %q; allowed: string, integer, boolean, array", path, k, decl.Type)
		}
	}
	return p, nil
}

// Stacks lists the stacks that have a Pulumi.<stack>.yaml, sorted.
func (p *Project) Stacks() ([]string, error) {
	files, err := filepath.Glob(filepath.Join(p.Dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var stacks []string
	for _, f := range files {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		if stackName.MatchString(s) {
			stacks = append(stacks, s)
		}
	}
	sort.Strings(stacks)
	return stacks, nil
}

// HasStack reports whether the project has a stack file for stack.
func (p *Project) HasStack(stack string) bool {
	stacks, err := p.Stacks()
	return err == nil && slices.Contains(stacks, stack)
}

// RuntimeName is the language runtime the project names (runtime: go, or runtime: {name: go}).
func (p *Project) RuntimeName() string {
	switch r := p.Runtime.(type) {
	case string:
		return r
	case map[string]any:
		name, _ := r["name"].(string)
		return name
	}
	return ""
}
