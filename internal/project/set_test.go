package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/refusal"
)

func TestSetStackValueChangesOneKeyAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	p := fixture(t, map[string]string{"dev": `# the dev stack
config:
  aws:region: eu-west-1 # Ireland
  demo:zones: 3
  demo:dbPassword:
    secure: v1:abcdef
`, "empty": ""})
	if err := p.SetStackValue("dev", "zones", 2); err != nil {
		t.Fatal(err)
	}
	if err := p.SetStackValue("dev", "emails", []string{"a@example.com", "b@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := p.SetStackValue("empty", "cidr", "10.1.0.0/16"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(p.Dir, "Pulumi.dev.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# the dev stack", "aws:region: eu-west-1 # Ireland", "demo:zones: 2",
		"secure: v1:abcdef", "demo:emails: [a@example.com, b@example.com]"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("Pulumi.dev.yaml after the change lacks %q:\n%s", want, data)
		}
	}
	cfg, _, err := p.StackConfig("dev")
	if err != nil {
		t.Fatalf("the changed file no longer reads: %v", err)
	}
	if cfg["demo:zones"] != "2" || cfg["demo:emails"] != `["a@example.com","b@example.com"]` {
		t.Errorf("read back: zones %q, emails %q", cfg["demo:zones"], cfg["demo:emails"])
	}
	if cfg, _, err := p.StackConfig("empty"); err != nil || cfg["demo:cidr"] != "10.1.0.0/16" {
		t.Errorf("a stack file with no settings: cidr %q, %v; want the value set", cfg["demo:cidr"], err)
	}
}

func TestSetStackValueRefusesWhatIsNotDeclared(t *testing.T) {
	t.Parallel()
	p := fixture(t, map[string]string{"dev": "config:\n  demo:zones: 3\n"})
	for _, c := range []struct{ stack, key, want string }{
		{"dev", "zonez", "demo:zonez is not a key Pulumi.yaml declares"},
		{"prod", "zones", `unknown stack "prod"`},
	} {
		err := p.SetStackValue(c.stack, c.key, 1)
		if !refusal.Is(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetStackValue(%s, %s): %v; want a refusal saying %q", c.stack, c.key, err, c.want)
		}
	}
	data, _ := os.ReadFile(filepath.Join(p.Dir, "Pulumi.dev.yaml"))
	if string(data) != "config:\n  demo:zones: 3\n" {
		t.Errorf("a refused change wrote the file:\n%s", data)
	}
}
