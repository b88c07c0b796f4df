package hipaa

import "slices"

// all is every rule of the pack, in report order.
var all = []*Rule{
	&ebsVolumeEncrypted, &ec2VolumesEncrypted, &launchTemplateVolumesEncrypted, &ebsEncryptionByDefault,
	&s3BucketSseKms, &s3BucketTLSOnly, &s3PublicAccessBlocked, &s3Versioning, &s3AccessLogging,
	&kmsKeyRotation, &kmsKeySafeLifecycle, &logGroupKms, &logRetention, &snsTopicKms, &secretsKms,
	&dedicatedTenancy, &sgNoPublicAdminPorts, &sgIngressAuthorizedOnly, &defaultSgClosed, &noPublicIP,
	&noUnrestrictedIgwRoute, &ec2Imdsv2, &ec2InstanceProfile, &ec2DetailedMonitoring, &lbHTTPSOnly, &lbAccessLogging, &lbDropInvalidHeaders,
	&dbTLSOnly, &vpcFlowLogs, &cloudtrailBaseline, &guarddutyEnabled, &iamNoAdminWildcards,
	&iamUsersViaGroups, &iamPasswordPolicy, &alarmsHaveActions, &backupRetention, &ecrRepositoryKms,
	&ecrImmutableTags, &ecrScanOnPush, &ecrRepoPrivate, &phiTagged,
}

// Rules returns every rule of the pack.
func Rules() []*Rule { return all }

// RuleByID returns the rule with an ID, or nil.
func RuleByID(id string) *Rule {
	if i := slices.IndexFunc(all, func(r *Rule) bool { return r.ID == id }); i >= 0 {
		return all[i]
	}
	return nil
}

// RuleIDs lists the rules' IDs, in report order.
func RuleIDs() []string {
	ids := make([]string, len(all))
	for i, r := range all {
		ids[i] = r.ID
	}
	return ids
}
