package hipaa

import (
	"strings"

	"github.com/hipaa-platform/platform/policy/engine"
)

// PackName and PackVersion identify the pack to Pulumi; PulumiPolicy.yaml repeats them.
const (
	PackName    = "hipaa-platform"
	PackVersion = "1.0.0"
)

// all is every rule of the pack, in report order.
var all = []*engine.Rule{
	&ebsVolumeEncrypted, &ec2VolumesEncrypted, &launchTemplateVolumesEncrypted, &ebsEncryptionByDefault,
	&s3BucketSseKms, &s3BucketTLSOnly, &s3PublicAccessBlocked, &s3Versioning, &s3AccessLogging,
	&kmsKeyRotation, &kmsKeySafeLifecycle, &logGroupKms, &logRetention, &snsTopicKms, &secretsKms,
	&dedicatedTenancy, &sgNoPublicAdminPorts, &sgIngressAuthorizedOnly, &defaultSgClosed, &naclClosed, &vpcEndpointPerimeter, &noPublicIP,
	&noUnrestrictedIgwRoute, &ec2Imdsv2, &ec2InstanceProfile, &ec2DetailedMonitoring, &lbHTTPSOnly, &lbAccessLogging, &lbDropInvalidHeaders, &lbWafProtected,
	&dbTLSOnly, &dbLogsShipped, &vpcFlowLogs, &cloudtrailBaseline, &cloudtrailS3DataEvents, &cloudtrailSecurityAlarms,
	&configRecorderEnabled, &configHipaaConformancePack, &securityhubEnabled, &inspectorEnabled, &guarddutyEnabled, &iamNoAdminWildcards, &iamNoInlinePolicies,
	&iamUsersViaGroups, &iamPasswordPolicy, &alarmsHaveActions, &backupRetention, &backupHostsProtected, &ecrRepositoryKms,
	&ecrImmutableTags, &ecrScanOnPush, &ecrRepoPrivate, &imagebuilderRecipeEncrypted, &imagebuilderDistributionPrivate,
	&imagebuilderImagesTested, &ec2ImageBuiltByAccount, &ssmSessionPreferences, &ssmHostsPatched, &secretsPasswordsRotated, &phiTagged, &phiStoresProtected,
}

// Sections names the sections of 45 CFR Part 164 the rules cite, and the platform's own safeguards.
var Sections = map[string]string{
	"164.308(a)(1)(ii)(A)": "Risk analysis",
	"164.308(a)(1)(ii)(B)": "Risk management",
	"164.308(a)(1)(ii)(D)": "Information system activity review",
	"164.308(a)(3)(i)":     "Workforce security",
	"164.308(a)(4)(ii)(B)": "Access authorization",
	"164.308(a)(5)(ii)(B)": "Protection from malicious software",
	"164.308(a)(5)(ii)(D)": "Password management",
	"164.308(a)(6)(i)":     "Security incident procedures",
	"164.308(a)(6)(ii)":    "Response and reporting",
	"164.308(a)(7)(ii)(A)": "Data backup plan",
	"164.308(a)(8)":        "Evaluation",
	"164.310(d)(2)(iv)":    "Data backup and storage",
	"164.312(a)(1)":        "Access control",
	"164.312(a)(2)(iii)":   "Automatic logoff",
	"164.312(a)(2)(iv)":    "Encryption and decryption",
	"164.312(b)":           "Audit controls",
	"164.312(c)(1)":        "Integrity",
	"164.312(c)(2)":        "Mechanism to authenticate ePHI",
	"164.312(d)":           "Person or entity authentication",
	"164.312(e)(1)":        "Transmission security",
	"164.312(e)(2)(i)":     "Integrity controls (transmission)",
	"164.312(e)(2)(ii)":    "Encryption (transmission)",
	Platform:               "Platform safeguards beyond the rule (dedicated hardware, registry hygiene, tagging)",
}

// Platform is the citation of a safeguard of the platform's own, beyond what the rule requires.
const Platform = "project"

var pack = mustPack()

func mustPack() *engine.Pack {
	p, err := engine.NewPack(engine.Pack{
		Name: PackName, Version: PackVersion,
		DisplayName: "HIPAA Security Rule",
		Description: "The HIPAA Security Rule (45 CFR Part 164 Subpart C) for the platform's AWS resources",
		Framework:   engine.Framework{Name: "HIPAA", Version: "45 CFR 164 Subpart C", Cite: Cite, Sections: Sections},
	}, all)
	if err != nil {
		panic(err) // the rules are this package's own: a test builds the pack
	}
	return p
}

// Pack is the HIPAA policy pack: every rule of this package.
func Pack() *engine.Pack { return pack }

// Cite renders citations: "45 CFR 164.312(b), 164.312(c)(2)", and the platform's own safeguards as
// "platform safeguard".
func Cite(citations []string) string {
	var cfr []string
	platform := false
	for _, c := range citations {
		if strings.HasPrefix(c, "164.") {
			cfr = append(cfr, c)
		} else {
			platform = true
		}
	}
	var out []string
	if len(cfr) > 0 {
		out = append(out, "45 CFR "+strings.Join(cfr, ", "))
	}
	if platform {
		out = append(out, "platform safeguard")
	}
	return strings.Join(out, "; ")
}
