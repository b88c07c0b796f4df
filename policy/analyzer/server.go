package analyzer

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hipaa-platform/platform/policy/engine"
)

// Server is a pack's analyzer.
type Server struct {
	pulumirpc.UnimplementedAnalyzerServer

	rules *engine.Pack
	pack  policyx.PolicyPack

	mu  sync.RWMutex
	cfg engine.Config
}

// New builds the pack's policies once; every request after that only reads them.
func New(rules *engine.Pack) (*Server, error) {
	pack, err := rules.PolicyPack()
	if err != nil {
		return nil, fmt.Errorf("building the policy pack: %w", err)
	}
	return &Server{rules: rules, pack: pack}, nil
}

func (s *Server) config() engine.Config {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg
}

// Handshake accepts the engine; the pack needs nothing from it.
func (s *Server) Handshake(context.Context, *pulumirpc.AnalyzerHandshakeRequest) (*pulumirpc.AnalyzerHandshakeResponse, error) {
	return &pulumirpc.AnalyzerHandshakeResponse{}, nil
}

// ConfigureStack is told which stack is analyzed; the rules do not depend on it, so the server works
// whether or not it is called.
func (s *Server) ConfigureStack(context.Context, *pulumirpc.AnalyzerStackConfigureRequest) (*pulumirpc.AnalyzerStackConfigureResponse, error) {
	return &pulumirpc.AnalyzerStackConfigureResponse{}, nil
}

// GetPluginInfo reports the pack's version.
func (s *Server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: s.pack.Version().String()}, nil
}

var severities = map[engine.Severity]pulumirpc.PolicySeverity{
	engine.Critical: pulumirpc.PolicySeverity_POLICY_SEVERITY_CRITICAL,
	engine.High:     pulumirpc.PolicySeverity_POLICY_SEVERITY_HIGH,
	engine.Medium:   pulumirpc.PolicySeverity_POLICY_SEVERITY_MEDIUM,
	engine.Low:      pulumirpc.PolicySeverity_POLICY_SEVERITY_LOW,
}

// GetAnalyzerInfo describes every policy: its level, severity, HIPAA framework, fix and config schema.
func (s *Server) GetAnalyzerInfo(context.Context, *emptypb.Empty) (*pulumirpc.AnalyzerInfo, error) {
	info := &pulumirpc.AnalyzerInfo{
		Name:           s.pack.Name(),
		DisplayName:    s.rules.DisplayName,
		Version:        s.pack.Version().String(),
		SupportsConfig: true,
		Description:    s.rules.Description,
	}
	for _, p := range s.pack.Policies() {
		rule := s.rules.Rule(p.Name())
		pi := &pulumirpc.PolicyInfo{
			Name:             p.Name(),
			Description:      p.Description(),
			EnforcementLevel: pulumirpc.EnforcementLevel(p.EnforcementLevel()),
			PolicyType:       pulumirpc.PolicyType_POLICY_TYPE_RESOURCE,
			Severity:         severities[rule.Severity],
			RemediationSteps: rule.Fix,
			Framework: &pulumirpc.PolicyComplianceFramework{
				Name: s.rules.Framework.Name, Version: s.rules.Framework.Version, Specification: s.rules.Cite(rule.Citations),
			},
		}
		if rule.IsStack() {
			pi.PolicyType = pulumirpc.PolicyType_POLICY_TYPE_STACK
		}
		if schema := p.ConfigSchema(); schema != nil {
			props := make(map[string]any, len(schema.Properties))
			for k, v := range schema.Properties {
				props[k] = v
			}
			st, err := structpb.NewStruct(props)
			if err != nil {
				return nil, fmt.Errorf("policy %s config schema: %w", p.Name(), err)
			}
			pi.ConfigSchema = &pulumirpc.PolicyConfigSchema{Properties: st, Required: schema.Required}
		}
		info.Policies = append(info.Policies, pi)
	}
	// The waivers' own policy, so that --policy-pack-config may set its term.
	term, err := structpb.NewStruct(map[string]any{"maximumTermDays": map[string]any{
		"type": "integer", "minimum": 1, "maximum": 3653, "default": engine.DefaultWaiverTermDays,
		"description": "the longest a waiver may run, in days from the day it is judged",
	}})
	if err != nil {
		return nil, err
	}
	info.Policies = append(info.Policies, &pulumirpc.PolicyInfo{
		Name:             engine.WaiverRuleID,
		Description:      waiverDescription,
		EnforcementLevel: pulumirpc.EnforcementLevel_MANDATORY,
		PolicyType:       pulumirpc.PolicyType_POLICY_TYPE_STACK,
		Severity:         pulumirpc.PolicySeverity_POLICY_SEVERITY_HIGH,
		RemediationSteps: "Give every waiver a pattern that names the resources it exempts, a reason, and an expiry within the term; remove the others.",
		ConfigSchema:     &pulumirpc.PolicyConfigSchema{Properties: term},
		Framework: &pulumirpc.PolicyComplianceFramework{
			Name: s.rules.Framework.Name, Version: s.rules.Framework.Version, Specification: "the pack's own configuration",
		},
	})
	return info, nil
}

