package connection

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Persist keeps SSH connections open between runs, as OpenSSH's
// ControlPersist does for Ansible (whose default is 60s): a per-user daemon
// holds each connection after a run ends and hands it to the next run, which
// then starts commands without a new handshake.
//
// A run talks to the daemon over a Unix socket in Dir, speaking SSH to it;
// the daemon forwards every channel (sessions, sftp, tunnels) to the held
// connection. Credentials stay with the run: the daemon authenticates new
// connections by asking the run to sign (the ssh-agent protocol, over the
// run's own socket), and a password travels only over that socket. Host keys
// are checked by the daemon with the run's known_hosts files and policy, with
// the same messages as a direct connection.
type Persist struct {
	// Dir holds the daemon's socket and lock. It is created mode 0700, and
	// refused when another user owns it or others may enter it.
	Dir string
	// Idle is how long the daemon keeps a connection no run uses.
	Idle time.Duration
	// Start starts a daemon serving Dir ([ServePersist]), detached from this
	// process. It is called at most once per pool, when no daemon answers.
	Start func(dir string) error
}

// DefaultPersistDir is where the daemon's socket lives for a user: under
// $XDG_RUNTIME_DIR when set (a private tmpfs), else ~/.cache.
func DefaultPersistDir(home string) string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "drover")
	}
	return filepath.Join(home, ".cache", "drover")
}

// The daemon's wire names. The version is in the socket name, so a daemon
// of another drover release is not asked what it does not know.
const (
	persistSocket  = "persist-v1.sock"
	persistLock    = "persist-v1.lock"
	dialRequest    = "dial-v1@drover"
	agentChannel   = "auth-agent@openssh.com"
	persistTimeout = 5 * time.Second // for the daemon to start or answer
)

// localLink is the SSH of a run's link to the daemon: the cheapest sound
// choices, since a new run makes one handshake per host on it (the default
// post-quantum key exchange costs more than the rest of the link).
var localLink = ssh.Config{KeyExchanges: []string{ssh.KeyExchangeCurve25519}, Ciphers: []string{ssh.CipherAES128GCM}}

// errPersistUnavailable marks a failure of the daemon itself (not of the
// host): the pool then connects directly.
var errPersistUnavailable = errors.New("connection daemon unavailable")

// persistDial is what a run asks of the daemon: the resolved target, with
// the run's host key settings, which the daemon applies to a new connection.
type persistDial struct {
	Name           string
	Host           string
	Port           int
	User           string
	Password       string `json:",omitempty"`
	Policy         HostKeyPolicy
	KnownFiles     []string
	ExtraKnown     []string
	UserKnownHosts string
	ConnectTimeout time.Duration
	KeepAlive      time.Duration
	Idle           time.Duration
}

// key says which held connection may serve the request: the same login on
// the same address, checked against the same host keys by the same policy.
func (d *persistDial) key() string {
	b, _ := json.Marshal([]any{d.User, d.Host, d.Port, d.Policy, d.KnownFiles, d.ExtraKnown, d.UserKnownHosts})
	return string(b)
}

func (d *persistDial) resolved() resolved {
	return resolved{name: d.Name, host: d.Host, port: d.Port, user: d.User, password: d.Password, policy: d.Policy,
		knownFiles: d.KnownFiles, userKnownHosts: d.UserKnownHosts, connectTimeout: d.ConnectTimeout, keepAlive: d.KeepAlive}
}

// persistReply is the daemon's answer. Kind names the sentinel of a failed
// dial ("unreachable", "auth", "hostkey") and Msg is its whole message.
type persistReply struct {
	Kind   string `json:",omitempty"`
	Msg    string `json:",omitempty"`
	Reused bool   `json:",omitempty"`
}

// errorKinds name the sentinels on the wire, host key first: the kind a
// direct dial's error would match first.
var errorKinds = []struct {
	name string
	err  error
}{{"hostkey", ErrHostKey}, {"auth", ErrAuth}, {"unreachable", ErrUnreachable}}

