// Package audit is `platformctl audit`: Run chooses what to audit (a stack of the project, its program
// run offline, a preview file, or a deployed state), reads the pack's configuration, evaluates the
// HIPAA pack and writes the report, refusing before anything is written what would mislead (an output over an input, a
// configuration that enables nothing). It also holds the readers of what an audit is made of: the JSON
// array `platformctl preview --json` writes (streamed, bounded by the resources rather than the file,
// its placeholders turned back into secrets and unknowns) and what a program registered under the SDK's
// mocks; and the output of `pulumi stack export` (ReadState: a deployed state, its secrets never held
// in plaintext), with its drift from the program's preview of the same stack (computeDrift). The
// policy pack itself reads no file and imports nothing of the mock engine.
package audit
