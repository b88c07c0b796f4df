// Package hipaa is the platform's HIPAA policy pack: the rules alone, one per file, each a pure function
// of a resource's type and properties (or, for rules that relate resources, of the whole stack), each
// carrying its HIPAA Security Rule citations, severity and fix, written in the framework of
// policy/engine. Pack returns them as one engine.Pack with the Security Rule's citation style and
// section names. The same rules run in three places: the analyzer that `pulumi preview --policy-pack`
// and `pulumi policy analyze` load (policy/main.go), the tests over every stack, and `platformctl audit`.
// Besides the rules it holds their shared vocabulary: the resource type tokens (helpers.go), IAM
// policy documents (policydoc.go) and port ranges (ports.go).
package hipaa
