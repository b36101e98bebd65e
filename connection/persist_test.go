package connection_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
)

// daemon serves a connection daemon in this process for the test; Start
// of the returned Persist starts it, counting how often it was asked to.
type daemon struct {
	dir    string
	starts atomic.Int32
	done   chan error

	mu      sync.Mutex
	cancel  context.CancelFunc
	running int
}

func newDaemon(t testing.TB) *daemon {
	t.Helper()
	d := &daemon{dir: filepath.Join(t.TempDir(), "persist"), done: make(chan error, 1)}
	d.cancel = func() {}
	t.Cleanup(func() { d.cancel(); d.wait() })
	return d
}

func (d *daemon) persist(idle time.Duration) *connection.Persist {
	return &connection.Persist{Dir: d.dir, Idle: idle, Start: func(dir string) error {
		d.starts.Add(1)
		ctx, cancel := context.WithCancel(context.Background())
		d.mu.Lock()
		prev := d.cancel
		d.cancel = func() { prev(); cancel() }
		d.running++
		d.mu.Unlock()
		go func() { d.done <- connection.ServePersist(ctx, dir, testLogger()) }()
		return nil
	}}
}

// wait waits for the daemons started to stop, returning the first error.
func (d *daemon) wait() error {
	var first error
	d.mu.Lock()
	defer d.mu.Unlock()
	for ; d.running > 0; d.running-- {
		select {
		case err := <-d.done:
			if first == nil {
				first = err
			}
		case <-time.After(10 * time.Second):
			return errors.New("the daemon did not stop")
		}
	}
	return first
}

func (d *daemon) stop(t *testing.T) {
	d.cancel()
	if err := d.wait(); err != nil {
		t.Error(err)
	}
}

func testLogger() *logrus.Logger {
	log := logrus.New()
	log.SetLevel(logrus.DebugLevel)
	if os.Getenv("DROVER_TEST_LOG") == "" {
		log.SetOutput(io.Discard)
	}
	return log
}

// sourcePort is the client port sshd saw, from $SSH_CONNECTION.
func sourcePort(t *testing.T, f *fixture, s *sshtest.Server) string {
	t.Helper()
	out, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "echo $SSH_CONNECTION"})
	if err != nil {
		t.Fatalf("%s: %v", s.Addr, err)
	}
	fields := strings.Fields(out)
	if len(fields) != 4 {
		t.Fatalf("SSH_CONNECTION = %q", out)
	}
	return fields[1]
}

func TestPersistKeepsConnectionsBetweenRuns(t *testing.T) {
	servers := []*sshtest.Server{sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})}
	d := newDaemon(t)
	first := newFixture(t, connection.Config{Persist: d.persist(time.Minute), Logger: testLogger()}, servers...)
	ports := map[string]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			p := sourcePort(t, first, s)
			mu.Lock()
			ports[s.Addr] = p
			mu.Unlock()
		})
	}
	wg.Wait()
	first.pool.Close()

	second := first.another(t, connection.Config{Persist: d.persist(time.Minute)})
	for _, s := range servers {
		if got := sourcePort(t, second, s); got != ports[s.Addr] {
			t.Errorf("%s: second run came from port %s, first from %s: the connection was not kept", s.Addr, got, ports[s.Addr])
		}
	}
	if n := d.starts.Load(); n != 1 {
		t.Errorf("daemon started %d times, want 1", n)
	}

	// Everything a direct connection carries passes through: stdin, stderr,
	// exit status, sftp.
	s := servers[0]
	var stderr bytes.Buffer
	out, err := second.run(t, s, second.users.Login, &connection.Cmd{Line: "cat; echo oops >&2; exit 3", Stdin: strings.NewReader("in\x00put"), Stderr: &stderr})
	var exit *connection.ExitError
	if !errors.As(err, &exit) || exit.Status != 3 || out != "in\x00put" || stderr.String() != "oops\n" {
		t.Errorf("err %v, stdout %q, stderr %q", err, out, stderr.String())
	}
	c, err := second.pool.Conn(t.Context(), second.target(s, second.users.Login))
	if err != nil {
		t.Fatal(err)
	}
	dst := "/tmp/drover-persist-" + filepath.Base(t.TempDir())
	t.Cleanup(func() { os.Remove(dst) })
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10)
	if err := c.Put(t.Context(), dst, bytes.NewReader(big), connection.PutOptions{Mode: 0o600}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	var back bytes.Buffer
	if err := c.Get(t.Context(), dst, &back); err != nil || !bytes.Equal(back.Bytes(), big) {
		t.Errorf("Get: %v, %d bytes back of %d", err, back.Len(), len(big))
	}
	second.pool.Close()
	d.stop(t)
}

