package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hipaa-platform/platform/internal/audit"
	"github.com/hipaa-platform/platform/internal/fleet"
	"github.com/hipaa-platform/platform/internal/imageref"
	"github.com/hipaa-platform/platform/internal/project"
	"github.com/hipaa-platform/platform/internal/refusal"
	"github.com/hipaa-platform/platform/stacks"
)

// gate is the audit a promotion passes before it updates a stage: the real program previewed offline
// for the stage with the release, and the HIPAA pack evaluated over it with the configuration in
// configFile, as `platformctl audit` does. The Markdown report is the evidence: its SHA-256 is recorded
// with the promotion, and with reportDir it is written there as audit-STAGE.md.
func gate(p *project.Project, configFile, reportDir string, now func() time.Time) func(stack, release string) (fleet.Evidence, error) {
	return func(stack, release string) (fleet.Evidence, error) {
		rendered, failed, blocking, err := audit.Gate(audit.Options{
			Project: p, Stack: stack, Release: release, Format: "markdown", ConfigFile: configFile, Now: now(),
		})
		if err != nil {
			return fleet.Evidence{}, err
		}
		sum := sha256.Sum256(rendered)
		ev := fleet.Evidence{Failed: failed, Findings: blocking, Report: rendered, Digest: "sha256:" + hex.EncodeToString(sum[:])}
		if reportDir != "" {
			if err := os.MkdirAll(reportDir, 0o755); err != nil {
				return ev, err
			}
			if err := os.WriteFile(filepath.Join(reportDir, "audit-"+stack+".md"), rendered, 0o644); err != nil {
				return ev, err
			}
		}
		return ev, nil
	}
}

// ecrRegistry finds a release in the repository a stage pulls from (its own account's, or
// registryAccount's, in its region), with the AWS CLI and the stage's account profile:
// `aws ecr describe-images`, whose ImageNotFoundException means the release is not there yet.
//
// Not exercised here: there is no AWS account; the fleet's tests give their own.
func ecrRegistry(p *project.Project) func(ctx context.Context, stack, release string) (string, bool, error) {
	return func(ctx context.Context, stack, release string) (string, bool, error) {
		if _, err := exec.LookPath("aws"); err != nil {
			return "", false, refusal.New("finding %s in %s's registry needs the AWS CLI on the PATH (aws ecr describe-images); install it", release, stack)
		}
		ref, err := imageref.Parse(release)
		if err != nil {
			return "", false, err
		}
		cfg, _, err := p.StackConfig(stack)
		if err != nil {
			return "", false, err
		}
		id := "imageTag=" + ref.Tag
		if ref.Digest != "" {
			id = "imageDigest=" + ref.Digest
		}
		args := []string{"ecr", "describe-images", "--repository-name", stacks.RepositoryName(p.Name), "--image-ids", id, "--region", cfg["aws:region"]}
		if acct := cfg[p.Name+":registryAccount"]; acct != "" {
			args = append(args, "--registry-id", acct)
		}
		var env map[string]string
		if accts, err := p.Accounts(); err == nil {
			if a, ok := project.AccountOf(accts, stack); ok && a.Profile != "" {
				env = map[string]string{"AWS_PROFILE": a.Profile}
			}
		}
		out, err := awsCLI(ctx, env, args...)
		if err != nil && strings.Contains(err.Error(), "ImageNotFoundException") {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		var resp struct {
			ImageDetails []struct{ ImageDigest string }
		}
		if err := json.Unmarshal(out, &resp); err != nil || len(resp.ImageDetails) == 0 {
			return "", false, fmt.Errorf("aws ecr describe-images: unexpected answer %q", out)
		}
		return resp.ImageDetails[0].ImageDigest, true, nil
	}
}
