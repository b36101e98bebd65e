package connection

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
)

// Defaults of [Config].
const (
	DefaultMaxSessions    = 6
	DefaultMaxDials       = 20
	DefaultConnectTimeout = 10 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	defaultSSHPort        = 22
	keepAliveMisses       = 3
)

// Pool owns the SSH connections of a run: one client per (host, port, user),
// dialled on first use and shared by every command to that host. A Pool is
// safe for concurrent use.
type Pool struct {
	cfg    Config
	log    logrus.FieldLogger
	sshCfg *sshConfig
	auth   *authenticator
	dials  chan struct{}
	local  *Local
	user   string         // the controller's user, OpenSSH's default login
	keep   *persistClient // nil without Config.Persist

	mu     sync.Mutex
	conns  map[string]*SSH
	known  map[string]*hostKeys
	closed bool

	wg sync.WaitGroup // keepalive and reaper goroutines
}

// NewPool returns a pool configured by cfg. It reads the ssh_config file now,
// so a malformed one is reported before any host is contacted.
func NewPool(cfg Config) (*Pool, error) {
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.MaxDials <= 0 {
		cfg.MaxDials = DefaultMaxDials
	}
	if cfg.HomeDir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("connection: find home directory: %w", err)
		}
		cfg.HomeDir = home
	}
	if cfg.AgentSocket == "" {
		cfg.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	explicit := cfg.SSHConfigFile != ""
	if !explicit {
		cfg.SSHConfigFile = filepath.Join(cfg.HomeDir, ".ssh", "config")
	}
	log := orDiscard(cfg.Logger)
	sc, err := loadSSHConfig(cfg.SSHConfigFile, explicit, cfg.HomeDir)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:    cfg,
		log:    log,
		sshCfg: sc,
		auth:   newAuthenticator(cfg.HomeDir, cfg.AgentSocket, cfg.Prompter, log),
		dials:  make(chan struct{}, cfg.MaxDials),
		local:  NewLocal(log),
		user:   currentUser(),
		conns:  map[string]*SSH{},
		known:  map[string]*hostKeys{},
	}
	if cfg.Persist != nil {
		p.keep = &persistClient{cfg: *cfg.Persist, extra: cfg.KnownHostsFiles, auth: p.auth, log: log, wg: &p.wg}
	}
	return p, nil
}

