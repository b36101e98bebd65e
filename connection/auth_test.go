package connection

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const testPassword = "s3cret"

// authServer is an in-process SSH server's auth policy: it accepts the
// public key accept (if set) and the password testPassword, and records
// the public keys offered to it.
type authServer struct {
	accept ssh.PublicKey

	mu      sync.Mutex
	offered []ssh.PublicKey
}

func (s *authServer) config(t *testing.T, password, keyboard bool) *ssh.ServerConfig {
	t.Helper()
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if !slices.ContainsFunc(s.offered, func(o ssh.PublicKey) bool { return sameKey(o, k) }) {
				s.offered = append(s.offered, k)
			}
			if s.accept != nil && sameKey(k, s.accept) {
				return nil, nil
			}
			return nil, errors.New("key not accepted")
		},
	}
	if password {
		cfg.PasswordCallback = func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == testPassword {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		}
	}
	if keyboard {
		cfg.KeyboardInteractiveCallback = func(_ ssh.ConnMetadata, ask ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
			answers, err := ask("", "", []string{"Login name: ", "Password: "}, []bool{true, false})
			if err != nil || len(answers) != 2 || answers[0] != "" || answers[1] != testPassword {
				return nil, errors.New("wrong answers")
			}
			return nil, nil
		}
	}
	cfg.AddHostKey(newKey(t))
	return cfg
}

func (s *authServer) offeredKeys() []ssh.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.offered)
}

// handshake authenticates with methods against server over loopback.
func handshake(t *testing.T, server *ssh.ServerConfig, methods []ssh.AuthMethod) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if conn, chans, reqs, err := ssh.NewServerConn(c, server); err == nil {
			wg.Go(func() { ssh.DiscardRequests(reqs) })
			wg.Go(func() {
				for ch := range chans {
					ch.Reject(ssh.Prohibited, "test server")
				}
			})
			conn.Close()
		}
	})
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, _, _, err := ssh.NewClientConn(c, "test:22", &ssh.ClientConfig{User: "u", Auth: methods, HostKeyCallback: ssh.InsecureIgnoreHostKey()})
	if conn != nil {
		conn.Close()
	}
	return err
}

// writeKey writes a new ed25519 private key to path, encrypted when
// passphrase is set, and its .pub file when pub is set.
func writeKey(t *testing.T, path, passphrase string, pub bool) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if pub {
		if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(s.PublicKey()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// startAgent serves an in-process ssh-agent holding keys on a unix socket
// and returns the socket and the number of connections open to it.
func startAgent(t *testing.T, keys ...ed25519.PrivateKey) (string, *atomic.Int32) {
	t.Helper()
	keyring := agent.NewKeyring()
	for _, k := range keys {
		if err := keyring.Add(agent.AddedKey{PrivateKey: k}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	open := &atomic.Int32{}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			open.Add(1)
			wg.Go(func() {
				agent.ServeAgent(keyring, c)
				c.Close()
				open.Add(-1)
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return sock, open
}

func newEd25519(t *testing.T) (ed25519.PrivateKey, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return priv, s
}

type countingPrompter struct {
	answer    string
	calls     atomic.Int32
	questions chan string
}

func (p *countingPrompter) Prompt(ctx context.Context, question string) (string, error) {
	p.calls.Add(1)
	if p.questions != nil {
		p.questions <- question
	}
	select { // slow, like a person, so concurrent callers overlap
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	return p.answer, nil
}

func TestAuthKeyFiles(t *testing.T) {
	home := t.TempDir()
	explicit := writeKey(t, filepath.Join(home, "keys", "deploy"), "", false)
	def := writeKey(t, filepath.Join(home, ".ssh", "id_ed25519"), "", false)
	tests := []struct {
		name        string
		files       []string
		want        ssh.Signer
		wantOffered []ssh.PublicKey
	}{
		{"explicit key", []string{filepath.Join(home, "keys", "deploy")}, explicit, []ssh.PublicKey{explicit.PublicKey()}},
		{"explicit key with ~", []string{"~/keys/deploy"}, explicit, []ssh.PublicKey{explicit.PublicKey()}},
		{"default identity", nil, def, []ssh.PublicKey{def.PublicKey()}},
		// Like ssh, explicit keys replace the default identities.
		{"explicit keys replace defaults", []string{filepath.Join(home, "keys", "deploy")}, def, []ssh.PublicKey{explicit.PublicKey()}},
	}
	a := newAuthenticator(home, "", nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			methods, release, err := a.methods(t.Context(), tt.files, false, "")
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			srv := &authServer{accept: tt.want.PublicKey()}
			err = handshake(t, srv.config(t, false, false), methods)
			if accepted := slices.ContainsFunc(tt.wantOffered, func(k ssh.PublicKey) bool { return sameKey(k, tt.want.PublicKey()) }); accepted != (err == nil) {
				t.Errorf("handshake: got %v, want success %v", err, accepted)
			}
			if got := srv.offeredKeys(); !slices.EqualFunc(got, tt.wantOffered, sameKey) {
				t.Errorf("got %d keys offered, want %d: %v", len(got), len(tt.wantOffered), got)
			}
		})
	}
}

func TestAuthKeyFileErrors(t *testing.T) {
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, "garbage"), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeKey(t, filepath.Join(home, "pubonly"), "", true)
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"missing", filepath.Join(home, "nope"), []string{filepath.Join(home, "nope"), "does not exist", "--private-key", "ansible_ssh_private_key_file"}},
		{"not a key", filepath.Join(home, "garbage"), []string{filepath.Join(home, "garbage"), "not a private key", "--private-key"}},
		{"public key, no agent", filepath.Join(home, "pubonly.pub"), []string{"pubonly.pub is a public key", "ssh-add"}},
	}
	a := newAuthenticator(home, "", nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := a.methods(t.Context(), []string{tt.file}, false, "")
			if !errors.Is(err, ErrAuth) {
				t.Fatalf("got %v, want an error wrapping ErrAuth", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to contain %q", err, w)
				}
			}
		})
	}

	// Default identities that are missing are skipped silently; one that is
	// not a key is skipped with a warning.
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	log, hook := logtest.NewNullLogger()
	methods, release, err := newAuthenticator(home, "", nil, log).methods(t.Context(), nil, false, "")
	if err != nil || len(methods) != 0 {
		t.Fatalf("broken default identity: got %d methods, %v; want none and no error", len(methods), err)
	}
	release()
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || !strings.Contains(e.Message, "id_rsa") {
		t.Errorf("got log entry %v, want a warning naming id_rsa", e)
	}
}

