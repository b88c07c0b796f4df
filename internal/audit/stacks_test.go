package audit

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/preview"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/policy/engine"
	"github.com/hipaa-platform/platform/policy/hipaa"
	"github.com/hipaa-platform/platform/policy/hipaatest"
)

// estate writes the preview JSON of prod and of a non-compliant stack, as one array, the bad stack's
// resources between two copies of prod's (the second renamed into a project of its own).
func estate(t *testing.T) (doc string, stacks [][]*engine.Resource) {
	t.Helper()
	p, err := project.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	prod, err := preview.Stack(p, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := offline.Run(offline.Options{Project: "hipaa", Stack: "bad"}, hipaatest.NonCompliant)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, rs := range [][]offline.Resource{prod, bad, prod} {
		var b bytes.Buffer
		if err := preview.JSON(&b, rs); err != nil {
			t.Fatal(err)
		}
		text := strings.TrimSpace(b.String())
		if len(parts) == 2 {
			text = strings.ReplaceAll(text, "::hipaa::", "::hipaa2::")
		}
		parts = append(parts, text[1:len(text)-1])
		read, err := ReadPreviewJSON(strings.NewReader(text))
		if err != nil {
			t.Fatal(err)
		}
		stacks = append(stacks, read)
	}
	return "[" + strings.Join(parts, ",") + "]", stacks
}

// TestAnEstateIsAuditedStackByStack: the audit of a file holding three stacks reports what the pack
// finds in each stack alone, together, and the report reads only the resources its format asks for.
func TestAnEstateIsAuditedStackByStack(t *testing.T) {
	t.Parallel()
	doc, stacks := estate(t)
	rep, kept, err := evaluateStacks(strings.NewReader(doc), hipaa.Pack(), engine.Config{}, func(r *engine.Resource) bool {
		return r.Type == "aws:autoscaling/group:Group"
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []engine.Finding
	checked, resources, groups := map[string]int{}, 0, 0
	for _, s := range stacks {
		one := hipaa.Pack().Evaluate(s, engine.Config{})
		want = append(want, one.Findings...)
		for id, n := range one.Checked {
			checked[id] += n
		}
		resources += one.Resources
		for _, r := range s {
			if r.Type == "aws:autoscaling/group:Group" {
				groups++
			}
		}
	}
	engine.SortFindings(want)
	if !reflect.DeepEqual(rep.Findings, want) {
		t.Errorf("%d findings, want the %d of the stacks audited one by one", len(rep.Findings), len(want))
	}
	if !rep.Failed() || len(want) == 0 {
		t.Errorf("the non-compliant stack's findings are missing")
	}
	if !reflect.DeepEqual(rep.Checked, checked) || rep.Resources != resources {
		t.Errorf("checked %v of %d resources, want %v of %d", rep.Checked, rep.Resources, checked, resources)
	}
	if len(kept) != groups || groups == 0 {
		t.Errorf("kept %d resources, want the %d Auto Scaling groups", len(kept), groups)
	}
}

// TestAStackSplitAcrossTheFileIsRefused: a stack's resources must be consecutive, since the stack rules
// judge it whole.
func TestAStackSplitAcrossTheFileIsRefused(t *testing.T) {
	t.Parallel()
	doc := `[{"urn": "urn:pulumi:a::p::t::x", "type": "t"}, {"urn": "urn:pulumi:b::p::t::y", "type": "t"}, {"urn": "urn:pulumi:a::p::t::z", "type": "t"}]`
	_, _, err := evaluateStacks(strings.NewReader(doc), hipaa.Pack(), engine.Config{}, func(*engine.Resource) bool { return false })
	want := "resource 2 (urn:pulumi:a::p::t::z) is of stack a::p, whose resources ended at resource 0; the resources of one stack must be consecutive"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestTheStackOfAURN(t *testing.T) {
	t.Parallel()
	for urn, want := range map[string]string{
		"urn:pulumi:prod::hipaa::aws:s3/bucketV2:BucketV2::logs":       "prod::hipaa",
		"urn:pulumi:prod::hipaa::hipaa:bucket:Bucket$aws:s3/x:X::logs": "prod::hipaa",
		"urn:pulumi:org/prod::hipaa7::aws:kms/key:Key::k":              "org/prod::hipaa7",
		"not a urn":               "",
		"urn:pulumi:no-separator": "",
	} {
		if got := stackOf(urn); got != want {
			t.Errorf("stackOf(%q) = %q, want %q", urn, got, want)
		}
	}
}
