// Package hipaa is the platform's HIPAA policy pack: one rule per file, each a pure function of a
// resource's type and properties (or, for rules that relate resources, of the whole stack), each carrying
// its HIPAA Security Rule citations, severity and fix. The same rules run in three places: the analyzer
// that `pulumi preview --policy-pack` and `pulumi policy analyze` load (see Pack), the tests over every
// stack, and `platformctl audit` (see Evaluate).
package hipaa
