package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/report"
)

// Options say what to audit and how to report it.
type Options struct {
	// Project is the project whose Stack is audited; its directory names the commit audited. Required
	// with Stack.
	Project *project.Project
	// Stack is a stack of the project, its program run offline; Resources a file written by
	// `platformctl preview --json`; State a file written by `pulumi stack export`. Exactly one is set.
	Stack, Resources, State string
	// Deployed audits Stack's deployed state, which Export reads from the stack's backend, in place of
	// its program's preview.
	Deployed bool
	// Export returns what `pulumi stack export` prints for a stack of the project; required with
	// Deployed.
	Export func(stack string) ([]byte, error)
	// Release is the image the stack's tiers run in the audit, as a promotion would set it; empty for
	// the stack file's, or the preview's stand-in. Only with Stack.
	Release string
	// Format is one of report.Formats.
	Format string
	// ConfigFile is the pack's configuration, in the --policy-pack-config form. Optional.
	ConfigFile string
	// Output is the file the report goes to; empty for the writer Run is given.
	Output string
	// Now is when waivers are judged and the report dated; zero means the current time.
	Now time.Time
}

// Run audits what o names against the HIPAA pack and writes the report, to o.Output or to w. It returns
// whether a mandatory rule failed. A refusal (a bad option, an unreadable or malformed input, an output
// that would overwrite an input) comes before anything is written; the output file appears whole or not
// at all.
func Run(o Options, w io.Writer) (failed bool, err error) {
	a, err := o.evaluate()
	if err != nil {
		return false, err
	}
	if o.Output == "" {
		bw := bufio.NewWriter(w)
		if err := report.Write(bw, o.Format, a); err != nil {
			return false, err
		}
		return a.Report.Failed(), bw.Flush()
	}
	return a.Report.Failed(), writeFile(o.Output, func(w io.Writer) error { return report.Write(w, o.Format, a) })
}

// Gate audits what o names, as a promotion does before it updates a stage: the report in o.Format,
// whether a mandatory rule failed, and the findings that block, one line each (rule, resource,
// message).
func Gate(o Options) (rendered []byte, failed bool, blocking []string, err error) {
	a, err := o.evaluate()
	if err != nil {
		return nil, false, nil, err
	}
	var b bytes.Buffer
	if err := report.Write(&b, o.Format, a); err != nil {
		return nil, false, nil, err
	}
	for _, f := range a.Report.Findings {
		if f.Blocking() {
			blocking = append(blocking, fmt.Sprintf("%s: %s: %s", f.RuleID, f.URN, f.Message))
		}
	}
	return b.Bytes(), a.Report.Failed(), blocking, nil
}

func (o *Options) check() error {
	given := 0
	for _, v := range []string{o.Stack, o.Resources, o.State} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return refusal.New("give exactly one of --stack NAME, --resources FILE and --state FILE")
	}
	if o.Deployed && o.Stack == "" {
		return refusal.New("--deployed audits a stack's deployed state: give it with --stack NAME (for an exported state, --state FILE)")
	}
	if o.Release != "" && (o.Deployed || o.State != "") {
		return refusal.New("--release: a deployed state runs the release it was deployed with; the drift compares it with the stack's own")
	}
	if o.Stack != "" && o.Project == nil {
		return errors.New("audit: a stack needs its project")
	}
	if o.Deployed && o.Export == nil {
		return errors.New("audit: a deployed stack needs a way to export its state")
	}
	if !slices.Contains(report.Formats, o.Format) {
		return refusal.New("--format %q: want one of %s", o.Format, strings.Join(report.Formats, ", "))
	}
	if o.Output == "" {
		return nil
	}
	inputs := map[string]string{"--resources": o.Resources, "--state": o.State, "--config": o.ConfigFile}
	if o.Stack != "" {
		inputs["the stack's settings"] = filepath.Join(o.Project.Dir, "Pulumi."+o.Stack+".yaml")
		inputs["the project file"] = filepath.Join(o.Project.Dir, "Pulumi.yaml")
	}
	for _, flag := range slices.Sorted(maps.Keys(inputs)) {
		if in := inputs[flag]; in != "" && sameFile(o.Output, in) {
			return refusal.New("--output %s is %s, which the audit reads; write the report elsewhere", o.Output, flag)
		}
	}
	return nil
}

// sameFile reports whether two paths name one file: the same file when both exist, else the same path.
func sameFile(a, b string) bool {
	ai, aerr := os.Stat(a)
	bi, berr := os.Stat(b)
	if aerr == nil && berr == nil {
		return os.SameFile(ai, bi)
	}
	abs := func(p string) string {
		if full, err := filepath.Abs(p); err == nil {
			return full
		}
		return filepath.Clean(p)
	}
	return abs(a) == abs(b)
}