func replyFor(err error) persistReply {
	for _, k := range errorKinds {
		if errors.Is(err, k.err) {
			return persistReply{Kind: k.name, Msg: err.Error()}
		}
	}
	return persistReply{Kind: "unreachable", Msg: fmt.Errorf("%w: %w", ErrUnreachable, err).Error()}
}

// sentinelOf is the sentinel a reply's kind names.
func sentinelOf(kind string) error {
	for _, k := range errorKinds {
		if k.name == kind {
			return k.err
		}
	}
	return ErrUnreachable
}

// remoteError is a dial error reported by the daemon: its message as the
// daemon wrote it, matching the sentinel it named.
type remoteError struct {
	msg  string
	kind error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.kind }

// persistClient is a pool's side of the daemon.
type persistClient struct {
	cfg   Persist
	extra []string // Config.KnownHostsFiles
	auth  *authenticator
	log   logrus.FieldLogger
	wg    *sync.WaitGroup

	mu      sync.Mutex // guards started and gone
	started bool
	gone    error // set when the daemon cannot be used in this run
}

// dial returns a client whose channels the daemon forwards to r. Errors
// wrap errPersistUnavailable when the daemon, not the host, failed.
func (pc *persistClient) dial(ctx context.Context, r resolved) (*ssh.Client, error) {
	nc, err := pc.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errPersistUnavailable, err)
	}
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()
	nc.SetDeadline(time.Now().Add(persistTimeout)) // the daemon answers at once, or is stuck
	cc, chans, reqs, err := ssh.NewClientConn(nc, "drover-persist", &ssh.ClientConfig{
		Config: localLink,
		User:   "drover",
		// The socket's peer was checked to run as this user, in a directory
		// only this user can enter: that is the daemon's identity.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	})
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: handshake: %w", errPersistUnavailable, err)
	}
	nc.SetDeadline(time.Time{})
	c := ssh.NewClient(cc, chans, reqs)
	// The dial takes up to the connect timeout, but not the time someone
	// takes to type a passphrase while the daemon waits for the keys.
	patience := r.connectTimeout + persistTimeout
	var fired atomic.Bool
	watchdog := time.AfterFunc(patience, func() { fired.Store(true); c.Close() })
	defer watchdog.Stop()
	var signMu sync.Mutex // guards signErr and settled
	var signErr error     // a key file of r that could not be used
	settled := false      // the dial has its answer: the watchdog stays stopped
	signs := c.HandleChannelOpen(agentChannel)
	pc.wg.Go(func() {
		for nch := range signs {
			watchdog.Stop()
			err := pc.serveKeys(ctx, r, nch)
			signMu.Lock()
			if err != nil {
				signErr = err
			}
			if !settled {
				watchdog.Reset(patience)
			}
			signMu.Unlock()
		}
	})
	q := persistDial{Name: r.name, Host: r.host, Port: r.port, User: r.user, Password: r.password, Policy: r.policy,
		KnownFiles: r.knownFiles, ExtraKnown: pc.extra, UserKnownHosts: r.userKnownHosts,
		ConnectTimeout: r.connectTimeout, KeepAlive: r.keepAlive, Idle: pc.cfg.Idle}
	payload, _ := json.Marshal(q)
	ok, answer, err := c.SendRequest(dialRequest, true, payload)
	var rep persistReply
	if err == nil && !ok {
		err = errors.New("the daemon refused the request")
	}
	if err == nil {
		err = json.Unmarshal(answer, &rep)
	}
	if err != nil {
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", errPersistUnavailable, err)
	}
	signMu.Lock()
	settled = true
	watchdog.Stop()
	signMu.Unlock()
	if rep.Kind != "" {
		c.Close()
		signMu.Lock()
		defer signMu.Unlock()
		if signErr != nil {
			return nil, signErr
		}
		return nil, &remoteError{msg: rep.Msg, kind: sentinelOf(rep.Kind)}
	}
	if !stop() {
		c.Close()
		return nil, ctx.Err()
	}
	if fired.Load() {
		c.Close()
		return nil, fmt.Errorf("%w: no answer within %s", errPersistUnavailable, patience)
	}
	pc.log.WithFields(logrus.Fields{KeyHost: r.name, "reused": rep.Reused}).Debug("connected through the connection daemon")
	return c, nil
}

