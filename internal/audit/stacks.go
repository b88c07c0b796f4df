package audit

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/hipaa-platform/platform/policy/engine"
)

// evaluateStacks evaluates the preview file in r with pack, one stack at a time: the resources of a
// stack are evaluated, on a core of their own, as soon as the next stack's begin, and then let go, so
// that an estate's file is audited in memory that grows with its largest stack rather than with the
// file. It returns the report and the resources keep selects, for the report to draw on.
//
// The resources of one stack must be consecutive, as `platformctl preview --json` and `pulumi stack
// export` write them and as concatenating such files keeps them: stack rules join within a stack, so a
// stack whose resources were split across the file could not be judged whole.
func evaluateStacks(r io.Reader, pack *engine.Pack, cfg engine.Config, keep func(*engine.Resource) bool) (*engine.Report, []*engine.Resource, error) {
	e := pack.Begin(cfg)
	workers := runtime.GOMAXPROCS(0)
	stacks := make(chan []*engine.Resource, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for s := range stacks {
				e.Stack(s)
			}
		})
	}
	var (
		kept    []*engine.Resource
		cur     []*engine.Resource
		curKey  string
		ended   = map[string]int{} // stack key → index of the resource after its last
		index   int
		readErr error
	)
	readErr = StreamPreviewJSON(r, workers, func(rs []*engine.Resource) error {
		for _, res := range rs {
			key := stackOf(res.URN)
			if key != curKey || cur == nil {
				if cur != nil {
					stacks <- cur
					ended[strings.Clone(curKey)] = index // a copy: the key is part of a resource's URN, let go with its stack
				}
				if last, seen := ended[key]; seen {
					return fmt.Errorf("resource %d (%s) is of stack %s, whose resources ended at resource %d; the resources of one stack must be consecutive, as platformctl preview --json and pulumi stack export write them",
						index, res.URN, key, last-1)
				}
				cur, curKey = nil, key
			}
			cur = append(cur, res)
			if keep(res) {
				kept = append(kept, res)
			}
			index++
		}
		return nil
	})
	if readErr == nil && cur != nil {
		stacks <- cur
	}
	close(stacks)
	wg.Wait()
	if readErr != nil {
		return nil, nil, readErr
	}
	return e.Report(), kept, nil
}

// stackOf is the stack and project a URN names (urn:pulumi:STACK::PROJECT::TYPE::NAME), as
// STACK::PROJECT, a part of the URN; resources whose URNs are not of that form are all of one stack, "".
func stackOf(urn string) string {
	rest, ok := strings.CutPrefix(urn, "urn:pulumi:")
	if !ok {
		return ""
	}
	stack, after, ok := strings.Cut(rest, "::")
	if !ok {
		return ""
	}
	project, _, _ := strings.Cut(after, "::")
	return rest[:len(stack)+len("::")+len(project)]
}
