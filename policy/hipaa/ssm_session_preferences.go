package hipaa

import (
	"encoding/json"
	"strconv"

	"github.com/hipaa-platform/platform/policy/engine"
)

// maxIdleSessionMinutes is the longest idle time a session may be left open: Session Manager's own
// default, 20.
const maxIdleSessionMinutes = 20

var ssmSessionPreferences = engine.Rule{
	ID:          "ssm-session-preferences",
	Description: "Session Manager records every session to an encrypted log group, runs shells as an unprivileged user and ends idle sessions",
	Citations:   []string{"164.312(b)", "164.312(a)(2)(iii)", "164.312(a)(1)"},
	Severity:    engine.High,
	Fix: "In the SSM-SessionManagerRunShell document set inputs.cloudWatchLogGroupName, cloudWatchEncryptionEnabled: true, " +
		"runAsEnabled: true with runAsDefaultUser, and idleSessionTimeout of at most 20 minutes.",
	Types: []string{tSsmDocument},
	Resource: func(c *engine.Check, r *engine.Resource) {
		if r.Get("documentType").Str() != "Session" {
			return
		}
		content := r.Get("content")
		if content.Unknown() {
			c.Unknown("content")
			return
		}
		var doc struct {
			Inputs struct {
				CloudWatchLogGroupName      string `json:"cloudWatchLogGroupName"`
				CloudWatchEncryptionEnabled bool   `json:"cloudWatchEncryptionEnabled"`
				RunAsEnabled                bool   `json:"runAsEnabled"`
				RunAsDefaultUser            string `json:"runAsDefaultUser"`
				IdleSessionTimeout          string `json:"idleSessionTimeout"`
			} `json:"inputs"`
		}
		if err := json.Unmarshal([]byte(content.Str()), &doc); err != nil {
			c.Fail("content", "content is not a JSON Session document (%v)", err)
			return
		}
		in := doc.Inputs
		if in.CloudWatchLogGroupName == "" || !in.CloudWatchEncryptionEnabled {
			c.Fail("content", "sessions are not recorded to an encrypted log group (cloudWatchLogGroupName %q, cloudWatchEncryptionEnabled %v)",
				in.CloudWatchLogGroupName, in.CloudWatchEncryptionEnabled)
		}
		if !in.RunAsEnabled || in.RunAsDefaultUser == "" || in.RunAsDefaultUser == "root" {
			c.Fail("content", "shells do not run as an unprivileged user (runAsEnabled %v, runAsDefaultUser %q), so they run as ssm-user, whom the agent gives sudo",
				in.RunAsEnabled, in.RunAsDefaultUser)
		}
		if in.IdleSessionTimeout == "" {
			in.IdleSessionTimeout = strconv.Itoa(maxIdleSessionMinutes) // Session Manager's default
		}
		if idle, err := strconv.Atoi(in.IdleSessionTimeout); err != nil || idle > maxIdleSessionMinutes {
			c.Fail("content", "idleSessionTimeout %q is not at most %d minutes", in.IdleSessionTimeout, maxIdleSessionMinutes)
		}
	},
}