// serveKeys answers the daemon's signing requests for a new connection to
// r with r's keys, as an ssh-agent would.
func (pc *persistClient) serveKeys(ctx context.Context, r resolved, nch ssh.NewChannel) error {
	ch, reqs, err := nch.Accept()
	if err != nil {
		return nil
	}
	defer ch.Close()
	go ssh.DiscardRequests(reqs)
	signers, release, err := pc.auth.publicKeys(ctx, r.keyFiles, r.identitiesOnly)
	if err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	defer release()
	_ = agent.ServeAgent(signerAgent(signers), ch)
	return nil
}

// connect opens the daemon's socket, starting the daemon when none answers.
func (pc *persistClient) connect(ctx context.Context) (net.Conn, error) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.gone != nil {
		return nil, pc.gone
	}
	if err := persistDir(pc.cfg.Dir); err != nil {
		pc.gone = err
		return nil, err
	}
	sock := filepath.Join(pc.cfg.Dir, persistSocket)
	nc, err := dialPeer(ctx, sock)
	if err == nil || pc.started || pc.cfg.Start == nil || !(errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED)) {
		return nc, err
	}
	pc.started = true
	if err := pc.cfg.Start(pc.cfg.Dir); err != nil {
		pc.gone = fmt.Errorf("start it: %w", err)
		return nil, pc.gone
	}
	deadline := time.Now().Add(persistTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 4*time.Millisecond) { // a daemon listens within ~10ms
		nc, err := dialPeer(ctx, sock)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				pc.gone = fmt.Errorf("it did not start listening on %s: %w", sock, err)
			}
			return nc, pc.gone
		}
		time.Sleep(delay)
	}
}

// dialPeer connects to the socket and checks that this user is at its other
// end.
func dialPeer(ctx context.Context, sock string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	if err := checkPeer(nc); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// persistDir creates dir if needed and checks that only this user can use
// it: a socket others could reach would hand them open connections.
func persistDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("%s belongs to another user", dir)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s is open to other users (mode %04o); chmod 700 it", dir, fi.Mode().Perm())
	}
	return nil
}

// signerAgent is an ssh-agent holding a run's keys for the daemon; it signs
// and lists, and refuses changes.
type signerAgent []ssh.Signer

var _ agent.ExtendedAgent = signerAgent(nil)

func (a signerAgent) List() ([]*agent.Key, error) {
	keys := make([]*agent.Key, len(a))
	for i, s := range a {
		pub := s.PublicKey()
		keys[i] = &agent.Key{Format: pub.Type(), Blob: pub.Marshal()}
	}
	return keys, nil
}

func (a signerAgent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return a.SignWithFlags(key, data, 0)
}

func (a signerAgent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	for _, s := range a {
		if !sameKey(s.PublicKey(), key) {
			continue
		}
		as, ok := s.(ssh.AlgorithmSigner)
		switch {
		case flags&agent.SignatureFlagRsaSha512 != 0 && ok:
			return as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA512)
		case flags&agent.SignatureFlagRsaSha256 != 0 && ok:
			return as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA256)
		}
		return s.Sign(rand.Reader, data)
	}
	return nil, errors.New("no such key")
}

var errReadOnlyAgent = errors.New("this agent only signs")

func (signerAgent) Add(agent.AddedKey) error       { return errReadOnlyAgent }
func (signerAgent) Remove(ssh.PublicKey) error     { return errReadOnlyAgent }
func (signerAgent) RemoveAll() error               { return errReadOnlyAgent }
func (signerAgent) Lock([]byte) error              { return errReadOnlyAgent }
func (signerAgent) Unlock([]byte) error            { return errReadOnlyAgent }
func (signerAgent) Signers() ([]ssh.Signer, error) { return nil, errReadOnlyAgent }
func (signerAgent) Extension(string, []byte) ([]byte, error) {
	return nil, agent.ErrExtensionUnsupported
}
