package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/hipaa-platform/platform/policy/engine"
)

// State is a stack's deployed state, as `pulumi stack export` writes it: {"version": 3, "deployment":
// {"manifest", "secrets_providers", "resources", "pending_operations"}}.
type State struct {
	// Stack and Project are those the resources' URNs name; empty when the state holds no resource.
	Stack, Project string
	// Resources are the deployed custom resources, in the state's order, as the rules see them: each
	// one's inputs, and beside them each output its inputs lack (see merge). Components, the root
	// stack and resources pending deletion are left out, as `pulumi policy analyze` leaves the latter.
	Resources []*engine.Resource
	// Inputs are the same resources' inputs alone, by URN, which the drift is computed from.
	Inputs map[string]property.Map
	// Pending are the operations the last update left unfinished ("creating urn..."): resources that may
	// exist in the account without being in the state.
	Pending []string
	// Skipped counts the resources pending deletion (the replaced halves of create-before-delete
	// replacements whose deletion failed), which exist but are not audited.
	Skipped int
}

// ReadState reads the output of `pulumi stack export`, streaming: no more than one resource is held
// beyond the ones read. Secrets, encrypted (the export's default) or not (--show-secrets), are read as
// secrets and never held in plaintext. A file of another form (the
// array `platformctl preview --json` writes, a checkpoint of the file backend, a version before 3) is
// refused saying what it is.
func ReadState(r io.Reader) (*State, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if _, err := br.Peek(1); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty; want the output of pulumi stack export")
		}
		return nil, err
	}
	win := &window{r: br}
	d := &jsonReader{dec: jsontext.NewDecoder(win), win: win, interned: map[string]string{}}
	s := &State{Inputs: map[string]property.Map{}}
	if err := describe(r, d.state(s)); err != nil {
		return nil, err
	}
	return s, nil
}

// state reads the export's top level: its version and its deployment.
func (d *jsonReader) state(s *State) error {
	if d.dec.PeekKind() == '[' {
		return errors.New("this is a resource array, as platformctl preview --json writes; audit it with --resources, or give --state the output of pulumi stack export")
	}
	if d.dec.PeekKind() != '{' {
		return d.unexpected("the document", "the object pulumi stack export prints")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	version, deployment := -1, false
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return err
		}
		switch key {
		case "version":
			if d.dec.PeekKind() != '0' {
				return d.unexpected("version", "a number")
			}
			tok, err := d.dec.ReadToken()
			if err != nil {
				return err
			}
			if v, err := tok.Int(); err == nil {
				version = int(v)
			}
			if version != 3 {
				return fmt.Errorf("the state is of version %d; this audit reads version 3, which Pulumi CLI 3.x exports", version)
			}
		case "deployment":
			if version != 3 {
				return errors.New(`"deployment" comes before "version"; want the output of pulumi stack export`)
			}
			if err := d.deployment(s); err != nil {
				return err
			}
			deployment = true
		case "checkpoint":
			return errors.New("this is a checkpoint of the file backend, not an export; give --state the output of pulumi stack export")
		default:
			if err := d.dec.SkipValue(); err != nil {
				return err
			}
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	if !deployment {
		return errors.New(`no "deployment"; want the output of pulumi stack export`)
	}
	if _, err := d.dec.ReadToken(); !errors.Is(err, io.EOF) {
		if err == nil {
			return errors.New("more after the state's object; want the output of pulumi stack export alone")
		}
		return err
	}
	return nil
}

// deployment reads the deployment object: its resources and pending operations.
func (d *jsonReader) deployment(s *State) error {
	if d.dec.PeekKind() != '{' {
		return d.unexpected("deployment", "an object")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return err
		}
		switch key {
		case "resources":
			err = d.stateResources(s)
		case "pending_operations":
			err = d.pending(s)
		default:
			err = d.dec.SkipValue()
		}
		if err != nil {
			return err
		}
	}
	_, err := d.dec.ReadToken()
	return err
}

// stateResources reads the deployment's resources, keeping the deployed custom ones.
func (d *jsonReader) stateResources(s *State) error {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return err
	}
	if d.dec.PeekKind() != '[' {
		return d.unexpected("deployment.resources", "an array")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	for i := 0; d.dec.PeekKind() != ']'; i++ {
		d.win.start = d.dec.InputOffset()
		sr, err := d.stateResource()
		if err != nil {
			return err
		}
		if sr.URN == "" || sr.Type == "" {
			return fmt.Errorf("deployment.resources[%d] has no urn or type; want the output of pulumi stack export", i)
		}
		stack, project, _ := strings.Cut(stackOf(sr.URN), "::")
		switch {
		case s.Stack == "" && s.Project == "":
			s.Stack, s.Project = stack, project
		case stack != s.Stack || project != s.Project:
			return fmt.Errorf("deployment.resources[%d] (%s) is of stack %s of project %s, the state's earlier resources of stack %s of project %s; want one stack's export",
				i, sr.URN, stack, project, s.Stack, s.Project)
		}
		switch {
		case sr.delete:
			s.Skipped++
		case sr.custom:
			res := &sr.Resource
			s.Inputs[res.URN] = res.Props
			res.Props = merge(res.Props, sr.outputs)
			s.Resources = append(s.Resources, res)
		}
	}
	_, err := d.dec.ReadToken()
	return err
}

