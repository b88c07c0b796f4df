// Package offlinetest holds the helpers every component's tests share: run a component under mocks, look
// up what it registered, and check that bad arguments are refused with an error naming the field and
// nothing registered.
package offlinetest

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Run runs body as a program of the unit stack, in an account in use, and returns what it registered.
func Run(t testing.TB, body pulumi.RunFunc) ([]offline.Resource, error) {
	t.Helper()
	return RunIn(t, offline.Account{}, body)
}

// RunIn is Run in an account that holds what account says.
func RunIn(t testing.TB, account offline.Account, body pulumi.RunFunc) ([]offline.Resource, error) {
	t.Helper()
	return offline.Run(offline.Options{Project: "hipaa", Stack: "unit", Account: account}, body)
}

// MustRun is Run that fails the test on an error.
func MustRun(t testing.TB, body pulumi.RunFunc) []offline.Resource {
	t.Helper()
	rs, err := Run(t, body)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Refused checks that running body fails with an error containing want and registers nothing.
func Refused(t *testing.T, body pulumi.RunFunc, want string) {
	t.Helper()
	rs, err := Run(t, body)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
	if len(rs) != 0 {
		t.Errorf("%d resources registered despite bad args", len(rs))
	}
}

// Component is one component's constructor, run under a fixed name as a program of its own.
type Component[A, C any] struct {
	new  func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error)
	name string
}

// For makes the Component of constructor new, named name, for a component's tests.
func For[A, C any](new func(*pulumi.Context, string, *A, ...pulumi.ResourceOption) (C, error), name string) Component[A, C] {
	return Component[A, C]{new: new, name: name}
}

// Program is the component built from args, as a program.
func (c Component[A, C]) Program(args *A) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		_, err := c.new(ctx, c.name, args)
		return err
	}
}

// Run builds the component from args and returns what it registered.
func (c Component[A, C]) Run(t testing.TB, args *A) ([]offline.Resource, error) {
	t.Helper()
	return Run(t, c.Program(args))
}

// MustRun is Run that fails the test on an error.
func (c Component[A, C]) MustRun(t testing.TB, args *A) []offline.Resource {
	t.Helper()
	return MustRun(t, c.Program(args))
}

// Refused checks that args are refused with an error containing want and nothing registered.
func (c Component[A, C]) Refused(t *testing.T, args *A, want string) {
	t.Helper()
	Refused(t, c.Program(args), want)
}

// One returns the only resource of a type, failing the test when there is not exactly one.
func One(t testing.TB, rs []offline.Resource, typ string) offline.Resource {
	t.Helper()
	found := Of(rs, typ)
	if len(found) != 1 {
		t.Fatalf("got %d of %s, want 1", len(found), typ)
	}
	return found[0]
}

// Of returns the resources of one type, in order.
func Of(rs []offline.Resource, typ string) []offline.Resource {
	var out []offline.Resource
	for _, r := range rs {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Named returns the resource of a type and name, and whether there is one.
func Named(rs []offline.Resource, typ, name string) (offline.Resource, bool) {
	for _, r := range rs {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return offline.Resource{}, false
}
