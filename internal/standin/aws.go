package standin

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// AWS answers, on one address, the calls the converge scripts make with the AWS CLI: the instance
// metadata service (a session token and the role's credentials, as IMDSv2 hands them out), Secrets
// Manager's GetSecretValue and PutSecretValue (a rotation's new value becomes the current one), ECR's GetAuthorizationToken, CloudWatch's PutMetricData, Auto Scaling's
// SetDesiredCapacity (the drill host's scale-in), and S3's PutObject and GetObject of small objects (the
// drill's evidence and marker; pgBackRest's repository is the S3 stand-in). The CLI reaches it through
// AWS_EC2_METADATA_SERVICE_ENDPOINT and --endpoint-url (HIPAA_AWS_ENDPOINT in the scripts).
type AWS struct {
	// URL is the stand-in's base URL, for both variables.
	URL string

	srv     *http.Server
	mu      sync.Mutex
	secrets map[string]string
	metrics []Metric
	reads   map[string]int
	puts    map[string]int
	objects map[string][]byte
	scaled  []Scaling
}

// Scaling is one SetDesiredCapacity a host asked for.
type Scaling struct {
	Group    string
	Capacity string
}

// Metric is one datum a host published.
type Metric struct {
	Namespace, Name string
	Dimensions      map[string]string
	Value           string
}

// StartAWS serves the stand-in on host (an IP address).
func StartAWS(host string) (*AWS, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	a := &AWS{URL: "http://" + l.Addr().String(), secrets: map[string]string{}, reads: map[string]int{}, puts: map[string]int{}, objects: map[string][]byte{}}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(l) }()
	return a, nil
}

// Close stops the stand-in.
func (a *AWS) Close() { _ = a.srv.Close() }

// SetSecret stores a secret's value under its name.
func (a *AWS) SetSecret(name, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.secrets[name] = value
}

// Metrics are the data published so far with metric name, from the host whose Host dimension is host
// (any host when empty).
func (a *AWS) Metrics(name, host string) []Metric {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Metric
	for _, m := range a.metrics {
		if m.Name == name && (host == "" || m.Dimensions["Host"] == host) {
			out = append(out, m)
		}
	}
	return out
}

// Scalings are the SetDesiredCapacity calls made so far.
func (a *AWS) Scalings() []Scaling {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Scaling(nil), a.scaled...)
}

// Objects are the objects put so far whose "bucket/key" begins with prefix.
func (a *AWS) Objects(prefix string) map[string][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range a.objects {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// Secret is a secret's current value, and whether it has one.
func (a *AWS) Secret(name string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	v, ok := a.secrets[name]
	return v, ok
}

// Puts is how often a secret has been given a new value.
func (a *AWS) Puts(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.puts[name]
}

// Reads is how often a secret has been read.
func (a *AWS) Reads(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reads[name]
}

const imdsToken = "standin-imds-token"

func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/latest/"):
		a.imds(w, r)
	case r.Header.Get("X-Amz-Target") == "secretsmanager.GetSecretValue":
		a.getSecretValue(w, r)
	case r.Header.Get("X-Amz-Target") == "secretsmanager.PutSecretValue":
		a.putSecretValue(w, r)
	case r.Header.Get("X-Amz-Target") == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken":
		a.getAuthorizationToken(w)
	case r.Method == http.MethodPut || r.Method == http.MethodGet || r.Method == http.MethodHead:
		a.object(w, r)
	case r.Method == http.MethodPost:
		a.query(w, r)
	default:
		http.Error(w, "the stand-in answers no such call", http.StatusNotImplemented)
	}
}

// imds answers IMDSv2: a token for a PUT, then the role's name and credentials for that token only.
func (a *AWS) imds(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPut && r.URL.Path == "/latest/api/token" {
		fmt.Fprint(w, imdsToken)
		return
	}
	if r.Header.Get("X-aws-ec2-metadata-token") != imdsToken {
		http.Error(w, "", http.StatusUnauthorized)
		return
	}
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/latest/meta-data/iam/security-credentials":
		fmt.Fprint(w, "standin-role")
	case "/latest/meta-data/iam/security-credentials/standin-role":
		_ = json.NewEncoder(w).Encode(map[string]string{
			"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIASTANDIN000000000", "SecretAccessKey": "standin-secret",
			"Token": "standin-session", "LastUpdated": time.Now().UTC().Format(time.RFC3339),
			"Expiration": time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339),
		})
	case "/latest/meta-data/instance-id":
		fmt.Fprint(w, "i-0standin0000000")
	case "/latest/meta-data/placement/region":
		fmt.Fprint(w, "us-east-1")
	default:
		http.NotFound(w, r)
	}
}

