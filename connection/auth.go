package connection

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultIdentities are the key files tried when none is configured. OpenSSH
// 9.2 lists id_rsa, id_ecdsa, id_ecdsa_sk, id_ed25519, id_ed25519_sk,
// id_xmss and id_dsa; drover tries the types x/crypto can sign with from
// software keys, newest first.
var defaultIdentities = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// maxAuthTries is sshd's default MaxAuthTries less one for the password.
const maxAuthTries = 5

// authenticator builds the authentication methods of a run. Each key file
// is read once per run, and the passphrase of an encrypted key is asked for
// at most once, through the Prompter; the outcome (key or error) is kept for
// the rest of the run. Safe for concurrent use.
type authenticator struct {
	home        string
	agentSocket string
	prompter    Prompter
	log         logrus.FieldLogger

	mu   sync.Mutex // guards keys and the unlock state of every keyFile
	keys map[string]*keyFile
}

// keyFile is one identity file as read in this run.
type keyFile struct {
	path string

	read      sync.Once
	pub       ssh.PublicKey // nil when unknown: an encrypted PEM key without a .pub file
	signer    ssh.Signer    // set when the key is not encrypted, or once unlocked
	encrypted []byte        // the encrypted key, when it needs a passphrase
	pubOnly   bool          // the file is a public key: only the agent can sign for it
	err       error         // the file is missing or not a key

	// Unlocking, guarded by authenticator.mu.
	unlocking chan struct{} // closed when the current attempt ends
	unlocked  bool          // signer and unlockErr are final
	unlockErr error
	warn      sync.Once
}

// newAuthenticator returns an authenticator that finds default identities
// under home/.ssh, uses the ssh-agent at agentSocket (none when ""), and asks
// prompter for passphrases (encrypted keys are skipped when it is nil).
func newAuthenticator(home, agentSocket string, prompter Prompter, log logrus.FieldLogger) *authenticator {
	return &authenticator{home: home, agentSocket: agentSocket, prompter: prompter, log: orDiscard(log), keys: map[string]*keyFile{}}
}

// methods returns the auth methods for one connection, in OpenSSH's order:
//
//  1. ssh-agent keys; with identitiesOnly only those whose public key is one
//     of the identity files' (from the file, else its .pub);
//  2. the identity files not held by the agent: keyFiles, or when keyFiles is
//     empty the default identities that exist. Like ssh, which adds its
//     default IdentityFiles only when none is configured, explicit keys
//     replace the defaults whatever identitiesOnly says;
//  3. password, then keyboard-interactive answering every hidden prompt with
//     it, when password is set.
//
// All public keys go in one method, offered in that order. A key file in
// keyFiles that is missing, unparsable or whose passphrase is wrong is an
// error wrapping [ErrAuth] naming the file; a missing default identity is
// skipped silently; an encrypted key is skipped with a warning when there is
// no Prompter. ctx bounds the agent and the passphrase prompt. release
// closes the agent connection: call it once the handshake is over.
func (a *authenticator) methods(ctx context.Context, keyFiles []string, identitiesOnly bool, password string) (methods []ssh.AuthMethod, release func(), err error) {
	signers, release, err := a.publicKeys(ctx, keyFiles, identitiesOnly)
	if err != nil {
		return nil, nil, err
	}
	return methodsFor(signers, password), release, nil
}

// methodsFor offers signers in one method, then password, then
// keyboard-interactive answering with the password.
func methodsFor(signers []ssh.Signer, password string) (methods []ssh.AuthMethod) {
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeysCallback(func() ([]ssh.Signer, error) { return signers, nil }))
	}
	if password != "" {
		methods = append(methods, ssh.Password(password), ssh.KeyboardInteractive(answerWith(password)))
	}
	return methods
}

