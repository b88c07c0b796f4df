package app

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/cloudinit"
	"github.com/hipaa-platform/platform/internal/converge"
	"github.com/hipaa-platform/platform/internal/iampolicy"
)

//go:embed templates/converge.sh.tmpl
var templates embed.FS

var steps = template.Must(template.New("converge.sh.tmpl").Funcs(template.FuncMap{"quote": shellQuote}).
	ParseFS(templates, "templates/converge.sh.tmpl"))

// The container's user and where it finds what the host fetched for it.
const (
	// ContainerUID is the user and group the container runs as, whatever the image's USER says, and
	// the owner of the files it reads: no other user of the host may read them.
	ContainerUID = 10001
	// ContainerDir is where the container finds its files, mounted read-only.
	ContainerDir = "/run/secrets/platform"
	// hostRoot holds, in a memory file system, each tier's files for its container.
	hostRoot = "/run/hipaa"
	// stageDir holds the files the user data and converge runs install from.
	stageDir = "/etc/hipaa"
)

// hostPolicy is all a host may do: pull from the one repository, write its tier's logs, publish its
// Converged metric, and read the tier's own secrets through Secrets Manager.
func hostPolicy(a *TierArgs, logGroupArn pulumi.StringOutput) pulumi.StringOutput {
	arns := pulumi.StringArray{}
	for _, s := range a.Secrets {
		arns = append(arns, s.Arn)
	}
	secretsKey := pulumi.StringInput(pulumi.String(""))
	if a.SecretsKeyArn != nil {
		secretsKey = a.SecretsKeyArn
	}
	return pulumi.All(a.RepositoryArn, logGroupArn, arns, secretsKey).ApplyT(func(v []any) string {
		repo, logs, secrets, key := v[0].(string), v[1].(string), v[2].([]string), v[3].(string)
		statements := []iampolicy.Statement{
			// GetAuthorizationToken has no resource to name; it only lets the host log in, and the
			// repository policy and the next statement decide what it may pull.
			iampolicy.Allow("RegistryLogin", []string{"ecr:GetAuthorizationToken"}, []string{"*"}),
			iampolicy.Allow("PullReleases", registry.PullActions, []string{repo}),
			hostrole.WriteLogs("WriteContainerLogs", logs),
			hostrole.PublishConvergence(),
			hostrole.PublishAgentMetrics(),
		}
		statements = append(statements, hostrole.WriteSessionLogs(logs)...)
		if len(secrets) > 0 {
			statements = append(statements, hostrole.ReadSecrets(secrets, key, a.Region)...)
		}
		return iampolicy.New(statements...).JSON()
	}).(pulumi.StringOutput)
}

// hostParams are what a host's converge steps are rendered from.
type hostParams struct {
	Role, Image, Registry, Region, LogGroup string
	Serve                                   bool
	HostPort, ContainerPort                 int
	Environment                             [][2]string
	Secrets                                 []renderedSecret
	Files                                   []renderedFile
}

type renderedSecret struct{ Env, File, Arn string }

type renderedFile struct{ Env, File, Content string }

// Converge is how a tier's hosts converge: at first boot and every 15 minutes after, which also puts
// back a container that stopped and refreshes its secrets. Each host publishes Converged under the
// tier's name: the tier's alarm fires when any of its hosts has not converged.
func Converge(name, role, region string) converge.Host {
	return converge.Host{
		Name: name, Unit: "hipaa-" + role + "-converge", Description: "run the " + role + " tier's release with what it reads",
		Region: region, AWSCLI: "/usr/bin/aws", StateDir: converge.StateDir, LogFile: converge.LogFile, Every: converge.Every,
	}
}

// UserData renders the hosts' first boot: the converge unit and what it installs from.
func UserData(name string, a *TierArgs, logGroup pulumi.StringOutput) pulumi.StringOutput {
	keys := slices.Sorted(maps.Keys(a.Environment))
	values := pulumi.StringArray{}
	for _, k := range keys {
		values = append(values, a.Environment[k])
	}
	arns, contents := pulumi.StringArray{}, pulumi.StringArray{}
	for _, s := range a.Secrets {
		arns = append(arns, s.Arn)
	}
	for _, f := range a.Files {
		contents = append(contents, f.Content)
	}
	return pulumi.All(a.Image, logGroup, values, arns, contents).ApplyT(func(v []any) (string, error) {
		image, group, vals, arns, contents := v[0].(string), v[1].(string), v[2].([]string), v[3].([]string), v[4].([]string)
		p := hostParams{
			Role: a.Role, Image: image, Registry: strings.SplitN(image, "/", 2)[0], Region: a.Region, LogGroup: group,
			HostPort: defaultHostPort, ContainerPort: defaultContainerPort, Serve: a.LoadBalancer != nil,
		}
		for i, k := range keys {
			p.Environment = append(p.Environment, [2]string{k, vals[i]})
		}
		for i, s := range a.Secrets {
			p.Secrets = append(p.Secrets, renderedSecret{Env: s.Env, File: s.File, Arn: arns[i]})
		}
		for i, f := range a.Files {
			p.Files = append(p.Files, renderedFile{Env: f.Env, File: f.File, Content: contents[i]})
		}
		files, err := Bundle(name, p)
		if err != nil {
			return "", err
		}
		// Gzipped and base64-encoded already, as a launch template takes it.
		return Converge(name, a.Role, a.Region).UserData(files)
	}).(pulumi.StringOutput)
}

