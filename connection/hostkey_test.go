package connection

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newKey(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var remote = &net.TCPAddr{IP: net.IPv4(127, 0, 1, 9), Port: 2222}

func TestHostKeyLookups(t *testing.T) {
	known, other, revoked := newKey(t), newKey(t), newKey(t)
	ca := newKey(t)
	hostCert := &ssh.Certificate{Key: other.PublicKey(), CertType: ssh.HostCert, ValidPrincipals: []string{"web.example.com"}, ValidBefore: ssh.CertTimeInfinity}
	if err := hostCert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	file := writeKnownHosts(t,
		knownhosts.Line([]string{"[127.0.1.9]:2222"}, known.PublicKey()),
		knownhosts.Line([]string{knownhosts.HashHostname("hashed.example.com")}, known.PublicKey()),
		"@cert-authority *.example.com "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey()))),
		"@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(revoked.PublicKey()))),
	)
	hk, err := newHostKeys(nil, []string{file}, filepath.Join(t.TempDir(), "kh"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hostport string
		key            ssh.PublicKey
		want           string // "" means accepted
	}{
		{"port entry", "127.0.1.9:2222", known.PublicKey(), ""},
		{"hashed entry", "hashed.example.com:22", known.PublicKey(), ""},
		{"certificate from CA", "web.example.com:22", hostCert, ""},
		{"changed key", "127.0.1.9:2222", other.PublicKey(), "has changed"},
		{"unknown host", "127.0.1.10:22", other.PublicKey(), "is not known"},
		{"revoked key", "127.0.1.9:2222", revoked.PublicKey(), "revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hk.callback("web1", tt.hostport, HostKeyStrict)(tt.hostport, remote, tt.key)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrHostKey with %q", err, tt.want)
			}
		})
	}
}

func TestHostKeyMessages(t *testing.T) {
	key, other := newKey(t), newKey(t)
	file := writeKnownHosts(t, knownhosts.Line([]string{"[127.0.1.9]:2222"}, key.PublicKey()))
	hk, err := newHostKeys(nil, []string{file}, filepath.Join(t.TempDir(), "kh"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = hk.callback("web1", "127.0.1.8:2200", HostKeyStrict)("", remote, other.PublicKey())
	for _, want := range []string{"web1 (127.0.1.8:2200)", ssh.FingerprintSHA256(other.PublicKey()), "ssh-keyscan -p 2200 127.0.1.8", "accept-new"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("unknown-key message %q lacks %q", err, want)
		}
	}
	err = hk.callback("web1", "127.0.1.9:2222", HostKeyAcceptNew)("", remote, other.PublicKey())
	for _, want := range []string{"has changed", "possible man-in-the-middle", file + ":1", "ssh-keygen -R '[127.0.1.9]:2222'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("changed-key message %q lacks %q", err, want)
		}
	}
	if err := hk.callback("web1", "127.0.1.9:2222", HostKeyOff)("", remote, other.PublicKey()); err != nil {
		t.Errorf("policy off refused a changed key: %v", err)
	}
}

func TestHostKeyAcceptNewConcurrent(t *testing.T) {
	userFile := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	hk, err := newHostKeys([]string{userFile}, nil, userFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]ssh.Signer, 50)
	var wg sync.WaitGroup
	for i := range keys {
		keys[i] = newKey(t)
		wg.Go(func() {
			hp := fmt.Sprintf("10.0.0.%d:22", i)
			if err := hk.callback(hp, hp, HostKeyAcceptNew)(hp, remote, keys[i].PublicKey()); err != nil {
				t.Errorf("%s: %v", hp, err)
			}
		})
	}
	wg.Wait()
	fresh, err := newHostKeys([]string{userFile}, nil, userFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		hp := fmt.Sprintf("10.0.0.%d:22", i)
		if err := fresh.callback(hp, hp, HostKeyStrict)(hp, remote, k.PublicKey()); err != nil {
			t.Errorf("%s after accept-new: %v", hp, err)
		}
	}
	data, _ := os.ReadFile(userFile)
	if n := strings.Count(string(data), "\n"); n != 50 {
		t.Errorf("known_hosts has %d lines, want 50", n)
	}
	if strings.Contains(string(data), "10.0.0.") {
		t.Error("accept-new wrote plain host names; want hashed ones")
	}
	// Accepted during the run: a different key for the same host is a change.
	if err := hk.callback("h", "10.0.0.1:22", HostKeyAcceptNew)("", remote, newKey(t).PublicKey()); !errors.Is(err, ErrHostKey) {
		t.Errorf("second key for an accepted host: %v", err)
	}
}

func TestHostKeyFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := newHostKeys([]string{filepath.Join(dir, "missing")}, nil, "", nil); err != nil {
		t.Errorf("missing default file: %v", err)
	}
	if _, err := newHostKeys(nil, []string{filepath.Join(dir, "missing")}, "", nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing explicit file: err = %v", err)
	}
	// A directory stands in for an unreadable file (root reads anything).
	if _, err := newHostKeys([]string{dir}, nil, "", nil); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("unreadable default file: err = %v", err)
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	key := newKey(t)
	file := writeKnownHosts(t, knownhosts.Line([]string{"[127.0.1.9]:2222"}, key.PublicKey()))
	hk, _ := newHostKeys(nil, []string{file}, "", nil)
	algos := hk.algorithms("127.0.1.9:2222")
	if len(algos) == 0 || algos[0] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms = %v, want ed25519 first", algos)
	}
	if got := hk.algorithms("127.0.1.1:22"); got != nil {
		t.Errorf("unknown host algorithms = %v, want nil", got)
	}
}