func TestPersistRedialsARestartedHost(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	d := newDaemon(t)
	first := newFixture(t, connection.Config{Persist: d.persist(time.Minute)}, s)
	before := sourcePort(t, first, s)
	first.pool.Close()
	s.Kill()
	s.Restart(t)
	second := first.another(t, connection.Config{Persist: d.persist(time.Minute)})
	if after := sourcePort(t, second, s); after == before {
		t.Errorf("still port %s after the restart", after)
	}
}

func TestPersistClosesIdleConnectionsAndExits(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	d := newDaemon(t)
	first := newFixture(t, connection.Config{Persist: d.persist(100 * time.Millisecond)}, s)
	sourcePort(t, first, s)
	first.pool.Close()
	if err := d.wait(); err != nil {
		t.Fatal(err)
	}
	d.starts.Store(0)
	if _, err := os.Stat(filepath.Join(d.dir, "persist-v1.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	// The next run starts a new daemon.
	second := first.another(t, connection.Config{Persist: d.persist(time.Minute)})
	sourcePort(t, second, s)
	if d.starts.Load() != 1 {
		t.Errorf("starts = %d, want 1", d.starts.Load())
	}
}

// Dial errors through the daemon read exactly as without it.
func TestPersistErrorsAsDirect(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	unknown := sshtest.Start(t, sshtest.Options{})
	d := newDaemon(t)
	tests := []struct {
		name   string
		target func(f *fixture) connection.Target
		want   error
	}{
		{"unknown host key", func(f *fixture) connection.Target { return f.target(unknown, f.users.Login) }, connection.ErrHostKey},
		{"wrong key", func(f *fixture) connection.Target {
			tg := f.target(s, f.users.Login)
			tg.KeyFiles = []string{strangerKey(t)}
			return tg
		}, connection.ErrAuth},
		{"missing key file", func(f *fixture) connection.Target {
			tg := f.target(s, f.users.Login)
			tg.KeyFiles = []string{filepath.Join(t.TempDir(), "nope")}
			return tg
		}, connection.ErrAuth},
		{"nobody listening", func(f *fixture) connection.Target {
			return connection.Target{Name: "gone", Host: "127.0.1.250", Port: 1, KeyFiles: []string{f.key}}
		}, connection.ErrUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			direct := newFixture(t, connection.Config{}, s)
			target := tt.target(direct)
			_, want := direct.pool.Conn(t.Context(), target)
			kept := direct.another(t, connection.Config{Persist: d.persist(time.Minute)})
			_, got := kept.pool.Conn(t.Context(), target)
			if !errors.Is(got, tt.want) || !errors.Is(want, tt.want) {
				t.Fatalf("errors %v / %v, want both %v", got, want, tt.want)
			}
			if got.Error() != want.Error() {
				t.Errorf("through the daemon:\n  %s\ndirect:\n  %s", got, want)
			}
		})
	}
}

// A directory others may enter is refused; the pool then connects directly.
func TestPersistOpenDirectoryConnectsDirectly(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	d := newDaemon(t)
	if err := os.MkdirAll(d.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(d.dir, 0o755)
	f := newFixture(t, connection.Config{Persist: d.persist(time.Minute)}, s)
	sourcePort(t, f, s)
	if d.starts.Load() != 0 {
		t.Error("a daemon was started in a directory open to others")
	}
	if err := connection.ServePersist(t.Context(), d.dir, nil); err == nil || !strings.Contains(err.Error(), "open to other users") {
		t.Errorf("ServePersist = %v, want a refusal", err)
	}
}

// strangerKey writes a key no test user accepts.
func strangerKey(t *testing.T) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stranger")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// another is a second run of f: a new pool with the same home and
// known_hosts.
func (f *fixture) another(t *testing.T, cfg connection.Config) *fixture {
	t.Helper()
	g := *f
	cfg.HomeDir = f.home
	cfg.KnownHostsFiles = append(cfg.KnownHostsFiles, f.known)
	if cfg.HostKeyPolicy == connection.HostKeyDefault {
		cfg.HostKeyPolicy = connection.HostKeyStrict
	}
	pool, err := connection.NewPool(cfg)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { pool.Close() })
	g.pool = pool
	return &g
}

// Quick commands end upstream while the run still waits for the reply to
// its exec; the reply must come first.
func TestPersistManyQuickCommands(t *testing.T) {
	servers := []*sshtest.Server{sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})}
	d := newDaemon(t)
	f := newFixture(t, connection.Config{Persist: d.persist(time.Minute)}, servers...)
	var wg sync.WaitGroup
	for _, s := range servers {
		for range 6 {
			wg.Go(func() {
				for i := range 40 {
					out, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "echo " + strconv.Itoa(i)})
					if err != nil || out != strconv.Itoa(i)+"\n" {
						t.Errorf("%s: command %d: %q, %v", s.Addr, i, out, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
}

// slowPrompter answers after a while, as a person typing does.
type slowPrompter struct {
	answer string
	delay  time.Duration
	asked  atomic.Int32
}

func (p *slowPrompter) Prompt(ctx context.Context, _ string) (string, error) {
	p.asked.Add(1)
	select {
	case <-time.After(p.delay):
		return p.answer, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// A passphrase typed slower than the connect timeout still unlocks the key
// the daemon's new connection is made with; the next run asks nothing.
func TestPersistSlowPassphrase(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	d := newDaemon(t)
	key, _ := sshtest.ClientKey(t)
	raw, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ssh.ParseRawPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("sesame"))
	if err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(t.TempDir(), "locked")
	if err := os.WriteFile(locked, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	prompt := &slowPrompter{answer: "sesame", delay: 6 * time.Second} // past the connect timeout and the daemon's answer time
	f := newFixture(t, connection.Config{Persist: d.persist(time.Minute), Prompter: prompt, ConnectTimeout: 500 * time.Millisecond}, s)
	f.key = locked
	first := sourcePort(t, f, s)
	f.pool.Close()
	again := f.another(t, connection.Config{Persist: d.persist(time.Minute), Prompter: prompt, ConnectTimeout: 500 * time.Millisecond})
	if got := sourcePort(t, again, s); got != first {
		t.Errorf("second run came from port %s, first from %s", got, first)
	}
	if n := prompt.asked.Load(); n != 1 {
		t.Errorf("asked for the passphrase %d times, want 1", n)
	}
}

// A daemon that accepts and never answers costs a run a few seconds, then
// it connects directly.
func TestPersistStuckDaemonConnectsDirectly(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	dir := filepath.Join(t.TempDir(), "persist")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "persist-v1.sock"))
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
			defer c.Close() // held open, silent
		}
	}()
	f := newFixture(t, connection.Config{Persist: &connection.Persist{Dir: dir, Idle: time.Minute}}, s)
	start := time.Now()
	sourcePort(t, f, s)
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("took %s", took)
	}
}

// The jump host's connection is kept; the tunnel to the target goes
// through the daemon (direct-tcpip), and every hop is still checked.
func TestPersistProxyJump(t *testing.T) {
	jump, target := sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})
	d := newDaemon(t)
	f := newFixture(t, connection.Config{Persist: d.persist(time.Minute)}, jump, target)
	runThroughJump(t, f, jump, target)
	jumpPort := sourcePort(t, f, jump)
	f.pool.Close()
	again := f.another(t, connection.Config{Persist: d.persist(time.Minute)})
	if got := sourcePort(t, again, jump); got != jumpPort {
		t.Errorf("jump host: second run from port %s, first from %s", got, jumpPort)
	}
}
