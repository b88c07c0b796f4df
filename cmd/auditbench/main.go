// Command auditbench measures `platformctl audit --resources` end to end, as an operator runs it, on
// preview files of 1,000 to 100,000 resources made of copies of the prod stack (each copy a project of
// its own, so that the stack rules join within it): for each size, the file's size, the best and median wall time
// of -runs runs and the largest peak resident memory of the audit process, as the kernel counts it.
//
// With -awsguard DIR (awsguard/ of this command with its npm dependencies installed, as .ci/run does),
// Pulumi's AWSGuard pack runs over the same file in the same run, through @pulumi/policy's own analyzer
// handlers (awsguard/driver.js), and the table adds its time, its peak memory and the ratio of the
// two times.
//
// -distinct makes each copy's plain strings its own (the stack's name in every name, tag and ARN numbered
// by copy), so that no two copies' inputs are the same text: an estate of distinct stacks, which the
// audit's caches of what it decoded (by content) do not help. The host user data, compressed, is still
// the same in every copy.
//
//	go run ./cmd/auditbench [-platformctl PATH] [-sizes 1000,10000,100000] [-runs 3] [-distinct] [-awsguard DIR]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("platformctl", "", "the platformctl binary to measure (empty: build it from ./cmd/platformctl)")
	sizes := flag.String("sizes", "1000,10000,100000", "comma-separated resource counts, each rounded up to whole copies of prod")
	runs := flag.Int("runs", 5, "runs of each size; the best and the median wall time are reported")
	distinct := flag.Bool("distinct", false, "make every copy's plain strings its own, so that no two copies' inputs are the same text")
	awsguard := flag.String("awsguard", "", "a `DIR` holding awsguard/driver.js with its npm dependencies installed: run AWSGuard over the same files")
	awsguardRuns := flag.Int("awsguard-runs", 1, "runs of AWSGuard at each size; the best wall time is reported")
	flag.Parse()
	if err := run(*bin, *sizes, *runs, *distinct, *awsguard, *awsguardRuns); err != nil {
		fmt.Fprintln(os.Stderr, "auditbench:", err)
		os.Exit(1)
	}
}

func run(bin, sizes string, runs int, distinct bool, awsguard string, awsguardRuns int) error {
	if runs < 1 || awsguardRuns < 1 {
		return fmt.Errorf("-runs %d, -awsguard-runs %d: want at least 1 of each", runs, awsguardRuns)
	}
	if awsguard != "" {
		if _, err := os.Stat(filepath.Join(awsguard, "node_modules", "@pulumi", "awsguard")); err != nil {
			return fmt.Errorf("-awsguard %s: no @pulumi/awsguard installed there (npm ci in a copy of cmd/auditbench/awsguard): %v", awsguard, err)
		}
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
	for i, r := range resources { // one line each
		var b bytes.Buffer
		if err := json.Compact(&b, r); err != nil {
			return err
		}
		resources[i] = b.Bytes()
	}
	estate := "copies of prod"
	if distinct {
		estate = "distinct copies of prod"
	}
	fmt.Printf("platformctl audit --resources FILE --format json, %s (%d resources each), best and median of %d runs\n", estate, len(resources), runs)
	if awsguard != "" {
		fmt.Printf("AWSGuard 0.3.1 (26 policies) over the same file, through @pulumi/policy's analyzer handlers, best of %d runs\n", awsguardRuns)
		fmt.Printf("%10s %9s %9s %9s %13s %11s %13s %7s\n", "resources", "file MB", "wall s", "median s", "peak RSS MB", "AWSGuard s", "peak RSS MB", "ratio")
	} else {
		fmt.Printf("%10s %9s %9s %9s %13s\n", "resources", "file MB", "wall s", "median s", "peak RSS MB")
	}
	for _, n := range counts {
		file := filepath.Join(dir, fmt.Sprintf("resources-%d.json", n))
		n, size, err := writeCopies(file, resources, n, distinct)
		if err != nil {
			return err
		}
		best, median, peak, err := timed(runs, func() (time.Duration, int64, error) {
			return measure(exec.Command(bin, "audit", "--resources", file, "--format", "json"), "audit of "+file, true)
		})
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%10d %9.1f %9.3f %9.3f %13.1f", n, float64(size)/(1<<20), best.Seconds(), median.Seconds(), float64(peak)/1024)
		if awsguard != "" {
			gBest, _, gPeak, err := timed(awsguardRuns, func() (time.Duration, int64, error) {
				cmd := exec.Command("node", "driver.js", file)
				cmd.Dir = awsguard
				return measure(cmd, "AWSGuard over "+file, false)
			})
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %11.3f %13.1f %6.1fx", gBest.Seconds(), float64(gPeak)/1024, gBest.Seconds()/best.Seconds())
		}
		fmt.Println(line)
		os.Remove(file)
	}
	return nil
}

// timed runs measure runs times and returns the best and the median wall time (the upper one of an even
// count's middle two) and the largest peak memory.
func timed(runs int, measure func() (time.Duration, int64, error)) (best, median time.Duration, peak int64, err error) {
	walls := make([]time.Duration, 0, runs)
	for range runs {
		wall, rss, err := measure()
		if err != nil {
			return 0, 0, 0, err
		}
		walls = append(walls, wall)
		peak = max(peak, rss)
	}
	slices.Sort(walls)
	return walls[0], walls[len(walls)/2], peak, nil
}

// writeCopies writes at least n resources, whole copies of prod, each renamed into a project of its own,
// one resource per line (as AWSGuard's driver reads them); distinct numbers the stack's name in each
// copy's strings too.
func writeCopies(file string, prod []json.RawMessage, n int, distinct bool) (written int, size int64, err error) {
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
			r = bytes.ReplaceAll(r, []byte("::hipaa::"), project)
			if distinct {
				r = bytes.ReplaceAll(r, []byte("hipaa-prod"), []byte(fmt.Sprintf("hipaa-prod%d", copyN)))
			}
			b.Write(r)
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

// measure runs cmd and returns its wall time and the process's peak resident memory in KB; auditFound
// accepts exit status 1, an audit's finding a violation.
func measure(cmd *exec.Cmd, what string, auditFound bool) (time.Duration, int64, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	// Exit 1 is an audit that found a mandatory violation, which a distinct estate may have: its
	// renamed strings no longer match the names the hosts' compressed user data holds.
	if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() == 1 && auditFound {
		err = nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %v\n%s", what, err, stderr.Bytes())
	}
	usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("%s: no resource usage of the process", what)
	}
	return wall, usage.Maxrss, nil
}