// Bundle is a tier host's whole setup, as files: the files its container reads that are not secret,
// the CloudWatch agent's configuration, and the converge script with its units.
func Bundle(name string, p hostParams) ([]cloudinit.File, error) {
	if !strings.Contains(p.Image, "@sha256:") {
		return nil, fmt.Errorf("app: image %q is not pinned by digest", p.Image)
	}
	run := runArgs(p)
	sum := sha256.Sum256([]byte(p.Image + "\n" + strings.Join(run, "\n")))
	type staged struct {
		renderedFile
		Staged string
	}
	var files []staged
	var out []cloudinit.File
	for _, f := range p.Files {
		s := staged{f, stageDir + "/" + p.Role + "/" + f.File}
		files = append(files, s)
		out = append(out, cloudinit.File{Path: s.Staged, Permissions: "0644", Content: f.Content})
	}
	var body strings.Builder
	if err := steps.Execute(&body, map[string]any{
		"Role": p.Role, "Image": p.Image, "Registry": p.Registry, "Serve": p.Serve,
		"UID": ContainerUID, "HostRoot": hostRoot, "HostDir": hostRoot + "/" + p.Role, "SessionUser": hostrole.SessionUser,
		"Secrets": p.Secrets, "Files": files, "RunArgs": run, "Spec": hex.EncodeToString(sum[:8]),
		"InspectFormat": `{{.State.Running}} {{index .Config.Labels "hipaa.spec"}}`,
	}); err != nil {
		return nil, fmt.Errorf("rendering the %s tier's converge steps: %w", p.Role, err)
	}
	agent := cloudinit.Agent{DiskPaths: []string{"/"}, LogGroup: p.LogGroup,
		Logs: []cloudinit.LogFile{Converge(name, p.Role, p.Region).AgentLog()}}
	out = append(out, cloudinit.File{Path: stageDir + "/cloudwatch-agent.json", Permissions: "0644", Content: agent.Config()})
	own, err := Converge(name, p.Role, p.Region).Files(body.String())
	if err != nil {
		return nil, err
	}
	return append(out, own...), nil
}

// runArgs are the container's docker run options, each one shell word or option pair, quoted: its user,
// a read-only root, no capabilities, its files read-only, its logs to the tier's log group, and its
// environment. No secret is among them: the container reads secrets from files.
func runArgs(p hostParams) []string {
	args := []string{
		fmt.Sprintf("--user %d:%d", ContainerUID, ContainerUID),
		"--read-only --tmpfs /tmp --security-opt no-new-privileges --cap-drop ALL",
		"--log-driver awslogs --log-opt awslogs-region=" + shellQuote(p.Region) + " --log-opt awslogs-group=" + shellQuote(p.LogGroup),
		"--volume " + shellQuote(hostRoot+"/"+p.Role+":"+ContainerDir+":ro"),
	}
	if p.Serve {
		args = append(args,
			fmt.Sprintf("--publish %d:%d", p.HostPort, p.ContainerPort),
			"--env TLS_CERT_FILE="+ContainerDir+"/tls.crt --env TLS_KEY_FILE="+ContainerDir+"/tls.key",
			fmt.Sprintf("--env PORT=%d", p.ContainerPort))
	}
	args = append(args, "--env PLATFORM_ROLE="+shellQuote(p.Role)+" --env AWS_REGION="+shellQuote(p.Region))
	for _, s := range p.Secrets {
		args = append(args, "--env "+s.Env+"="+ContainerDir+"/"+s.File)
	}
	for _, f := range p.Files {
		args = append(args, "--env "+f.Env+"="+ContainerDir+"/"+f.File)
	}
	for _, e := range p.Environment {
		args = append(args, "--env "+e[0]+"="+shellQuote(e[1]))
	}
	return args
}

// shellQuote quotes s for a POSIX shell: single quotes, with each single quote closed, escaped and
// reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
