package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
)

// The framework's tests run a pack of three fixture rules: a resource rule with an integer and a port
// list parameter, and a stack rule.
const tVolume, tKey = "test:index/volume:Volume", "test:index/key:Key"

var (
	encrypted = Rule{
		ID: "volume-encrypted", Description: "Volumes are encrypted", Citations: []string{"1.1"}, Severity: High,
		Fix: "Set encrypted.", Types: []string{tVolume},
		Params: []Param{{Name: "minimumGiB", Description: "smallest size", Default: 1}, {Name: "ports", Description: "ports", Default: []int{443}}},
		Resource: func(c *Check, r *Resource) {
			if !r.Get("encrypted").True() {
				c.Fail("encrypted", "encrypted is not true")
			}
		},
	}
	rotated = Rule{
		ID: "key-rotated", Description: "Keys rotate", Citations: []string{"1.2"}, Severity: Medium,
		Fix: "Set rotation.", Types: []string{tKey},
		Resource: func(c *Check, r *Resource) {
			if !r.Get("rotation").True() {
				c.Fail("rotation", "rotation is not true")
			}
		},
	}
	keyed = Rule{
		ID: "volume-keyed", Description: "Every volume names a key", Citations: []string{"1.1"}, Severity: Low,
		Fix: "Name a key.", Types: []string{tVolume},
		Stack: func(c *Check, s *Stack) {
			for _, v := range s.OfType(tVolume) {
				if len(s.Referencing(v, tKey, "volume")) == 0 {
					c.FailOn(v.URN, "", "no key refers to the volume")
				}
			}
		},
	}
)

func testPack(t *testing.T) *Pack {
	t.Helper()
	p, err := NewPack(Pack{Name: "test", Version: "1.0.0", Framework: Framework{Name: "TEST"}}, []*Rule{&encrypted, &rotated, &keyed})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func res(typ, name string, props map[string]any) *Resource {
	return &Resource{URN: "urn:pulumi:t::p::" + typ + "::" + name, Type: typ, Name: name,
		Props: property.NewMap(func() map[string]property.Value {
			m := map[string]property.Value{}
			for k, v := range props {
				switch v := v.(type) {
				case bool:
					m[k] = property.New(v)
				case string:
					m[k] = property.New(v)
				}
			}
			return m
		}())}
}

func TestNewPackRefusesAnIncompleteRule(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]Rule{
		"no fix":     {ID: "a", Description: "d", Citations: []string{"1"}, Severity: Low, Types: []string{tKey}, Resource: rotated.Resource},
		"both kinds": {ID: "a", Description: "d", Citations: []string{"1"}, Severity: Low, Fix: "f", Types: []string{tKey}, Resource: rotated.Resource, Stack: keyed.Stack},
		"no types":   {ID: "a", Description: "d", Citations: []string{"1"}, Severity: Low, Fix: "f", Resource: rotated.Resource},
		"reserved":   {ID: WaiverRuleID, Description: "d", Citations: []string{"1"}, Severity: Low, Fix: "f", Types: []string{tKey}, Resource: rotated.Resource},
	} {
		if _, err := NewPack(Pack{Name: "test", Version: "1.0.0"}, []*Rule{&r}); err == nil {
			t.Errorf("%s: the pack was made", name)
		}
	}
	if _, err := NewPack(Pack{Name: "test", Version: "1.0.0"}, []*Rule{&rotated, &rotated}); err == nil || !strings.Contains(err.Error(), "used twice") {
		t.Errorf("a rule listed twice: %v", err)
	}
}

