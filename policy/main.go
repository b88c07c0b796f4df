// Command policy is the HIPAA policy pack's analyzer. Pulumi starts it with `--policy-pack <this binary>`
// (PulumiPolicy.yaml beside it gives the pack's name and version); it prints the port it serves on and
// answers the analyzer protocol until the engine is done.
package main

import (
	"fmt"
	"os"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"

	"github.com/hipaa-platform/platform/policy/analyzer"
	"github.com/hipaa-platform/platform/policy/hipaa"
)

func main() {
	if err := serve(); err != nil {
		fmt.Fprintln(os.Stderr, "hipaa policy pack:", err)
		os.Exit(1)
	}
}

func serve() error {
	srv, err := analyzer.New(hipaa.Pack())
	if err != nil {
		return err
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterAnalyzerServer(s, srv)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		return err
	}
	// The engine reads the port from the first line of standard output.
	fmt.Printf("%d\n", handle.Port)
	return <-handle.Done
}
