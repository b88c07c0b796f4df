// Command hipaa-platform is the Pulumi program of the HIPAA platform; `pulumi up` runs it for the selected
// stack.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/stacks"
)

func main() {
	pulumi.Run(stacks.Run)
}
