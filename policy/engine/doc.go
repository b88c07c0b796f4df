// Package engine is the policy framework the HIPAA rules are written in, apart from any rule, as the
// Pulumi Go policy SDK is apart from a rule set. It holds:
//
//   - the rule and its check (Rule, Check, Finding, Severity): a rule is a pure function of one
//     resource of the types it names, or of the whole stack;
//   - the property model rules read (Resource, V, and Stack, which indexes a stack for the joins stack
//     rules make on propertyDependencies);
//   - the configuration in the --policy-pack-config form: enforcement levels, parameters and waivers
//     with their validation (Config, ParseConfig);
//   - the evaluation of a Pack over resources (Evaluate, Report), where a panicking rule is a finding
//     and never silently passes;
//   - the adapter to the SDK's policyx values, which the analyzer serves (PolicyPack, Sink, Message).
//
// A Pack carries its framework's vocabulary (name, citation style, section names), so the analyzer
// and the reports need nothing of the rule set beyond the Pack they are given.
package engine
