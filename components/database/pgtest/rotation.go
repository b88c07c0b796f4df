package pgtest

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/hipaa-platform/platform/components/database/hostconfig"
	"github.com/hipaa-platform/platform/internal/standin"
)

// AWSCLI is where the database image has the AWS CLI, which hipaa-db rotate calls.
const AWSCLI = "/usr/bin/aws"

// AppSecret and MonitoringSecret are the names of the clients' credentials' secrets in the tests.
const AppSecret, MonitoringSecret = "hipaa-test-db/app", "hipaa-test-db/monitoring"

// Credential is the application's secret: its login role and that role's password.
type Credential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// StartSecrets starts, for the test t, the stand-in for the Secrets Manager calls hipaa-db rotate makes,
// holding the credentials the cluster is made with (the first login roles, AppPassword and
// MonitoringPassword) as AppSecret and MonitoringSecret, and
// returns it with the environment hipaa-db's AWS CLI needs to reach it. Where the AWS CLI is missing t is
// skipped, and under CI, which installs it, it fails.
func StartSecrets(t testing.TB) (*standin.AWS, []string) {
	t.Helper()
	if _, err := os.Stat(AWSCLI); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI must install the AWS CLI (apt-get install awscli, see .ci/run): %v", err)
		}
		t.Skip("missing " + AWSCLI)
	}
	aws, err := standin.StartAWS("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(aws.Close)
	p := hostconfig.Params{AppUser: "app", MonitoringUser: "nagios"}
	app, _ := json.Marshal(Credential{Username: p.AppLogins()[0], Password: AppPassword})
	monitoring, _ := json.Marshal(Credential{Username: p.MonitoringLogins()[0], Password: MonitoringPassword})
	aws.SetSecret(AppSecret, string(app))
	aws.SetSecret(MonitoringSecret, string(monitoring))
	return aws, []string{"HIPAA_AWS_ENDPOINT=" + aws.URL, "AWS_ACCESS_KEY_ID=ASIASTANDIN000000000", "AWS_SECRET_ACCESS_KEY=standin-secret",
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
}

// WithRotation gives a member the rotation of the application's credential, with an overlap of its
// own, as StartHA's tune.
func WithRotation(overlap time.Duration) func(*hostconfig.Params) {
	return func(p *hostconfig.Params) {
		p.AWSCLI = AWSCLI
		p.Secrets.App, p.Secrets.Monitoring = AppSecret, MonitoringSecret
		p.Rotation = &hostconfig.Rotation{EveryDays: 30, OverlapSeconds: int(overlap / time.Second), Schedule: "*-*-* 03:30:00"}
	}
}
