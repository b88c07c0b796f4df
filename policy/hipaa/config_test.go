package hipaa

import (
	"strings"
	"testing"
	"time"
)

func TestParseConfigNamesEveryMistake(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{`[]`, "policy config is not a JSON object"},
		{`{"all": "loud"}`, `policy config "all": got "loud"`},
		{`{"s3-versionning": "advisory"}`, `policy config "s3-versionning": no such rule; the rules are ebs-volume-encrypted,`},
		{`{"log-retention": {"enforcementLevel": "soft"}}`, `policy config "log-retention": enforcementLevel soft`},
		{`{"log-retention": {"minDays": 400}}`, `policy config "log-retention": no parameter "minDays"; the parameters are enforcementLevel, waivers, minimumDays`},
		{`{"log-retention": {"minimumDays": -3}}`, `policy config "log-retention": minimumDays is -3; want a whole number of at least 1`},
		{`{"sg-ingress-authorized-only": {"ports": [443, 70000]}}`, `policy config "sg-ingress-authorized-only": ports holds 70000; want ports 1-65535`},
		{`{"s3-versioning": {"waivers": "all"}}`, `policy config "s3-versioning": waivers: want a list of {resource, reason, expires}`},
	} {
		if _, err := ParseConfig([]byte(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseConfig(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestEnforcementLevels(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(`{"all": "advisory", "kms-key-rotation": "mandatory", "phi-tagged": "disabled"}`))
	if err != nil {
		t.Fatal(err)
	}
	key := fx{typ: tKmsKey, name: "k", props: map[string]any{"enableKeyRotation": false}}.resource()
	vol := fx{typ: tVolume, name: "v", props: map[string]any{"encrypted": false, "kmsKeyId": testKey}}.resource()
	rep := Evaluate([]*Resource{key, vol}, cfg)
	levels := map[string]Level{}
	for _, f := range rep.Findings {
		levels[f.RuleID] = f.Level
	}
	if levels["kms-key-rotation"] != Mandatory || levels["ebs-volume-encrypted"] != Advisory {
		t.Errorf("levels = %v", levels)
	}
	if _, ran := rep.Checked["phi-tagged"]; ran {
		t.Error("a disabled rule ran")
	}
	if !rep.Failed() {
		t.Error("a mandatory violation did not fail the report")
	}
}

func TestWaivers(t *testing.T) {
	t.Parallel()
	vol := fx{typ: tVolume, name: "legacy-scratch", props: map[string]any{"encrypted": false, "kmsKeyId": testKey,
		"tags": map[string]any{"DataClass": "synthetic"}}}.resource()
	day := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, waiver string
		waived       bool
		invalid      string
	}{
		{"by name pattern", `{"resource": "legacy-*", "reason": "scratch volume, no PHI, replaced in Q1", "expires": "2027-03-31"}`, true, ""},
		{"by URN", `{"resource": "` + vol.URN + `", "reason": "migration", "expires": "2026-11-25"}`, true, ""},
		{"other resource", `{"resource": "other-*", "reason": "x", "expires": "2027-03-31"}`, false, ""},
		{"expired", `{"resource": "legacy-*", "reason": "migration", "expires": "2026-11-24"}`, false, "expired on 2026-11-24"},
		{"no reason", `{"resource": "legacy-*", "reason": " ", "expires": "2027-03-31"}`, false, "gives no reason"},
		{"no expiry", `{"resource": "legacy-*", "reason": "forever"}`, false, `has expiry ""; want a date YYYY-MM-DD`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := ParseConfig([]byte(`{"ebs-volume-encrypted": {"waivers": [` + tc.waiver + `]}}`))
			if err != nil {
				t.Fatal(err)
			}
			cfg.Now = day
			rep := Evaluate([]*Resource{vol}, cfg)
			var finding, invalid *Finding
			for i, f := range rep.Findings {
				switch f.RuleID {
				case "ebs-volume-encrypted":
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

func TestAPanickingRuleIsReportedNotFatal(t *testing.T) {
	t.Parallel()
	boom := &Rule{ID: "boom", Types: []string{tVolume}, Resource: func(c *Check, r *Resource) { panic("index out of range") }}
	got := CheckResource(boom, fx{typ: tVolume, name: "v"}.resource(), Config{})
	if len(got) != 1 || got[0].Level != Mandatory || !strings.Contains(got[0].Message, "the rule failed (index out of range)") {
		t.Errorf("findings = %+v", got)
	}
}

func TestEveryRuleIsComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range Rules() {
		switch {
		case seen[r.ID]:
			t.Errorf("%s is listed twice", r.ID)
		case r.Description == "" || r.Fix == "" || len(r.Citations) == 0 || r.Severity == "" || len(r.Types) == 0:
			t.Errorf("%s lacks a description, fix, citation, severity or types", r.ID)
		case (r.Resource == nil) == (r.Stack == nil):
			t.Errorf("%s must be exactly one of a resource and a stack rule", r.ID)
		}
		for _, c := range r.Citations {
			if c != "project" && !strings.HasPrefix(c, "164.3") {
				t.Errorf("%s cites %q", r.ID, c)
			}
		}
		seen[r.ID] = true
	}
	// The 39 of HIPAA-RULES.md, and the load balancer's logging and header hygiene, which AWS's HIPAA
	// conformance pack checks too (elb-logging-enabled, alb-http-drop-invalid-header-enabled).
	if len(seen) != 41 {
		t.Errorf("%d rules, want the 39 of HIPAA-RULES.md and the 2 load balancer rules", len(seen))
	}
}
