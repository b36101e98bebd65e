package connection

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authServer accepts the public key want, or the password "s3cret" (also
// through keyboard-interactive), on an in-process SSH server.
func authServer(t *testing.T, want ssh.PublicKey) *ssh.ServerConfig {
	t.Helper()
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if want != nil && bytes.Equal(k.Marshal(), want.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("no")
		},
		PasswordCallback: func(_ ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == "s3cret" {
				return nil, nil
			}
			return nil, errors.New("no")
		},
	}
	cfg.AddHostKey(newKey(t))
	return cfg
}

// handshake authenticates methods against server over loopback TCP.
func handshake(t *testing.T, server *ssh.ServerConfig, methods []ssh.AuthMethod) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		conn, chans, reqs, err := ssh.NewServerConn(s, server)
		if err != nil {
			s.Close()
			return
		}
		go ssh.DiscardRequests(reqs)
		go func() {
			for ch := range chans {
				ch.Reject(ssh.Prohibited, "no")
			}
		}()
		conn.Close()
	}()
	conn, _, _, err := ssh.NewClientConn(c, "test", &ssh.ClientConfig{User: "u", Auth: methods, HostKeyCallback: ssh.InsecureIgnoreHostKey()})
	if conn != nil {
		conn.Close()
	}
	return err
}

func writeKey(t *testing.T, path string, passphrase string) ssh.Signer {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(path), 0o700)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := ssh.NewSignerFromKey(priv)
	return s
}

type countingPrompter struct {
	answer string
	calls  atomic.Int32
}

func (p *countingPrompter) Prompt(context.Context, string) (string, error) {
	p.calls.Add(1)
	return p.answer, nil
}

func TestAuthKeyFiles(t *testing.T) {
	home := t.TempDir()
	explicit := writeKey(t, filepath.Join(home, "deploy_key"), "")
	def := writeKey(t, filepath.Join(home, ".ssh", "id_ed25519"), "")
	a := newAuthenticator(home, "", nil, nil)
	for _, tc := range []struct {
		name  string
		files []string
		want  ssh.Signer
	}{
		{"explicit key", []string{filepath.Join(home, "deploy_key")}, explicit},
		{"explicit key with ~", []string{"~/deploy_key"}, explicit},
		{"default identity", nil, def},
	} {
		t.Run(tc.name, func(t *testing.T) {
			methods, release, err := a.methods(t.Context(), tc.files, false, "")
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			if err := handshake(t, authServer(t, tc.want.PublicKey()), methods); err != nil {
				t.Fatalf("handshake: %v", err)
			}
		})
	}
	_, _, err := a.methods(t.Context(), []string{filepath.Join(home, "nope")}, false, "")
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing key file: err = %v", err)
	}
	os.WriteFile(filepath.Join(home, "garbage"), []byte("not a key"), 0o600)
	if _, _, err := a.methods(t.Context(), []string{filepath.Join(home, "garbage")}, false, ""); !errors.Is(err, ErrAuth) {
		t.Errorf("garbage key file: err = %v", err)
	}
}

func TestAuthPassphraseAskedOnce(t *testing.T) {
	home := t.TempDir()
	key := writeKey(t, filepath.Join(home, "enc"), "open sesame")
	p := &countingPrompter{answer: "open sesame"}
	a := newAuthenticator(home, "", p, nil)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			methods, release, err := a.methods(t.Context(), []string{filepath.Join(home, "enc")}, true, "")
			if err != nil {
				t.Error(err)
				return
			}
			defer release()
			if err := handshake(t, authServer(t, key.PublicKey()), methods); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := p.calls.Load(); n != 1 {
		t.Errorf("asked for the passphrase %d times, want once", n)
	}
	wrong := newAuthenticator(home, "", &countingPrompter{answer: "nope"}, nil)
	if _, _, err := wrong.methods(t.Context(), []string{filepath.Join(home, "enc")}, true, ""); err == nil || !strings.Contains(err.Error(), "wrong passphrase") {
		t.Errorf("wrong passphrase: err = %v", err)
	}
}

func TestAuthAgentAndPassword(t *testing.T) {
	home := t.TempDir()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	keyring := agent.NewKeyring()
	keyring.Add(agent.AddedKey{PrivateKey: priv})
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	signer, _ := ssh.NewSignerFromKey(priv)
	a := newAuthenticator(home, sock, nil, nil)
	methods, release, err := a.methods(t.Context(), nil, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, authServer(t, signer.PublicKey()), methods); err != nil {
		t.Errorf("agent key: %v", err)
	}
	release()

	methods, release, _ = a.methods(t.Context(), nil, false, "s3cret")
	defer release()
	if err := handshake(t, authServer(t, nil), methods); err != nil {
		t.Errorf("password: %v", err)
	}
	kbd := authServer(t, nil)
	kbd.PasswordCallback = nil
	kbd.KeyboardInteractiveCallback = func(_ ssh.ConnMetadata, ch ssh.KeyboardInteractiveChallenge) (*ssh.Permissions, error) {
		answers, err := ch("", "", []string{"Password: "}, []bool{false})
		if err != nil || len(answers) != 1 || answers[0] != "s3cret" {
			return nil, errors.New("no")
		}
		return nil, nil
	}
	if err := handshake(t, kbd, methods); err != nil {
		t.Errorf("keyboard-interactive: %v", err)
	}
}
