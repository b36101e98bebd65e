package connection

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultIdentities are the keys OpenSSH tries when none is configured.
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// authenticator builds the authentication methods of a run. It parses each
// key file once, asking for a passphrase at most once per file. Safe for
// concurrent use.
type authenticator struct {
	home     string
	agent    string
	prompter Prompter
	log      logrus.FieldLogger

	mu   sync.Mutex
	keys map[string]*keyEntry
}

// keyEntry is the outcome of loading one key file; once guards the load.
type keyEntry struct {
	once   sync.Once
	signer ssh.Signer
	err    error
}

func newAuthenticator(home, agentSocket string, prompter Prompter, log logrus.FieldLogger) *authenticator {
	return &authenticator{home: home, agent: agentSocket, prompter: prompter, log: orDiscard(log), keys: map[string]*keyEntry{}}
}

// methods returns the auth methods for one connection in OpenSSH's order:
// agent keys, the configured key files, the default identities, then the
// password (as password and keyboard-interactive). With identitiesOnly the
// agent offers only keys matching the configured files. release closes the
// agent connection; call it once the handshake is over.
func (a *authenticator) methods(ctx context.Context, keyFiles []string, identitiesOnly bool, password string) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	seen := map[string]bool{}
	add := func(s ssh.Signer) {
		if k := string(s.PublicKey().Marshal()); !seen[k] {
			seen[k] = true
			signers = append(signers, s)
		}
	}
	var files []ssh.Signer
	for _, f := range keyFiles {
		s, err := a.load(ctx, f)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: private key %s: %w; check --private-key / ansible_ssh_private_key_file / IdentityFile", ErrAuth, f, err)
		}
		if s != nil {
			files = append(files, s)
		}
	}
	release := func() {}
	if agentSigners, conn := a.agentSigners(); conn != nil {
		release = func() { conn.Close() }
		for _, s := range agentSigners {
			if !identitiesOnly || len(keyFiles) == 0 || matchesAny(s, files) {
				add(s)
			}
		}
	}
	for _, s := range files {
		add(s)
	}
	if len(keyFiles) == 0 || !identitiesOnly {
		for _, name := range defaultIdentities {
			f := filepath.Join(a.home, ".ssh", name)
			if _, err := os.Stat(f); err != nil {
				continue
			}
			s, err := a.load(ctx, f)
			if err != nil {
				a.log.WithError(err).Warnf("skipping default identity %s", f)
				continue
			}
			if s != nil {
				add(s)
			}
		}
	}
	if len(signers) > 5 {
		a.log.Debugf("offering %d public keys; sshd's MaxAuthTries (6) may cut this short: set IdentitiesOnly or --private-key", len(signers))
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if password != "" {
		methods = append(methods, ssh.Password(password), ssh.KeyboardInteractive(answerWith(password)))
	}
	return methods, release, nil
}

// agentSigners returns the agent's keys and the connection to close, or
// nothing when no agent is reachable.
func (a *authenticator) agentSigners() ([]ssh.Signer, net.Conn) {
	if a.agent == "" {
		return nil, nil
	}
	conn, err := net.Dial("unix", a.agent)
	if err != nil {
		a.log.WithError(err).Debug("ssh-agent not reachable")
		return nil, nil
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		a.log.WithError(err).Debug("ssh-agent listed no keys")
		conn.Close()
		return nil, nil
	}
	return signers, conn
}

func matchesAny(s ssh.Signer, files []ssh.Signer) bool {
	for _, f := range files {
		if bytes.Equal(f.PublicKey().Marshal(), s.PublicKey().Marshal()) {
			return true
		}
	}
	return false
}

// load parses a key file once per run. A nil signer with a nil error means
// the key is encrypted and no one can be asked for its passphrase.
func (a *authenticator) load(ctx context.Context, file string) (ssh.Signer, error) {
	file = expandHome(file, a.home)
	a.mu.Lock()
	e, ok := a.keys[file]
	if !ok {
		e = &keyEntry{}
		a.keys[file] = e
	}
	a.mu.Unlock()
	e.once.Do(func() { e.signer, e.err = a.parse(ctx, file) })
	return e.signer, e.err
}

func (a *authenticator) parse(ctx context.Context, file string) (ssh.Signer, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("no such file")
	}
	if err != nil {
		return nil, err
	}
	s, err := ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		return s, err
	}
	if a.prompter == nil {
		a.log.Warnf("skipping passphrase-protected key %s: no terminal to ask for its passphrase", file)
		return nil, nil
	}
	pass, err := a.prompter.Prompt(ctx, fmt.Sprintf("Enter passphrase for key '%s': ", file))
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	s, err = ssh.ParsePrivateKeyWithPassphrase(data, []byte(pass))
	if err != nil {
		return nil, errors.New("wrong passphrase")
	}
	return s, nil
}

// answerWith answers keyboard-interactive prompts that hide input (password
// questions) with password, and others with nothing.
func answerWith(password string) ssh.KeyboardInteractiveChallenge {
	return func(_, _ string, questions []string, echos []bool) ([]string, error) {
		answers := make([]string, len(questions))
		for i := range questions {
			if !echos[i] || strings.Contains(strings.ToLower(questions[i]), "password") {
				answers[i] = password
			}
		}
		return answers, nil
	}
}