func TestAuthPassphrase(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, "enc")
	key := writeKey(t, path, "open sesame", false)
	p := &countingPrompter{answer: "open sesame", questions: make(chan string, 10)}
	a := newAuthenticator(home, "", p, nil)
	srv := &authServer{accept: key.PublicKey()}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			methods, release, err := a.methods(t.Context(), []string{path}, true, "")
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			if err := handshake(t, srv.config(t, false, false), methods); err != nil {
				t.Errorf("handshake: %v", err)
			}
		})
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Errorf("got %d passphrase prompts, want 1", n)
	}
	if q := <-p.questions; q != "Enter passphrase for key '"+path+"': " {
		t.Errorf("got prompt %q", q)
	}

	wrong := &countingPrompter{answer: "nope"}
	a = newAuthenticator(home, "", wrong, nil)
	for range 2 { // the failure is kept: asked once
		_, _, err := a.methods(t.Context(), []string{path}, false, "")
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "wrong passphrase for key "+path) {
			t.Errorf("wrong passphrase: got %v, want ErrAuth naming the file", err)
		}
	}
	if n := wrong.calls.Load(); n != 1 {
		t.Errorf("wrong passphrase: got %d prompts, want 1", n)
	}

	// A cancelled prompt is not kept: the next connection asks again.
	a = newAuthenticator(home, "", p, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := a.methods(ctx, []string{path}, false, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prompt: got %v, want context.Canceled", err)
	}
	if _, _, err := a.methods(t.Context(), []string{path}, false, ""); err != nil {
		t.Errorf("prompt after a cancelled one: %v", err)
	}

	// Without a Prompter the key is skipped, with a warning.
	log, hook := logtest.NewNullLogger()
	methods, release, err := newAuthenticator(home, "", nil, log).methods(t.Context(), []string{path}, false, "")
	if err != nil || len(methods) != 0 {
		t.Errorf("no prompter: got %d methods, %v; want none and no error", len(methods), err)
	}
	release()
	if e := hook.LastEntry(); e == nil || e.Level != logrus.WarnLevel || !strings.Contains(e.Message, path) {
		t.Errorf("no prompter: got log entry %v, want a warning naming the key", e)
	}
}

