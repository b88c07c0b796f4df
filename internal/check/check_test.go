package check

import (
	"strings"
	"testing"
)

func TestVpcCIDR(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, err string }{
		{"10.0.0.0/16", ""},
		{"172.16.0.0/20", ""},
		{"192.168.0.0/16", ""},
		{"10.0.0.0/15", "want an RFC 1918"},
		{"10.0.0.0/21", "want an RFC 1918"},
		{"10.0.0.1/16", "host bits set (the block is 10.0.0.0/16)"},
		{"8.8.0.0/16", "not private address space"},
		{"fd00::/16", "want an RFC 1918"},
		{"ten", `got "ten"`},
	} {
		_, err := VpcCIDR(tc.in)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("VpcCIDR(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestLogRetention(t *testing.T) {
	t.Parallel()
	for days, ok := range map[int]bool{365: true, 400: true, 3653: true, 364: false, 366: false, 30: false, 0: false} {
		if err := LogRetention(days); (err == nil) != ok {
			t.Errorf("LogRetention(%d) = %v, want ok=%v", days, err, ok)
		}
	}
}

func TestDedicatedInstanceType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, err string }{
		{"m6i.large", ""},
		{"r6i.2xlarge", ""},
		{"c7g.metal", ""},
		{"m6g.medium", ""},
		{"t3.large", "family t3 does not run with dedicated tenancy"},
		{"mac2.metal", "family mac2"},
		{"m6i", "not an instance type"},
		{"M6I.LARGE", "not an instance type"},
		{"db.r6g.large", "not an instance type"},
		{"t3.micro", `got "t3.micro", whose family t3 does not run with dedicated tenancy here: it is burstable`},
		{"t4g.nano", "family t4g does not run with dedicated tenancy here: it is burstable"},
		{"m6i.micro", `got "m6i.micro", whose size micro is too small to run with dedicated tenancy here; want medium or larger, such as m6i.large`},
		{"m7i.metal-48xl", ""},
	} {
		err := DedicatedInstanceType(tc.in)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("DedicatedInstanceType(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestArchitectureFollowsTheFamily(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"m6i.large": "x86_64", "c6a.xlarge": "x86_64", "r6g.large": "arm64",
		"m7g.2xlarge": "arm64", "c6gn.large": "arm64", "i4i.large": "x86_64", "x2idn.16xlarge": "x86_64"} {
		if got := Architecture(in); got != want {
			t.Errorf("Architecture(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRegion(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"us-east-1", "eu-central-2", "us-gov-west-1", "cn-north-1"} {
		if err := Region(ok); err != nil {
			t.Errorf("Region(%s) = %v", ok, err)
		}
	}
	if err := Region("us-east-7"); err == nil || !strings.Contains(err.Error(), `got "us-east-7", which is not an AWS region`) {
		t.Errorf("Region(us-east-7) = %v", err)
	}
}

func TestCounts(t *testing.T) {
	t.Parallel()
	for n, ok := range map[int]bool{1: false, 2: true, 6: true, 7: false} {
		if err := ZoneCount(n); (err == nil) != ok {
			t.Errorf("ZoneCount(%d) = %v", n, err)
		}
	}
	for n, ok := range map[int]bool{29: false, 30: true, 3653: true, 3654: false} {
		if err := BackupRetention(n); (err == nil) != ok {
			t.Errorf("BackupRetention(%d) = %v", n, err)
		}
	}
}
