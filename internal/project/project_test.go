package project

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const projectYAML = `name: demo
runtime: go
config:
  zones:
    type: integer
    description: zones
    default: 2
  cidr:
    type: string
    description: block
    default: 10.0.0.0/16
  emails:
    type: array
    items:
      type: string
    description: who
    default: []
  dbPassword:
    type: string
    description: a secret
    secret: true
  release:
    type: string
    description: the image
    default: ""
  expiresAt:
    type: string
    description: a demo's expiry
    default: ""
`

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func fixture(t *testing.T, stacks map[string]string) *Project {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, "Pulumi.yaml", projectYAML)
	for s, content := range stacks {
		write(t, dir, "Pulumi."+s+".yaml", content)
	}
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStackConfigOverlaysDefaultsAsTheCLIDoes(t *testing.T) {
	t.Parallel()
	p := fixture(t, map[string]string{"dev": `config:
  aws:region: eu-west-1
  aws:defaultTags:
    tags:
      Environment: dev
  demo:zones: 3
  demo:dbPassword:
    secure: v1:abcdef
`})
	cfg, secrets, err := p.StackConfig("dev")
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"demo:zones":      "3",
		"demo:cidr":       "10.0.0.0/16",
		"demo:emails":     "[]",
		"aws:region":      "eu-west-1",
		"aws:defaultTags": `{"tags":{"Environment":"dev"}}`,
		"demo:dbPassword": "[secret]",
	} {
		if cfg[k] != want {
			t.Errorf("%s = %q, want %q", k, cfg[k], want)
		}
	}
	if len(secrets) != 1 || secrets[0] != "demo:dbPassword" {
		t.Errorf("secret keys = %v", secrets)
	}
}

func TestStackConfigRejectsWhatTheProjectDoesNotDeclare(t *testing.T) {
	t.Parallel()
	p := fixture(t, map[string]string{
		"typo":      "config:\n  demo:zonez: 3\n",
		"wrongtype": "config:\n  demo:zones: three\n",
		"plainpw":   "config:\n  demo:dbPassword: hunter2\n",
		"ok":        "config: {}\n",
		"quoted":    "config:\n  demo:zones: \"3\"\n",
	})
	// The CLI writes every value it sets as a string; one that reads as the declared type is accepted.
	if cfg, _, err := p.StackConfig("quoted"); err != nil || cfg["demo:zones"] != "3" {
		t.Errorf("quoted integer: %v, %v", cfg["demo:zones"], err)
	}
	for stack, want := range map[string]string{
		"typo":      "demo:zonez: not declared in Pulumi.yaml; did you mean demo:zones?",
		"wrongtype": "demo:zones: got three, want a value of type integer",
		"plainpw":   "demo:dbPassword: a secret, stored in plaintext; set it with `pulumi config set --secret demo:dbPassword`",
		"nosuch":    `unknown stack "nosuch": the stacks of project demo are ok, plainpw, quoted, typo, wrongtype`,
	} {
		_, _, err := p.StackConfig(stack)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error = %v, want %q", stack, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: the error repeats the plaintext secret: %v", stack, err)
		}
	}
}

// TestStackConfigRefusesKeysNoOneReads: a namespace that is neither the project's nor a provider's, and a
// key a provider does not have, are refused with the nearest known key; every problem of a file comes in
// one report, and the good values are returned all the same.
func TestStackConfigRefusesKeysNoOneReads(t *testing.T) {
	t.Parallel()
	p := fixture(t, map[string]string{"dev": `config:
  dmeo:zones: 3
  aws:regoin: us-east-1
  aws:region: us-east-1
  azure:location: westeurope
  demo:zones: three
  demo:cidr: 10.1.0.0/16
`})
	cfg, _, err := p.StackConfig("dev")
	var cfgErr *ConfigError
	if !errors.As(err, &cfgErr) {
		t.Fatalf("error = %v, want a *ConfigError", err)
	}
	want := map[string]string{
		"dmeo:zones":     `namespace "dmeo" is neither the project's (demo) nor a provider's (aws, docker, pulumi, random, tls); did you mean demo:zones?`,
		"aws:regoin":     "not a setting of the aws provider; did you mean aws:region?",
		"azure:location": `namespace "azure" is neither the project's (demo) nor a provider's (aws, docker, pulumi, random, tls)`,
		"demo:zones":     "got three, want a value of type integer",
	}
	if len(cfgErr.Problems) != len(want) {
		t.Errorf("problems %v, want %d", cfgErr.Problems, len(want))
	}
	for _, p := range cfgErr.Problems {
		if want[p.Key] != p.Message {
			t.Errorf("%s: %q, want %q", p.Key, p.Message, want[p.Key])
		}
	}
	if cfg["demo:cidr"] != "10.1.0.0/16" || cfg["aws:region"] != "us-east-1" || cfg["demo:zones"] != "2" {
		t.Errorf("the good values and the defaults of the bad: %v", cfg)
	}
}

