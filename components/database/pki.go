package database

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-tls/sdk/v5/go/tls"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
)

// pki is the cluster's internal CA and each host's certificate, delivered in a secret per host.
type pki struct {
	caCert          pulumi.StringOutput
	hostSecretNames map[string]string
	hostSecretArns  map[string]pulumi.StringOutput
	// hostSecretVersions hold each host's bundle: what its bootstrap reads.
	hostSecretVersions map[string]*secretsmanager.SecretVersion
}

// newPKI makes the CA and one key and certificate per host, valid for the host's fixed address and
// name, for serving clients and for authenticating to its peers (replication, pgBackRest). The CA's key
// stays in the Pulumi state, encrypted; hosts receive only their own key.
func newPKI(ctx *pulumi.Context, name string, a *ClusterArgs, hosts []Host, parent pulumi.ResourceOption) (*pki, error) {
	caKey, err := tls.NewPrivateKey(ctx, name+"-ca", &tls.PrivateKeyArgs{Algorithm: pulumi.String("ECDSA"), EcdsaCurve: pulumi.String("P256")}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the CA key: %w", err)
	}
	ca, err := tls.NewSelfSignedCert(ctx, name+"-ca", &tls.SelfSignedCertArgs{
		PrivateKeyPem:       caKey.PrivateKeyPem,
		IsCaCertificate:     pulumi.Bool(true),
		ValidityPeriodHours: pulumi.Int(caValidityHours),
		EarlyRenewalHours:   pulumi.Int(certificateEarlyRenewHour),
		AllowedUses:         pulumi.ToStringArray([]string{"cert_signing", "crl_signing"}),
		Subject:             tls.SelfSignedCertSubjectArgs{CommonName: pulumi.String(name + " internal CA"), Organization: pulumi.String("hipaa platform")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating the CA: %w", err)
	}
	p := &pki{caCert: ca.CertPem, hostSecretNames: map[string]string{}, hostSecretArns: map[string]pulumi.StringOutput{},
		hostSecretVersions: map[string]*secretsmanager.SecretVersion{}}
	for _, h := range hosts {
		key, err := tls.NewPrivateKey(ctx, h.Name, &tls.PrivateKeyArgs{Algorithm: pulumi.String("ECDSA"), EcdsaCurve: pulumi.String("P256")}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating %s's key: %w", h.Name, err)
		}
		csr, err := tls.NewCertRequest(ctx, h.Name, &tls.CertRequestArgs{
			PrivateKeyPem: key.PrivateKeyPem,
			Subject:       tls.CertRequestSubjectArgs{CommonName: pulumi.String(h.Name)},
			// The address as a name too: pgBackRest 2.45 (Debian 12) matches the host it connects to only
			// against the certificate's names, and the backup standby reaches the primary by address
			// (measured here: it refused a certificate whose address was an IP SAN alone).
			DnsNames:    pulumi.ToStringArray([]string{h.Name, h.Address}),
			IpAddresses: pulumi.ToStringArray([]string{h.Address}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating %s's certificate request: %w", h.Name, err)
		}
		cert, err := tls.NewLocallySignedCert(ctx, h.Name, &tls.LocallySignedCertArgs{
			CertRequestPem:      csr.CertRequestPem,
			CaPrivateKeyPem:     caKey.PrivateKeyPem,
			CaCertPem:           ca.CertPem,
			ValidityPeriodHours: pulumi.Int(certificateValidityHours),
			EarlyRenewalHours:   pulumi.Int(certificateEarlyRenewHour),
			AllowedUses:         pulumi.ToStringArray([]string{"digital_signature", "key_encipherment", "server_auth", "client_auth"}),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("signing %s's certificate: %w", h.Name, err)
		}
		secretName := name + "/tls/" + h.Name
		sec, err := secretsmanager.NewSecret(ctx, h.Name+"-tls", &secretsmanager.SecretArgs{
			Name:                 pulumi.String(secretName),
			Description:          pulumi.String("TLS key and certificate of " + h.Name),
			KmsKeyId:             a.SecretsKeyArn,
			RecoveryWindowInDays: pulumi.Int(a.recoveryWindow()),
			Tags:                 naming.Tags(a.Tags, h.Name+"-tls"),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating %s's TLS secret: %w", h.Name, err)
		}
		bundle := pulumi.All(key.PrivateKeyPem, cert.CertPem, ca.CertPem).ApplyT(func(v []any) (string, error) {
			b, err := json.Marshal(map[string]string{"key": v[0].(string), "cert": v[1].(string), "ca": v[2].(string)})
			return string(b), err
		}).(pulumi.StringOutput)
		version, err := secretsmanager.NewSecretVersion(ctx, h.Name+"-tls", &secretsmanager.SecretVersionArgs{
			SecretId: sec.ID(), SecretString: pulumi.ToSecret(bundle).(pulumi.StringOutput),
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("storing %s's TLS key: %w", h.Name, err)
		}
		p.hostSecretVersions[h.Name] = version
		p.hostSecretNames[h.Name] = secretName
		p.hostSecretArns[h.Name] = sec.Arn
	}
	return p, nil
}
