// Package analyzer serves a policy pack (the HIPAA pack, from policy/main.go) over Pulumi's analyzer
// protocol, as `pulumi preview`, `pulumi up` and `pulumi policy analyze` expect of a policy pack binary. It takes the place of the SDK's
// policyx.Main, which in the pinned SDK crashes under `pulumi policy analyze` (it builds the pack only in
// ConfigureStack, which that command never calls) and on values unknown during preview: this server
// builds the pack once at start-up, never reads a value the rules have not checked, and turns a panic in
// any handler into a reported diagnostic or an error, never a dead process.
package analyzer
