// Command auditbench measures `platformctl audit --resources` end to end, as an operator runs it, on
// preview files of 1,000 to 100,000 resources made of copies of the prod stack (each copy a project of
// its own, so that the stack rules join within it): for each size, the file's size, the best wall time
// of -runs runs and the largest peak resident memory of the audit process, as the kernel counts it.
//
//	go run ./cmd/auditbench [-platformctl PATH] [-sizes 1000,10000,100000] [-runs 3]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("platformctl", "", "the platformctl binary to measure (empty: build it from ./cmd/platformctl)")
	sizes := flag.String("sizes", "1000,10000,100000", "comma-separated resource counts, each rounded up to whole copies of prod")
	runs := flag.Int("runs", 3, "runs of each size; the best wall time is reported")
	flag.Parse()
	if err := run(*bin, *sizes, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "auditbench:", err)
		os.Exit(1)
	}
}

func run(bin, sizes string, runs int) error {
	if runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", runs)
	}
	var counts []int
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("-sizes: %q is not a positive count", s)
		}
		counts = append(counts, n)
	}
	dir, err := os.MkdirTemp("", "auditbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "platformctl")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/platformctl").CombinedOutput(); err != nil {
			return fmt.Errorf("building platformctl: %v\n%s", err, out)
		}
	}
	var prod bytes.Buffer
	preview := exec.Command(bin, "preview", "--stack", "prod", "--json")
	preview.Stdout, preview.Stderr = &prod, os.Stderr
	if err := preview.Run(); err != nil {
		return fmt.Errorf("previewing prod: %w", err)
	}
	var resources []json.RawMessage
	if err := json.Unmarshal(prod.Bytes(), &resources); err != nil {
		return fmt.Errorf("reading prod's preview: %w", err)
	}
	fmt.Printf("platformctl audit --resources FILE --format json, copies of prod (%d resources each), best of %d runs\n", len(resources), runs)
	fmt.Printf("%10s %9s %9s %13s\n", "resources", "file MB", "wall s", "peak RSS MB")
	for _, n := range counts {
		file := filepath.Join(dir, fmt.Sprintf("resources-%d.json", n))
		n, size, err := writeCopies(file, resources, n)
		if err != nil {
			return err
		}
		best, peak := time.Duration(0), int64(0)
		for range runs {
			wall, rss, err := measure(bin, file)
			if err != nil {
				return err
			}
			if best == 0 || wall < best {
				best = wall
			}
			peak = max(peak, rss)
		}
		fmt.Printf("%10d %9.1f %9.3f %13.1f\n", n, float64(size)/(1<<20), best.Seconds(), float64(peak)/1024)
		os.Remove(file)
	}
	return nil
}

// writeCopies writes at least n resources, whole copies of prod, each renamed into a project of its own.
func writeCopies(file string, prod []json.RawMessage, n int) (written int, size int64, err error) {
	f, err := os.Create(file)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var b bytes.Buffer
	b.WriteString("[")
	for copyN := 0; written < n; copyN++ {
		project := []byte(fmt.Sprintf("::hipaa%d::", copyN))
		for _, r := range prod {
			if written > 0 {
				b.WriteString(",\n")
			}
			b.Write(bytes.ReplaceAll(r, []byte("::hipaa::"), project))
			written++
		}
		if b.Len() > 1<<20 {
			if _, err := f.Write(b.Bytes()); err != nil {
				return 0, 0, err
			}
			size += int64(b.Len())
			b.Reset()
		}
	}
	b.WriteString("]\n")
	if _, err := f.Write(b.Bytes()); err != nil {
		return 0, 0, err
	}
	return written, size + int64(b.Len()), f.Close()
}

// measure runs one audit of file and returns its wall time and the process's peak resident memory in KB.
func measure(bin, file string) (time.Duration, int64, error) {
	cmd := exec.Command(bin, "audit", "--resources", file, "--format", "json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("audit of %s: %v\n%s", file, err, stderr.Bytes())
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no resource usage for the audit process")
	}
	return wall, usage.Maxrss, nil
}
