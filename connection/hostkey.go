package connection

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	skeema "github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys verifies host keys against known_hosts files for one run. Safe
// for concurrent use: the files are read once, by newHostKeys, and keys
// accepted during the run are kept in memory.
//
// Lookups go through github.com/skeema/knownhosts, which wraps x/crypto's
// knownhosts (plain, hashed, [host]:port, patterns, @cert-authority,
// @revoked) and adds the host key algorithms of a host and wildcard lines
// on any port.
type hostKeys struct {
	db       *skeema.HostKeyDB
	userFile string
	log      logrus.FieldLogger

	mu       sync.Mutex               // guards the fields below; held while appending to userFile
	accepted map[string]ssh.PublicKey // keys recorded by accept-new, by knownhosts.Normalize(hostport)
	seenSize int64                    // size of userFile as last read or written by us
	recent   *skeema.HostKeyDB        // userFile re-read after others wrote to it
}

// newHostKeys reads the known_hosts files. A missing default file is
// normal; a default file that exists but cannot be read, and an extra file
// (--known-hosts) that is missing or unreadable, are errors naming the file.
// userFile is where accept-new records keys; it is read too when it exists.
func newHostKeys(defaults, extra []string, userFile string, log logrus.FieldLogger) (*hostKeys, error) {
	h := &hostKeys{userFile: userFile, log: orDiscard(log), accepted: map[string]ssh.PublicKey{}}
	if fi, err := os.Stat(userFile); err == nil {
		h.seenSize = fi.Size() // before reading: a later append only causes a re-read
	}
	var files []string
	for _, f := range append(slices.Clone(defaults), userFile) {
		if f == "" || slices.Contains(files, f) {
			continue
		}
		switch err := readable(f); {
		case err == nil:
			files = append(files, f)
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR): // cannot exist
		default:
			return nil, fmt.Errorf("connection: read known_hosts %s: %w; fix its permissions, or move it away to start an empty one", f, err)
		}
	}
	for _, f := range extra {
		if err := readable(f); err != nil {
			return nil, fmt.Errorf("connection: read known_hosts %s: %w; check --known-hosts and DROVER_KNOWN_HOSTS", f, err)
		}
		if !slices.Contains(files, f) {
			files = append(files, f)
		}
	}
	db, err := skeema.NewDB(files...)
	if err != nil {
		return nil, fmt.Errorf("connection: %w; fix or remove that file", err)
	}
	h.db = db
	return h, nil
}

// readable checks that name is a regular file this process can open.
// Errors leave out the name, which the caller adds.
func readable(name string) error {
	f, err := os.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory, not a file")
	}
	return nil
}

// callback returns the host key check for a connection to hostport, the
// "host:port" OpenSSH would look up (HostName after ssh_config), named name
// in messages. policy is strict, accept-new or off; whatever the policy, a
// revoked key fails (as in OpenSSH), and a changed key fails unless the
// policy is off.
func (h *hostKeys) callback(name, hostport string, policy HostKeyPolicy) ssh.HostKeyCallback {
	check := h.db.HostKeyCallback()
	return func(_ string, remote net.Addr, key ssh.PublicKey) error {
		key, err := h.lookup(check, hostport, remote, key)
		var keyErr *knownhosts.KeyError
		var revoked *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &revoked):
			return fmt.Errorf("%w: host key for %s (%s) is revoked: server offered %s %s, marked @revoked at %s:%d; the host needs a new key",
				ErrHostKey, name, hostport, key.Type(), ssh.FingerprintSHA256(key), revoked.Revoked.Filename, revoked.Revoked.Line)
		case errors.As(err, &keyErr):
			if want := plainKeys(h.db, hostport, keyErr.Want); len(want) > 0 {
				return h.changed(name, hostport, key, want, policy)
			}
			return h.unknown(name, hostport, key, policy)
		case policy == HostKeyOff:
			h.log.WithField(KeyHost, name).Warnf("host certificate for %s not valid (%v); trusted because host key checking is off", hostport, err)
			return nil
		default:
			return fmt.Errorf("%w: host certificate for %s (%s) is not valid: %w; check the @cert-authority lines of known_hosts and the certificate's principals and dates",
				ErrHostKey, name, hostport, err)
		}
	}
}

