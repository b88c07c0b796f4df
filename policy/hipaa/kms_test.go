package hipaa

import "testing"

const accountPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":["kms:*"],"Resource":["*"]}]}`

func TestKmsKeyRotation(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &kmsKeyRotation, fx{typ: tKmsKey, name: "k", props: map[string]any{
		"enableKeyRotation": true, "customerMasterKeySpec": "SYMMETRIC_DEFAULT",
	}}, []change{
		{"off", "enableKeyRotation", false, []string{"enableKeyRotation: enableKeyRotation is false; set it to true so the key material rotates yearly"}},
		{"unset", "enableKeyRotation", del, []string{"enableKeyRotation: enableKeyRotation is not set; set it to true so the key material rotates yearly"}},
		{"asymmetric keys cannot rotate", "customerMasterKeySpec", "RSA_2048", nil},
	})
}

func TestKmsKeySafeLifecycle(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &kmsKeySafeLifecycle, fx{typ: tKmsKey, name: "k", props: map[string]any{
		"deletionWindowInDays": 30.0, "policy": accountPolicy,
	}}, []change{
		{"short window", "deletionWindowInDays", 7.0, []string{"deletionWindowInDays: deletionWindowInDays is 7; set it to at least 30"}},
		{"bypass", "bypassPolicyLockoutSafetyCheck", true, []string{"bypassPolicyLockoutSafetyCheck: bypassPolicyLockoutSafetyCheck is true; remove it so a policy cannot lock the account out of its key"}},
		{"wildcard principal", "policy", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*"}]}`,
			[]string{`policy: policy statement 0 allows the principal "*"; name the account or roles that may use the key`}},
		{"wildcard AWS principal", "policy", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*","Resource":"*"}}`,
			[]string{`policy: policy statement 0 allows the principal "*"; name the account or roles that may use the key`}},
		{"unknown policy", "policy", unknown, []string{"policy: policy cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
	})
}

func TestLogGroupKms(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &logGroupKms, fx{typ: tLogGroup, name: "lg", props: map[string]any{"kmsKeyId": testKey}}, []change{
		{"no key", "kmsKeyId", del, []string{"kmsKeyId: kmsKeyId is not set, so the log group is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
	})
}

func TestSnsTopicKms(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &snsTopicKms, fx{typ: tTopic, name: "alerts", props: map[string]any{"kmsMasterKeyId": testKey}}, []change{
		{"no key", "kmsMasterKeyId", del, []string{"kmsMasterKeyId: kmsMasterKeyId is not set, so the topic is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
		{"aws key", "kmsMasterKeyId", "alias/aws/sns", []string{"kmsMasterKeyId: kmsMasterKeyId is alias/aws/sns, an AWS-managed key; set it to a customer-managed KMS key"}},
	})
}

func TestSecretsKms(t *testing.T) {
	t.Parallel()
	testResourceRule(t, &secretsKms, fx{typ: tSecret, name: "pw", props: map[string]any{"kmsKeyId": testKey}}, []change{
		{"no key", "kmsKeyId", del, []string{"kmsKeyId: kmsKeyId is not set, so the secret is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
	})
	testResourceRule(t, &secretsKms, fx{typ: tParameter, name: "param", props: map[string]any{"type": "SecureString", "keyId": testKey}}, []change{
		{"aws key", "keyId", "alias/aws/ssm", []string{"keyId: keyId is alias/aws/ssm, an AWS-managed key; set it to a customer-managed KMS key"}},
		{"no key", "keyId", del, []string{"keyId: keyId is not set, so the parameter is encrypted with an AWS-managed key at best; set it to a customer-managed KMS key"}},
		{"plain string parameters hold no secret", "type", "String", nil},
	})
}
