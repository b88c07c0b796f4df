package project

import (
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
		"typo":      "demo:zonez is not declared in Pulumi.yaml",
		"wrongtype": "demo:zones: got three, want a value of type integer",
		"plainpw":   "demo:dbPassword is a secret and is stored in plaintext",
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