// publicKeys returns the keys to offer, in order, each once.
func (a *authenticator) publicKeys(ctx context.Context, keyFiles []string, identitiesOnly bool) ([]ssh.Signer, func(), error) {
	ids := a.identities(keyFiles)
	agentKeys, release := a.agentKeys(ctx)
	var signers []ssh.Signer
	add := func(s ssh.Signer) {
		if !slices.ContainsFunc(signers, func(o ssh.Signer) bool { return sameKey(o.PublicKey(), s.PublicKey()) }) {
			signers = append(signers, s)
		}
	}
	for _, s := range agentKeys {
		if !identitiesOnly || slices.ContainsFunc(ids, func(k *keyFile) bool { return k.pub != nil && sameKey(k.pub, s.PublicKey()) }) {
			add(s)
		}
	}
	for _, k := range ids {
		if k.pub != nil && slices.ContainsFunc(agentKeys, func(s ssh.Signer) bool { return sameKey(k.pub, s.PublicKey()) }) {
			continue // the agent signs for it, without a passphrase
		}
		s, err := a.signer(ctx, k, len(keyFiles) > 0)
		if err != nil {
			release()
			return nil, nil, err
		}
		if s != nil {
			add(s)
		}
	}
	if len(signers) > maxAuthTries {
		a.log.Debugf("offering %d public keys; sshd stops after MaxAuthTries (6 by default) failures, so set IdentitiesOnly yes or --private-key to offer the right one", len(signers))
	}
	return signers, release, nil
}

// identities returns the identity files of a connection: keyFiles, or the
// default identities that exist.
func (a *authenticator) identities(keyFiles []string) []*keyFile {
	var ids []*keyFile
	if len(keyFiles) > 0 {
		for _, f := range keyFiles {
			ids = append(ids, a.keyFile(expandHome(f, a.home)))
		}
		return ids
	}
	for _, name := range defaultIdentities {
		if k := a.keyFile(filepath.Join(a.home, ".ssh", name)); !errors.Is(k.err, fs.ErrNotExist) {
			ids = append(ids, k)
		}
	}
	return ids
}

// keyFile returns path read, once per run.
func (a *authenticator) keyFile(path string) *keyFile {
	a.mu.Lock()
	k, ok := a.keys[path]
	if !ok {
		k = &keyFile{path: path}
		a.keys[path] = k
	}
	a.mu.Unlock()
	k.read.Do(k.load)
	return k
}

// load reads the file without asking for a passphrase.
func (k *keyFile) load() {
	data, err := os.ReadFile(k.path)
	if err != nil {
		k.err = err
		return
	}
	k.signer, err = ssh.ParsePrivateKey(data)
	var missing *ssh.PassphraseMissingError
	switch {
	case err == nil:
		k.pub = k.signer.PublicKey()
	case errors.As(err, &missing):
		k.encrypted, k.pub = data, missing.PublicKey
		if k.pub == nil { // PEM keys do not carry their public key
			k.pub = readPublicKey(k.path + ".pub")
		}
	default:
		if pub, _, _, _, perr := ssh.ParseAuthorizedKey(data); perr == nil {
			k.pub, k.pubOnly = pub, true
			return
		}
		k.err = fmt.Errorf("not a private key: %w", err)
	}
}

func readPublicKey(path string) ssh.PublicKey {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pub, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		return nil
	}
	return pub
}

// signer returns the signer of k, unlocking it if needed, or nil when k is
// to be skipped. Problems with an explicit key are errors; with a default
// identity, only a wrong passphrase is.
func (a *authenticator) signer(ctx context.Context, k *keyFile, explicit bool) (ssh.Signer, error) {
	const advice = "check --private-key, ansible_ssh_private_key_file and IdentityFile"
	switch {
	case k.err != nil && explicit:
		if errors.Is(k.err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: private key %s does not exist; %s", ErrAuth, k.path, advice)
		}
		return nil, fmt.Errorf("%w: private key %s: %w; %s", ErrAuth, k.path, pathCause(k.err), advice)
	case k.err != nil:
		k.warn.Do(func() { a.log.Warnf("skipping default identity %s: %v", k.path, pathCause(k.err)) })
		return nil, nil
	case k.pubOnly && explicit:
		return nil, fmt.Errorf("%w: %s is a public key and ssh-agent holds no matching private key; add the key to the agent with ssh-add or name the private key file (%s)",
			ErrAuth, k.path, advice)
	case k.pubOnly:
		return nil, nil
	case k.encrypted != nil:
		return a.unlock(ctx, k)
	}
	return k.signer, nil
}

