// Package offlinetest holds the helpers every component's tests share: run a component under mocks, and
// check that bad arguments are refused with an error naming the field and nothing registered.
package offlinetest

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Run runs body as a program of the unit stack and returns what it registered.
func Run(t testing.TB, body pulumi.RunFunc) ([]offline.Resource, error) {
	t.Helper()
	return offline.Run(offline.Options{Project: "hipaa", Stack: "unit"}, body)
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

// One returns the only resource of a type, failing the test when there is not exactly one.
func One(t testing.TB, rs []offline.Resource, typ string) offline.Resource {
	t.Helper()
	found := offline.Of(rs, typ)
	if len(found) != 1 {
		t.Fatalf("got %d of %s, want 1", len(found), typ)
	}
	return found[0]
}
