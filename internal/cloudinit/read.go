package cloudinit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"gopkg.in/yaml.v3"
)

// ScriptKey is the name a user data that is not cloud-config (a plain script) comes back under.
const ScriptKey = "user-data"

// maxDecoded bounds what one user data may unpack to: EC2 takes at most 16 KB, which no honest
// compression turns into more than this.
const maxDecoded = 1 << 20

// Decode reads user data given as base64 (userDataBase64, or a launch template's userData), gzipped or
// not: for cloud-config, the files it writes by path, each decoded from its encoding; a plain script
// comes back as ScriptKey.
func Decode(encoded string) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, fmt.Errorf("user data is not base64: %w", err)
	}
	return files(raw)
}

// Files reads user data in whatever form an EC2 property holds it: base64 or plain text, gzipped or
// not. It is Decode for a value that may not be base64, such as an instance's userData.
func Files(userData string) (map[string]string, error) {
	return files(unbase64(userData))
}

// Document returns the text of user data as the host reads it: base64 and gzip undone.
func Document(userData string) (string, error) {
	data, err := gunzip(unbase64(userData))
	return string(data), err
}

func unbase64(userData string) []byte {
	if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(userData)); err == nil {
		return dec
	}
	return []byte(userData)
}

func files(data []byte) (map[string]string, error) {
	data, err := gunzip(data)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("#cloud-config")) {
		return map[string]string{ScriptKey: string(data)}, nil
	}
	entries, ok := writeFilesFast(string(data))
	if !ok {
		var doc struct {
			WriteFiles []writeFile `yaml:"write_files"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("user data is not cloud-config: %w", err)
		}
		entries = doc.WriteFiles
	}
	out := make(map[string]string, len(entries))
	for _, f := range entries {
		content, err := f.decoded()
		if err != nil {
			return nil, fmt.Errorf("user data file %s: %w", f.Path, err)
		}
		out[f.Path] += content
	}
	return out, nil
}

// writeFile is one write_files entry as cloud-init reads it.
type writeFile struct {
	Path     string `yaml:"path"`
	Content  string `yaml:"content"`
	Encoding string `yaml:"encoding"`
}

// decoded is the file's content after its encoding, as cloud-init's write_files names them.
func (f writeFile) decoded() (string, error) {
	switch strings.ToLower(f.Encoding) {
	case "", "text/plain":
		return f.Content, nil
	case "b64", "base64":
		b, err := base64.StdEncoding.DecodeString(f.Content)
		return string(b), err
	case "gz", "gzip":
		b, err := gunzip([]byte(f.Content))
		return string(b), err
	case "gz+b64", "gzip+base64", "gz+base64", "gzip+b64":
		raw, err := base64.StdEncoding.DecodeString(f.Content)
		if err != nil {
			return "", err
		}
		b, err := gunzip(raw)
		return string(b), err
	}
	return "", fmt.Errorf("unknown encoding %q", f.Encoding)
}

// gzipReaders are reused: a reader's window is 32 KB, and an audit may decompress thousands of hosts'
// user data.
var gzipReaders sync.Pool

// gunzip undoes gzip when b starts with its magic number, and returns b as it is otherwise.
func gunzip(b []byte) ([]byte, error) {
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		return b, nil
	}
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, fmt.Errorf("user data is not valid gzip: %w", err)
	}
	defer gzipReaders.Put(zr)
	var out bytes.Buffer
	out.Grow(4 * len(b))
	n, err := out.ReadFrom(io.LimitReader(zr, maxDecoded+1))
	if err != nil {
		return nil, fmt.Errorf("user data is not valid gzip: %w", err)
	}
	if n > maxDecoded {
		return nil, errors.New("user data unpacks to more than 1 MiB")
	}
	return out.Bytes(), nil
}
