package project

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// DemoPrefix starts every demo stack's name.
const DemoPrefix = "demo-"

// DemoProfileFile holds the demo stacks' settings, beside the stages' stack files.
const DemoProfileFile = "demo-profile.yaml"

var demoName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,18}[a-z0-9]$`)

// DemoStack is the stack name of demo name, or a refusal saying what a name may be.
func DemoStack(name string) (string, error) {
	if !demoName.MatchString(name) || strings.Contains(name, "--") {
		return "", refusal.New("demo name %q: want 2 to 20 lower-case letters, digits and single hyphens, starting with a letter (it becomes stack %s<name> and part of resource names)", name, DemoPrefix)
	}
	return DemoPrefix + name, nil
}

// DemoName is the demo's name of a demo stack, and whether stack is one.
func DemoName(stack string) (string, bool) {
	name, ok := strings.CutPrefix(stack, DemoPrefix)
	if !ok {
		return "", false
	}
	if _, err := DemoStack(name); err != nil {
		return "", false
	}
	return name, true
}

// Demo is what makes one demo stack of the profile.
type Demo struct {
	// Name is the demo's name; its stack is DemoPrefix+Name.
	Name string
	// Owner is who it is for; ExpiresAt (RFC 3339) when it may be reaped; Release what it runs.
	Owner, ExpiresAt, Release string
}

// DemoSettings are demo d's own settings, as platformctl sets them on its stack and the CLI takes them
// (objects as JSON): the profile with the demo's name, the tags naming the project, stack, owner and
// expiry, the expiry itself and the release.
func (p *Project) DemoSettings(d Demo) (map[string]string, error) {
	values, err := p.demoValues(d)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		if out[k], err = encode(v); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", DemoProfileFile, k, err)
		}
	}
	return out, nil
}

// DemoConfig is what the program receives for demo d: the declared defaults overlaid with the demo's
// settings, checked as a stack file's are (see StackConfig).
func (p *Project) DemoConfig(d Demo) (map[string]string, []string, error) {
	values, err := p.demoValues(d)
	if err != nil {
		return nil, nil, err
	}
	return p.resolve(DemoPrefix+d.Name, values)
}

func (p *Project) demoValues(d Demo) (map[string]any, error) {
	stack, err := DemoStack(d.Name)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(p.Dir, DemoProfileFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the demo profile: %w", err)
	}
	var sf stackFile
	if err := yaml.Unmarshal(data, &sf); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	values := make(map[string]any, len(sf.Config)+3)
	for k, v := range maps.All(sf.Config) {
		if s, ok := v.(string); ok {
			v = strings.ReplaceAll(s, "{name}", d.Name)
		}
		values[p.qualify(k)] = v
	}
	tags, err := json.Marshal(map[string]map[string]string{"tags": {
		"Project": p.Name, "Environment": stack, "Owner": d.Owner, "ExpiresAt": d.ExpiresAt,
	}})
	if err != nil {
		return nil, err
	}
	var tagValue any
	_ = json.Unmarshal(tags, &tagValue) // an object, as a stack file holds it
	values["aws:defaultTags"] = tagValue
	values[p.Name+":expiresAt"] = d.ExpiresAt
	values[p.Name+":release"] = d.Release
	return values, nil
}