func TestAuthAgent(t *testing.T) {
	home := t.TempDir()
	agentPriv, agentKey := newEd25519(t)
	otherPriv, otherKey := newEd25519(t)
	sock, open := startAgent(t, otherPriv, agentPriv)
	def := writeKey(t, filepath.Join(home, ".ssh", "id_ed25519"), "", false)
	explicit := writeKey(t, filepath.Join(home, "explicit"), "", false)
	pubOnly := filepath.Join(home, "agentkey.pub")
	if err := os.WriteFile(pubOnly, ssh.MarshalAuthorizedKey(agentKey.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}
	// An encrypted key file whose key the agent holds: no prompt needed.
	encrypted := filepath.Join(home, "encrypted")
	block, err := ssh.MarshalPrivateKeyWithPassphrase(agentPriv, "", []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(encrypted, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name           string
		files          []string
		identitiesOnly bool
		want           []ssh.PublicKey // offered, in order
	}{
		{"agent first, then defaults", nil, false, []ssh.PublicKey{otherKey.PublicKey(), agentKey.PublicKey(), def.PublicKey()}},
		{"agent first, then explicit", []string{filepath.Join(home, "explicit")}, false, []ssh.PublicKey{otherKey.PublicKey(), agentKey.PublicKey(), explicit.PublicKey()}},
		{"IdentitiesOnly keeps the agent key of a .pub file", []string{pubOnly}, true, []ssh.PublicKey{agentKey.PublicKey()}},
		{"IdentitiesOnly, encrypted file held by the agent", []string{encrypted, filepath.Join(home, "explicit")}, true, []ssh.PublicKey{agentKey.PublicKey(), explicit.PublicKey()}},
		{"IdentitiesOnly with default identities", nil, true, []ssh.PublicKey{def.PublicKey()}},
	}
	prompter := &countingPrompter{}
	a := newAuthenticator(home, sock, prompter, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			methods, release, err := a.methods(t.Context(), tt.files, tt.identitiesOnly, "")
			if err != nil {
				t.Fatal(err)
			}
			srv := &authServer{} // accepts no key: every key is offered
			if err := handshake(t, srv.config(t, false, false), methods); err == nil {
				t.Fatal("handshake succeeded without an accepted key")
			}
			release()
			if got := srv.offeredKeys(); !slices.EqualFunc(got, tt.want, sameKey) {
				t.Errorf("got keys offered %v, want %v", fingerprints(got), fingerprints(tt.want))
			}
			srv = &authServer{accept: tt.want[0]}
			methods, release, err = a.methods(t.Context(), tt.files, tt.identitiesOnly, "")
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if err := handshake(t, srv.config(t, false, false), methods); err != nil {
				t.Errorf("handshake with the first key accepted: %v", err)
			}
		})
	}
	if n := prompter.calls.Load(); n != 0 {
		t.Errorf("got %d prompts, want none: the agent holds the encrypted key", n)
	}
	waitFor(t, func() bool { return open.Load() == 0 }, "agent connections closed by release")

	// An unreachable agent is skipped.
	gone := newAuthenticator(home, filepath.Join(home, "no-agent.sock"), nil, nil)
	methods, release, err := gone.methods(t.Context(), nil, false, "")
	if err != nil || len(methods) != 1 {
		t.Errorf("unreachable agent: got %d methods, %v; want the default identity", len(methods), err)
	}
	release()
}

func fingerprints(keys []ssh.PublicKey) []string {
	var fps []string
	for _, k := range keys {
		fps = append(fps, ssh.FingerprintSHA256(k))
	}
	return fps
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAuthPassword(t *testing.T) {
	home := t.TempDir()
	a := newAuthenticator(home, "", nil, nil)
	tests := []struct {
		name               string
		password           string
		allowPassword, kbd bool
		wantOK             bool
	}{
		{"password", testPassword, true, false, true},
		{"keyboard-interactive", testPassword, false, true, true},
		{"wrong password", "nope", true, true, false},
		{"no password", "", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			methods, release, err := a.methods(t.Context(), nil, false, tt.password)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			srv := &authServer{}
			if err := handshake(t, srv.config(t, tt.allowPassword, tt.kbd), methods); (err == nil) != tt.wantOK {
				t.Errorf("handshake: got %v, want success %v", err, tt.wantOK)
			}
		})
	}
}

func TestAuthKeyboardInteractiveRounds(t *testing.T) {
	answer := answerWith(testPassword)
	for i := range maxChallenges {
		got, err := answer("", "", []string{"User: ", "Password: "}, []bool{true, false})
		if err != nil || !slices.Equal(got, []string{"", testPassword}) {
			t.Fatalf("round %d: got %q, %v", i+1, got, err)
		}
	}
	if _, err := answer("", "", []string{"Password: "}, []bool{false}); err == nil {
		t.Error("got no error when the server keeps asking")
	}
	if got, err := answer("", "", nil, nil); err != nil || len(got) != 0 {
		t.Errorf("empty challenge: got %q, %v", got, err)
	}
}

func TestAuthManyKeysHint(t *testing.T) {
	home := t.TempDir()
	var files []string
	for i := range maxAuthTries + 1 {
		files = append(files, filepath.Join(home, "k"+string(rune('a'+i))))
		writeKey(t, files[i], "", false)
	}
	log, hook := logtest.NewNullLogger()
	log.SetLevel(logrus.DebugLevel)
	_, release, err := newAuthenticator(home, "", nil, log).methods(t.Context(), files, false, "")
	if err != nil {
		t.Fatal(err)
	}
	release()
	if e := hook.LastEntry(); e == nil || e.Level != logrus.DebugLevel || !strings.Contains(e.Message, "MaxAuthTries") {
		t.Errorf("got log entry %v, want a debug hint about MaxAuthTries", e)
	}
}