// lookup checks key with check. For a certificate, a revoked host key or
// CA fails as revoked, and a certificate that no @cert-authority line
// covers is judged by the plain key inside it, as OpenSSH does. It returns
// the key that was judged.
func (h *hostKeys) lookup(check ssh.HostKeyCallback, hostport string, remote net.Addr, key ssh.PublicKey) (ssh.PublicKey, error) {
	cert, ok := key.(*ssh.Certificate)
	if !ok {
		return key, check(hostport, remote, key)
	}
	var revoked *knownhosts.RevokedError
	for _, k := range []ssh.PublicKey{cert.Key, cert.SignatureKey} {
		if err := check(hostport, remote, k); errors.As(err, &revoked) {
			return k, err
		}
	}
	if !h.hasAuthority(hostport) {
		return cert.Key, check(hostport, remote, cert.Key)
	}
	return key, check(hostport, remote, key)
}

// hasAuthority reports whether an @cert-authority line covers hostport.
func (h *hostKeys) hasAuthority(hostport string) bool {
	return slices.ContainsFunc(h.db.HostKeys(hostport), func(k skeema.PublicKey) bool { return k.Cert })
}

// plainKeys drops @cert-authority entries from want: x/crypto lists the CA
// keys of a host among the keys it expected from it.
func plainKeys(db *skeema.HostKeyDB, hostport string, want []knownhosts.KnownKey) []knownhosts.KnownKey {
	var cas []ssh.PublicKey
	for _, k := range db.HostKeys(hostport) {
		if k.Cert {
			cas = append(cas, k.PublicKey)
		}
	}
	return slices.DeleteFunc(slices.Clone(want), func(w knownhosts.KnownKey) bool {
		return slices.ContainsFunc(cas, func(ca ssh.PublicKey) bool { return sameKey(ca, w.Key) })
	})
}

func sameKey(a, b ssh.PublicKey) bool { return bytes.Equal(a.Marshal(), b.Marshal()) }

// changed handles a key that differs from the one(s) recorded for the host.
func (h *hostKeys) changed(name, hostport string, key ssh.PublicKey, want []knownhosts.KnownKey, policy HostKeyPolicy) error {
	if policy == HostKeyOff {
		h.log.WithField(KeyHost, name).Warnf("host key for %s has changed (now %s %s); trusted because host key checking is off",
			hostport, key.Type(), ssh.FingerprintSHA256(key))
		return nil
	}
	w := want[0]
	for _, k := range want {
		if k.Key.Type() == key.Type() {
			w = k
			break
		}
	}
	return changedKeyError(name, hostport, key, w)
}

func changedKeyError(name, hostport string, got ssh.PublicKey, want knownhosts.KnownKey) error {
	where := want.Filename
	if want.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, want.Line)
	} else {
		where += " (recorded earlier in this run)"
	}
	return fmt.Errorf("%w: host key for %s (%s) has changed: server offered %s %s, known_hosts has %s %s at %s"+
		" — possible man-in-the-middle attack; if the change is expected, remove the old key with \"ssh-keygen -R %s -f %s\"",
		ErrHostKey, name, hostport, got.Type(), ssh.FingerprintSHA256(got), want.Key.Type(), ssh.FingerprintSHA256(want.Key),
		where, Quote(knownhosts.Normalize(hostport)), shellPath(want.Filename))
}

// shellPath quotes p for a shell command shown to the user, writing the
// home directory as ~.
func shellPath(p string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "/" && strings.HasPrefix(p, home+"/") {
		return "~/" + Quote(p[len(home)+1:])
	}
	return Quote(p)
}

// unknown decides about a key no known_hosts file lists for the host.
func (h *hostKeys) unknown(name, hostport string, key ssh.PublicKey, policy HostKeyPolicy) error {
	norm := knownhosts.Normalize(hostport)
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.accepted[norm]; ok {
		if sameKey(prev, key) {
			return nil
		}
		return h.changed(name, hostport, key, []knownhosts.KnownKey{{Key: prev, Filename: h.userFile}}, policy)
	}
	switch policy {
	case HostKeyOff:
		h.log.WithField(KeyHost, name).Debugf("host key for %s is not known; trusted because host key checking is off", hostport)
		return nil
	case HostKeyAcceptNew:
		err := h.record(name, hostport, key)
		if errors.Is(err, ErrHostKey) {
			return err
		}
		if err != nil {
			// As ssh does, a known_hosts that cannot be written does not
			// stop the connection; the key is trusted for this run only.
			h.accepted[norm] = key
			h.log.WithField(KeyHost, name).Warnf("could not add host key for %s (%s %s) to %s: %v; trusting it for this run only",
				hostport, key.Type(), ssh.FingerprintSHA256(key), h.userFile, err)
		}
		return nil
	default:
		return fmt.Errorf("%w: host key for %s (%s) is not known: %s %s; if this is the right key, add it with \"%s\" or run with --host-key-checking accept-new",
			ErrHostKey, name, hostport, key.Type(), ssh.FingerprintSHA256(key), keyscanCommand(hostport, h.userFile))
	}
}