func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// Conn returns the connection for t, dialling it now if it is not open yet.
// Errors wrap [ErrUnreachable], [ErrAuth] or [ErrHostKey]. The returned Conn
// belongs to the pool: callers do not close it.
func (p *Pool) Conn(ctx context.Context, t Target) (Conn, error) {
	if t.Local {
		if t.Dir != "" {
			return &Local{log: p.local.log, dir: t.Dir}, nil
		}
		return p.local, nil
	}
	s, err := p.sshFor(t)
	if err != nil {
		return nil, err
	}
	if _, err := s.conn(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// sshFor returns the pooled connection for t without dialling it.
func (p *Pool) sshFor(t Target) (*SSH, error) {
	r, err := p.resolve(t)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("connection: pool is closed")
	}
	if s, ok := p.conns[r.key()]; ok {
		return s, nil
	}
	if r.known, err = p.hostKeysFor(r); err != nil {
		return nil, err
	}
	s := &SSH{pool: p, r: r, sem: make(chan struct{}, p.cfg.MaxSessions)}
	p.conns[r.key()] = s
	return s, nil
}

// resolved is a Target with ssh_config and defaults applied.
type resolved struct {
	name           string
	host           string // HostName: what is dialled and looked up in known_hosts
	port           int
	user           string
	password       string
	keyFiles       []string
	identitiesOnly bool
	proxy          []string
	policy         HostKeyPolicy
	knownFiles     []string
	userKnownHosts string
	connectTimeout time.Duration
	keepAlive      time.Duration
	known          *hostKeys
}

func (r *resolved) addr() string { return net.JoinHostPort(r.host, strconv.Itoa(r.port)) }

func (r *resolved) key() string {
	return r.user + "@" + r.addr() + "|" + strings.Join(r.proxy, ",")
}

func (p *Pool) resolve(t Target) (resolved, error) {
	alias := t.Host
	if alias == "" {
		alias = t.Name
	}
	if alias == "" {
		return resolved{}, errors.New("connection: target has neither a name nor a host")
	}
	hs := p.sshCfg.resolve(alias)
	r := resolved{
		name:           orDefault(t.Name, alias),
		host:           orDefault(hs.HostName, alias),
		port:           firstPositive(t.Port, hs.Port, defaultSSHPort),
		user:           orDefault(orDefault(t.User, hs.User), p.user),
		password:       t.Password,
		identitiesOnly: hs.IdentitiesOnly,
		policy:         p.cfg.HostKeyPolicy,
		connectTimeout: firstDuration(p.cfg.ConnectTimeout, hs.ConnectTimeout, DefaultConnectTimeout),
		keepAlive:      firstDuration(p.cfg.KeepAlive, hs.ServerAliveInterval, DefaultKeepAlive),
	}
	for _, f := range t.KeyFiles {
		r.keyFiles = append(r.keyFiles, expandHome(f, p.cfg.HomeDir))
	}
	r.keyFiles = append(r.keyFiles, hs.IdentityFiles...)
	jump := t.ProxyJump
	if jump == "" {
		jump = hs.ProxyJump
	}
	if jump != "" && jump != "none" {
		r.proxy = strings.Split(jump, ",")
	}
	if r.policy == HostKeyDefault {
		r.policy = policyFromSSHConfig(hs.StrictHostKeyChecking)
	}
	userFiles := hs.UserKnownHostsFiles
	if len(userFiles) == 0 {
		userFiles = []string{filepath.Join(p.cfg.HomeDir, ".ssh", "known_hosts")}
	}
	r.knownFiles = append(userFiles, "/etc/ssh/ssh_known_hosts")
	r.userKnownHosts = orDefault(expandHome(p.cfg.UserKnownHosts, p.cfg.HomeDir), userFiles[0])
	return r, nil
}

// hostKeysFor returns the known_hosts database for r's set of files, shared
// by every host that uses the same files. p.mu is held.
func (p *Pool) hostKeysFor(r resolved) (*hostKeys, error) {
	k := strings.Join(r.knownFiles, "\x00") + "\x01" + r.userKnownHosts
	if hk, ok := p.known[k]; ok {
		return hk, nil
	}
	hk, err := newHostKeys(r.knownFiles, p.cfg.KnownHostsFiles, r.userKnownHosts, p.log)
	if err != nil {
		return nil, err
	}
	p.known[k] = hk
	return hk, nil
}

// dial opens, authenticates and starts keepalives for a new client. Dial
// slots bound how many connections are unauthenticated at once, so sshd's
// MaxStartups does not start refusing; a jump host is reached before taking
// a slot, so tunnelled hosts never wait on slots their jump host needs.
func (p *Pool) dial(ctx context.Context, r resolved) (*liveClient, error) {
	if p.keep != nil && len(r.proxy) == 0 {
		c, err := p.keep.dial(ctx, r)
		if err == nil {
			return watch(c, r, &p.wg, p.log), nil
		}
		if !errors.Is(err, errPersistUnavailable) {
			return nil, err
		}
		p.log.WithFields(logrus.Fields{KeyHost: r.name}).WithError(err).Debug("connecting directly")
	}
	var hop *liveClient
	if len(r.proxy) > 0 {
		var err error
		if hop, err = p.jumpClient(ctx, r); err != nil {
			return nil, err
		}
	}
	select {
	case p.dials <- struct{}{}:
		defer func() { <-p.dials }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c, err := dialSSH(ctx, r, hop, func(ctx context.Context) ([]ssh.AuthMethod, func(), error) {
		return p.auth.methods(ctx, r.keyFiles, r.identitiesOnly, r.password)
	}, p.log)
	if err != nil {
		return nil, err
	}
	return watch(c, r, &p.wg, p.log), nil
}

// authMethods returns the authentication methods of one handshake and a
// function releasing what they hold once the handshake is over.
type authMethods func(ctx context.Context) ([]ssh.AuthMethod, func(), error)

// dialSSH opens the byte stream to r (TCP, or a tunnel through hop) and runs
// the SSH handshake on it.
func dialSSH(ctx context.Context, r resolved, hop *liveClient, auth authMethods, log logrus.FieldLogger) (*ssh.Client, error) {
	start := time.Now()
	nc, err := dialNet(ctx, r, hop)
	if err != nil {
		return nil, err
	}
	c, err := sshHandshake(ctx, r, nc, auth)
	if err != nil {
		return nil, err
	}
	log.WithFields(logrus.Fields{KeyHost: r.name, "addr": r.addr(), "user": r.user, KeyTook: time.Since(start)}).
		Debug("connected")
	return c, nil
}

// jumpClient returns the connection to the last jump host of r, itself a
// pooled connection that reaches its own predecessors the same way.
func (p *Pool) jumpClient(ctx context.Context, r resolved) (*liveClient, error) {
	last := r.proxy[len(r.proxy)-1]
	hop, err := p.sshFor(jumpTarget(last, r.proxy[:len(r.proxy)-1], r.keyFiles))
	if err != nil {
		return nil, err
	}
	jc, err := hop.conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: via jump host %s: %w", r.name, last, err)
	}
	return jc, nil
}

// dialNet opens the byte stream to r: TCP, or a tunnel through hop.
func dialNet(ctx context.Context, r resolved, hop *liveClient) (net.Conn, error) {
	if hop != nil {
		nc, err := hop.DialContext(ctx, "tcp", r.addr())
		if err != nil {
			return nil, fmt.Errorf("%w: %s: connect to %s through jump host %s: %w", ErrUnreachable, r.name, r.addr(), r.proxy[len(r.proxy)-1], err)
		}
		return nc, nil
	}
	d := net.Dialer{Timeout: r.connectTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", r.addr())
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %s: connect to %s: %w", ErrUnreachable, r.name, r.addr(), netReason(err))
	}
	return nc, nil
}

// jumpTarget parses one ProxyJump hop, [user@]host[:port].
func jumpTarget(hop string, before []string, keyFiles []string) Target {
	t := Target{Name: hop, KeyFiles: keyFiles, ProxyJump: strings.Join(before, ",")}
	hostPort := hop
	if at := strings.LastIndex(hop, "@"); at >= 0 {
		t.User, hostPort = hop[:at], hop[at+1:]
	}
	t.Host = hostPort
	if h, port, err := net.SplitHostPort(hostPort); err == nil {
		if n, err := strconv.Atoi(port); err == nil {
			t.Host, t.Port = h, n
		}
	}
	return t
}

// sshHandshake runs the SSH handshake on nc within the connect timeout.
func sshHandshake(ctx context.Context, r resolved, nc net.Conn, auth authMethods) (*ssh.Client, error) {
	methods, release, err := auth(ctx)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", r.name, err)
	}
	defer release()
	timedOut := make(chan struct{})
	timer := time.AfterFunc(r.connectTimeout, func() { close(timedOut); nc.Close() })
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	cfg := &ssh.ClientConfig{
		User:              r.user,
		Auth:              methods,
		HostKeyCallback:   r.known.callback(r.name, r.addr(), r.policy),
		HostKeyAlgorithms: r.known.algorithms(r.addr()),
		Timeout:           r.connectTimeout,
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, r.addr(), cfg)
	timer.Stop()
	stop()
	if err != nil {
		nc.Close()
		select {
		case <-timedOut:
			return nil, fmt.Errorf("%w: %s: connect to %s: no SSH handshake within %s; is an SSH server listening there?",
				ErrUnreachable, r.name, r.addr(), r.connectTimeout)
		default:
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, handshakeError(r, err)
	}
	return ssh.NewClient(c, chans, reqs), nil
}

func handshakeError(r resolved, err error) error {
	switch {
	case errors.Is(err, ErrHostKey):
		return err
	case strings.Contains(err.Error(), "unable to authenticate"):
		return fmt.Errorf("%w: %s: %s@%s refused every credential offered; check -u/ansible_user, --private-key/ansible_ssh_private_key_file or ansible_password (%w)",
			ErrAuth, r.name, r.user, r.addr(), err)
	default:
		return fmt.Errorf("%w: %s: ssh handshake with %s: %w", ErrUnreachable, r.name, r.addr(), err)
	}
}

// netReason turns common dial errors into advice.
func netReason(err error) error {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		return fmt.Errorf("cannot resolve host name %q; check the name or set ansible_host", dns.Name)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Errorf("connection refused; is sshd running and the port right? (%w)", err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("timed out; is the host up and the port open? (%w)", err)
	}
	return err
}

// watch starts the goroutines that notice a dead client: one waiting for it
// to end, one sending keepalives.
func watch(c *ssh.Client, r resolved, wg *sync.WaitGroup, log logrus.FieldLogger) *liveClient {
	lc := &liveClient{Client: c, dead: make(chan struct{})}
	wg.Go(func() {
		_ = c.Wait()
		close(lc.dead)
	})
	wg.Go(func() { keepAlive(lc, r, wg, log) })
	return lc
}

// keepAlive probes the peer; three unanswered probes in a row close the
// client, so commands fail fast instead of hanging on a dead peer.
func keepAlive(c *liveClient, r resolved, wg *sync.WaitGroup, log logrus.FieldLogger) {
	tick := time.NewTicker(r.keepAlive)
	defer tick.Stop()
	misses := 0
	for {
		select {
		case <-c.dead:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		wg.Go(func() {
			_, _, err := c.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		})
		select {
		case err := <-reply:
			if err != nil {
				c.Close()
				return
			}
			misses = 0
		case <-time.After(r.keepAlive):
			if misses++; misses >= keepAliveMisses {
				log.WithFields(logrus.Fields{KeyHost: r.name}).Warn("no answer to keepalives; closing connection")
				c.Close()
				return
			}
		case <-c.dead:
			return
		}
	}
}

// Close closes every connection and waits for the pool's goroutines.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	conns := p.conns
	p.conns = map[string]*SSH{}
	p.mu.Unlock()
	for _, s := range conns {
		s.mu.Lock()
		s.dropLocked()
		s.mu.Unlock()
	}
	p.wg.Wait()
	return nil
}

func firstPositive(vals ...int) int {
	for _, v := range vals {
		if v > 0 {
			return v
		}
	}
	return 0
}

func firstDuration(vals ...time.Duration) time.Duration {
	for _, v := range vals {
		if v > 0 {
			return v
		}
	}
	return 0
}

func expandHome(p, home string) string {
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}
