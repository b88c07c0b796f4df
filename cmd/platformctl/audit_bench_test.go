package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkAuditFromFile measures `platformctl audit --resources FILE` end to end: reading and parsing
// a preview JSON of n resources (copies of prod), evaluating every rule, and writing the JSON report.
func BenchmarkAuditFromFile(b *testing.B) {
	out, errOut, code := platformctl(&testing.T{}, "preview", "--stack", "prod", "--json")
	if code != 0 {
		b.Fatalf("preview: %s", errOut)
	}
	var prod []map[string]any
	if err := json.Unmarshal([]byte(out), &prod); err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1_000, 10_000, 100_000} {
		// Whole copies only: a copy cut short would hold a bucket without its configuration.
		n = (n + len(prod) - 1) / len(prod) * len(prod)
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			file := filepath.Join(b.TempDir(), "resources.json")
			writeCopies(b, file, prod, n)
			info, _ := os.Stat(file)
			b.ReportMetric(float64(info.Size())/(1<<20), "file-MB")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if code := runArgs([]string{"--dir", "../..", "audit", "--resources", file, "--format", "json"}, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("audit exited %d", code)
				}
			}
		})
	}
}

// writeCopies writes n resources, copies of prod each renamed into a project of its own so that the
// stack rules join within each copy.
func writeCopies(b *testing.B, file string, prod []map[string]any, n int) {
	b.Helper()
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	f.WriteString("[")
	for i := 0; i < n; i++ {
		copyN, r := i/len(prod), prod[i%len(prod)]
		data, _ := json.Marshal(r)
		s := strings.ReplaceAll(string(data), "::hipaa::", fmt.Sprintf("::hipaa%d::", copyN))
		if i > 0 {
			f.WriteString(",")
		}
		var v any
		json.Unmarshal([]byte(s), &v)
		enc.Encode(v)
	}
	f.WriteString("]")
}
