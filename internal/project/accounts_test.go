package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTheRepositorysAccountsPutEachStackInOne(t *testing.T) {
	t.Parallel()
	p, err := Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	accts, err := p.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	for stack, want := range map[string]string{"dev": "nonprod", "qa": "nonprod", "account-nonprod": "nonprod", "prod": "prod", "account-prod": "prod", "demo-acme": "nonprod"} {
		if a, ok := AccountOf(accts, stack); !ok || a.Name != want {
			t.Errorf("%s is in %q (%v), want %s", stack, a.Name, ok, want)
		}
	}
	if a := (Account{Backend: "s3://state?region=us-east-1", Profile: "hipaa-prod"}); a.Env()["PULUMI_BACKEND_URL"] != "s3://state?region=us-east-1" || a.Env()["AWS_PROFILE"] != "hipaa-prod" {
		t.Errorf("env %v", a.Env())
	}
	if len((Account{}).Env()) != 0 {
		t.Error("an account without a backend or profile changes the environment")
	}
}

func TestBadAccountsAreRefusedNamingTheKey(t *testing.T) {
	t.Parallel()
	for want, body := range map[string]string{
		`accounts.prod.stacks[0] "staging": no Pulumi.staging.yaml`: "accounts:\n  prod: {stacks: [staging]}\n",
		`accounts.b.stacks[0] "dev" is also a's`:                    "accounts:\n  a: {stacks: [dev]}\n  b: {stacks: [dev]}\n",
		`accounts.b.demos: the demos are already a's`:               "accounts:\n  a: {demos: true}\n  b: {demos: true}\n",
		`accounts.a.backend "bucket": want a backend URL`:           "accounts:\n  a: {backend: bucket}\n",
		`account "Prod": want a short lower-case name`:              "accounts:\n  Prod: {}\n",
		`field region not found`:                                    "accounts:\n  a: {region: us-east-1}\n",
	} {
		dir := t.TempDir()
		for name, content := range map[string]string{"Pulumi.yaml": "name: hipaa\nruntime: go\n", "Pulumi.dev.yaml": "config: {}\n", AccountsFile: body} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Accounts(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}
