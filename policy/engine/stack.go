package engine

// Stack is every resource of a stack, indexed for the joins stack rules make.
type Stack struct {
	Resources []*Resource
	byURN     map[string]*Resource
	byType    map[string][]*Resource
	refs      map[refKey]map[string][]*Resource
}

type refKey struct{ typ, prop string }

// NewStack indexes resources.
func NewStack(resources []*Resource) *Stack {
	s := &Stack{
		Resources: resources,
		byURN:     make(map[string]*Resource, len(resources)),
		byType:    map[string][]*Resource{},
		refs:      map[refKey]map[string][]*Resource{},
	}
	for _, r := range resources {
		s.byURN[r.URN] = r
		s.byType[r.Type] = append(s.byType[r.Type], r)
	}
	return s
}

// ByURN returns a resource by URN, or nil.
func (s *Stack) ByURN(urn string) *Resource { return s.byURN[urn] }

// OfType returns the resources of a type.
func (s *Stack) OfType(typ string) []*Resource { return s.byType[typ] }

// Referencing returns the resources of type typ whose property prop refers to target: through the
// property's dependencies (a preview, where names are not yet known) or, failing that, by holding one of
// target's identifiers (a deployed stack's state, or a name written as text).
func (s *Stack) Referencing(target *Resource, typ, prop string) []*Resource {
	idx := s.index(typ, prop)
	if found := idx[target.URN]; len(found) > 0 {
		return found
	}
	for _, key := range []string{"id", "bucket", "arn", "name"} {
		if v := target.Get(key).Str(); v != "" {
			if found := idx[v]; len(found) > 0 {
				return found
			}
		}
	}
	return nil
}

// index maps, for the resources of typ, each dependency URN of prop and prop's own string value to the
// resources; built once per (type, property) a rule asks for.
func (s *Stack) index(typ, prop string) map[string][]*Resource {
	k := refKey{typ, prop}
	if idx, ok := s.refs[k]; ok {
		return idx
	}
	idx := map[string][]*Resource{}
	for _, r := range s.byType[typ] {
		for _, urn := range r.PropertyDependencies[prop] {
			idx[urn] = append(idx[urn], r)
		}
		if v := r.Get(prop).Str(); v != "" {
			idx[v] = append(idx[v], r)
		}
	}
	s.refs[k] = idx
	return idx
}