func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// unlock asks for k's passphrase once per run. Callers that arrive while
// another asks wait for its answer; an attempt cut short by its context is
// not kept, so a later connection asks again.
func (a *authenticator) unlock(ctx context.Context, k *keyFile) (ssh.Signer, error) {
	for {
		a.mu.Lock()
		if k.unlocked {
			a.mu.Unlock()
			return k.signer, k.unlockErr
		}
		busy := k.unlocking
		if busy == nil {
			k.unlocking = make(chan struct{})
			a.mu.Unlock()
			break
		}
		a.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s, err := a.askPassphrase(ctx, k)
	a.mu.Lock()
	if ctx.Err() == nil {
		k.unlocked, k.signer, k.unlockErr = true, s, err
	}
	close(k.unlocking)
	k.unlocking = nil
	a.mu.Unlock()
	return s, err
}

func (a *authenticator) askPassphrase(ctx context.Context, k *keyFile) (ssh.Signer, error) {
	if a.prompter == nil {
		a.log.Warnf("skipping passphrase-protected key %s: no terminal to ask for its passphrase; load it with ssh-add", k.path)
		return nil, nil
	}
	pass, err := a.prompter.Prompt(ctx, fmt.Sprintf("Enter passphrase for key '%s': ", k.path))
	switch {
	case err != nil && ctx.Err() != nil:
		return nil, fmt.Errorf("read the passphrase of key %s: %w", k.path, err)
	case err != nil:
		return nil, fmt.Errorf("%w: read the passphrase of key %s: %w", ErrAuth, k.path, err)
	}
	s, err := ssh.ParsePrivateKeyWithPassphrase(k.encrypted, []byte(pass))
	switch {
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("%w: wrong passphrase for key %s; run again and retype it, or load the key with ssh-add", ErrAuth, k.path)
	case err != nil:
		return nil, fmt.Errorf("%w: decrypt key %s: %w", ErrAuth, k.path, err)
	}
	return s, nil
}

// agentKeys returns the keys of the ssh-agent, if one is set and answers,
// and the function that closes the connection to it.
func (a *authenticator) agentKeys(ctx context.Context) ([]ssh.Signer, func()) {
	if a.agentSocket == "" {
		return nil, func() {}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", a.agentSocket)
	if err != nil {
		a.log.WithError(err).Debug("ssh-agent not reachable; continuing without it")
		return nil, func() {}
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	release := func() {
		stop()
		conn.Close()
	}
	signers, err := agent.NewClient(conn).Signers()
	if err != nil {
		a.log.WithError(err).Debug("ssh-agent did not list its keys; continuing without it")
		release()
		return nil, func() {}
	}
	return signers, release
}

// maxChallenges bounds the keyboard-interactive rounds answered with the
// password, so a server asking again after a wrong one is not fed forever.
const maxChallenges = 3

// answerWith answers keyboard-interactive prompts: those that hide the
// input (password questions) with password, the others with nothing.
func answerWith(password string) ssh.KeyboardInteractiveChallenge {
	rounds := 0
	return func(_, _ string, questions []string, echos []bool) ([]string, error) {
		answers := make([]string, len(questions))
		asked := false
		for i := range questions {
			if i < len(echos) && !echos[i] {
				answers[i] = password
				asked = true
			}
		}
		if asked {
			if rounds++; rounds > maxChallenges {
				return nil, errors.New("keyboard-interactive: server keeps asking for the password")
			}
		}
		return answers, nil
	}
}
