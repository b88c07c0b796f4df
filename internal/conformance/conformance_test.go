package conformance

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestTheTableIsAWSsHIPAAPack(t *testing.T) {
	t.Parallel()
	rules := HIPAASecurity()
	// AWS's template holds 130 rules ("Operational Best Practices for HIPAA Security").
	if len(rules) != 130 {
		t.Fatalf("%d rules, want 130", len(rules))
	}
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	identifier := regexp.MustCompile(`^[A-Z0-9]+(_[A-Z0-9]+)*$`)
	for _, r := range rules {
		if !name.MatchString(r.Name) || !identifier.MatchString(r.Identifier) {
			t.Errorf("rule %q identifier %q", r.Name, r.Identifier)
		}
		for _, ty := range r.ResourceTypes {
			if !strings.HasPrefix(ty, "AWS::") || strings.Count(ty, "::") != 2 {
				t.Errorf("rule %s scope type %q", r.Name, ty)
			}
		}
		if !Known(r.Name) {
			t.Errorf("Known(%s) = false", r.Name)
		}
	}
	if Known("no-such-rule") {
		t.Error("Known(no-such-rule) = true")
	}
	byName := map[string]Rule{}
	for _, r := range rules {
		byName[r.Name] = r
	}
	// Spot checks against AWS's template.
	if r := byName["cloudwatch-alarm-action-check"]; r.Parameters["insufficientDataActionRequired"] != "true" || r.Parameters["okActionRequired"] != "false" {
		t.Errorf("cloudwatch-alarm-action-check parameters %v", r.Parameters)
	}
	if r := byName["restricted-ssh"]; r.Identifier != "INCOMING_SSH_DISABLED" {
		t.Errorf("restricted-ssh is %s", r.Identifier)
	}
	if r := byName["annual-risk-assessment-performed"]; r.Identifier != "AWS_CONFIG_PROCESS_CHECK" || r.Description == "" {
		t.Errorf("the process check is %+v", r)
	}
}

func TestACopyOfTheRulesDoesNotChangeThePack(t *testing.T) {
	t.Parallel()
	a := HIPAASecurity()
	a[0].Parameters["maxAccessKeyAge"] = "1"
	a[0].Name = "changed"
	if b := HIPAASecurity(); b[0].Parameters["maxAccessKeyAge"] != "90" || b[0].Name != "access-keys-rotated" {
		t.Errorf("the pack changed with a copy: %+v", b[0])
	}
}

func TestTheTemplateDeclaresEveryRule(t *testing.T) {
	t.Parallel()
	rules := HIPAASecurity()
	body, err := Template(rules, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				ConfigRuleName  string
				InputParameters map[string]string
				Scope           *struct {
					ComplianceResourceTypes []string
					TagKey, TagValue        string
				}
				Source struct{ Owner, SourceIdentifier string }
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &tpl); err != nil {
		t.Fatal(err)
	}
	if len(tpl.Resources) != len(rules) {
		t.Fatalf("%d resources, want %d", len(tpl.Resources), len(rules))
	}
	logical := regexp.MustCompile(`^[A-Za-z0-9]+$`)
	for id, res := range tpl.Resources {
		p := res.Properties
		if !logical.MatchString(id) || res.Type != "AWS::Config::ConfigRule" || p.Source.Owner != "AWS" || p.Source.SourceIdentifier == "" {
			t.Errorf("%s: %+v", id, res)
		}
	}
	access := tpl.Resources["AccessKeysRotated"].Properties
	if access.ConfigRuleName != "access-keys-rotated" || access.InputParameters["maxAccessKeyAge"] != "90" || access.Scope != nil {
		t.Errorf("access-keys-rotated: %+v", access)
	}
	// AWS's template leaves an empty parameter out (Fn::If with AWS::NoValue), and so does this one.
	if igw := tpl.Resources["InternetGatewayAuthorizedVpcOnly"].Properties; igw.InputParameters != nil ||
		igw.Scope == nil || igw.Scope.ComplianceResourceTypes[0] != "AWS::EC2::InternetGateway" {
		t.Errorf("internet-gateway-authorized-vpc-only: %+v", igw)
	}
	// The inline template must stay under AWS Config's limit of 51,200 bytes (PutConformancePack's
	// TemplateBody).
	if len(body) >= InlineLimit {
		t.Errorf("template of %d bytes, over the inline limit %d", len(body), InlineLimit)
	}
	again, _ := Template(HIPAASecurity(), Scope{})
	if again != body {
		t.Error("the same rules wrote two templates")
	}
}

