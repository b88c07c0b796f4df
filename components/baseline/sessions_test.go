package baseline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/offline"
	"github.com/hipaa-platform/platform/internal/offline/offlinetest"
)

// TestSessionsAreLoggedEncryptedAndRunUnprivileged: the preferences the baseline creates stream every
// session to the account's session log group, encrypted with the logs key and kept for the retention; run
// shells as the images' unprivileged user; and end idle sessions after 15 minutes.
func TestSessionsAreLoggedEncryptedAndRunUnprivileged(t *testing.T) {
	t.Parallel()
	rs := account.MustRun(t, validArgs())
	group, ok := offlinetest.Named(rs, "aws:cloudwatch/logGroup:LogGroup", "base-sessions")
	if !ok || group.String("name") != hostrole.SessionLogGroup || group.String("kmsKeyId") != logsKey || group.Value("retentionInDays") != float64(731) {
		t.Fatalf("session log group: %v; want %s, the logs key, the retention", group.Inputs, hostrole.SessionLogGroup)
	}
	doc := offlinetest.One(t, rs, "aws:ssm/document:Document")
	if doc.String("name") != SessionDocument || doc.String("documentType") != "Session" || doc.Options.Import != "" || !doc.Options.RetainOnDelete {
		t.Errorf("preferences %s, type %s, import %q, retained %v; want %s, Session, created, retained",
			doc.String("name"), doc.String("documentType"), doc.Options.Import, doc.Options.RetainOnDelete, SessionDocument)
	}
	var content struct {
		SessionType string
		Inputs      map[string]any
	}
	if err := json.Unmarshal([]byte(doc.String("content")), &content); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"cloudWatchLogGroupName": hostrole.SessionLogGroup, "cloudWatchEncryptionEnabled": true, "cloudWatchStreamingEnabled": true,
		"runAsEnabled": true, "runAsDefaultUser": hostrole.SessionUser, "idleSessionTimeout": "15",
	} {
		if content.Inputs[key] != want {
			t.Errorf("preference %s = %v, want %v", key, content.Inputs[key], want)
		}
	}
	if content.SessionType != "Standard_Stream" {
		t.Errorf("session type %q", content.SessionType)
	}
}

// TestTheAccountsPreferencesAreAdoptedOnlyWhenTheyAreThePlatforms: absent, they are created; the same
// preferences written otherwise are adopted as they are; others stop the stack, naming each difference
// and the way on; a look-up that fails is not taken for "absent".
func TestTheAccountsPreferencesAreAdoptedOnlyWhenTheyAreThePlatforms(t *testing.T) {
	t.Parallel()
	var same map[string]any
	if err := json.Unmarshal([]byte(SessionPreferences()), &same); err != nil {
		t.Fatal(err)
	}
	compact, _ := json.Marshal(same)
	same["inputs"].(map[string]any)["runAsEnabled"] = false
	same["inputs"].(map[string]any)["idleSessionTimeout"] = "60"
	other, _ := json.Marshal(same)

	find := func(account offline.Account) (*Sessions, error) {
		var found *Sessions
		_, err := offlinetest.RunIn(t, account, func(ctx *pulumi.Context) (err error) {
			found, err = FindSessionPreferences(ctx)
			return err
		})
		return found, err
	}
	if s, err := find(offline.Account{}); err != nil || s.Existing != "" {
		t.Errorf("an account without preferences: %+v, %v; want none found", s, err)
	}
	s, err := find(offline.Account{SessionPreferences: string(compact)})
	if err != nil || s.Existing != string(compact) {
		t.Fatalf("the platform's preferences, compact: %+v, %v; want them found as they are", s, err)
	}
	args := validArgs()
	args.Sessions = s
	doc := offlinetest.One(t, account.MustRun(t, args), "aws:ssm/document:Document")
	if doc.Options.Import != SessionDocument || doc.String("content") != string(compact) || doc.Value("tags") != nil {
		t.Errorf("adopted preferences: import %q, content as found %v, tags %v", doc.Options.Import, doc.String("content") == string(compact), doc.Value("tags"))
	}

	_, err = find(offline.Account{SessionPreferences: string(other)})
	for _, want := range []string{"idleSessionTimeout is \"60\", the platform's \"15\"", "runAsEnabled is false, the platform's true",
		"aws ssm delete-document --name SSM-SessionManagerRunShell"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("other preferences: %v; want it to say %q", err, want)
		}
	}
	if _, err := find(offline.Account{LookupsFail: "AccessDeniedException: not authorized"}); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Errorf("a refused look-up: %v, want its error", err)
	}
}
