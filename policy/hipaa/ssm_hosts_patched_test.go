package hipaa

import "testing"

func TestSsmHostsPatched(t *testing.T) {
	t.Parallel()
	testStackRule(t, &ssmHostsPatched, stackFixture{
		{typ: tInstance, name: "db-0", props: map[string]any{"tags": map[string]any{"PatchGroup": "hipaa-dev"}}},
		{typ: tPatchBaseline, name: "debian12", props: map[string]any{"operatingSystem": "DEBIAN"}},
		{typ: tPatchGroup, name: "group", props: map[string]any{"patchGroup": "hipaa-dev", "baselineId": "pb-1"}, deps: map[string][]string{"baselineId": {"debian12"}}},
		{typ: tAssociation, name: "scan", props: map[string]any{"name": "AWS-RunPatchBaseline", "parameters": map[string]any{"Operation": "Scan"},
			"targets": []any{map[string]any{"key": "tag:PatchGroup", "values": []any{"hipaa-dev"}}}}},
		{typ: tMaintenanceWindow, name: "window", props: map[string]any{"schedule": "cron(0 5 ? * SUN *)"}},
	}, []change{
		{"untagged", "db-0:tags", map[string]any{}, []string{"tags: the host is in no patch group (tag PatchGroup), so no baseline says which updates it must have"}},
		{"no baseline", "-debian12", nil, []string{"tags: the host's patch group hipaa-dev has no patch baseline of this stack"}},
		{"another group", "group:patchGroup", "hipaa-qa", []string{"tags: the host's patch group hipaa-dev has no patch baseline of this stack"}},
		{"not scanned", "scan:parameters", map[string]any{"Operation": "Install"}, []string{"tags: no compliance scan (AWS-RunPatchBaseline, Operation Scan) covers the host's patch group hipaa-dev"}},
		{"no window", "-window", nil, []string{": the stack has no maintenance window in which the host is patched"}},
	})
}
