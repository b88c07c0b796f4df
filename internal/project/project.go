// Package project reads the Pulumi project file and its stack files and produces the configuration a
// stack's program receives, as the Pulumi CLI would: the defaults declared in Pulumi.yaml, overlaid with
// the stack's own Pulumi.<stack>.yaml. It lets the offline preview and the tests run the real program with
// a stack's real settings, without the CLI.
package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/placeholder"
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

type stackFile struct {
	Config map[string]any `yaml:"config"`
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

// qualify names a declared key as the program sees it: "hipaa:vpcCidr" for "vpcCidr".
func (p *Project) qualify(key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return p.Name + ":" + key
}

// StackConfig returns the configuration the program receives for stack, and which of its keys are
// secret. An unknown stack, an undeclared key in the project's namespace, or a value of the wrong type is
// an error naming the file and key.
func (p *Project) StackConfig(stack string) (map[string]string, []string, error) {
	stacks, err := p.Stacks()
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(stacks, stack) {
		return nil, nil, fmt.Errorf("unknown stack %q: the stacks of project %s are %s", stack, p.Name, strings.Join(stacks, ", "))
	}
	path := filepath.Join(p.Dir, "Pulumi."+stack+".yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading stack settings: %w", err)
	}
	var sf stackFile
	if err := yaml.Unmarshal(data, &sf); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}

	cfg := map[string]string{}
	var secrets []string
	declared := map[string]Key{}
	for k, decl := range p.Config {
		q := p.qualify(k)
		declared[q] = decl
		if decl.Default != nil {
			s, err := encode(decl.Default)
			if err != nil {
				return nil, nil, fmt.Errorf("Pulumi.yaml: default of %s: %w", q, err)
			}
			cfg[q] = s
		}
	}

	var errs []error
	for _, k := range slices.Sorted(maps.Keys(sf.Config)) {
		v := sf.Config[k]
		q := p.qualify(k)
		if obj, ok := v.(map[string]any); ok && len(obj) == 1 && obj["secure"] != nil {
			cfg[q] = placeholder.Secret // only the CLI can decrypt a secure: value
			secrets = append(secrets, q)
			continue
		}
		if strings.HasPrefix(q, p.Name+":") {
			decl, ok := declared[q]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: %s is not declared in Pulumi.yaml", path, q))
				continue
			}
			if err := checkType(decl, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", path, q, err))
				continue
			}
			if decl.Secret {
				errs = append(errs, fmt.Errorf("%s: %s is a secret and is stored in plaintext; set it with `pulumi config set --secret %s`", path, q, k))
				continue
			}
		}
		s, err := encode(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", path, q, err))
			continue
		}
		cfg[q] = s
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	sort.Strings(secrets)
	return cfg, secrets, nil
}

// encode renders a YAML value the way the CLI hands it to a program: scalars as text, objects and arrays
// as JSON.
func encode(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Like the CLI, it accepts a quoted scalar that reads as the declared type: `pulumi config set` writes
// every value as a string ("2", "true").
func checkType(decl Key, v any) error {
	ok := false
	text, isString := v.(string)
	switch decl.Type {
	case "string":
		ok = isString
	case "integer":
		_, ok = v.(int)
		if isString {
			_, err := strconv.Atoi(text)
			ok = err == nil
		}
	case "boolean":
		_, ok = v.(bool)
		ok = ok || isString && (text == "true" || text == "false")
	case "array":
		_, ok = v.([]any)
		if isString {
			var items []any
			ok = json.Unmarshal([]byte(text), &items) == nil
		}
	}
	if !ok {
		return fmt.Errorf("got %v, want a value of type %s", v, decl.Type)
	}
	return nil
}
