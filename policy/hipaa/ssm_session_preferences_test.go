package hipaa

import (
	"strings"
	"testing"
)

func TestSsmSessionPreferences(t *testing.T) {
	t.Parallel()
	good := `{"schemaVersion":"1.0","sessionType":"Standard_Stream","inputs":{"cloudWatchLogGroupName":"/session-manager/sessions",` +
		`"cloudWatchEncryptionEnabled":true,"runAsEnabled":true,"runAsDefaultUser":"hipaa-session","idleSessionTimeout":"15"}}`
	swap := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	testResourceRule(t, &ssmSessionPreferences, fx{typ: tSsmDocument, name: "prefs", props: map[string]any{
		"name": "SSM-SessionManagerRunShell", "documentType": "Session", "content": good,
	}}, []change{
		{"not logged", "content", swap(`"cloudWatchLogGroupName":"/session-manager/sessions"`, `"cloudWatchLogGroupName":""`),
			[]string{`content: sessions are not recorded to an encrypted log group (cloudWatchLogGroupName "", cloudWatchEncryptionEnabled true)`}},
		{"unencrypted", "content", swap(`"cloudWatchEncryptionEnabled":true`, `"cloudWatchEncryptionEnabled":false`),
			[]string{`content: sessions are not recorded to an encrypted log group (cloudWatchLogGroupName "/session-manager/sessions", cloudWatchEncryptionEnabled false)`}},
		{"as ssm-user", "content", swap(`"runAsEnabled":true`, `"runAsEnabled":false`),
			[]string{`content: shells do not run as an unprivileged user (runAsEnabled false, runAsDefaultUser "hipaa-session"), so they run as ssm-user, whom the agent gives sudo`}},
		{"an hour idle", "content", swap(`"idleSessionTimeout":"15"`, `"idleSessionTimeout":"60"`),
			[]string{`content: idleSessionTimeout "60" is not at most 20 minutes`}},
		{"a command document", "documentType", "Command", nil},
	})
}
