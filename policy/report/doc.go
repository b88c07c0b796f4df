// Package report renders a policy evaluation for people and tools: text for a terminal, JSON for
// scripts, Markdown for an auditor's file (findings by citation of the pack's framework, and a network
// and data-flow diagram drawn from the resources), and SARIF for code-scanning tools. Every format names
// the program audited and states the configuration in force.
package report

import (
	"github.com/hipaa-platform/platform/policy/engine"
)

// Audit is one evaluation and what it was of.
type Audit struct {
	// Subject names what was audited: "stack prod", or a file.
	Subject string
	// Source is the file a finding should point at in code-scanning tools (the stack's settings file).
	Source string
	// Pack is the rules the resources were evaluated with.
	Pack      *engine.Pack
	Resources []*engine.Resource
	Report    *engine.Report
	// Generated is the audit's date, as shown in reports (YYYY-MM-DD).
	Generated string
	// Commit is the commit of the program audited, when it ran from a git checkout; empty for resources
	// read from a file, whose program is not known.
	Commit string
	// Drift, for an audit of a deployed state, is where it differs from the program's preview of the
	// same stack; nil for an audit of a preview.
	Drift *Drift
}

// Formats lists the formats Write accepts.
var Formats = []string{"text", "json", "markdown", "sarif"}
