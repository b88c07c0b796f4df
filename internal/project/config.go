package project

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/placeholder"
	"github.com/hipaa-platform/platform/internal/refusal"
)

// Problem is one invalid configuration value.
type Problem struct {
	// Key is the fully qualified key, such as hipaa:vpcCidr.
	Key string
	// Message says what was found and what is allowed.
	Message string
}

// ConfigError lists every invalid value of a stack's configuration at once, so an operator fixes them in
// one pass: those the stack file gets wrong (StackConfig) and those the program's own checks find.
type ConfigError struct {
	Stack    string
	Problems []Problem
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "stack %s: %d invalid configuration value(s); nothing was created:", e.Stack, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Key, p.Message)
	}
	return b.String()
}

// Keys reports the keys with problems, in order.
func (e *ConfigError) Keys() []string {
	keys := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		keys[i] = p.Key
	}
	return keys
}

// Merge joins the problems of errs (each nil, or wrapping a *ConfigError) into one ConfigError of stack,
// ordered by key, each once: nil when there are none. Other errors are not problems; the caller keeps
// them.
func Merge(stack string, errs ...error) error {
	all := &ConfigError{Stack: stack}
	for _, err := range errs {
		var c *ConfigError
		if errors.As(err, &c) && c != nil {
			for _, p := range c.Problems {
				if !slices.Contains(all.Problems, p) {
					all.Problems = append(all.Problems, p)
				}
			}
		}
	}
	if len(all.Problems) == 0 {
		return nil
	}
	slices.SortStableFunc(all.Problems, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return all
}

type stackFile struct {
	Config map[string]any `yaml:"config"`
}

// qualify names a declared key as the program sees it: "hipaa:vpcCidr" for "vpcCidr".
func (p *Project) qualify(key string) string {
	if strings.Contains(key, ":") {
		return key
	}
	return p.Name + ":" + key
}

// StackConfig returns the configuration the program receives for stack, as the CLI would hand it over
// (the defaults of Pulumi.yaml overlaid with Pulumi.<stack>.yaml), and which of its keys are secret.
//
// A value the file gets wrong is a Problem of the *ConfigError it returns: a key of the project's
// namespace that Pulumi.yaml does not declare, a namespace that is neither the project's nor one of its
// providers', a key no provider has (each with the nearest known key suggested), a value of the wrong
// type, a secret in plaintext. The configuration is returned all the same, without those values, so the
// program's own checks can add theirs to the same report. An unknown stack or an unreadable file is a
// refusal, with no configuration.
func (p *Project) StackConfig(stack string) (map[string]string, []string, error) {
	stacks, err := p.Stacks()
	if err != nil {
		return nil, nil, err
	}
	if !slices.Contains(stacks, stack) {
		return nil, nil, refusal.New("unknown stack %q: the stacks of project %s are %s", stack, p.Name, strings.Join(stacks, ", "))
	}
	path := filepath.Join(p.Dir, "Pulumi."+stack+".yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, refusal.New("reading stack settings: %w", err)
	}
	var sf stackFile
	if err := yaml.Unmarshal(data, &sf); err != nil {
		return nil, nil, refusal.New("%s: %w", path, err)
	}
	return p.resolve(stack, sf.Config)
}

// resolve overlays the declared defaults with one stack's own settings, checking each.
func (p *Project) resolve(stack string, settings map[string]any) (map[string]string, []string, error) {
	cfg := map[string]string{}
	var secrets []string
	declared := map[string]Key{}
	for k, decl := range p.Config {
		q := p.qualify(k)
		declared[q] = decl
		if decl.Default != nil {
			s, err := encode(decl.Default)
			if err != nil {
				return nil, nil, fmt.Errorf("Pulumi.yaml: default of %s: %w", q, err)
			}
			cfg[q] = s
		}
	}

	bad := &ConfigError{Stack: stack}
	fail := func(key, format string, v ...any) {
		bad.Problems = append(bad.Problems, Problem{Key: key, Message: fmt.Sprintf(format, v...)})
	}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		v := settings[k]
		q := p.qualify(k)
		if problem := p.unknownKey(q, declared); problem != "" {
			fail(q, "%s", problem)
			continue
		}
		if obj, ok := v.(map[string]any); ok && len(obj) == 1 && obj["secure"] != nil {
			cfg[q] = placeholder.Secret // only the CLI can decrypt a secure: value
			secrets = append(secrets, q)
			continue
		}
		if decl, ok := declared[q]; ok {
			if err := checkType(decl, v); err != nil {
				fail(q, "%v", err)
				continue
			}
			if decl.Secret {
				fail(q, "a secret, stored in plaintext; set it with `pulumi config set --secret %s`", k)
				continue
			}
		}
		s, err := encode(v)
		if err != nil {
			fail(q, "%v", err)
			continue
		}
		cfg[q] = s
	}
	sort.Strings(secrets)
	if len(bad.Problems) > 0 {
		return cfg, secrets, bad
	}
	return cfg, secrets, nil
}

