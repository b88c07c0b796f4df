package hipaa

import "testing"

func TestSecretsPasswordsRotated(t *testing.T) {
	t.Parallel()
	const putApp = `{"Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:hipaa-dev-db-0-tls-AbCdEf"]},` +
		`{"Effect":"Allow","Action":["secretsmanager:PutSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:hipaa-dev-db/app-AbCdEf"]}]}`
	const readOnly = `{"Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:hipaa-dev-db/app-AbCdEf"]}]}`
	testStackRule(t, &secretsPasswordsRotated, stackFixture{
		// A password its hosts rotate, which declares the period, and a policy that may put its value.
		{typ: tRandomPassword, name: "app-pw", props: map[string]any{"length": 40.0}},
		{typ: tSecret, name: "app", props: map[string]any{"name": "hipaa-dev-db/app", "kmsKeyId": testKey, "tags": map[string]any{"RotationDays": "30"}}},
		{typ: tSecretVersion, name: "app-v", props: map[string]any{"secretId": "app-id", "secretString": "[secret]"},
			deps: map[string][]string{"secretId": {"app"}, "secretString": {"app-pw"}}},
		{typ: tRolePolicy, name: "db-0", props: map[string]any{"policy": putApp}, deps: map[string][]string{"policy": {"app"}}},
		// A password Secrets Manager rotates.
		{typ: tRandomPassword, name: "svc-pw", props: map[string]any{"length": 32.0}},
		{typ: tSecret, name: "svc", props: map[string]any{"name": "hipaa-dev-svc", "kmsKeyId": testKey}},
		{typ: tSecretVersion, name: "svc-v", props: map[string]any{"secretId": "svc-id", "secretString": "[secret]"},
			deps: map[string][]string{"secretId": {"svc"}, "secretString": {"svc-pw"}}},
		{typ: tSecretRotation, name: "svc-rotation", props: map[string]any{"secretId": "svc-id", "rotationRules": map[string]any{"automaticallyAfterDays": 30.0}},
			deps: map[string][]string{"secretId": {"svc"}}},
		// A secret that holds no generated password (a host's certificate and key): no rotation asked of it.
		{typ: tSecret, name: "tls", props: map[string]any{"name": "hipaa-dev-db-0-tls", "kmsKeyId": testKey}},
		{typ: tSecretVersion, name: "tls-v", props: map[string]any{"secretId": "tls-id", "secretString": "[secret]"}, deps: map[string][]string{"secretId": {"tls"}}},
	}, []change{
		{"nothing rotates it", "app:tags", map[string]any{},
			[]string{": the secret holds a generated password and nothing rotates it: no SecretRotation of it, and no RotationDays tag declaring that its users rotate it"}},
		{"too seldom", "app:tags.RotationDays", "120", []string{"tags.RotationDays: the password rotates every 120 days; the most allowed is 90"}},
		{"not a number", "app:tags.RotationDays", "monthly", []string{`tags.RotationDays: got "monthly"; want a whole number of days, at least 1`}},
		{"not known", "app:tags.RotationDays", unknown, []string{"tags.RotationDays: tags.RotationDays cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
		{"no one may put it", "db-0:policy", readOnly,
			[]string{"tags.RotationDays: the secret says its users rotate it every 30 days, but no policy of this stack allows secretsmanager:PutSecretValue on it, so nothing can"}},
		{"no policy", "-db-0", nil,
			[]string{"tags.RotationDays: the secret says its users rotate it every 30 days, but no policy of this stack allows secretsmanager:PutSecretValue on it, so nothing can"}},
		{"a policy not known yet", "db-0:policy", unknown, []string{"policy: policy cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
		{"put on every secret", "db-0:policy", `{"Statement":{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}}`, nil},
		{"denied, not allowed", "db-0:policy", `{"Statement":[{"Effect":"Deny","Action":["secretsmanager:PutSecretValue"],"Resource":["arn:aws:secretsmanager:us-east-1:123456789012:secret:hipaa-dev-db/app-AbCdEf"]}]}`,
			[]string{"tags.RotationDays: the secret says its users rotate it every 30 days, but no policy of this stack allows secretsmanager:PutSecretValue on it, so nothing can"}},
		{"not a generated password", "-app-pw", nil, nil},
		// A deployed state knows the secret's ARN: the statement must name it.
		{"its ARN named", "app:arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:hipaa-dev-db/app-AbCdEf", nil},
		{"another secret's ARN named", "app:arn", "arn:aws:secretsmanager:us-east-1:123456789012:secret:hipaa-dev-db/other-XyZaBc",
			[]string{"tags.RotationDays: the secret says its users rotate it every 30 days, but no policy of this stack allows secretsmanager:PutSecretValue on it, so nothing can"}},
		{"a yearly rotation", "svc-rotation:rotationRules", map[string]any{"automaticallyAfterDays": 365.0},
			[]string{"rotationRules.automaticallyAfterDays: the password rotates every 365 days; the most allowed is 90"}},
		{"a rate in days", "svc-rotation:rotationRules", map[string]any{"scheduleExpression": "rate(100 days)"},
			[]string{"rotationRules.scheduleExpression: the password rotates every 100 days; the most allowed is 90"}},
		{"a rate in hours", "svc-rotation:rotationRules", map[string]any{"scheduleExpression": "rate(12 hours)"}, nil},
		{"a cron schedule", "svc-rotation:rotationRules", map[string]any{"scheduleExpression": "cron(0 8 1 * ? *)"},
			[]string{`rotationRules.scheduleExpression: "cron(0 8 1 * ? *)" is not a rate() of hours or days, so how often the password rotates cannot be shown; use automaticallyAfterDays or rate(N days)`}},
		{"no schedule", "svc-rotation:rotationRules", map[string]any{}, []string{"rotationRules: the rotation has no schedule: set automaticallyAfterDays or scheduleExpression"}},
		{"a schedule not known yet", "svc-rotation:rotationRules.automaticallyAfterDays", unknown,
			[]string{"rotationRules.automaticallyAfterDays: rotationRules.automaticallyAfterDays cannot be known during preview; it is checked again on the deployed stack [unknown]"}},
		{"no rotation", "-svc-rotation", nil,
			[]string{": the secret holds a generated password and nothing rotates it: no SecretRotation of it, and no RotationDays tag declaring that its users rotate it"}},
	})
}
