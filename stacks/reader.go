package stacks

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/hipaa-platform/platform/components/database"
	"github.com/hipaa-platform/platform/internal/project"
)

// reader reads the keys of one namespace and collects every problem instead of stopping at the first.
type reader struct {
	ns, stack string
	cfg       *config.Config
	problems  *[]project.Problem
}

// readers returns the readers of the project's namespace and the AWS provider's, sharing one list of
// problems.
func readers(ctx *pulumi.Context) (own, aws reader, problems *[]project.Problem) {
	problems = &[]project.Problem{}
	own = reader{ns: ctx.Project(), stack: ctx.Stack(), cfg: config.New(ctx, ""), problems: problems}
	aws = reader{ns: "aws", stack: ctx.Stack(), cfg: config.New(ctx, "aws"), problems: problems}
	return own, aws, problems
}

func (r reader) fail(key string, err error) {
	*r.problems = append(*r.problems, project.Problem{Key: r.ns + ":" + key, Message: err.Error()})
}

// raw returns a key's value as the CLI hands it over, reporting a key that is not set.
func (r reader) raw(key string) (string, bool) {
	v, err := r.cfg.Try(key)
	if err != nil {
		r.fail(key, r.missing(key, err))
		return "", false
	}
	return v, true
}

func (r reader) string(key string, check func(string) error) string {
	v, ok := r.raw(key)
	if ok && check != nil {
		if err := check(v); err != nil {
			r.fail(key, err)
		}
	}
	return v
}

func (r reader) int(key string, check func(int) error) int {
	raw, ok := r.raw(key)
	if !ok {
		return 0
	}
	v, err := r.cfg.TryInt(key)
	if err != nil {
		r.fail(key, fmt.Errorf("got %q, want a whole number", raw))
		return 0
	}
	if check != nil {
		if err := check(v); err != nil {
			r.fail(key, err)
		}
	}
	return v
}

func (r reader) strings(key string, check func(string) error) []string {
	raw, ok := r.raw(key)
	if !ok {
		return nil
	}
	var v []string
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		r.fail(key, fmt.Errorf("got %s, want a list of strings", raw))
		return nil
	}
	for i, s := range v {
		if err := check(s); err != nil {
			r.fail(fmt.Sprintf("%s[%d]", key, i), err)
		}
	}
	return v
}

func (r reader) bool(key string) bool {
	raw, ok := r.raw(key)
	if !ok {
		return false
	}
	v, err := r.cfg.TryBool(key)
	if err != nil {
		r.fail(key, fmt.Errorf("got %q, want true or false", raw))
	}
	return v
}

// requiredProviderKeys are the provider settings every stack file sets, with an example; they have no
// default in Pulumi.yaml, which declares only the project's own keys.
var requiredProviderKeys = map[string]string{
	"aws:region":      "aws:region: us-east-1",
	"aws:defaultTags": "aws:defaultTags: {tags: {Project: ..., Environment: STACK, Owner: ...}}",
}

// missing says what a key that is not set needs.
func (r reader) missing(key string, err error) error {
	if !errors.Is(err, config.ErrMissingVar) {
		return err
	}
	if example, ok := requiredProviderKeys[r.ns+":"+key]; ok {
		return fmt.Errorf("required, and not set; set it in Pulumi.%s.yaml, such as %s", r.stack, example)
	}
	return errors.New("not set; it is declared with its default in Pulumi.yaml, so run the program through pulumi or platformctl")
}

// optional accepts the empty string, and checks any other value.
func optional(check func(string) error) func(string) error {
	return func(s string) error {
		if s == "" {
			return nil
		}
		return check(s)
	}
}

// required refuses the empty string, saying what is wanted, and checks any other value.
func required(want string, check func(string) error) func(string) error {
	return func(s string) error {
		if s == "" {
			return fmt.Errorf("required, and empty; want %s", want)
		}
		return check(s)
	}
}

// caGenerations reads a database cluster's CA generations: a list, checked whole (database.CheckCAGenerations).
func (r reader) caGenerations(key string) []string {
	gens := r.strings(key, func(string) error { return nil })
	if err := database.CheckCAGenerations(gens); err != nil {
		r.fail(key, err)
	}
	return gens
}
