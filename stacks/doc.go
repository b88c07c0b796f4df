// Package stacks is the platform program: it reads a stack's typed configuration once, validates all of
// it, and wires the components in dependency order (kms, network, firewall, buckets, baseline), then
// exports what operators and later stacks need. Stacks differ only in their configuration; nothing here
// branches on a stack's name.
package stacks
