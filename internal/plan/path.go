package plan

import (
	"cmp"
	"slices"

	"github.com/hipaa-platform/platform/internal/offline"
)

// Step is one resource on the critical path.
type Step struct {
	URN, Type, Name string
	Duration
	// Done is when the step is modeled to finish, in seconds from the start.
	Done int
}

// Path is the modeled critical path of a stack's first `pulumi up`: the chain of dependencies whose
// creation times add up to the most. Pulumi creates a resource as soon as everything it depends on is
// created, others in parallel, so the longest chain is the stand-up time, as long as the engine's
// parallelism (by default 4 operations per CPU of the machine running it: pulumi pkg
// cmd/pulumi/operations/up.go, defaultParallel) holds nothing back, which the model assumes.
type Path struct {
	Steps []Step
	// Total is the path's modeled time, in seconds.
	Total int
}

// Dominant are the path's steps that take the most, longest first, at most n of them.
func (p Path) Dominant(n int) []Step {
	steps := slices.Clone(p.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int { return cmp.Compare(b.Seconds, a.Seconds) })
	return steps[:min(n, len(steps))]
}

// CriticalPath models the stand-up of resources from empty. A resource waits for every resource it
// depends on (its properties' sources and its explicit dependsOn, as the preview records them); a
// dependency on a component is one on everything beneath it, as the engine treats it.
func CriticalPath(rs []offline.Resource) Path {
	byURN := map[string]offline.Resource{}
	children := map[string][]string{}
	for _, r := range rs {
		byURN[r.URN] = r
		if r.Parent != "" {
			children[r.Parent] = append(children[r.Parent], r.URN)
		}
	}
	// below are the custom resources a dependency on urn waits for.
	var below func(urn string) []string
	below = func(urn string) []string {
		r, ok := byURN[urn]
		switch {
		case !ok:
			return nil
		case r.Custom:
			return []string{urn}
		}
		var out []string
		for _, c := range children[urn] {
			out = append(out, below(c)...)
		}
		return out
	}
	healthy := healthyAfter(rs)
	done := map[string]int{}
	prev := map[string]string{}
	var finish func(urn string, seen map[string]bool) int
	finish = func(urn string, seen map[string]bool) int {
		if t, ok := done[urn]; ok {
			return t
		}
		if seen[urn] { // a cycle cannot be registered; never wait on one
			return 0
		}
		seen[urn] = true
		r := byURN[urn]
		start, from := 0, ""
		var deps []string
		for _, d := range append(slices.Clone(r.Dependencies), r.Options.DependsOn...) {
			deps = append(deps, below(d)...)
		}
		slices.Sort(deps)
		for _, d := range slices.Compact(deps) {
			if d == urn {
				continue
			}
			if t := finish(d, seen); t > start {
				start, from = t, d
			}
		}
		done[urn] = start + creationTime(r, healthy).Seconds
		prev[urn] = from
		return done[urn]
	}
	last := ""
	for _, r := range rs {
		if !r.Custom {
			continue
		}
		if t := finish(r.URN, map[string]bool{}); last == "" || t > done[last] {
			last = r.URN
		}
	}
	var p Path
	for u := last; u != ""; u = prev[u] {
		r := byURN[u]
		p.Steps = append(p.Steps, Step{URN: u, Type: r.Type, Name: r.Name, Duration: creationTime(r, healthy), Done: done[u]})
	}
	slices.Reverse(p.Steps)
	if last != "" {
		p.Total = done[last]
	}
	return p
}
