// Package enginetest drives `pulumi preview` of the real platform program through the real Pulumi
// engine, with the policy pack loaded as `--policy-pack` loads it. The provider plugins cannot be had on
// the machines the tests run on, so standin/ is a preview-only stand-in that returns inputs unchanged and
// refuses to create anything.
package enginetest
