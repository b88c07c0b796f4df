package database

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi-tls/sdk/v5/go/tls"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/hipaa-platform/platform/internal/naming"
)

// pki is the cluster's internal CAs and each host's certificate, delivered in a secret per host.
type pki struct {
	// caCert is the CA bundle: every generation's certificate, the issuer's first.
	caCert          pulumi.StringOutput
	hostSecretNames map[string]string
	hostSecretArns  map[string]pulumi.StringOutput
	// hostSecretVersions hold each host's bundle: what its bootstrap reads.
	hostSecretVersions map[string]*secretsmanager.SecretVersion
}

// FirstCAGeneration is a cluster's first CA generation, whose resources keep the names the single CA had.
const FirstCAGeneration = "1"

var caGeneration = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// CheckCAGenerations checks a cluster's CA generations (ClusterArgs.CAGenerations): one, or two while
// the CA rotates, distinct, each 1 to 16 lower-case letters and digits.
func CheckCAGenerations(gens []string) error {
	if len(gens) > 2 {
		return fmt.Errorf("got %d generations %v; want one, or two while the CA rotates (the issuer first)", len(gens), gens)
	}
	for _, g := range gens {
		if !caGeneration.MatchString(g) {
			return fmt.Errorf("generation %q: want 1 to 16 lower-case letters and digits", g)
		}
	}
	if len(gens) == 2 && gens[0] == gens[1] {
		return fmt.Errorf("generation %q twice; want two different ones while the CA rotates", gens[0])
	}
	return nil
}

// newPKI makes the CAs and one key and certificate per host, valid for the host's fixed address and
// name, for serving clients and for authenticating to its peers (replication, pgBackRest), signed by the
// first generation's CA. The CAs' keys stay in the Pulumi state, encrypted; hosts receive only their own
// key, and every CA's certificate. A host's key outlives a change of issuer: only its certificate is
// signed again.
func newPKI(ctx *pulumi.Context, name string, a *ClusterArgs, hosts []Host, parent pulumi.ResourceOption) (*pki, error) {
	type ca struct{ key, cert pulumi.StringOutput }
	var cas []ca
	for _, g := range a.CAGenerations {
		opts := []pulumi.ResourceOption{parent}
		if g == FirstCAGeneration {
			// The single CA of a cluster made before generations were, under its name then.
			opts = append(opts, pulumi.Aliases([]pulumi.Alias{{Name: pulumi.String(name + "-ca")}}))
		}
		caKey, err := tls.NewPrivateKey(ctx, name+"-ca-"+g, &tls.PrivateKeyArgs{Algorithm: pulumi.String("ECDSA"), EcdsaCurve: pulumi.String("P256")}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating the CA key of generation %s: %w", g, err)
		}
		cert, err := tls.NewSelfSignedCert(ctx, name+"-ca-"+g, &tls.SelfSignedCertArgs{
			PrivateKeyPem:       caKey.PrivateKeyPem,
			IsCaCertificate:     pulumi.Bool(true),
			ValidityPeriodHours: pulumi.Int(caValidityHours),
			EarlyRenewalHours:   pulumi.Int(certificateEarlyRenewHour),
			AllowedUses:         pulumi.ToStringArray([]string{"cert_signing", "crl_signing"}),
			Subject:             tls.SelfSignedCertSubjectArgs{CommonName: pulumi.String(caCommonName(name, g)), Organization: pulumi.String("hipaa platform")},
		}, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating the CA of generation %s: %w", g, err)
		}
		cas = append(cas, ca{caKey.PrivateKeyPem, cert.CertPem})
	}
	issuer := cas[0]
	var certs []any
	for _, c := range cas {
		certs = append(certs, c.cert)
	}
	bundle := pulumi.All(certs...).ApplyT(func(v []any) string {
		var b strings.Builder
		for _, pem := range v {
			b.WriteString(strings.TrimRight(pem.(string), "\n") + "\n")
		}
		return b.String()
	}).(pulumi.StringOutput)
	p := &pki{caCert: bundle, hostSecretNames: map[string]string{}, hostSecretArns: map[string]pulumi.StringOutput{},
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
			CaPrivateKeyPem:     issuer.key,
			CaCertPem:           issuer.cert,
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
		hostBundle := pulumi.All(key.PrivateKeyPem, cert.CertPem, bundle).ApplyT(func(v []any) (string, error) {
			b, err := json.Marshal(map[string]string{"key": v[0].(string), "cert": v[1].(string), "ca": v[2].(string)})
			return string(b), err
		}).(pulumi.StringOutput)
		version, err := secretsmanager.NewSecretVersion(ctx, h.Name+"-tls", &secretsmanager.SecretVersionArgs{
			SecretId: sec.ID(), SecretString: pulumi.ToSecret(hostBundle).(pulumi.StringOutput),
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

// caCommonName names a CA generation's certificate: the first keeps the single CA's name, so that its
// certificate is not issued again when the generations begin.
func caCommonName(cluster, generation string) string {
	if generation == FirstCAGeneration {
		return cluster + " internal CA"
	}
	return cluster + " internal CA " + generation
}

// CAStep is one step of the rotation of a cluster's CA, each applied and converged on every host (and
// the application's instances) before the next, so that no peer ever meets a certificate it does not
// trust: Trust adds a new CA to every host's and client's trust, Issue signs every host's certificate
// with it (the old CA still trusted), Drop stops trusting the old CA.
type CAStep struct {
	Name string
	// Next are the generations after the step.
	Next []string
	// Says is what the step does, for the operator.
	Says string
}

// NextCAStep is the rotation's next step from the generations gens (the issuer first), a new generation
// named by the time now (UTC, yyyymmddhhmm). Generations are told apart by age: a later one has a longer
// name or, as long, a greater one (the first is "1").
func NextCAStep(gens []string, now time.Time) (CAStep, error) {
	if len(gens) == 0 {
		gens = []string{FirstCAGeneration}
	}
	if err := CheckCAGenerations(gens); err != nil {
		return CAStep{}, err
	}
	newer := func(a, b string) bool { return len(a) > len(b) || len(a) == len(b) && a > b }
	switch {
	case len(gens) == 1:
		g := now.UTC().Format("200601021504")
		if !newer(g, gens[0]) {
			return CAStep{}, fmt.Errorf("generation %q is not older than %s, the new one's name; want the clock right", gens[0], g)
		}
		return CAStep{Name: "trust", Next: []string{gens[0], g},
			Says: "a new CA, " + g + ", trusted beside " + gens[0] + ", which still issues the hosts' certificates"}, nil
	case newer(gens[1], gens[0]):
		return CAStep{Name: "issue", Next: []string{gens[1], gens[0]},
			Says: "every host's certificate signed by " + gens[1] + "; " + gens[0] + " still trusted"}, nil
	default:
		return CAStep{Name: "drop", Next: []string{gens[0]},
			Says: gens[1] + " no longer trusted; " + gens[0] + " alone issues and is trusted"}, nil
	}
}