const waiverDescription = "waivers in the policy configuration are valid"

var levels = map[pulumirpc.EnforcementLevel]engine.Level{
	pulumirpc.EnforcementLevel_ADVISORY:  engine.Advisory,
	pulumirpc.EnforcementLevel_MANDATORY: engine.Mandatory,
	pulumirpc.EnforcementLevel_DISABLED:  engine.Disabled,
}

// Configure takes the pack's configuration (--policy-pack-config) and validates it: a bad parameter or
// waiver is an error naming the policy, before anything is analyzed.
func (s *Server) Configure(_ context.Context, req *pulumirpc.ConfigureAnalyzerRequest) (*emptypb.Empty, error) {
	doc := map[string]map[string]any{}
	for name, pc := range req.GetPolicyConfig() {
		props := map[string]any{}
		if pc.GetProperties() != nil {
			props = pc.GetProperties().AsMap()
		}
		if l, ok := levels[pc.GetEnforcementLevel()]; ok {
			props["enforcementLevel"] = string(l)
		}
		doc[name] = props
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	cfg, err := s.rules.ParseConfig(data)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	s.mu.Lock()
	s.cfg = cfg
	s.mu.Unlock()
	return &emptypb.Empty{}, nil
}

var unmarshal = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, KeepOutputValues: true}

// Analyze runs the resource policies on one resource.
func (s *Server) Analyze(ctx context.Context, req *pulumirpc.AnalyzeRequest) (_ *pulumirpc.AnalyzeResponse, err error) {
	defer recoverAs(&err, "analyze "+req.GetUrn())
	props, err := plugin.UnmarshalProperties(req.GetProperties(), unmarshal)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", req.GetUrn(), err)
	}
	res := policyx.AnalyzerResource{
		Type: req.GetType(), URN: req.GetUrn(), Name: req.GetName(),
		Properties: resource.FromResourcePropertyMap(props), Options: options(req.GetOptions()),
	}
	if opts := req.GetOptions(); opts != nil {
		res.Parent = opts.GetParent()
	}
	sink := s.newSink()
	for _, p := range s.pack.Policies() {
		rp, ok := p.(policyx.ResourceValidationPolicy)
		if !ok || sink.cfgLevel(p.Name()) == engine.Disabled {
			continue
		}
		sink.run(p.Name(), req.GetUrn(), func() error {
			return rp.Validate(ctx, policyx.ResourceValidationArgs{Manager: sink, Resource: res})
		})
	}
	return &pulumirpc.AnalyzeResponse{Diagnostics: sink.diagnostics}, nil
}

// AnalyzeStack runs the stack policies over every resource, and reports the waivers that exempt nothing
// (invalid ones, and those that match no resource of the stack).
func (s *Server) AnalyzeStack(ctx context.Context, req *pulumirpc.AnalyzeStackRequest) (_ *pulumirpc.AnalyzeResponse, err error) {
	defer recoverAs(&err, "analyze stack")
	resources := make([]policyx.AnalyzerResource, 0, len(req.GetResources()))
	for _, r := range req.GetResources() {
		props, err := plugin.UnmarshalProperties(r.GetProperties(), unmarshal)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", r.GetUrn(), err)
		}
		pdeps := map[string][]string{}
		for k, d := range r.GetPropertyDependencies() {
			pdeps[k] = d.GetUrns()
		}
		resources = append(resources, policyx.AnalyzerResource{
			Type: r.GetType(), URN: r.GetUrn(), Name: r.GetName(), Parent: r.GetParent(),
			Properties: resource.FromResourcePropertyMap(props), Dependencies: r.GetDependencies(), PropertyDependencies: pdeps,
			Options: options(r.GetOptions()),
		})
	}
	sink := s.newSink()
	for _, p := range s.pack.Policies() {
		sp, ok := p.(policyx.StackValidationPolicy)
		if !ok || sink.cfgLevel(p.Name()) == engine.Disabled {
			continue
		}
		sink.run(p.Name(), "", func() error {
			return sp.Validate(ctx, policyx.StackValidationArgs{Manager: sink, Resources: resources})
		})
	}
	stack := make([]*engine.Resource, len(resources))
	for i, r := range resources {
		stack[i] = engine.FromAnalyzer(r)
	}
	for _, f := range s.rules.WaiverFindings(stack, sink.cfg) {
		sink.Finding(f)
	}
	return &pulumirpc.AnalyzeResponse{Diagnostics: sink.diagnostics}, nil
}

