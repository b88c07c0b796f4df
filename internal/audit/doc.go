// Package audit reads the resources an audit is made of: the JSON array `platformctl preview --json`
// writes (streamed, with its placeholders turned back into secrets and unknowns) and what a program
// registered under the SDK's mocks. The policy pack itself reads no file and imports nothing of the
// mock engine; its readers sit here, with the audit.
package audit
