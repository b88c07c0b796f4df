package app

import (
	"bytes"
	"embed"
	"encoding/base64"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/registry"
	"github.com/hipaa-platform/platform/internal/iampolicy"
)

//go:embed templates/boot.sh.tmpl
var templates embed.FS

var boot = template.Must(template.New("boot.sh.tmpl").Funcs(template.FuncMap{"quote": shellQuote}).
	ParseFS(templates, "templates/boot.sh.tmpl"))

// hostPolicy is all a host may do: pull from the one repository, write its tier's container logs, and
// read the tier's own secrets through Secrets Manager.
func hostPolicy(a *TierArgs, logGroupArn pulumi.StringOutput) pulumi.StringOutput {
	secrets := pulumi.StringArrayInput(pulumi.StringArray{})
	if a.SecretArns != nil {
		secrets = a.SecretArns
	}
	secretsKey := pulumi.StringInput(pulumi.String(""))
	if a.SecretsKeyArn != nil {
		secretsKey = a.SecretsKeyArn
	}
	return pulumi.All(a.RepositoryArn, logGroupArn, secrets.ToStringArrayOutput(), secretsKey).ApplyT(func(v []any) string {
		repo, logs, secrets, key := v[0].(string), v[1].(string), v[2].([]string), v[3].(string)
		statements := []iampolicy.Statement{
			// GetAuthorizationToken has no resource to name; it only lets the host log in, and the
			// repository policy and the next statement decide what it may pull.
			iampolicy.Allow("RegistryLogin", []string{"ecr:GetAuthorizationToken"}, []string{"*"}),
			iampolicy.Allow("PullReleases", registry.PullActions, []string{repo}),
			iampolicy.Allow("WriteContainerLogs", []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"}, []string{logs, logs + ":*"}),
		}
		if len(secrets) > 0 {
			statements = append(statements,
				iampolicy.Allow("ReadOwnSecrets", []string{"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}, secrets),
				iampolicy.Allow("DecryptOwnSecrets", []string{"kms:Decrypt"}, []string{key}).
					When("StringEquals", "kms:ViaService", "secretsmanager."+a.Region+".amazonaws.com"))
		}
		return iampolicy.New(statements...).JSON()
	}).(pulumi.StringOutput)
}

// bootParams are what a host's boot script is rendered from.
type bootParams struct {
	Role          string
	Image         string
	Registry      string
	Region        string
	LogGroup      string
	HostPort      int
	ContainerPort int
	Serve         bool
	Environment   [][2]string
}

// UserData renders the hosts' boot script, base64-encoded as launch templates take it: it logs in to the
// registry with the instance's role, pulls the release by digest, makes the TLS key the load balancer
// reaches the host with (it never leaves the host), and runs the container with its logs sent to the
// tier's log group.
func UserData(a *TierArgs, logGroup pulumi.StringOutput) pulumi.StringOutput {
	keys := slices.Sorted(maps.Keys(a.Environment))
	values := pulumi.StringArray{}
	for _, k := range keys {
		values = append(values, a.Environment[k])
	}
	return pulumi.All(a.Image, logGroup, values).ApplyT(func(v []any) (string, error) {
		image, group, vals := v[0].(string), v[1].(string), v[2].([]string)
		p := bootParams{
			Role: a.Role, Image: image, Registry: strings.SplitN(image, "/", 2)[0], Region: a.Region, LogGroup: group,
			HostPort: defaultHostPort, ContainerPort: defaultContainerPort, Serve: a.LoadBalancer != nil,
		}
		for i, k := range keys {
			p.Environment = append(p.Environment, [2]string{k, vals[i]})
		}
		script, err := RenderBoot(p)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString([]byte(script)), nil
	}).(pulumi.StringOutput)
}

// RenderBoot renders the boot script.
func RenderBoot(p bootParams) (string, error) {
	if !strings.Contains(p.Image, "@sha256:") {
		return "", fmt.Errorf("app: image %q is not pinned by digest", p.Image)
	}
	var b bytes.Buffer
	if err := boot.Execute(&b, p); err != nil {
		return "", fmt.Errorf("rendering the boot script: %w", err)
	}
	return b.String(), nil
}

// shellQuote quotes s for a POSIX shell: single quotes, with each single quote closed, escaped and
// reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