// unknownKey says what is wrong with a key no one reads, or "" for a known key.
func (p *Project) unknownKey(q string, declared map[string]Key) string {
	ns, name, _ := strings.Cut(q, ":")
	known := func() []string {
		keys := slices.Collect(maps.Keys(declared))
		for provider, names := range ProviderKeys {
			for _, n := range names {
				keys = append(keys, provider+":"+n)
			}
		}
		return keys
	}
	switch names, provider := ProviderKeys[ns]; {
	case ns == p.Name:
		if _, ok := declared[q]; !ok {
			return "not declared in Pulumi.yaml" + suggest(q, known())
		}
	case provider:
		if !slices.Contains(names, name) {
			return fmt.Sprintf("not a setting of the %s provider", ns) + suggest(q, known())
		}
	default:
		return fmt.Sprintf("namespace %q is neither the project's (%s) nor a provider's (%s)", ns, p.Name,
			strings.Join(slices.Sorted(maps.Keys(ProviderKeys)), ", ")) + suggest(q, known())
	}
	return ""
}

// ProviderKeys are the settings of the providers the program uses, by namespace: the keys each
// provider's Go SDK reads (pulumi-aws v6.83.4 sdk/go/aws/config/config.go, pulumi-docker v4.10.0 and
// pulumi-tls v5.2.0 likewise; pulumi-random has none), and the engine's own pulumi: keys.
var ProviderKeys = map[string][]string{
	"aws": {"accessKey", "allowedAccountIds", "assumeRole", "assumeRoleWithWebIdentity", "customCaBundle",
		"defaultTags", "ec2MetadataServiceEndpoint", "ec2MetadataServiceEndpointMode", "endpoints",
		"forbiddenAccountIds", "httpProxy", "httpsProxy", "ignoreTags", "insecure", "maxRetries", "noProxy",
		"profile", "region", "retryMode", "s3UsEast1RegionalEndpoint", "s3UsePathStyle", "secretKey",
		"sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation", "skipMetadataApiCheck",
		"skipRegionValidation", "skipRequestingAccountId", "stsRegion", "token", "tokenBucketRateLimiterCapacity",
		"useDualstackEndpoint", "useFipsEndpoint"},
	"docker": {"caMaterial", "certMaterial", "certPath", "context", "disableDockerDaemonCheck", "host",
		"keyMaterial", "registryAuth", "sshOpts"},
	"random": {},
	"tls":    {"proxy"},
	"pulumi": {"disable-default-providers", "tags", "template"},
}

// suggest names the known key nearest to key, when one is near enough to be a typo of it.
func suggest(key string, known []string) string {
	best, bestDist := "", len(key)/3+1
	slices.Sort(known)
	for _, k := range known {
		if d := distance(strings.ToLower(key), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + best + "?"
}

// distance is the Levenshtein distance between two strings.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// encode renders a YAML value the way the CLI hands it to a program: scalars as text, objects and arrays
// as JSON.
func encode(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// Like the CLI, it accepts a quoted scalar that reads as the declared type: `pulumi config set` writes
// every value as a string ("2", "true").
func checkType(decl Key, v any) error {
	ok := false
	text, isString := v.(string)
	switch decl.Type {
	case "string":
		ok = isString
	case "integer":
		_, ok = v.(int)
		if isString {
			_, err := strconv.Atoi(text)
			ok = err == nil
		}
	case "boolean":
		_, ok = v.(bool)
		ok = ok || isString && (text == "true" || text == "false")
	case "array":
		_, ok = v.([]any)
		if isString {
			var items []any
			ok = json.Unmarshal([]byte(text), &items) == nil
		}
	}
	if !ok {
		return fmt.Errorf("got %v, want a value of type %s", v, decl.Type)
	}
	return nil
}
