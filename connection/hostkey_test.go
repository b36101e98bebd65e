package connection

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const hostKeyDir = "testdata/hostkey"

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

// fixtureKey reads a private host key from testdata/hostkey.
func fixtureKey(t testing.TB, name string) ssh.Signer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hostKeyDir, name))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

// fixtureCert returns the host key name presented with its certificate.
func fixtureCert(t testing.TB, name, cert string) ssh.Signer {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(hostKeyDir, cert))
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(pub.(*ssh.Certificate), fixtureKey(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hostServer starts an in-process SSH server on loopback that presents
// keys, lets every client in and hangs up. It returns its address.
func hostServer(t *testing.T, keys ...ssh.Signer) string {
	t.Helper()
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	for _, k := range keys {
		cfg.AddHostKey(k)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if conn, chans, reqs, err := ssh.NewServerConn(c, cfg); err == nil {
					wg.Go(func() { ssh.DiscardRequests(reqs) })
					wg.Go(func() {
						for ch := range chans {
							ch.Reject(ssh.Prohibited, "test server")
						}
					})
					conn.Close()
				}
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return l.Addr().String()
}

// connectAs runs a client handshake with the server at addr as though it
// were hostport, checking its key with hk under policy, as the pool does.
func connectAs(t *testing.T, addr string, hk *hostKeys, hostport string, policy HostKeyPolicy) error {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ClientConfig{
		User:              "test",
		HostKeyCallback:   hk.callback("web1", hostport, policy),
		HostKeyAlgorithms: hk.algorithms(hostport),
	}
	conn, chans, reqs, err := ssh.NewClientConn(c, hostport, cfg)
	if err != nil {
		c.Close()
		return err
	}
	ssh.NewClient(conn, chans, reqs).Close()
	return nil
}

func readHostKeys(t *testing.T, userFile string, files ...string) *hostKeys {
	t.Helper()
	hk, err := newHostKeys(nil, files, userFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	return hk
}

func TestHostKeyKnownHosts(t *testing.T) {
	ed := fixtureKey(t, "ssh_host_ed25519_key")
	three := hostServer(t, ed, fixtureKey(t, "ssh_host_ecdsa_key"), fixtureKey(t, "ssh_host_rsa_key"))
	plain := hostServer(t, ed)
	rsaCert := hostServer(t, fixtureCert(t, "ssh_host_rsa_key", "ssh_host_rsa_key-cert.pub"))
	wrongCert := hostServer(t, fixtureCert(t, "ssh_host_ed25519_key", "ssh_host_ed25519_key-wrongname-cert.pub"))
	revoked := hostServer(t, fixtureKey(t, "revoked_key"))
	otherEd := hostServer(t, newKey(t))
	ecdsaOnly := hostServer(t, fixtureKey(t, "ssh_host_ecdsa_key"))
	files := []string{filepath.Join(hostKeyDir, "known_hosts"), filepath.Join(hostKeyDir, "known_hosts_hashed")}
	hk := readHostKeys(t, filepath.Join(t.TempDir(), "known_hosts"), files...)

	tests := []struct {
		name     string
		server   string
		hostport string
		want     []string // substrings of the error; none means accepted
	}{
		{"plain name", plain, "plain.test:22", nil},
		{"host:port entry", plain, "127.0.1.5:2222", nil},
		{"host:port entry, other port", plain, "127.0.1.5:2200", []string{"is not known"}},
		{"comma-separated names", plain, "beta.test:22", nil},
		{"wildcard", plain, "www.wild.test:22", nil},
		{"wildcard on another port", plain, "www.wild.test:2222", nil},
		{"negated pattern, other name", plain, "db.corp.test:22", nil},
		{"negated pattern", plain, "bad.corp.test:22", []string{"is not known"}},
		{"hashed name", plain, "hashed.test:22", nil},
		{"hashed [host]:port", plain, "hashed.test:2200", nil},
		{"server with three keys, RSA recorded", three, "rsaonly.test:22", nil},
		{"host certificate from the CA", rsaCert, "web.certs.test:22", nil},
		{"host certificate on another port", rsaCert, "web.certs.test:2222", nil},
		{"certificate for another name", wrongCert, "web.certs.test:22", []string{"host certificate for web1 (web.certs.test:22) is not valid", "principal"}},
		{"certificate, no CA: its plain key counts", rsaCert, "rsaonly.test:22", nil},
		{"revoked key", revoked, "plain.test:22", []string{"is revoked", "@revoked at " + files[0] + ":"}},
		{"changed key", otherEd, "plain.test:22", []string{"has changed", "possible man-in-the-middle", files[0] + ":5"}},
		{"changed key type", ecdsaOnly, "plain.test:22", []string{"has changed", "server offered ecdsa-sha2-nistp256"}},
		{"unknown host", plain, "unknown.test:2222", []string{"is not known", ssh.FingerprintSHA256(ed.PublicKey()), "ssh-keyscan -p 2222 unknown.test", "accept-new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := connectAs(t, tt.server, hk, tt.hostport, HostKeyStrict)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("got %v, want the key accepted", err)
				}
				return
			}
			if !errors.Is(err, ErrHostKey) {
				t.Fatalf("got %v, want an error wrapping ErrHostKey", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("got a multi-line message %q", err)
			}
		})
	}
}

func TestHostKeyMessages(t *testing.T) {
	key := newKey(t)
	known := writeKnownHosts(t, "# comment", knownhosts.Line([]string{"127.0.1.5:2222"}, key.PublicKey()))
	userFile := filepath.Join(t.TempDir(), "known_hosts")
	hk := readHostKeys(t, userFile, known)
	other := newKey(t)
	fp := ssh.FingerprintSHA256(other.PublicKey())

	tests := []struct {
		name, hostport string
		want           string
	}{
		{"unknown, port 22", "10.1.1.1:22", `host key verification failed: host key for web1 (10.1.1.1:22) is not known: ssh-ed25519 ` + fp +
			`; if this is the right key, add it with "ssh-keyscan 10.1.1.1 >> ` + userFile + `" or run with --host-key-checking accept-new`},
		{"unknown, other port", "10.1.1.1:2200", `host key verification failed: host key for web1 (10.1.1.1:2200) is not known: ssh-ed25519 ` + fp +
			`; if this is the right key, add it with "ssh-keyscan -p 2200 10.1.1.1 >> ` + userFile + `" or run with --host-key-checking accept-new`},
		{"changed", "127.0.1.5:2222", `host key verification failed: host key for web1 (127.0.1.5:2222) has changed: server offered ssh-ed25519 ` + fp +
			`, known_hosts has ssh-ed25519 ` + ssh.FingerprintSHA256(key.PublicKey()) + ` at ` + known + `:2 — possible man-in-the-middle attack;` +
			` if the change is expected, remove the old key with "ssh-keygen -R '[127.0.1.5]:2222' -f ` + known + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := hk.callback("web1", tt.hostport, HostKeyStrict)(tt.hostport, &net.TCPAddr{}, other.PublicKey())
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

func writeKnownHosts(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHostKeyChangedUnderEveryPolicy(t *testing.T) {
	recorded, offered := newKey(t), newKey(t)
	known := writeKnownHosts(t, knownhosts.Line([]string{"web.test:2222"}, recorded.PublicKey()))
	addr := hostServer(t, offered)
	for _, policy := range []HostKeyPolicy{HostKeyStrict, HostKeyAcceptNew} {
		userFile := filepath.Join(t.TempDir(), "known_hosts")
		err := connectAs(t, addr, readHostKeys(t, userFile, known), "web.test:2222", policy)
		if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "possible man-in-the-middle") {
			t.Errorf("policy %d: got %v, want a changed-key error", policy, err)
		}
		if _, err := os.Stat(userFile); err == nil {
			t.Errorf("policy %d: a changed key was recorded", policy)
		}
	}

	log, hook := logtest.NewNullLogger()
	hk, err := newHostKeys(nil, []string{known}, "", log)
	if err != nil {
		t.Fatal(err)
	}
	if err := connectAs(t, addr, hk, "web.test:2222", HostKeyOff); err != nil {
		t.Fatalf("policy off: got %v, want the changed key accepted", err)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || !strings.Contains(e.Message, "has changed") {
		t.Errorf("policy off: got log entry %v, want a warning about the changed key", e)
	}
	// A revoked key is refused even with checking off, as OpenSSH does.
	revoked := writeKnownHosts(t, "@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(offered.PublicKey()))))
	if err := connectAs(t, addr, readHostKeys(t, "", revoked), "web.test:2222", HostKeyOff); !errors.Is(err, ErrHostKey) {
		t.Errorf("revoked key under off: got %v, want ErrHostKey", err)
	}
	ca, err := os.ReadFile(filepath.Join(hostKeyDir, "ca.pub"))
	if err != nil {
		t.Fatal(err)
	}
	revokedCA := writeKnownHosts(t, "@cert-authority *.certs.test "+string(ca), "@revoked * "+string(ca))
	certServer := hostServer(t, fixtureCert(t, "ssh_host_rsa_key", "ssh_host_rsa_key-cert.pub"))
	if err := connectAs(t, certServer, readHostKeys(t, "", revokedCA), "web.certs.test:22", HostKeyOff); !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("certificate from a revoked CA under off: got %v, want a revoked-key error", err)
	}
}

func TestHostKeyAcceptNew(t *testing.T) {
	key := newKey(t)
	addr := hostServer(t, key)
	userFile := filepath.Join(t.TempDir(), "new", ".ssh", "known_hosts")
	log, hook := logtest.NewNullLogger()
	hk, err := newHostKeys([]string{userFile}, nil, userFile, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := connectAs(t, addr, hk, "web.test:2222", HostKeyStrict); !errors.Is(err, ErrHostKey) {
		t.Fatalf("strict before accept-new: got %v, want ErrHostKey", err)
	}
	if err := connectAs(t, addr, hk, "web.test:2222", HostKeyAcceptNew); err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.InfoLevel || !strings.Contains(e.Message, "added host key for web.test:2222") || !strings.Contains(e.Message, userFile) {
		t.Errorf("got log entry %v, want an info line naming host and file", e)
	}
	data, err := os.ReadFile(userFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "|1|") || strings.Contains(string(data), "web.test") || strings.Count(string(data), "\n") != 1 {
		t.Errorf("got known_hosts %q, want one line with a hashed host name", data)
	}
	for path, want := range map[string]os.FileMode{userFile: 0o600, filepath.Dir(userFile): 0o700} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: got mode %v (%v), want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	// The same run trusts it from memory, a new run from the file.
	if err := connectAs(t, addr, hk, "web.test:2222", HostKeyStrict); err != nil {
		t.Errorf("strict, same run: %v", err)
	}
	if err := connectAs(t, addr, readHostKeys(t, userFile, userFile), "web.test:2222", HostKeyStrict); err != nil {
		t.Errorf("strict, next run: %v", err)
	}
	// The same host with another key in the same run is a change.
	if err := connectAs(t, hostServer(t, newKey(t)), hk, "web.test:2222", HostKeyAcceptNew); !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "has changed") {
		t.Errorf("other key, same run: got %v, want a changed-key error", err)
	}
}

func TestHostKeyAcceptNewReadOnly(t *testing.T) {
	notDir := writeKnownHosts(t, "")
	userFile := filepath.Join(notDir, "known_hosts") // cannot be created, even by root
	log, hook := logtest.NewNullLogger()
	hk, err := newHostKeys(nil, nil, userFile, log)
	if err != nil {
		t.Fatal(err)
	}
	addr := hostServer(t, newKey(t))
	if err := connectAs(t, addr, hk, "web.test:22", HostKeyAcceptNew); err != nil {
		t.Fatalf("accept-new with an unwritable known_hosts: got %v, want the key trusted", err)
	}
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || !strings.Contains(e.Message, "for this run only") {
		t.Errorf("got log entry %v, want a warning", e)
	}
	if err := connectAs(t, addr, hk, "web.test:22", HostKeyStrict); err != nil {
		t.Errorf("same run after accept-new: %v", err)
	}
}

func TestHostKeyAcceptNewConcurrent(t *testing.T) {
	userFile := filepath.Join(t.TempDir(), "ssh", "known_hosts")
	hk := readHostKeys(t, userFile)
	keys := make([]ssh.Signer, 50)
	for i := range keys {
		keys[i] = newKey(t)
	}
	hostport := func(i int) string { return fmt.Sprintf("10.0.0.%d:22", i) }
	var wg sync.WaitGroup
	for range 2 { // every host twice at once: still recorded once
		for i := range keys {
			wg.Go(func() {
				if err := hk.callback("h", hostport(i), HostKeyAcceptNew)(hostport(i), &net.TCPAddr{}, keys[i].PublicKey()); err != nil {
					t.Errorf("%s: %v", hostport(i), err)
				}
			})
		}
	}
	wg.Wait()
	fresh := readHostKeys(t, "", userFile)
	for i, k := range keys {
		if err := fresh.callback("h", hostport(i), HostKeyStrict)(hostport(i), &net.TCPAddr{}, k.PublicKey()); err != nil {
			t.Errorf("%s under strict after accept-new: %v", hostport(i), err)
		}
	}
	data, err := os.ReadFile(userFile)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n != len(keys) {
		t.Errorf("got %d lines in known_hosts, want %d", n, len(keys))
	}
}

// TestHostKeyAcceptNewOtherWriter covers another process recording the
// host between our read of known_hosts and our append.
func TestHostKeyAcceptNewOtherWriter(t *testing.T) {
	userFile := writeKnownHosts(t, "# mine")
	hk := readHostKeys(t, userFile)
	same, conflict := newKey(t), newKey(t)
	f, err := os.OpenFile(userFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, knownhosts.Line([]string{"same.test"}, same.PublicKey()))
	fmt.Fprint(f, knownhosts.Line([]string{"conflict.test"}, conflict.PublicKey())) // no final newline
	f.Close()

	if err := hk.callback("a", "same.test:22", HostKeyAcceptNew)("", &net.TCPAddr{}, same.PublicKey()); err != nil {
		t.Errorf("key recorded meanwhile: %v", err)
	}
	err = hk.callback("b", "conflict.test:22", HostKeyAcceptNew)("", &net.TCPAddr{}, newKey(t).PublicKey())
	if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "has changed") {
		t.Errorf("other key recorded meanwhile: got %v, want a changed-key error", err)
	}
	if err := hk.callback("c", "new.test:22", HostKeyAcceptNew)("", &net.TCPAddr{}, newKey(t).PublicKey()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(userFile)
	if lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[3], "|1|") {
		t.Errorf("got known_hosts\n%s\nwant the two foreign lines and one new hashed line", data)
	}
}

func TestHostKeyFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	if _, err := newHostKeys([]string{missing}, nil, missing, nil); err != nil {
		t.Errorf("missing default file: got %v, want no error", err)
	}
	garbage := writeKnownHosts(t, "not a known_hosts line")
	tests := []struct {
		name            string
		defaults, extra []string
		want            []string
	}{
		{"missing explicit file", nil, []string{missing}, []string{missing, "--known-hosts"}},
		{"directory as default file", []string{dir}, nil, []string{dir, "is a directory", "fix its permissions"}},
		{"no valid line", nil, []string{garbage}, []string{garbage, "no valid entries"}},
	}
	if os.Geteuid() != 0 { // root reads a mode-000 file anyway
		locked := writeKnownHosts(t, "")
		if err := os.Chmod(locked, 0); err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name            string
			defaults, extra []string
			want            []string
		}{"unreadable default file", []string{locked}, nil, []string{locked, "permission denied"}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newHostKeys(tt.defaults, tt.extra, "", nil)
			if err == nil {
				t.Fatal("got no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestHostKeyAlgorithms(t *testing.T) {
	hk := readHostKeys(t, filepath.Join(t.TempDir(), "known_hosts"), filepath.Join(hostKeyDir, "known_hosts"))
	certs := slices.DeleteFunc(slices.Clone(ssh.SupportedAlgorithms().HostKeys), func(a string) bool { return !isCertAlgorithm(a) })
	tests := []struct {
		hostport  string
		wantFirst []string
	}{
		{"plain.test:22", []string{ssh.KeyAlgoED25519}},
		{"rsaonly.test:22", []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}},
		{"web.certs.test:22", append([]string{ssh.CertAlgoED25519v01}, slices.DeleteFunc(certs, func(a string) bool { return a == ssh.CertAlgoED25519v01 })...)},
	}
	for _, tt := range tests {
		got := hk.algorithms(tt.hostport)
		if len(got) < len(tt.wantFirst) || !slices.Equal(got[:len(tt.wantFirst)], tt.wantFirst) {
			t.Errorf("algorithms(%s): got %v, want it to start with %v", tt.hostport, got, tt.wantFirst)
		}
		if !slices.Contains(got, ssh.KeyAlgoECDSA256) {
			t.Errorf("algorithms(%s): got %v, want the other algorithms after the recorded ones", tt.hostport, got)
		}
	}
	if got := hk.algorithms("unknown.test:22"); got != nil {
		t.Errorf("algorithms of an unknown host: got %v, want nil", got)
	}
	if err := hk.callback("n", "new.test:22", HostKeyAcceptNew)("", &net.TCPAddr{}, fixtureKey(t, "ssh_host_ecdsa_key").PublicKey()); err != nil {
		t.Fatal(err)
	}
	if got := hk.algorithms("new.test:22"); len(got) == 0 || got[0] != ssh.KeyAlgoECDSA256 {
		t.Errorf("algorithms of a host accepted in this run: got %v, want %s first", got, ssh.KeyAlgoECDSA256)
	}
}
