package cloudinit

import (
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestWriteFilesFastAgreesWithYAML checks the fast reader against the YAML parser on every form it
// accepts, and that it declines the forms it does not read.
func TestWriteFilesFastAgreesWithYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, doc string
		fast      bool
	}{
		{"rendered", "#cloud-config\nruncmd:\n    - - x\nwrite_files:\n    - path: /etc/a.conf\n      permissions: \"0600\"\n      content: |\n        ssl = on\n\n        # end\n    - path: /etc/b\n      content: |-\n        no newline\nruncmd2: []\n", true},
		{"two-space", "#cloud-config\nwrite_files:\n  - path: /etc/postgresql/15/main/postgresql.conf\n    content: |\n      ssl = on\n      ssl_min_protocol_version = 'TLSv1.2'\n  - path: /etc/postgresql/15/main/pg_hba.conf\n    content: |\n      hostssl all all 10.0.0.0/16 scram-sha-256\n", true},
		{"keep", "#cloud-config\nwrite_files:\n  - path: /k\n    content: |+\n      a\n\n\n", true},
		{"quoted", "#cloud-config\nwrite_files:\n- path: '/etc/it''s'\n  content: \"a\\nb\"\n  encoding: b64 # comment\n", true},
		{"flow", "#cloud-config\nwrite_files: [{path: /a, content: x}]\n", false},
		{"folded", "#cloud-config\nwrite_files:\n  - path: /a\n    content: >\n      folded\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fast, ok := writeFilesFast(tc.doc)
			if ok != tc.fast {
				t.Fatalf("fast path ok = %v, want %v", ok, tc.fast)
			}
			var doc struct {
				WriteFiles []writeFile `yaml:"write_files"`
			}
			if err := yaml.Unmarshal([]byte(tc.doc), &doc); err != nil {
				t.Fatal(err)
			}
			if ok && !reflect.DeepEqual(fast, doc.WriteFiles) {
				t.Errorf("fast reader:\n%#v\nYAML:\n%#v", fast, doc.WriteFiles)
			}
		})
	}
}
