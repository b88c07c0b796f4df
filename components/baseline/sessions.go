package baseline

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/components/hostrole"
	"github.com/hipaa-platform/platform/internal/naming"
)

// Session Manager's preferences for an account and region are one Session document under a fixed name,
// which every session without a document of its own runs: the console's, and `aws ssm start-session`'s
// ("Session document schema", Systems Manager User Guide). It does not exist until someone saves
// preferences in the console, and then creating it fails (DocumentAlreadyExists). So the account stack
// looks it up before it declares anything: absent, it is created; present with the platform's
// preferences, it is adopted as it is; present with others, the stack stops and says what differs and
// how to go on, rather than overwrite preferences another team may have set on purpose.

// SessionDocument is the name of an account's Session Manager preferences.
const SessionDocument = "SSM-SessionManagerRunShell"

// IdleSessionMinutes ends a session idle this long (automatic logoff, 164.312(a)(2)(iii)); MaxSessionMinutes
// ends any session this old. Session Manager takes 1 to 60 and 1 to 1440 minutes.
const (
	IdleSessionMinutes = 15
	MaxSessionMinutes  = 240
)

// SessionPreferences are the preferences the platform sets, as the document's content: every session's
// output streamed to the account's session log group (encrypted with a KMS key, which the agent checks
// before it starts a session, and refuses one otherwise), shells run as the images' unprivileged
// SESSION_USER, and the timeouts.
func SessionPreferences() string {
	doc := map[string]any{
		"schemaVersion": "1.0",
		"description":   "Session Manager preferences of the account, declared by the platform's account stack",
		"sessionType":   "Standard_Stream",
		"inputs": map[string]any{
			"s3BucketName":                "",
			"s3KeyPrefix":                 "",
			"s3EncryptionEnabled":         true,
			"cloudWatchLogGroupName":      hostrole.SessionLogGroup,
			"cloudWatchEncryptionEnabled": true,
			"cloudWatchStreamingEnabled":  true,
			// The channel between the client and the agent is TLS; a KMS key here would add a layer that
			// every host role and every operator would need kms:Decrypt and GenerateDataKey on.
			"kmsKeyId":           "",
			"runAsEnabled":       true,
			"runAsDefaultUser":   hostrole.SessionUser,
			"idleSessionTimeout": fmt.Sprint(IdleSessionMinutes),
			"maxSessionDuration": fmt.Sprint(MaxSessionMinutes),
			"shellProfile":       map[string]any{"windows": "", "linux": ""},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b)
}

// Sessions is what an account stack knows of the account's Session Manager preferences before it
// declares anything.
type Sessions struct {
	// Existing is the content of the preferences document the account has; empty when it has none.
	Existing string
}

// noDocument is how SSM answers for a document that does not exist (GetDocument: InvalidDocument).
const noDocument = "InvalidDocument"

// FindSessionPreferences looks the account's Session Manager preferences up, and refuses, naming what
// differs, when the account has preferences other than the platform's. Any failure of the look-up other
// than "no such document" is an error.
func FindSessionPreferences(ctx *pulumi.Context) (*Sessions, error) {
	d, err := ssm.LookupDocument(ctx, &ssm.LookupDocumentArgs{Name: SessionDocument, DocumentFormat: pulumi.StringRef("JSON")})
	if err != nil {
		if strings.Contains(err.Error(), noDocument) {
			return &Sessions{}, nil
		}
		return nil, fmt.Errorf("looking up the account's Session Manager preferences (%s): %w", SessionDocument, err)
	}
	if diff := preferenceDiff(d.Content, SessionPreferences()); diff != "" {
		return nil, fmt.Errorf("the account has Session Manager preferences (%s) other than the platform's: %s. "+
			"Either delete them (aws ssm delete-document --name %s), and the account stack creates the platform's, "+
			"or make them the platform's (see `platformctl preview --stack <account stack> --json`), and it adopts them",
			SessionDocument, diff, SessionDocument)
	}
	return &Sessions{Existing: d.Content}, nil
}

// preferenceDiff names the inputs of two preferences documents that differ, or says the documents are
// not the same kind; "" when they are the same preferences.
func preferenceDiff(have, want string) string {
	var h, w struct {
		SchemaVersion, SessionType string
		Inputs                     map[string]any
	}
	if err := json.Unmarshal([]byte(have), &h); err != nil {
		return fmt.Sprintf("its content is not JSON (%v)", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		panic(err) // SessionPreferences is the program's own
	}
	if h.SchemaVersion != w.SchemaVersion || h.SessionType != w.SessionType {
		return fmt.Sprintf("schema %s, type %s; the platform's are %s, %s", h.SchemaVersion, h.SessionType, w.SchemaVersion, w.SessionType)
	}
	var diffs []string
	for _, k := range sortedKeys(w.Inputs, h.Inputs) {
		if !reflect.DeepEqual(h.Inputs[k], w.Inputs[k]) {
			diffs = append(diffs, fmt.Sprintf("%s is %v, the platform's %v", k, jsonOf(h.Inputs[k]), jsonOf(w.Inputs[k])))
		}
	}
	return strings.Join(diffs, "; ")
}

func jsonOf(v any) string {
	if v == nil {
		return "unset"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// sortedKeys are the keys of both maps, once each, in order.
func sortedKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	var keys []string
	for _, m := range []map[string]any{a, b} {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// newSessionPreferences declares the session log group and the preferences document, adopting the
// document when the account has it (with its own bytes, which are the platform's preferences: the
// look-up refused any other). Both are retained on delete: every session in the account depends on them.
func newSessionPreferences(ctx *pulumi.Context, name string, a *AccountArgs, parent, retain pulumi.ResourceOption) (*ssm.Document, error) {
	group, err := cloudwatch.NewLogGroup(ctx, name+"-sessions", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(hostrole.SessionLogGroup),
		KmsKeyId:        a.LogsKeyArn,
		RetentionInDays: pulumi.Int(a.LogRetentionDays),
		Tags:            naming.Tags(a.Tags, name+"-sessions"),
	}, parent, retain)
	if err != nil {
		return nil, fmt.Errorf("creating the session log group: %w", err)
	}
	args := &ssm.DocumentArgs{
		Name:           pulumi.String(SessionDocument),
		DocumentType:   pulumi.String("Session"),
		DocumentFormat: pulumi.String("JSON"),
		Content:        pulumi.String(SessionPreferences()),
		Tags:           naming.Tags(a.Tags, name+"-session-preferences"),
	}
	opts := []pulumi.ResourceOption{parent, retain, pulumi.DependsOn([]pulumi.Resource{group})}
	if a.Sessions.Existing != "" {
		ctx.Log.Info(fmt.Sprintf("adopting the account's Session Manager preferences %s, which are the platform's", SessionDocument), nil)
		// Adopted exactly as it is, its content and its (console-made: no) tags, so that adopting
		// changes nothing.
		args.Content = pulumi.String(a.Sessions.Existing)
		args.Tags = nil
		opts = append(opts, pulumi.Import(pulumi.ID(SessionDocument)))
	}
	doc, err := ssm.NewDocument(ctx, name+"-session-preferences", args, opts...)
	if err != nil {
		return nil, fmt.Errorf("declaring the Session Manager preferences: %w", err)
	}
	return doc, nil
}
