package refusal

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestRefusalsAreFoundThroughWrapping(t *testing.T) {
	t.Parallel()
	r := New("unknown stack %q", "staging")
	if !Is(r) || !Is(fmt.Errorf("promoting: %w", r)) || !Is(errors.Join(io.EOF, r)) {
		t.Error("a wrapped refusal is not found")
	}
	if Is(io.EOF) || Is(nil) || Of(nil) != nil {
		t.Error("a plain error or nil counts as a refusal")
	}
	if got := Of(io.EOF); !Is(got) || !errors.Is(got, io.EOF) || got.Error() != "EOF" {
		t.Errorf("Of(io.EOF) = %v", got)
	}
	if Of(r) != r {
		t.Error("a refusal is wrapped twice")
	}
}