func TestParseConfigNamesEveryMistake(t *testing.T) {
	t.Parallel()
	p := testPack(t)
	for _, tc := range []struct{ in, want string }{
		{`[]`, "policy config is not a JSON object"},
		{`{"all": "loud"}`, `policy config "all": got "loud"`},
		{`{"volume-encryted": "advisory"}`, `policy config "volume-encryted": no such rule; the rules are volume-encrypted, key-rotated, volume-keyed`},
		{`{"volume-encrypted": {"enforcementLevel": "soft"}}`, `policy config "volume-encrypted": enforcementLevel soft`},
		{`{"volume-encrypted": {"minGiB": 4}}`, `policy config "volume-encrypted": no parameter "minGiB"; the parameters are enforcementLevel, waivers, minimumGiB, ports`},
		{`{"volume-encrypted": {"minimumGiB": -3}}`, `policy config "volume-encrypted": minimumGiB is -3; want a whole number of at least 1`},
		{`{"volume-encrypted": {"ports": [443, 70000]}}`, `policy config "volume-encrypted": ports holds 70000; want ports 1-65535`},
		{`{"volume-encrypted": {"waivers": "all"}}`, `policy config "volume-encrypted": waivers: want a list of {resource, reason, expires}`},
		{`{"all": "disabled"}`, "policy config disables every rule, so an evaluation would prove nothing"},
		{`{"volume-encrypted": "disabled", "key-rotated": "disabled", "volume-keyed": "disabled"}`, "policy config disables every rule"},
		{`{"policy-waivers-valid": {"maximumTermDays": 0}}`, `policy config "policy-waivers-valid": maximumTermDays is 0; want a whole number of days from 1 to 3653`},
		{`{"policy-waivers-valid": {"term": 30}}`, `policy config "policy-waivers-valid": no parameter "term"; the parameter is maximumTermDays`},
		{`{"policy-waivers-valid": "advisory"}`, `policy config "policy-waivers-valid": got "advisory", want {"maximumTermDays": DAYS}`},
	} {
		if _, err := p.ParseConfig([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestEnforcementLevels(t *testing.T) {
	t.Parallel()
	p := testPack(t)
	cfg, err := p.ParseConfig([]byte(`{"all": "advisory", "key-rotated": "mandatory", "volume-keyed": "disabled"}`))
	if err != nil {
		t.Fatal(err)
	}
	rep := p.Evaluate([]*Resource{res(tKey, "k", nil), res(tVolume, "v", nil)}, cfg)
	levels := map[string]Level{}
	for _, f := range rep.Findings {
		levels[f.RuleID] = f.Level
	}
	if levels["key-rotated"] != Mandatory || levels["volume-encrypted"] != Advisory {
		t.Errorf("levels = %v", levels)
	}
	if _, ran := rep.Checked["volume-keyed"]; ran {
		t.Error("a disabled rule ran")
	}
	if !rep.Failed() {
		t.Error("a mandatory violation did not fail the report")
	}
}

func TestWaivers(t *testing.T) {
	t.Parallel()
	p := testPack(t)
	vol := res(tVolume, "legacy-scratch", nil)
	day := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, waiver string
		waived       bool
		invalid      string
	}{
		{"by name pattern", `{"resource": "legacy-*", "reason": "scratch volume, no PHI, replaced in Q1", "expires": "2027-03-31"}`, true, ""},
		{"by URN", `{"resource": "` + vol.URN + `", "reason": "migration", "expires": "2026-11-25"}`, true, ""},
		{"expired", `{"resource": "legacy-*", "reason": "migration", "expires": "2026-11-24"}`, false, "expired on 2026-11-24"},
		{"no reason", `{"resource": "legacy-*", "reason": " ", "expires": "2027-03-31"}`, false, "gives no reason"},
		{"no expiry", `{"resource": "legacy-*", "reason": "forever"}`, false, `has expiry ""; want a date YYYY-MM-DD`},
		{"every resource", `{"resource": "*", "reason": "not ready", "expires": "2027-03-31"}`, false, `names every resource ("*")`},
		{"beyond the term", `{"resource": "legacy-*", "reason": "migration", "expires": "2027-11-27"}`, false,
			"runs until 2027-11-27, more than 365 days from 2026-11-25; a waiver is reviewed at least every 365 days (policy-waivers-valid maximumTermDays), so let it expire by 2027-11-25"},
		{"at the term", `{"resource": "legacy-*", "reason": "migration", "expires": "2027-11-25"}`, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := p.ParseConfig([]byte(`{"volume-encrypted": {"waivers": [` + tc.waiver + `]}}`))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Now = day
			rep := p.Evaluate([]*Resource{vol, res(tKey, "k", map[string]any{"rotation": true, "volume": vol.URN})}, cfg)
			var finding, invalid *Finding
			for i, f := range rep.Findings {
				switch f.RuleID {
				case "volume-encrypted":
					finding = &rep.Findings[i]
				case WaiverRuleID:
					invalid = &rep.Findings[i]
				}
			}
			if finding == nil {
				t.Fatal("the violation is hidden; waived findings must still be shown")
			}
			if got := finding.Waiver != nil; got != tc.waived {
				t.Errorf("waived = %v, want %v", got, tc.waived)
			}
			if rep.Failed() == tc.waived && tc.invalid == "" {
				t.Errorf("report failed = %v with waived = %v", rep.Failed(), tc.waived)
			}
			switch {
			case tc.invalid == "" && invalid != nil:
				t.Errorf("a valid waiver is reported: %s", invalid.Message)
			case tc.invalid != "" && (invalid == nil || !strings.Contains(invalid.Message, tc.invalid) || invalid.Level != Mandatory):
				t.Errorf("invalid waiver finding = %+v, want a mandatory one saying %q", invalid, tc.invalid)
			}
		})
	}
}

// TestAWaiverMustMatchAResource: a waiver whose pattern names nothing the stack holds (a typo, or a
// resource since renamed) is itself a finding, and the report says what every waiver matched.
func TestAWaiverMustMatchAResource(t *testing.T) {
	t.Parallel()
	p := testPack(t)
	cfg, err := p.ParseConfig([]byte(`{"volume-encrypted": {"waivers": [
		{"resource": "legacy-*", "reason": "scratch", "expires": "2027-03-31"},
		{"resource": "legcy-*", "reason": "scratch", "expires": "2027-03-31"}]},
		"policy-waivers-valid": {"maximumTermDays": 180}}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	rep := p.Evaluate([]*Resource{res(tVolume, "legacy-a", nil), res(tVolume, "legacy-b", nil)}, cfg)
	var invalid []string
	for _, f := range rep.Findings {
		if f.RuleID == WaiverRuleID {
			invalid = append(invalid, f.Message)
		}
	}
	if len(invalid) != 1 || !strings.Contains(invalid[0], `for "legcy-*" matches no resource of the stack`) {
		t.Errorf("waiver findings %q, want the one for legcy-*", invalid)
	}
	c := rep.Configuration
	if c.WaiverTermDays != 180 || len(c.Waivers) != 2 || c.Waivers[0].Matched != 2 || c.Waivers[0].Exempted != 2 || c.Waivers[1].Matched != 0 {
		t.Errorf("configuration in force %+v", c)
	}
}

// TestTheConfigurationInForceIsStated: every rule disabled or made advisory, by name, and every
// parameter set to other than its default.
func TestTheConfigurationInForceIsStated(t *testing.T) {
	t.Parallel()
	p := testPack(t)
	cfg, err := p.ParseConfig([]byte(`{"all": "advisory", "key-rotated": "mandatory", "volume-keyed": "disabled",
		"volume-encrypted": {"minimumGiB": 8, "ports": [443]}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := p.Evaluate(nil, cfg).Configuration
	if strings.Join(c.Disabled, ",") != "volume-keyed" || strings.Join(c.Advisory, ",") != "volume-encrypted" {
		t.Errorf("disabled %v, advisory %v", c.Disabled, c.Advisory)
	}
	if len(c.Parameters) != 1 || c.Parameters[0].Name != "minimumGiB" || c.Parameters[0].Value != 8.0 || c.Parameters[0].Default != 1 {
		t.Errorf("parameters %+v: want minimumGiB alone, set to 8 against 1 (ports is at its default)", c.Parameters)
	}
	if c.Default() || !p.Evaluate(nil, Config{}).Configuration.Default() {
		t.Error("Default() does not tell the pack's own configuration from another")
	}
}

func TestAPanickingRuleIsReportedNotFatal(t *testing.T) {
	t.Parallel()
	boom := &Rule{ID: "boom", Types: []string{tVolume}, Resource: func(c *Check, r *Resource) { panic("index out of range") }}
	got := CheckResource(boom, res(tVolume, "v", nil), Config{})
	if len(got) != 1 || got[0].Level != Mandatory || !strings.Contains(got[0].Message, "the rule failed (index out of range)") {
		t.Errorf("findings = %+v", got)
	}
}

func TestMessageCarriesTheFrameworkAndTheFix(t *testing.T) {
	t.Parallel()
	p := testPack(t)
	got := p.Message(Finding{RuleID: "key-rotated", URN: "u", Property: "rotation", Message: "rotation is not true"})
	if want := "rotation is not true\nProperty: rotation\nTEST: 1.2 (severity medium)\nFix: Set rotation."; got != want {
		t.Errorf("message:\n%s\nwant\n%s", got, want)
	}
}

// TestMemoDerivesOncePerResourceAndAfreshForACopy: what a rule derives from a resource is derived once,
// and a copy of the resource, whose properties may since differ, derives its own.
func TestMemoDerivesOncePerResourceAndAfreshForACopy(t *testing.T) {
	t.Parallel()
	r := &Resource{URN: "u", Type: "t", Props: property.NewMap(map[string]property.Value{"n": property.New("a")})}
	calls := 0
	derive := func(r *Resource) func() string {
		return func() string { calls++; return r.Get("n").Str() }
	}
	if Memo(r, "n", derive(r)) != "a" || Memo(r, "n", derive(r)) != "a" || calls != 1 {
		t.Fatalf("derived %d times, want once", calls)
	}
	c := *r
	c.Props = property.NewMap(map[string]property.Value{"n": property.New("b")})
	if got := Memo(&c, "n", derive(&c)); got != "b" || calls != 2 {
		t.Errorf("the copy got %q after %d derivations, want its own \"b\"", got, calls)
	}
	if Memo(r, "n", derive(r)) != "a" {
		t.Errorf("the original lost its own value")
	}
}

// TestDeriveOncePerContentInAnEvaluation: in an evaluation, what a rule derives from a content is derived
// once for every resource holding it, and again for another content; a resource checked alone derives
// its own.
func TestDeriveOncePerContentInAnEvaluation(t *testing.T) {
	t.Parallel()
	calls := map[string]int{}
	rule := Rule{ID: "doc-read", Description: "Docs are read", Citations: []string{"1.1"}, Severity: Low, Fix: "Read them.",
		Types: []string{tKey},
		Resource: func(c *Check, r *Resource) {
			if got := Derive(c, "upper", r.Get("doc").Str(), func(s string) string { calls[s]++; return strings.ToUpper(s) }); got != strings.ToUpper(r.Get("doc").Str()) {
				c.Fail("doc", "derived %q", got)
			}
		},
	}
	p, err := NewPack(Pack{Name: "test", Version: "1.0.0", Framework: Framework{Name: "TEST"}}, []*Rule{&rule})
	if err != nil {
		t.Fatal(err)
	}
	rs := []*Resource{res(tKey, "a", map[string]any{"doc": "same"}), res(tKey, "b", map[string]any{"doc": "same"}), res(tKey, "c", map[string]any{"doc": "other"})}
	if rep := p.Evaluate(rs, Config{}); len(rep.Findings) != 0 {
		t.Fatalf("findings %v", rep.Findings)
	}
	if calls["same"] != 1 || calls["other"] != 1 {
		t.Errorf("derived %v, want each content once", calls)
	}
	CheckResource(&rule, res(tKey, "d", map[string]any{"doc": "same"}), Config{})
	if calls["same"] != 2 {
		t.Errorf("a resource checked alone derived from the evaluation's cache: %v", calls)
	}
}
