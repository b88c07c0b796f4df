package images

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Dir is where an image keeps the build's files: the build writes them there and runs them from there, the
// pipeline's test runs check.sh from there on an instance of the new image, and an operator can run check.sh
// on a host later (after a patch, say).
const Dir = "/usr/local/lib/hipaa-image"

// MaxDocument is the most characters an Image Builder component's inline document may hold: the provider
// checks `data` with StringLenBetween(1, 16000) (terraform-provider-aws, internal/service/imagebuilder/
// component.go), as does the API (CreateComponent's data, "Length Constraints: Minimum length of 1. Maximum
// length of 16000").
const MaxDocument = 16000

// RoleParameter is the components' one parameter: the role of the image they build, db or monitoring.
const RoleParameter = "Role"

// Document is a component document of AWS Task Orchestrator and Executor (AWSTOE), the agent that runs an
// Image Builder component on the build and test instances ("Use documents to build components", Image
// Builder User Guide). Only what the platform's components use is modelled: phases of steps that write
// files (CreateFile) and run bash (ExecuteBash).
type Document struct {
	Name          string                 `yaml:"name"`
	Description   string                 `yaml:"description"`
	SchemaVersion schemaVersion          `yaml:"schemaVersion"`
	Parameters    []map[string]Parameter `yaml:"parameters,omitempty"`
	Phases        []Phase                `yaml:"phases"`
}

// schemaVersion is the document's schema, 1.0, written as the number the User Guide's examples show.
type schemaVersion string

// MarshalYAML writes the version as a YAML float, not a string.
func (v schemaVersion) MarshalYAML() (any, error) {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: string(v)}, nil
}

// UnmarshalYAML reads the version back.
func (v *schemaVersion) UnmarshalYAML(n *yaml.Node) error {
	*v = schemaVersion(n.Value)
	return nil
}

// Parameter is a document's parameter, which the recipe gives a value and the steps read as {{ Name }}.
type Parameter struct {
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
}

// Phase is one of a document's phases: build (on the build instance), validate (there too, after every
// component's build), test (on an instance launched from the new image, before it is distributed).
type Phase struct {
	Name  string `yaml:"name"`
	Steps []Step `yaml:"steps"`
}

// Step is one action of a phase: Files for CreateFile, Commands for ExecuteBash.
type Step struct {
	Name   string `yaml:"name"`
	Action string `yaml:"action"`
	Inputs any    `yaml:"inputs"`
}

// File is one file a CreateFile step writes.
type File struct {
	Path        string `yaml:"path"`
	Content     string `yaml:"content"`
	Owner       string `yaml:"owner"`
	Group       string `yaml:"group"`
	Permissions string `yaml:"permissions"`
	Overwrite   bool   `yaml:"overwrite"`
}

// Bash is an ExecuteBash step's input: commands run as one bash script, as root. Each step's script starts
// with set -euo pipefail (bashStrict), so that it stops at the first command that fails whatever AWSTOE's
// own shell options are.
type Bash struct {
	Commands []string `yaml:"commands"`
}

// document is one of the build's components: the files it writes into Dir and the commands it runs.
type document struct {
	name, description string
	files             []string
	// build runs on the build instance; test, on an instance of the new image.
	build, test []string
}

// bashStrict starts every ExecuteBash step.
const bashStrict = "set -euo pipefail"

// The build's steps, and the components that hold them: four, because the files together are over
// MaxDocument. Each component writes the files its commands need into Dir; image.sh and packages, which
// every script reads, come with the first.
var documents = []document{
	{
		name:        "sources",
		description: "Points apt at Debian's mirror over HTTPS, the only egress the build has",
		files:       []string{"agents.sh"},
		build:       []string{Dir + "/agents.sh https-mirror"},
	},
	{
		name:        "install",
		description: "Installs the role's packages at the releases pinned in the file packages, and the CloudWatch agent",
		files:       []string{"packages", "image.sh", "install.sh"},
		build: []string{
			Dir + "/install.sh {{ " + RoleParameter + " }}",
			Dir + "/agents.sh cloudwatch",
		},
	},
	{
		name:        "harden",
		description: "Hardens the image for its role with harden.sh",
		files:       []string{"harden.sh"},
		build:       []string{Dir + "/harden.sh {{ " + RoleParameter + " }}"},
	},
	{
		name:        "check",
		description: "Checks the hardened image with check.sh, on an instance of the new image before it is distributed",
		files:       []string{"check.sh"},
		test:        []string{Dir + "/check.sh {{ " + RoleParameter + " }}"},
	},
}

// Components are the names of the build's components, in the order a recipe runs them.
func Components() []string {
	names := make([]string, len(documents))
	for i, d := range documents {
		names[i] = d.name
	}
	return names
}

// component is the build's component name, one of Components.
func component(name string) (document, error) {
	i := slices.IndexFunc(documents, func(d document) bool { return d.name == name })
	if i < 0 {
		return document{}, fmt.Errorf("image component %q: want one of %s", name, strings.Join(Components(), ", "))
	}
	return documents[i], nil
}

// ComponentDocument is the YAML of the build's component name (one of Components), named prefix-name, with
// the files it writes embedded: what Image Builder's component is made of. It fails when the document is
// longer than MaxDocument.
func ComponentDocument(prefix, name string) (string, error) {
	d, err := component(name)
	if err != nil {
		return "", err
	}
	files := make([]File, len(d.files))
	for j, f := range d.files {
		content, err := Script(f)
		if err != nil {
			return "", err
		}
		mode := "0644"
		if strings.HasSuffix(f, ".sh") && f != "image.sh" {
			mode = "0755"
		}
		files[j] = File{Path: Dir + "/" + f, Content: content, Owner: "root", Group: "root", Permissions: mode, Overwrite: true}
	}
	doc := Document{
		Name:          prefix + "-" + d.name,
		Description:   d.description,
		SchemaVersion: "1.0",
		Parameters:    []map[string]Parameter{{RoleParameter: {Type: "string", Description: "The image's role: db or monitoring"}}},
	}
	build := Phase{Name: "build", Steps: []Step{{Name: "Files", Action: "CreateFile", Inputs: files}}}
	if len(d.build) > 0 {
		build.Steps = append(build.Steps, Step{Name: "Run", Action: "ExecuteBash", Inputs: Bash{Commands: append([]string{bashStrict}, d.build...)}})
	}
	doc.Phases = append(doc.Phases, build)
	if len(d.test) > 0 {
		doc.Phases = append(doc.Phases, Phase{Name: "test", Steps: []Step{{Name: "Check", Action: "ExecuteBash", Inputs: Bash{Commands: append([]string{bashStrict}, d.test...)}}}})
	}
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("image component %q: %w", name, err)
	}
	if b.Len() > MaxDocument {
		return "", fmt.Errorf("image component %q: its document is %d characters, over Image Builder's %d; move a file to another component", name, b.Len(), MaxDocument)
	}
	return b.String(), nil
}
