package report

import (
	"fmt"
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// program says what program was audited: the commit, or that a file's program is not known.
func program(a *Audit) string {
	if a.Commit != "" {
		return "commit " + a.Commit
	}
	if strings.HasPrefix(a.Subject, "resources in ") {
		return "not known: the resources were read from " + a.Source
	}
	if a.Drift != nil {
		return "not known: the deployed state does not record the program that deployed it; the drift compares it with this checkout's"
	}
	return "not known: not run from a git checkout"
}

// inForce states the configuration the rules ran with, one line each: the rules not enforced as
// mandatory, the parameters off their defaults, and every waiver with what it matched. Each line is
// plain text; the formats add their own markup.
func inForce(c engine.InForce) []string {
	if c.Default() {
		return []string{"the pack's own: every rule mandatory with its default parameters, no waiver"}
	}
	var out []string
	if len(c.Disabled) > 0 {
		out = append(out, "disabled, not evaluated: "+strings.Join(c.Disabled, ", "))
	}
	if len(c.Advisory) > 0 {
		out = append(out, "advisory, reported but never failing: "+strings.Join(c.Advisory, ", "))
	}
	for _, p := range c.Parameters {
		out = append(out, fmt.Sprintf("parameter %s %s = %v (default %v)", p.Rule, p.Name, p.Value, p.Default))
	}
	for _, w := range c.Waivers {
		out = append(out, waiverLine(w, c.WaiverTermDays))
	}
	return out
}

func waiverLine(w engine.WaiverUse, term int) string {
	state := fmt.Sprintf("matched %s, exempted %s", plural(w.Matched, "resource"), plural(w.Exempted, "finding"))
	if w.Problem != "" {
		state = fmt.Sprintf("matched %s, exempts nothing: it %s", plural(w.Matched, "resource"), w.Problem)
	}
	return fmt.Sprintf("waiver of %s for %q until %s (term at most %d days), %s; reason: %s", w.Rule, w.Resource, w.Expires, term, state, w.Reason)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