func TestATagScopeReplacesTheTypes(t *testing.T) {
	t.Parallel()
	rules, err := Only(HIPAASecurity(), "no-unrestricted-route-to-igw")
	if err != nil {
		t.Fatal(err)
	}
	body, err := Template(rules, Scope{TagKey: "Environment", TagValue: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `"Scope":{"TagKey":"Environment","TagValue":"prod"}`; !strings.Contains(body, want) {
		t.Errorf("template %s, want %s", body, want)
	}
	if _, err := Template(rules, Scope{TagKey: "Environment"}); err == nil || !strings.Contains(err.Error(), "want both or neither") {
		t.Errorf("a tag key without a value: %v", err)
	}
}

func TestTailoringNamesWhatDoesNotExist(t *testing.T) {
	t.Parallel()
	rules := HIPAASecurity()
	got, err := Tailor(rules, map[string]map[string]string{
		"vpc-sg-open-only-to-authorized-ports": {"authorizedTcpPorts": "443"},
		"access-keys-rotated":                  {"maxAccessKeyAge": "30"},
	})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Rule{}
	for _, r := range got {
		byName[r.Name] = r
	}
	if byName["vpc-sg-open-only-to-authorized-ports"].Parameters["authorizedTcpPorts"] != "443" || byName["access-keys-rotated"].Parameters["maxAccessKeyAge"] != "30" {
		t.Errorf("tailored: %+v", byName["vpc-sg-open-only-to-authorized-ports"])
	}
	if rules[0].Parameters["maxAccessKeyAge"] != "90" {
		t.Error("Tailor changed the rules it was given")
	}
	for _, tc := range []struct {
		set  map[string]map[string]string
		want string
	}{
		{map[string]map[string]string{"no-such-rule": {"a": "b"}}, "rule no-such-rule is not in the pack"},
		{map[string]map[string]string{"access-keys-rotated": {"maxAge": "1"}}, "rule access-keys-rotated has no parameter maxAge; it takes maxAccessKeyAge"},
		{map[string]map[string]string{"encrypted-volumes": {"kmsId": "k"}}, "rule encrypted-volumes has no parameter kmsId; it takes none"},
	} {
		if _, err := Tailor(rules, tc.set); err == nil || err.Error() != tc.want {
			t.Errorf("Tailor(%v) = %v, want %q", tc.set, err, tc.want)
		}
	}
	if _, err := Without(rules, "no-such-rule"); err == nil {
		t.Error("Without a rule that is not there succeeded")
	}
	if _, err := Only(rules, "access-keys-rotated", "no-such-rule"); err == nil {
		t.Error("Only a rule that is not there succeeded")
	}
}

func TestTheTemplateRefusesWhatAWSConfigWould(t *testing.T) {
	t.Parallel()
	r := HIPAASecurity()[0]
	for _, tc := range []struct {
		rules []Rule
		want  string
	}{
		{[]Rule{r, r}, "rules[1]: access-keys-rotated is in the pack twice"},
		{[]Rule{{Name: "x"}}, `rules[0]: Name "x" and Identifier "" are both required`},
	} {
		if _, err := Template(tc.rules, Scope{}); err == nil || err.Error() != tc.want {
			t.Errorf("Template = %v, want %q", err, tc.want)
		}
	}
}

func TestTheTableRefusesAMalformedLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ table, want string }{
		{"a\tB\n", "line 1: 2 columns, want 4 or 5"},
		{"a\tB\t-\tk\n", `line 1: parameter "k" is not name=value`},
		{"a\tB\t-\t-\na\tB\t-\t-\n", "line 2: rule a twice"},
	} {
		if _, err := parse(tc.table); err == nil || err.Error() != tc.want {
			t.Errorf("parse(%q) = %v, want %q", tc.table, err, tc.want)
		}
	}
}
