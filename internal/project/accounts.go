package project

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// AccountsFile says, beside the stack files, which account each stack deploys to, where that account's
// state lives and whose credentials update it: platformctl reads it; the program does not.
const AccountsFile = "accounts.yaml"

// Account is one AWS account's stacks and how to reach them.
type Account struct {
	Name string `yaml:"-"`
	// Backend is the Pulumi backend of the account's stacks (s3://BUCKET?region=...); empty for the
	// environment's (PULUMI_BACKEND_URL, or pulumi login).
	Backend string `yaml:"backend"`
	// Profile is the AWS profile (which may assume a role) that updates the account's stacks; empty for
	// the environment's credentials.
	Profile string `yaml:"profile"`
	// Stacks are the account's stacks; Demos says the demo stacks are the account's too.
	Stacks []string `yaml:"stacks"`
	Demos  bool     `yaml:"demos"`
}

var (
	accountName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)
	profileName = regexp.MustCompile(`^[A-Za-z0-9_.+=,@-]{1,64}$`)
)

// Accounts reads AccountsFile; none when the project has no such file, every stack then being the
// environment's. Each stack of the project belongs to at most one account, and at most one account has
// the demos.
func (p *Project) Accounts() ([]Account, error) {
	path := filepath.Join(p.Dir, AccountsFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var file struct {
		Accounts map[string]Account `yaml:"accounts"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		return nil, refusal.New("%s: %v", AccountsFile, err)
	}
	stacks, err := p.Stacks()
	if err != nil {
		return nil, err
	}
	owner := map[string]string{}
	var out []Account
	demos := ""
	for _, name := range slices.Sorted(maps.Keys(file.Accounts)) {
		a := file.Accounts[name]
		a.Name = name
		switch {
		case !accountName.MatchString(name):
			return nil, refusal.New("%s: account %q: want a short lower-case name such as nonprod", AccountsFile, name)
		case a.Backend != "" && !strings.Contains(a.Backend, "://"):
			return nil, refusal.New("%s: accounts.%s.backend %q: want a backend URL such as s3://BUCKET?region=REGION&awssdk=v2", AccountsFile, name, a.Backend)
		case a.Profile != "" && !profileName.MatchString(a.Profile):
			return nil, refusal.New("%s: accounts.%s.profile %q: want an AWS profile name", AccountsFile, name, a.Profile)
		case a.Demos && demos != "":
			return nil, refusal.New("%s: accounts.%s.demos: the demos are already %s's; one account has them", AccountsFile, name, demos)
		}
		if a.Demos {
			demos = name
		}
		for i, s := range a.Stacks {
			switch {
			case !slices.Contains(stacks, s):
				return nil, refusal.New("%s: accounts.%s.stacks[%d] %q: no Pulumi.%s.yaml; the stacks are %s", AccountsFile, name, i, s, s, strings.Join(stacks, ", "))
			case owner[s] != "":
				return nil, refusal.New("%s: accounts.%s.stacks[%d] %q is also %s's; a stack is in one account", AccountsFile, name, i, s, owner[s])
			}
			owner[s] = name
		}
		out = append(out, a)
	}
	return out, nil
}

// AccountOf is the account of stack among accounts (a demo stack is the demos' account's), and whether
// it has one.
func AccountOf(accounts []Account, stack string) (Account, bool) {
	_, demo := DemoName(stack)
	for _, a := range accounts {
		if slices.Contains(a.Stacks, stack) || (demo && a.Demos) {
			return a, true
		}
	}
	return Account{}, false
}

// Env are the environment variables a workspace of the account runs the Pulumi CLI with.
func (a Account) Env() map[string]string {
	env := map[string]string{}
	if a.Backend != "" {
		env["PULUMI_BACKEND_URL"] = a.Backend
	}
	if a.Profile != "" {
		env["AWS_PROFILE"] = a.Profile
	}
	return env
}