func TestMergeOrdersAndDeduplicates(t *testing.T) {
	t.Parallel()
	a := &ConfigError{Stack: "dev", Problems: []Problem{{"x:b", "1"}, {"x:a", "2"}}}
	b := &ConfigError{Stack: "dev", Problems: []Problem{{"x:a", "2"}, {"x:c", "3"}}}
	got := Merge("dev", a, nil, b, io.EOF)
	var c *ConfigError
	if !errors.As(got, &c) || strings.Join(c.Keys(), ",") != "x:a,x:b,x:c" {
		t.Errorf("Merge = %v", got)
	}
	if Merge("dev", nil, io.EOF) != nil {
		t.Error("Merge of no problems is not nil")
	}
}

func TestDemoConfigIsTheProfileNamedAndTagged(t *testing.T) {
	t.Parallel()
	p := fixture(t, nil)
	write(t, p.Dir, DemoProfileFile, "config:\n  demo:zones: 3\n  demo:cidr: \"10.{name}.0.0/16\"\n")
	d := Demo{Name: "acme", Owner: "dana@example.com", ExpiresAt: "2026-12-04T00:00:00Z", Release: "v1"}
	settings, err := p.DemoSettings(d)
	if err != nil {
		t.Fatal(err)
	}
	if settings["demo:cidr"] != "10.acme.0.0/16" || settings["demo:zones"] != "3" || settings["demo:release"] != "v1" ||
		settings["demo:expiresAt"] != d.ExpiresAt ||
		settings["aws:defaultTags"] != `{"tags":{"Environment":"demo-acme","ExpiresAt":"2026-12-04T00:00:00Z","Owner":"dana@example.com","Project":"demo"}}` {
		t.Errorf("settings %v", settings)
	}
	cfg, _, err := p.DemoConfig(d)
	if err != nil || cfg["demo:emails"] != "[]" || cfg["demo:zones"] != "3" {
		t.Errorf("config %v, %v: want the defaults overlaid with the settings", cfg, err)
	}
	if _, err := p.DemoSettings(Demo{Name: "Acme_Corp"}); err == nil || !strings.Contains(err.Error(), `demo name "Acme_Corp"`) {
		t.Errorf("a bad name: %v", err)
	}
	if name, ok := DemoName("demo-acme"); !ok || name != "acme" {
		t.Errorf("DemoName(demo-acme) = %q, %v", name, ok)
	}
	if _, ok := DemoName("dev"); ok {
		t.Error("dev is a demo stack")
	}
}

func TestFindWalksUpToTheProject(t *testing.T) {
	t.Parallel()
	p := fixture(t, nil)
	sub := filepath.Join(p.Dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	found, err := Find(sub)
	if err != nil || found.Name != "demo" {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if _, err := Find(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no Pulumi.yaml") {
		t.Errorf("Find outside a project: %v", err)
	}
}

// TestTheRepositoryProjectDeclaresEveryKeyFully checks the real Pulumi.yaml: every key has a type, a
// description and (except secrets) a default, and every stack file sets only declared keys.
func TestTheRepositoryProjectDeclaresEveryKeyFully(t *testing.T) {
	t.Parallel()
	p, err := Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	for k, decl := range p.Config {
		if decl.Description == "" || (decl.Default == nil && !decl.Secret) {
			t.Errorf("%s: description %q, default %v: want both", k, decl.Description, decl.Default)
		}
	}
	stacks, _ := p.Stacks()
	for _, s := range stacks {
		cfg, _, err := p.StackConfig(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if cfg["aws:defaultTags"] == "" || cfg["aws:region"] == "" {
			t.Errorf("%s sets no aws:region or aws:defaultTags", s)
		}
	}
}