// keyscanCommand is the shell command that records hostport's keys in file.
func keyscanCommand(hostport, file string) string {
	target := "~/.ssh/known_hosts"
	if file != "" {
		target = shellPath(file)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "ssh-keyscan " + Quote(hostport) + " >> " + target
	}
	if port == "22" {
		return "ssh-keyscan " + Quote(host) + " >> " + target
	}
	return "ssh-keyscan -p " + port + " " + Quote(host) + " >> " + target
}

// record appends key for hostport to the user's known_hosts, with the host
// name hashed as `ssh -o HashKnownHosts=yes` writes it, and trusts it for
// the rest of the run. An error wrapping ErrHostKey means another process
// recorded a different key for the host meanwhile; other errors mean the
// file could not be written. h.mu is held, which orders appends within this
// process.
//
// Against other processes (another drover, ssh) the append runs under an
// exclusive flock on the file. A single O_APPEND write alone would keep
// lines whole, but not make "is the host still unknown? then append"
// atomic: under the lock we re-read the file when its size shows that
// someone else wrote to it, so two runs meeting a new host record it once,
// and a conflicting key recorded meanwhile is reported as a change.
func (h *hostKeys) record(name, hostport string, key ssh.PublicKey) error {
	if h.userFile == "" {
		return errors.New("no known_hosts file to write to")
	}
	if err := os.MkdirAll(filepath.Dir(h.userFile), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(h.userFile, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close() // also releases the lock
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size != h.seenSize {
		// Someone else wrote to the file since we last read it.
		if h.recent, err = skeema.NewDB(h.userFile); err != nil {
			h.recent = nil // not readable as known_hosts now: append anyway
		}
		h.seenSize = size
	}
	if done, err := h.recordedMeanwhile(name, hostport, key); done || err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.HashHostname(knownhosts.Normalize(hostport))}, key) + "\n"
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return err
	}
	h.seenSize = size + int64(len(line))
	h.accepted[knownhosts.Normalize(hostport)] = key
	h.log.WithField(KeyHost, name).Infof("added host key for %s (%s %s) to %s", hostport, key.Type(), ssh.FingerprintSHA256(key), h.userFile)
	return nil
}

// recordedMeanwhile looks hostport up in the latest copy of the user's
// known_hosts written by others. done is true when it lists key (trusted
// from now on) or a different key for the host (err says so).
func (h *hostKeys) recordedMeanwhile(name, hostport string, key ssh.PublicKey) (done bool, err error) {
	if h.recent == nil {
		return false, nil
	}
	var keyErr *knownhosts.KeyError
	switch err := h.recent.HostKeyCallback()(hostport, &net.TCPAddr{IP: net.IPv4zero}, key); {
	case err == nil:
		h.accepted[knownhosts.Normalize(hostport)] = key
		return true, nil
	case errors.As(err, &keyErr):
		if want := plainKeys(h.recent, hostport, keyErr.Want); len(want) > 0 {
			return true, changedKeyError(name, hostport, key, want[0])
		}
	}
	return false, nil
}

// algorithms returns the host key algorithms to offer to hostport: those
// of the key types recorded for it first, so the server picks a type we can
// check (x/crypto's default order prefers certificates, then ECDSA), then
// every other supported algorithm, so a server that lost its recorded key
// type yields a clear "changed" error rather than a failed negotiation. When
// an @cert-authority line covers the host, every certificate algorithm is
// offered: the CA's key type says nothing about the host key's type. nil
// means nothing is recorded: use x/crypto's defaults.
func (h *hostKeys) algorithms(hostport string) []string {
	known := h.db.HostKeyAlgorithms(hostport)
	h.mu.Lock()
	if k, ok := h.accepted[knownhosts.Normalize(hostport)]; ok {
		known = append(known, algorithmsFor(k.Type())...)
	}
	h.mu.Unlock()
	if len(known) == 0 {
		return nil
	}
	supported := ssh.SupportedAlgorithms().HostKeys
	if slices.ContainsFunc(known, isCertAlgorithm) {
		known = append(known, slices.DeleteFunc(slices.Clone(supported), func(a string) bool { return !isCertAlgorithm(a) })...)
	}
	known = append(known, supported...)
	var out []string
	for _, a := range known {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func isCertAlgorithm(a string) bool { return strings.Contains(a, "-cert-v01@") }

// algorithmsFor returns the host key algorithms that yield keyType.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
