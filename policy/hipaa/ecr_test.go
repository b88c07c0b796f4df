package hipaa

import (
	"testing"

	"github.com/hipaa-platform/platform/policy/engine"
)

func TestEcrRules(t *testing.T) {
	t.Parallel()
	repo := fx{typ: tEcrRepository, name: "app", props: map[string]any{
		"encryptionConfigurations":   []any{map[string]any{"encryptionType": "KMS", "kmsKey": testKey}},
		"imageTagMutability":         "IMMUTABLE",
		"imageScanningConfiguration": map[string]any{"scanOnPush": true},
	}}
	testResourceRule(t, &ecrRepositoryKms, repo, []change{
		{"AES256", "encryptionConfigurations.0.encryptionType", "AES256", []string{`encryptionConfigurations[0].encryptionType: encryptionConfigurations[0].encryptionType is "AES256"; set it to KMS`}},
		{"default", "encryptionConfigurations", del, []string{"encryptionConfigurations[0].encryptionType: encryptionConfigurations[0].encryptionType is not set; set it to KMS"}},
		{"aws key", "encryptionConfigurations.0.kmsKey", del, []string{"encryptionConfigurations[0].kmsKey: encryptionConfigurations[0].kmsKey is not set, so the repository is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
	})
	testResourceRule(t, &ecrImmutableTags, repo, []change{
		{"mutable", "imageTagMutability", "MUTABLE", []string{`imageTagMutability: imageTagMutability is "MUTABLE"; set it to IMMUTABLE`}},
	})
	testResourceRule(t, &ecrScanOnPush, repo, []change{
		{"off", "imageScanningConfiguration.scanOnPush", false, []string{"imageScanningConfiguration.scanOnPush: imageScanningConfiguration.scanOnPush is false; set it to true so every pushed image is scanned"}},
	})
	testResourceRule(t, &ecrRepoPrivate, fx{typ: tEcrPolicy, name: "app-policy", props: map[string]any{
		"policy": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":["ecr:BatchGetImage"]}]}`}}, []change{
		{"public", "policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}`,
			[]string{`policy: policy statement 0 allows the principal "*"; name the accounts that may pull`}},
	})
}

func TestPhiTagged(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &phiTagged, fx{typ: tBucket, name: "b", props: map[string]any{"tags": map[string]any{"DataClass": "phi"}}}, []change{
		{"untagged", "tags", del, []string{"tags: the DataClass tag is missing; every data store says what data it may hold"}},
		{"from default tags", "tags", map[string]any{}, []string{"tags: the DataClass tag is missing; every data store says what data it may hold"}},
	})
	fromDefaults := fx{typ: tVolume, name: "v", props: map[string]any{"tagsAll": map[string]any{"DataClass": "phi"}}}.resource()
	if got := render(engine.CheckResource(&phiTagged, fromDefaults, engine.Config{})); len(got) != 0 {
		t.Errorf("a DataClass the provider put in tagsAll (from aws:defaultTags): %q", got)
	}
}