// options are the resource options the engine sends, as the SDK's policies take them.
func options(o *pulumirpc.AnalyzerResourceOptions) pulumi.ResourceOptions {
	return pulumi.ResourceOptions{Protect: o.GetProtect(), DeleteBeforeReplace: o.GetDeleteBeforeReplace(), IgnoreChanges: o.GetIgnoreChanges()}
}

// Remediate changes nothing: the pack reports, it never rewrites a resource.
func (s *Server) Remediate(context.Context, *pulumirpc.AnalyzeRequest) (*pulumirpc.RemediateResponse, error) {
	return &pulumirpc.RemediateResponse{}, nil
}

// Cancel has nothing to stop: every request finishes quickly.
func (s *Server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// recoverAs turns a panic in a handler into an error, so the analyzer process survives it.
func recoverAs(err *error, what string) {
	if p := recover(); p != nil {
		*err = status.Errorf(codes.Internal, "%s: policy pack panicked: %v\n%s", what, p, debug.Stack())
	}
}

// sink collects one request's findings as diagnostics; it is the PolicyManager the policies report to.
type sink struct {
	rules       *engine.Pack
	pack        policyx.PolicyPack
	cfg         engine.Config
	diagnostics []*pulumirpc.AnalyzeDiagnostic
	current     string
	urn         string
}

func (s *Server) newSink() *sink { return &sink{rules: s.rules, pack: s.pack, cfg: s.config()} }

func (k *sink) Config() engine.Config { return k.cfg }

func (k *sink) cfgLevel(id string) engine.Level {
	if rc, ok := k.cfg.Rules[id]; ok && rc.Level != "" {
		return rc.Level
	}
	return engine.Mandatory
}

// run calls one policy, turning a panic or an error into a mandatory diagnostic on that policy.
func (k *sink) run(policy, urn string, validate func() error) {
	k.current, k.urn = policy, urn
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return validate()
	}()
	if err != nil {
		k.Finding(engine.Finding{RuleID: policy, URN: urn, Level: engine.Mandatory,
			Message: fmt.Sprintf("the policy failed (%v), so compliance could not be established", err)})
	}
}

// ReportViolation takes a plain violation, from a policy that does not know the Sink.
func (k *sink) ReportViolation(message, urn string) {
	if urn == "" {
		urn = k.urn
	}
	k.Finding(engine.Finding{RuleID: k.current, URN: urn, Message: message, Level: k.cfgLevel(k.current)})
}

// Finding turns a finding into a diagnostic. Unknown and waived findings are advisory: shown, never
// blocking.
func (k *sink) Finding(f engine.Finding) {
	level := pulumirpc.EnforcementLevel_MANDATORY
	if f.Level == engine.Advisory || f.Unknown || f.Waiver != nil {
		level = pulumirpc.EnforcementLevel_ADVISORY
	}
	rule := k.rules.Rule(f.RuleID)
	d := &pulumirpc.AnalyzeDiagnostic{
		PolicyName:        f.RuleID,
		PolicyPackName:    k.pack.Name(),
		PolicyPackVersion: k.pack.Version().String(),
		Message:           k.rules.Message(f),
		EnforcementLevel:  level,
		Urn:               f.URN,
	}
	if rule != nil {
		d.Description = rule.Description
		d.Severity = severities[rule.Severity]
	} else {
		d.Description = waiverDescription
		d.Severity = pulumirpc.PolicySeverity_POLICY_SEVERITY_HIGH
	}
	k.diagnostics = append(k.diagnostics, d)
}
