// Command standin is a PREVIEW-ONLY stand-in for the aws, random and tls provider plugins, for the test
// that drives `pulumi preview` of the real program through the real engine with the policy pack: no
// provider plugin can be had on the machines the tests run on. It answers Check with the inputs
// unchanged, Diff with no change, the preview of a Create or Update with the inputs, and the program's
// provider functions with the offline answers; it refuses any Create or Update that is not a preview, and
// every Read and Delete, so it can never be used for `pulumi up`. It is test code only.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/hipaa-platform/platform/internal/offline"
)

var errPreviewOnly = errors.New("preview-only provider stand-in: it never creates, reads, updates or deletes anything")

type standin struct {
	pulumirpc.UnimplementedResourceProviderServer
	version string
}

func (s *standin) Handshake(context.Context, *pulumirpc.ProviderHandshakeRequest) (*pulumirpc.ProviderHandshakeResponse, error) {
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: true}, nil
}

func (s *standin) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.version}, nil
}

func (s *standin) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *standin) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{}, nil
}

func (s *standin) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true}, nil
}

func (s *standin) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *standin) Diff(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *standin) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	args, err := plugin.UnmarshalProperties(req.GetArgs(), plugin.MarshalOptions{KeepUnknowns: true})
	if err != nil {
		return nil, err
	}
	answer, err := offline.Answer(req.GetTok(), "us-east-1", args)
	if err != nil {
		return nil, err
	}
	ret, err := plugin.MarshalProperties(answer, plugin.MarshalOptions{KeepSecrets: true})
	if err != nil {
		return nil, err
	}
	return &pulumirpc.InvokeResponse{Return: ret}, nil
}

// Create answers only the engine's preview of a creation, with the inputs as the outputs; the outputs
// the real provider would compute stay unknown, as in a real first preview.
func (s *standin) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if !req.GetPreview() {
		return nil, errPreviewOnly
	}
	return &pulumirpc.CreateResponse{Properties: req.GetProperties()}, nil
}

func (s *standin) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if !req.GetPreview() {
		return nil, errPreviewOnly
	}
	return &pulumirpc.UpdateResponse{Properties: req.GetNews()}, nil
}

func (s *standin) Read(context.Context, *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return nil, errPreviewOnly
}

func (s *standin) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return nil, errPreviewOnly
}

func (s *standin) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

func main() {
	// The engine finds a plugin in a directory named resource-<name>-v<version>; report that version.
	version := "0.0.0"
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Base(filepath.Dir(exe))
		if i := strings.LastIndex(dir, "-v"); i >= 0 {
			version = dir[i+2:]
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, &standin{version: version})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
