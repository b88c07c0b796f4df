// Package stacks is the platform program: it reads a stack's typed configuration once and validates all
// of it (config.go, reader.go: each key, then the rules across keys), then wires the components in
// dependency order through one stack value (run.go): keys, network, firewall, buckets, registry,
// release, the monitoring host's place, database, the web and engine tiers, monitoring and the account
// baseline; and exports what operators and later stacks need (export.go). Stacks differ only in their
// configuration; nothing here branches on a stack's name.
package stacks
