package connection

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sirupsen/logrus"
	skeema "github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys verifies host keys against known_hosts files for one run. Safe
// for concurrent use.
type hostKeys struct {
	db       *skeema.HostKeyDB
	userFile string
	log      logrus.FieldLogger

	mu       sync.Mutex
	accepted map[string]ssh.PublicKey // keys trusted during this run, by normalised host
}

// newHostKeys reads the known_hosts files. Missing default files are
// ignored; a missing extra file, or any file that cannot be read, is an
// error naming it. userFile is where accept-new records keys.
func newHostKeys(defaults, extra []string, userFile string, log logrus.FieldLogger) (*hostKeys, error) {
	var files []string
	for _, f := range defaults {
		switch _, err := os.Stat(f); {
		case err == nil:
			files = append(files, f)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return nil, fmt.Errorf("read known_hosts %s: %w", f, err)
		}
	}
	for _, f := range extra {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("read known_hosts %s: %w; check --known-hosts / DROVER_KNOWN_HOSTS", f, err)
		}
		files = append(files, f)
	}
	for _, f := range files {
		if err := readable(f); err != nil {
			return nil, fmt.Errorf("read known_hosts %s: %w; fix its permissions or pass another file with --known-hosts", f, err)
		}
	}
	db, err := skeema.NewDB(files...)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	return &hostKeys{db: db, userFile: userFile, log: orDiscard(log), accepted: map[string]ssh.PublicKey{}}, nil
}

func readable(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	return nil
}

// callback returns the host key check for a connection to hostport, which
// is called name in messages.
func (h *hostKeys) callback(name, hostport string, policy HostKeyPolicy) ssh.HostKeyCallback {
	check := h.db.HostKeyCallback()
	return func(_ string, remote net.Addr, key ssh.PublicKey) error {
		err := check(hostport, remote, key)
		if err == nil {
			return nil
		}
		var revoked *knownhosts.RevokedError
		var keyErr *knownhosts.KeyError
		switch {
		case errors.As(err, &revoked):
			return fmt.Errorf("%w: host key for %s (%s) is revoked in %s:%d; the host must get a new key",
				ErrHostKey, name, hostport, revoked.Revoked.Filename, revoked.Revoked.Line)
		case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
			if policy == HostKeyOff {
				h.log.WithField(KeyHost, name).Warnf("host key for %s has changed; trusted because host key checking is off", hostport)
				return nil
			}
			return changedKeyError(name, hostport, key, keyErr.Want[0])
		case errors.As(err, &keyErr):
			return h.unknown(name, hostport, key, policy)
		default:
			return fmt.Errorf("%w: %s: %w", ErrHostKey, name, err)
		}
	}
}

// unknown decides about a key known_hosts does not list.
func (h *hostKeys) unknown(name, hostport string, key ssh.PublicKey, policy HostKeyPolicy) error {
	norm := knownhosts.Normalize(hostport)
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.accepted[norm]; ok {
		if string(prev.Marshal()) == string(key.Marshal()) {
			return nil
		}
		return changedKeyError(name, hostport, key, knownhosts.KnownKey{Key: prev, Filename: h.userFile})
	}
	switch policy {
	case HostKeyOff:
		return nil
	case HostKeyAcceptNew:
		if err := h.record(norm, key); err != nil {
			return fmt.Errorf("%w: %s: record host key in %s: %w", ErrHostKey, name, h.userFile, err)
		}
		h.accepted[norm] = key
		h.log.WithField(KeyHost, name).Infof("added %s host key for %s to %s", key.Type(), hostport, h.userFile)
		return nil
	default:
		return fmt.Errorf("%w: host key for %s (%s) is not known: %s %s; if this is the right key, add it with %q or run with --host-key-checking accept-new",
			ErrHostKey, name, hostport, key.Type(), ssh.FingerprintSHA256(key), keyscanCommand(hostport))
	}
}

func changedKeyError(name, hostport string, got ssh.PublicKey, want knownhosts.KnownKey) error {
	where := want.Filename
	if want.Line > 0 {
		where += ":" + strconv.Itoa(want.Line)
	}
	return fmt.Errorf("%w: host key for %s (%s) has changed: server offered %s %s, known_hosts has %s %s at %s — possible man-in-the-middle attack; if the change is expected, remove the old key with \"ssh-keygen -R '%s'\"",
		ErrHostKey, name, hostport, got.Type(), ssh.FingerprintSHA256(got), want.Key.Type(), ssh.FingerprintSHA256(want.Key), where, knownhosts.Normalize(hostport))
}

func keyscanCommand(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port == "22" {
		return "ssh-keyscan " + hostport + " >> ~/.ssh/known_hosts"
	}
	return "ssh-keyscan -p " + port + " " + host + " >> ~/.ssh/known_hosts"
}

// record appends a hashed known_hosts line for host. The line goes out in
// one write on an O_APPEND descriptor under an exclusive flock, so parallel
// runs and parallel hosts never interleave or lose lines. h.mu is held.
func (h *hostKeys) record(host string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(h.userFile), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(h.userFile, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	line := knownhosts.Line([]string{knownhosts.HashHostname(host)}, key) + "\n"
	if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	if _, err := f.WriteString(line); err != nil {
		return err
	}
	return f.Sync()
}

// algorithms orders the host key algorithms so that a type recorded for
// hostport is negotiated when the server has it; nil means x/crypto's
// defaults.
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
	for _, a := range known {
		if strings.Contains(a, "-cert-v01@") {
			// A CA may sign host keys of any type: allow every certificate.
			for _, c := range ssh.SupportedAlgorithms().HostKeys {
				if strings.Contains(c, "-cert-v01@") && !slices.Contains(known, c) {
					known = append(known, c)
				}
			}
			break
		}
	}
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !slices.Contains(known, a) {
			known = append(known, a)
		}
	}
	return known
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