// merge is what the rules see of a deployed resource: its inputs, with each output the inputs lack
// added, never an output over an input. The inputs are what the provider applied, and `pulumi
// refresh` rewrites them from what the cloud has (pulumi/pulumi#2531; the AWS provider's bridge
// rewrites exactly the inputs the program set, pulumi-terraform-bridge#330), so that after a refresh
// they are the deployed values; the outputs add what the program leaves to AWS, such as the inline
// policies or the ingress a role or a security group was given outside it. An output does not replace
// its input because some outputs are not the value: pulumi-aws v6 keeps an instance's userData as its
// SHA-1 (terraform-provider-aws#7625, changed only in its v6, #42078). The bridge's own keys ("__meta",
// "__defaults") are not outputs a rule reads.
func merge(inputs, outputs property.Map) property.Map {
	if outputs.Len() == 0 {
		return inputs
	}
	all := inputs.AsMap()
	if all == nil {
		all = map[string]property.Value{}
	}
	added := false
	for k, v := range outputs.All {
		if _, set := all[k]; !set && !strings.HasPrefix(k, "__") {
			all[k] = v
			added = true
		}
	}
	if !added {
		return inputs
	}
	return property.NewMap(all)
}

// stateResource is one resource of a deployment, as far as the audit reads it.
type stateResource struct {
	engine.Resource
	outputs        property.Map
	custom, delete bool
}

func (d *jsonReader) stateResource() (*stateResource, error) {
	if d.dec.PeekKind() != '{' {
		return nil, d.unexpected("a resource", "an object")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	r := &stateResource{}
	for d.dec.PeekKind() != '}' {
		key, err := d.text()
		if err != nil {
			return nil, err
		}
		switch key {
		case "urn", "type", "parent", "importID":
			s, err := d.str(key)
			if err != nil {
				return nil, err
			}
			switch key {
			case "urn":
				r.URN = s
				if i := strings.LastIndex(s, "::"); i >= 0 {
					r.Name = s[i+2:]
				}
			case "type":
				r.Type = s
			case "parent":
				r.Parent = s
			case "importID":
				r.Options.Import = s
			}
		case "custom", "delete", "protect", "retainOnDelete", "deleteBeforeReplace":
			b, err := d.boolean(key)
			if err != nil {
				return nil, err
			}
			switch key {
			case "custom":
				r.custom = b
			case "delete":
				r.delete = b
			case "protect":
				r.Options.Protect = b
			case "retainOnDelete":
				r.Options.RetainOnDelete = b
			case "deleteBeforeReplace":
				r.Options.DeleteBeforeReplace = b
			}
		case "inputs", "outputs":
			if d.dec.PeekKind() != '{' {
				return nil, d.unexpected(key, "an object")
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			if key == "inputs" {
				r.Props = v.AsMap()
			} else {
				r.outputs = v.AsMap()
			}
		case "dependencies":
			if r.Dependencies, err = d.strs(key); err != nil {
				return nil, err
			}
		case "propertyDependencies":
			if r.PropertyDependencies, err = d.strMap(key); err != nil {
				return nil, err
			}
		case "ignoreChanges":
			if r.Options.IgnoreChanges, err = d.strs(key); err != nil {
				return nil, err
			}
		case "replaceOnChanges":
			if r.Options.ReplaceOnChanges, err = d.strs(key); err != nil {
				return nil, err
			}
		default:
			if err := d.dec.SkipValue(); err != nil {
				return nil, err
			}
		}
	}
	_, err := d.dec.ReadToken()
	return r, err
}

// pending reads the pending operations: [{"resource": {...}, "type": "creating"}].
func (d *jsonReader) pending(s *State) error {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return err
	}
	if d.dec.PeekKind() != '[' {
		return d.unexpected("deployment.pending_operations", "an array")
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return err
	}
	for d.dec.PeekKind() != ']' {
		d.win.start = d.dec.InputOffset()
		if d.dec.PeekKind() != '{' {
			return d.unexpected("a pending operation", "an object")
		}
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		var op, urn string
		for d.dec.PeekKind() != '}' {
			key, err := d.text()
			if err != nil {
				return err
			}
			switch key {
			case "type":
				op, err = d.str("a pending operation's type")
			case "resource":
				var r *stateResource
				if r, err = d.stateResource(); err == nil {
					urn = r.URN
				}
			default:
				err = d.dec.SkipValue()
			}
			if err != nil {
				return err
			}
		}
		if _, err := d.dec.ReadToken(); err != nil {
			return err
		}
		s.Pending = append(s.Pending, strings.TrimSpace(op+" "+urn))
	}
	_, err := d.dec.ReadToken()
	return err
}
