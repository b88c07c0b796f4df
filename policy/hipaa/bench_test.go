package hipaa_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
)

// scaled copies the prod stack's resources until there are n, each copy a stack of its own (URNs and
// dependencies renamed), so the stack rules join as many buckets, VPCs and groups as a real estate of
// that size would hold.
func scaled(b *testing.B, n int) []*engine.Resource {
	b.Helper()
	base := stackResources(b, "prod")
	out := make([]*engine.Resource, 0, n)
	for copyN := 0; len(out) < n; copyN++ {
		rename := func(urn string) string {
			return strings.Replace(urn, "::hipaa::", fmt.Sprintf("::hipaa%d::", copyN), 1)
		}
		for _, r := range base {
			if len(out) == n {
				break
			}
			c := *r
			c.URN = rename(r.URN)
			c.Dependencies = make([]string, len(r.Dependencies))
			for i, d := range r.Dependencies {
				c.Dependencies[i] = rename(d)
			}
			c.PropertyDependencies = make(map[string][]string, len(r.PropertyDependencies))
			for k, deps := range r.PropertyDependencies {
				renamed := make([]string, len(deps))
				for i, d := range deps {
					renamed[i] = rename(d)
				}
				c.PropertyDependencies[k] = renamed
			}
			out = append(out, &c)
		}
	}
	return out
}

// BenchmarkEvaluate measures the whole pack, resource and stack rules, over 1,000 to 100,000 resources.
// Besides time it reports the heap the evaluation holds at its end (heap-MB) and what it allocated.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			resources := scaled(b, n)
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			b.ResetTimer()
			var rep *engine.Report
			for b.Loop() {
				// Fresh copies each time (about 1% of the time): a resource keeps what the rules derived
				// from it, which a second evaluation of the same resources would reuse.
				fresh := make([]*engine.Resource, len(resources))
				for i, r := range resources {
					c := *r
					fresh[i] = &c
				}
				rep = hipaa.Pack().Evaluate(fresh, engine.Config{})
			}
			b.StopTimer()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
			if rep.Failed() {
				b.Fatalf("copies of prod fail: %v", rep.Findings[0])
			}
		})
	}
}
