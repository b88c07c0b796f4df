package standin

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 credentials the stand-in is given (it checks none); pgBackRest gets them from its environment.
const (
	S3Key    = "hipaa-test-key"
	S3Secret = "hipaa-test-secret"
)

// S3 is an in-memory S3 over TLS, with a certificate of the CA for the address it listens on, as
// pgBackRest requires.
type S3 struct {
	srv     *httptest.Server
	backend *s3mem.Backend
	bucket  string
	Host    string
	Port    int
}

// StartS3 serves S3 on host (an IP address; port 0 picks one) with bucket made.
func StartS3(ca *CA, host, bucket string) (*S3, error) {
	certPEM, keyPEM, err := ca.Issue("s3", host)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(gofakes3.New(backend).Server())
	srv.Listener.Close()
	srv.Listener = l
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	return &S3{srv: srv, backend: backend, bucket: bucket, Host: host, Port: l.Addr().(*net.TCPAddr).Port}, nil
}

// Corrupt overwrites, in place, the first object of the bucket whose key contains part with bytes of
// the same length that are not its content, as a damaged repository would hold; it returns its key.
func (s *S3) Corrupt(part string) (string, error) {
	list, err := s.backend.ListBucket(s.bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		return "", err
	}
	for _, c := range list.Contents {
		if !strings.Contains(c.Key, part) || c.Size == 0 {
			continue
		}
		junk := bytes.Repeat([]byte{0x5a}, int(c.Size))
		if _, err := s.backend.PutObject(s.bucket, c.Key, map[string]string{}, bytes.NewReader(junk), c.Size, nil); err != nil {
			return "", err
		}
		return c.Key, nil
	}
	return "", fmt.Errorf("no object of %s has %q in its key", s.bucket, part)
}

// Close stops the stand-in.
func (s *S3) Close() { s.srv.Close() }
