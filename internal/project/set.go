package project

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/hipaa-platform/platform/internal/refusal"
)

// SetStackValue sets one declared key of a stack's settings in Pulumi.<stack>.yaml to value, keeping the
// file's other settings and comments, as `pulumi config set` would but without a backend: the change is
// then previewed and applied like any other change of the file. Only a key Pulumi.yaml declares is set.
func (p *Project) SetStackValue(stack, key string, value any) error {
	if _, ok := p.Config[key]; !ok {
		return refusal.New("%s is not a key Pulumi.yaml declares", p.qualify(key))
	}
	stacks, err := p.Stacks()
	if err != nil {
		return err
	}
	if !slices.Contains(stacks, stack) {
		return refusal.New("unknown stack %q: the stacks of project %s are %v", stack, p.Name, stacks)
	}
	path := filepath.Join(p.Dir, "Pulumi."+stack+".yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return refusal.New("reading stack settings: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return refusal.New("%s: %w", path, err)
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return refusal.New("%s: want a mapping at the top", path)
	}
	config := entry(root, "config")
	if config == nil {
		config = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "config"}, config)
	}
	var v yaml.Node
	if err := v.Encode(value); err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	if v.Kind == yaml.SequenceNode {
		v.Style = yaml.FlowStyle
	}
	q := p.qualify(key)
	if old := entry(config, q); old != nil {
		*old = v
	} else {
		config.Content = append(config.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: q}, &v)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// entry is the value of key in a mapping node, or nil.
func entry(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
