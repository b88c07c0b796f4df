package preview

import (
	"bytes"
	"testing"

	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
)

func TestAConfigErrorIsARefusal(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Stack(p, "nosuch", "")
	if !refusal.Is(err) {
		t.Errorf("unknown stack: %v is not a refusal", err)
	}
}

func TestTreeRendersEveryResourceOnce(t *testing.T) {
	t.Parallel()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Stack(p, "qa", "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Tree(&buf, "qa", rs); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Count(buf.Bytes(), []byte("─ "))
	if lines != len(rs) {
		t.Errorf("tree shows %d resources, want %d", lines, len(rs))
	}
}

// BenchmarkPreview measures the offline preview of each stack: the program run under mocks plus the JSON
// rendering, as `platformctl preview --json` does it.
func BenchmarkPreview(b *testing.B) {
	p, err := project.Load("../..")
	if err != nil {
		b.Fatal(err)
	}
	names, _ := p.Stacks()
	for _, stack := range names {
		b.Run(stack, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rs, err := Stack(p, stack, "")
				if err != nil {
					b.Fatal(err)
				}
				var buf bytes.Buffer
				if err := JSON(&buf, rs); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(rs)), "resources")
			}
		})
	}
}