func (o *Options) config() (engine.Config, error) {
	cfg := engine.Config{Now: o.Now}
	if o.ConfigFile == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(o.ConfigFile)
	if err != nil {
		return cfg, refusal.New("--config: %w", err)
	}
	if cfg, err = hipaa.Pack().ParseConfig(data); err != nil {
		return cfg, refusal.New("--config %s: %w", o.ConfigFile, err)
	}
	cfg.Now = o.Now
	return cfg, nil
}

// evaluate checks the options, reads what they name and evaluates it.
func (o *Options) evaluate() (*report.Audit, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	a := &report.Audit{Pack: hipaa.Pack(), Generated: now.UTC().Format("2006-01-02")}
	if o.Resources != "" {
		f, err := os.Open(o.Resources)
		if err != nil {
			return nil, refusal.New("--resources: %w", err)
		}
		defer f.Close()
		a.Subject, a.Source = "resources in "+filepath.Base(o.Resources), o.Resources
		if a.Report, a.Resources, err = evaluateStacks(f, a.Pack, cfg, report.Reads(o.Format)); err != nil {
			return nil, refusal.New("--resources %s: %w", o.Resources, err)
		}
		return a, nil
	}
	if o.State != "" || o.Deployed {
		return a, o.deployed(a, cfg)
	}
	rs, err := preview.Stack(o.Project, o.Stack, o.Release)
	if err != nil {
		return nil, err
	}
	a.Subject, a.Source, a.Resources = "stack "+o.Stack, "Pulumi."+o.Stack+".yaml", FromOffline(rs)
	a.Commit = Commit(o.Project.Dir)
	a.Report = a.Pack.Evaluate(a.Resources, cfg)
	return a, nil
}

// Commit names the commit of the git checkout holding dir, with "+uncommitted changes" when tracked
// files differ from it; empty outside a checkout or without git.
func Commit(dir string) string {
	head, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		return ""
	}
	commit := strings.TrimSpace(string(head))
	if changes, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(changes) > 0 {
		commit += " +uncommitted changes"
	}
	return commit
}

// writeFile writes a file whole or not at all: into a temporary file beside it, renamed into place.
func writeFile(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return refusal.New("--output: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	return nil
}

// deployed reads the deployed state o names (a file of `pulumi stack export`, or the stack's own
// export) into a, evaluates the rules over its resources and compares it with the program's preview of
// the same stack.
func (o *Options) deployed(a *report.Audit, cfg engine.Config) error {
	var s *State
	if o.State != "" {
		f, err := os.Open(o.State)
		if err != nil {
			return refusal.New("--state: %w", err)
		}
		defer f.Close()
		if s, err = ReadState(f); err != nil {
			return refusal.New("--state %s: %w", o.State, err)
		}
		a.Subject, a.Source = "deployed state in "+filepath.Base(o.State), o.State
		if s.Stack != "" {
			a.Subject += " (stack " + s.Stack + ")"
		}
	} else {
		exported, err := o.Export(o.Stack)
		if err != nil {
			return err
		}
		if s, err = ReadState(bytes.NewReader(exported)); err != nil {
			return fmt.Errorf("the deployed state of %s: %w", o.Stack, err)
		}
		if s.Stack != "" && s.Stack != o.Stack {
			return fmt.Errorf("the deployed state of %s holds the resources of stack %s", o.Stack, s.Stack)
		}
		a.Subject, a.Source = "deployed stack "+o.Stack, "Pulumi."+o.Stack+".yaml"
	}
	a.Resources = s.Resources
	a.Report = a.Pack.Evaluate(s.Resources, cfg)
	a.Drift = o.drift(s)
	return nil
}

// drift compares the state with the program's preview of its stack, where the project has the stack.
func (o *Options) drift(s *State) *report.Drift {
	p := o.Project
	switch {
	case p == nil:
		return &report.Drift{Against: "the program", NotComputed: "the audit ran outside the project, so there is no program to compare with"}
	case s.Stack == "":
		return &report.Drift{Against: "the program", NotComputed: "the state holds no resource"}
	case s.Project != p.Name:
		return &report.Drift{Against: "the program", NotComputed: fmt.Sprintf("the state is of project %s, not of this project (%s)", s.Project, p.Name)}
	}
	_, demo := project.DemoName(s.Stack)
	if !p.HasStack(s.Stack) && !demo {
		return &report.Drift{Against: "the program", NotComputed: fmt.Sprintf("the project has no stack %s", s.Stack)}
	}
	against := "the program's preview of stack " + s.Stack
	if commit := Commit(p.Dir); commit != "" {
		against += " at " + commit
	}
	rs, err := preview.Stack(p, s.Stack, "")
	if err != nil {
		return &report.Drift{Against: against, NotComputed: "the preview failed: " + firstLine(err.Error())}
	}
	return computeDrift(s, FromOffline(rs), against)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