// getSecretValue answers the JSON protocol's GetSecretValue, as Secrets Manager does, or its
// ResourceNotFoundException.
func (a *AWS) getSecretValue(w http.ResponseWriter, r *http.Request) {
	a.secretCall(w, r, func(in secretRequest) map[string]any {
		value, ok := a.secrets[in.SecretId]
		if !ok {
			return nil
		}
		a.reads[in.SecretId]++
		return map[string]any{"SecretString": value, "VersionId": "standin-version", "CreatedDate": float64(time.Now().Unix())}
	})
}

// putSecretValue answers the JSON protocol's PutSecretValue of a SecretString to an existing secret:
// with no VersionStages, the new version becomes AWSCURRENT (Secrets Manager API reference,
// PutSecretValue), which is what GetSecretValue answers next.
func (a *AWS) putSecretValue(w http.ResponseWriter, r *http.Request) {
	a.secretCall(w, r, func(in secretRequest) map[string]any {
		if _, ok := a.secrets[in.SecretId]; !ok {
			return nil
		}
		a.secrets[in.SecretId] = in.SecretString
		a.puts[in.SecretId]++
		return map[string]any{"VersionId": in.ClientRequestToken}
	})
}

// secretRequest is what the stand-in reads of a Secrets Manager call.
type secretRequest struct{ SecretId, SecretString, ClientRequestToken string }

// secretCall decodes a Secrets Manager call and answers what do returns, under the stand-in's lock,
// with the secret's ARN, name and AWSCURRENT, or ResourceNotFoundException when do returns nil.
func (a *AWS) secretCall(w http.ResponseWriter, r *http.Request, do func(secretRequest) map[string]any) {
	var in secretRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	out := do(in)
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if out == nil {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": "ResourceNotFoundException", "Message": "Secrets Manager can't find the specified secret."})
		return
	}
	out["ARN"] = "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + in.SecretId + "-AbCdEf"
	out["Name"], out["VersionStages"] = in.SecretId, []string{"AWSCURRENT"}
	_ = json.NewEncoder(w).Encode(out)
}

// RegistryPassword is the password in the registry token the stand-in hands out.
const RegistryPassword = "standin-registry-password"

// getAuthorizationToken answers ECR's GetAuthorizationToken: a token that is base64 of AWS:<password>
// (ECR API reference, AuthorizationData), which get-login-password prints the password of.
func (a *AWS) getAuthorizationToken(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(map[string]any{"authorizationData": []any{map[string]any{
		"authorizationToken": base64.StdEncoding.EncodeToString([]byte("AWS:" + RegistryPassword)),
		"expiresAt":          float64(time.Now().Add(12 * time.Hour).Unix()),
		"proxyEndpoint":      "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
	}}})
}

// object answers S3's path-style PutObject and GetObject (the CLI addresses an endpoint given as an IP
// address by path), keeping the bodies in memory.
func (a *AWS) object(w http.ResponseWriter, r *http.Request) {
	key := strings.TrimPrefix(r.URL.Path, "/")
	if !strings.Contains(key, "/") {
		http.Error(w, "the stand-in answers objects only", http.StatusNotImplemented)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.Method {
	case http.MethodPut:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.objects[key] = body
		w.Header().Set("ETag", `"standin"`)
	default:
		body, ok := a.objects[key]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Header().Set("ETag", `"standin"`)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	}
}

// query answers the query protocol's PutMetricData, as CloudWatch does, and SetDesiredCapacity, as
// Auto Scaling does.
func (a *AWS) query(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	form, err := url.ParseQuery(string(body))
	if err == nil && form.Get("Action") == "SetDesiredCapacity" {
		a.mu.Lock()
		a.scaled = append(a.scaled, Scaling{Group: form.Get("AutoScalingGroupName"), Capacity: form.Get("DesiredCapacity")})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<SetDesiredCapacityResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></SetDesiredCapacityResponse>`)
		return
	}
	if err != nil || form.Get("Action") != "PutMetricData" {
		http.Error(w, "the stand-in answers PutMetricData and SetDesiredCapacity only", http.StatusNotImplemented)
		return
	}
	a.mu.Lock()
	for i := 1; form.Get(fmt.Sprintf("MetricData.member.%d.MetricName", i)) != ""; i++ {
		p := fmt.Sprintf("MetricData.member.%d.", i)
		m := Metric{Namespace: form.Get("Namespace"), Name: form.Get(p + "MetricName"), Value: form.Get(p + "Value"), Dimensions: map[string]string{}}
		for j := 1; form.Get(fmt.Sprintf("%sDimensions.member.%d.Name", p, j)) != ""; j++ {
			m.Dimensions[form.Get(fmt.Sprintf("%sDimensions.member.%d.Name", p, j))] = form.Get(fmt.Sprintf("%sDimensions.member.%d.Value", p, j))
		}
		a.metrics = append(a.metrics, m)
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprint(w, `<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>standin</RequestId></ResponseMetadata></PutMetricDataResponse>`)
}
