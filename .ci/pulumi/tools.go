//go:build tools

// Package tools pins the Pulumi CLI that CI builds from its Go module: the CLI's download is not
// reachable from CI, and `go install` of the CLI is refused because its module has replace directives.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
