package connection_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
)

func TestMain(m *testing.M) { os.Exit(sshtest.Main(m)) }

// fixture is a pool and the servers it may reach.
type fixture struct {
	pool  *connection.Pool
	key   string
	users sshtest.Users
	known string // known_hosts file the pool reads
	home  string
}

// newFixture returns a pool whose known_hosts lists servers.
func newFixture(t *testing.T, cfg connection.Config, servers ...*sshtest.Server) *fixture {
	t.Helper()
	key, _ := sshtest.ClientKey(t)
	f := &fixture{key: key, users: sshtest.TestUsers(t), home: t.TempDir()}
	f.known = filepath.Join(t.TempDir(), "known_hosts")
	var lines []string
	for _, s := range servers {
		lines = append(lines, s.KnownHostsLine())
	}
	if err := os.WriteFile(f.known, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg.HomeDir != "" {
		f.home = cfg.HomeDir
	}
	return f.another(t, cfg)
}

func (f *fixture) target(s *sshtest.Server, user string) connection.Target {
	return connection.Target{Name: "host-" + s.Host, Host: s.Host, Port: s.Port, User: user, KeyFiles: []string{f.key}}
}

// run executes line on s as user and returns its stdout.
func (f *fixture) run(t *testing.T, s *sshtest.Server, user string, cmd *connection.Cmd) (string, error) {
	t.Helper()
	c, err := f.pool.Conn(t.Context(), f.target(s, user))
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	err = c.Exec(t.Context(), cmd)
	return out.String(), err
}

func TestSSHExecOnSeveralHosts(t *testing.T) {
	servers := []*sshtest.Server{sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{HostKeyType: "ecdsa"})}
	f := newFixture(t, connection.Config{}, servers...)
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			out, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "echo $SSH_CONNECTION; echo \"$GREETING\"", Env: map[string]string{"GREETING": "it's me"}})
			if err != nil {
				t.Errorf("%s: %v", s.Addr, err)
				return
			}
			if !strings.Contains(out, fmt.Sprintf(" %s %d\n", s.Host, s.Port)) || !strings.Contains(out, "it's me\n") {
				t.Errorf("%s: output %q", s.Addr, out)
			}
		})
	}
	wg.Wait()
}

func TestSSHExitStatusAndStreams(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	var stderr bytes.Buffer
	out, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "cat; echo oops >&2; exit 3", Stdin: strings.NewReader("in\x00put"), Stderr: &stderr})
	var exit *connection.ExitError
	if !errors.As(err, &exit) || exit.Status != 3 {
		t.Fatalf("err = %v, want exit status 3", err)
	}
	if out != "in\x00put" || stderr.String() != "oops\n" {
		t.Errorf("stdout %q stderr %q", out, stderr.String())
	}
}

func TestSSHBecome(t *testing.T) {
	sshtest.RequireRoot(t)
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	u := f.users
	tests := []struct {
		name    string
		user    string
		become  connection.Become
		want    string
		wantErr string
	}{
		{"sudo without password", u.Login, connection.Become{}, "0", ""},
		{"sudo to another user", u.Login, connection.Become{User: u.Plain}, u.Plain, ""},
		{"sudo with password", u.SudoPass, connection.Become{Password: u.SudoPassword}, "0", ""},
		{"sudo wrong password", u.SudoPass, connection.Become{Password: "wrong-" + u.SudoPassword}, "", "incorrect become password"},
		{"sudo password missing", u.SudoPass, connection.Become{}, "", "asked for a password"},
		{"no sudo rights", u.Plain, connection.Become{Password: u.PlainPassword}, "", "sudoers"},
		{"su with password", u.Login, connection.Become{Method: "su", User: u.Plain, Password: u.PlainPassword}, u.Plain, ""},
		{"su wrong password", u.Login, connection.Become{Method: "su", User: u.Plain, Password: "nope"}, "", "incorrect become password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := "id -u"
			if tt.become.User != "" {
				line = "id -un"
			}
			start := time.Now()
			out, err := f.run(t, s, tt.user, &connection.Cmd{Line: line, Become: &tt.become})
			if tt.wantErr != "" {
				if !errors.Is(err, connection.ErrBecome) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBecome with %q", err, tt.wantErr)
				}
				if tt.become.Password != "" && strings.Contains(err.Error(), tt.become.Password) {
					t.Fatalf("error text holds the password: %v", err)
				}
				if d := time.Since(start); d > 8*time.Second {
					t.Errorf("become failure took %s; it must fail fast", d)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if strings.TrimSpace(out) != tt.want {
				t.Errorf("output %q, want %q", out, tt.want)
			}
		})
	}
}

func TestSSHBecomeStdin(t *testing.T) {
	sshtest.RequireRoot(t)
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	out, err := f.run(t, s, f.users.SudoPass, &connection.Cmd{
		Line: "cat; id -u", Stdin: strings.NewReader("data\n"),
		Become: &connection.Become{Password: f.users.SudoPassword},
	})
	if err != nil || out != "data\n0\n" {
		t.Fatalf("out %q, err %v; want the stdin echoed then 0", out, err)
	}
}

func TestSSHManyCommandsOneConnection(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	// Nine sessions at once sit right under sshd's MaxSessions 10, so
	// refused channel opens happen and must be retried, not surfaced.
	f := newFixture(t, connection.Config{MaxSessions: 9}, s)
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Go(func() {
			out, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: fmt.Sprintf("echo %d", i)})
			if err == nil && out != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("output %q", out)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestSSHKilledHostIsUnreachable(t *testing.T) {
	a, b := sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, a, b)
	if _, err := f.run(t, a, f.users.Login, &connection.Cmd{Line: "true"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.run(t, a, f.users.Login, &connection.Cmd{Line: "sleep 30"})
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	a.Kill()
	select {
	case err := <-done:
		if !errors.Is(err, connection.ErrUnreachable) {
			t.Fatalf("running command on killed host: err = %v, want ErrUnreachable", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("command on a killed host did not return")
	}
	if _, err := f.run(t, a, f.users.Login, &connection.Cmd{Line: "true"}); !errors.Is(err, connection.ErrUnreachable) {
		t.Fatalf("new command on killed host: err = %v, want ErrUnreachable", err)
	}
	if out, err := f.run(t, b, f.users.Login, &connection.Cmd{Line: "echo alive"}); err != nil || out != "alive\n" {
		t.Fatalf("other host: %q, %v", out, err)
	}
}

func TestSSHRedialsBrokenConnection(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	if _, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "true"}); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	s.Restart(t)
	if out, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "echo again"}); err != nil || out != "again\n" {
		t.Fatalf("after restart: %q, %v", out, err)
	}
}

func TestSSHCancel(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	before := runtime.NumGoroutine()
	c, err := f.pool.Conn(t.Context(), f.target(s, f.users.Login))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err = c.Exec(ctx, &connection.Cmd{Line: "sleep 30"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancel took %s", d)
	}
	if err := c.Put(ctx, "/tmp/never", strings.NewReader("x"), connection.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put after cancel: %v", err)
	}
	f.pool.Close()
	waitForGoroutines(t, before)
}

// waitForGoroutines fails when goroutines started by the test outlive it.
func waitForGoroutines(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > want {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, want %d:\n%s", runtime.NumGoroutine(), want, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSSHHostKeyPolicies(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	key, _ := sshtest.ClientKey(t)
	users := sshtest.TestUsers(t)
	home := t.TempDir()
	userKnown := filepath.Join(home, ".ssh", "known_hosts")
	target := connection.Target{Name: "web1", Host: s.Host, Port: s.Port, User: users.Login, KeyFiles: []string{key}}
	connect := func(policy connection.HostKeyPolicy) error {
		p, err := connection.NewPool(connection.Config{HomeDir: home, HostKeyPolicy: policy})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		c, err := p.Conn(t.Context(), target)
		if err != nil {
			return err
		}
		return c.Exec(t.Context(), &connection.Cmd{Line: "true"})
	}
	err := connect(connection.HostKeyStrict)
	if !errors.Is(err, connection.ErrHostKey) || !strings.Contains(err.Error(), "SHA256:") || !strings.Contains(err.Error(), "accept-new") {
		t.Fatalf("unknown key under strict: err = %v, want ErrHostKey with fingerprint and advice", err)
	}
	if err := connect(connection.HostKeyAcceptNew); err != nil {
		t.Fatalf("accept-new: %v", err)
	}
	if data, err := os.ReadFile(userKnown); err != nil || len(bytes.TrimSpace(data)) == 0 {
		t.Fatalf("accept-new recorded nothing in %s: %q, %v", userKnown, data, err)
	}
	if err := connect(connection.HostKeyStrict); err != nil {
		t.Fatalf("strict after accept-new: %v", err)
	}
	s.RegenerateHostKey(t)
	for _, policy := range []connection.HostKeyPolicy{connection.HostKeyStrict, connection.HostKeyAcceptNew} {
		err := connect(policy)
		if !errors.Is(err, connection.ErrHostKey) || !strings.Contains(err.Error(), "man-in-the-middle") {
			t.Fatalf("changed key under policy %d: err = %v", policy, err)
		}
	}
	if err := connect(connection.HostKeyOff); err != nil {
		t.Fatalf("changed key under off: %v", err)
	}
}

func TestSSHProxyJump(t *testing.T) {
	jump, target := sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, jump, target)
	tg := runThroughJump(t, f, jump, target)

	// Every hop is host-key checked: a pool that knows only the target
	// must refuse the jump host.
	only := newFixture(t, connection.Config{}, target)
	if _, err := only.pool.Conn(t.Context(), tg); !errors.Is(err, connection.ErrHostKey) {
		t.Fatalf("unknown jump host key: err = %v, want ErrHostKey", err)
	}
}

// runThroughJump runs a command on target through jump and returns the
// target it used.
func runThroughJump(t *testing.T, f *fixture, jump, target *sshtest.Server) connection.Target {
	t.Helper()
	tg := f.target(target, f.users.Login)
	tg.ProxyJump = fmt.Sprintf("%s@%s:%d", f.users.Login, jump.Host, jump.Port)
	c, err := f.pool.Conn(t.Context(), tg)
	if err != nil {
		t.Fatalf("through jump host: %v", err)
	}
	var out bytes.Buffer
	if err := c.Exec(t.Context(), &connection.Cmd{Line: "echo $SSH_CONNECTION", Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf(" %s %d", target.Host, target.Port)) {
		t.Errorf("SSH_CONNECTION = %q", out.String())
	}
	return tg
}

func TestSSHPutAndGet(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	c, err := f.pool.Conn(t.Context(), f.target(s, f.users.Login))
	if err != nil {
		t.Fatal(err)
	}
	dir := mktemp(t, c, nil)
	dst := dir + "/file.txt"
	data := strings.Repeat("drover\n", 50000)
	for range 2 { // the second Put replaces the first
		if err := c.Put(t.Context(), dst, strings.NewReader(data), connection.PutOptions{Mode: 0o600}); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	var got bytes.Buffer
	if err := c.Get(t.Context(), dst, &got); err != nil || got.String() != data {
		t.Fatalf("Get: %d bytes, %v", got.Len(), err)
	}
	if out := mustRun(t, c, "stat -c %a "+dst+"; ls -A "+dir, nil); out != "600\nfile.txt\n" {
		t.Errorf("mode and directory after Put: %q", out)
	}

	// A reader that fails part-way leaves nothing behind.
	err = c.Put(t.Context(), dir+"/broken", io.MultiReader(strings.NewReader("partial"), errReader{}), connection.PutOptions{})
	if err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if out := mustRun(t, c, "ls -A "+dir, nil); out != "file.txt\n" {
		t.Errorf("after a failed Put the directory holds %q", out)
	}
}

func TestSSHPutBecome(t *testing.T) {
	sshtest.RequireRoot(t)
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	for _, login := range []struct{ user, password string }{{f.users.Login, ""}, {f.users.SudoPass, f.users.SudoPassword}} {
		t.Run(login.user, func(t *testing.T) {
			c, err := f.pool.Conn(t.Context(), f.target(s, login.user))
			if err != nil {
				t.Fatal(err)
			}
			become := &connection.Become{Password: login.password}
			dir := mktemp(t, c, become) // owned by root, 0700: the login user cannot write here
			dst := dir + "/secret.conf"
			opts := connection.PutOptions{Mode: 0o640, Owner: f.users.Plain, Group: "root", Become: become}
			if err := c.Put(t.Context(), dst, strings.NewReader("token=1\n"), opts); err != nil {
				t.Fatalf("Put with become: %v", err)
			}
			if out := mustRun(t, c, "stat -c '%U %G %a' "+dst+"; cat "+dst+"; ls -A "+dir, become); out != f.users.Plain+" root 640\ntoken=1\nsecret.conf\n" {
				t.Errorf("after Put: %q", out)
			}
			// Owner that does not exist: the command fails, nothing is left.
			opts.Owner = "no-such-user-drover"
			if err := c.Put(t.Context(), dir+"/other", strings.NewReader("x"), opts); err == nil {
				t.Fatal("Put with an unknown owner succeeded")
			}
			if out := mustRun(t, c, "ls -A "+dir+"; ls -d /tmp/.drover-* 2>/dev/null | wc -l", become); out != "secret.conf\n0\n" {
				t.Errorf("after a failed Put: %q", out)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

// mktemp makes a private directory on the host, removed at the end of the test.
func mktemp(t *testing.T, c connection.Conn, become *connection.Become) string {
	t.Helper()
	dir := strings.TrimSpace(mustRun(t, c, "mktemp -d /tmp/drover-test.XXXXXX", become))
	t.Cleanup(func() {
		_ = c.Exec(context.WithoutCancel(t.Context()), &connection.Cmd{Line: "rm -rf " + connection.Quote(dir), Become: become})
	})
	return dir
}

func mustRun(t *testing.T, c connection.Conn, line string, become *connection.Become) string {
	t.Helper()
	var out, stderr bytes.Buffer
	if err := c.Exec(t.Context(), &connection.Cmd{Line: line, Stdout: &out, Stderr: &stderr, Become: become}); err != nil {
		t.Fatalf("%s: %v: %s", line, err, stderr.String())
	}
	return out.String()
}

func TestSSHUnreachable(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{ConnectTimeout: 2 * time.Second}, s)
	s.Kill()
	_, err := f.pool.Conn(t.Context(), f.target(s, f.users.Login))
	if !errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want ErrUnreachable: connection refused", err)
	}
	_, err = f.pool.Conn(t.Context(), connection.Target{Name: "nohost.invalid"})
	if !errors.Is(err, connection.ErrUnreachable) || !strings.Contains(err.Error(), "nohost.invalid") {
		t.Fatalf("err = %v, want ErrUnreachable naming the host", err)
	}
}

func TestSSHBadCredentials(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{}, s)
	tg := f.target(s, f.users.Login)
	tg.KeyFiles = []string{filepath.Join(t.TempDir(), "missing_key")}
	if _, err := f.pool.Conn(t.Context(), tg); !errors.Is(err, connection.ErrAuth) || !strings.Contains(err.Error(), "missing_key") {
		t.Fatalf("missing key file: err = %v, want ErrAuth naming the file", err)
	}
	tg = connection.Target{Name: "pw", Host: s.Host, Port: s.Port, User: f.users.Plain, Password: "wrong"}
	if _, err := f.pool.Conn(t.Context(), tg); !errors.Is(err, connection.ErrAuth) {
		t.Fatalf("wrong password: err = %v, want ErrAuth", err)
	}
	if f.users.Root {
		// A fresh pool: a pool keeps one connection setup per user@host.
		f := newFixture(t, connection.Config{}, s)
		tg.Password = f.users.PlainPassword
		if _, err := f.pool.Conn(t.Context(), tg); err != nil {
			t.Fatalf("password login: %v", err)
		}
	}
}

func TestSSHKeepAliveDetectsDeadPeer(t *testing.T) {
	s := sshtest.Start(t, sshtest.Options{})
	f := newFixture(t, connection.Config{KeepAlive: 200 * time.Millisecond, ConnectTimeout: time.Second}, s)
	if _, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "true"}); err != nil {
		t.Fatal(err)
	}
	s.Freeze()
	defer s.Thaw()
	done := make(chan error, 1)
	go func() {
		_, err := f.run(t, s, f.users.Login, &connection.Cmd{Line: "true"})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, connection.ErrUnreachable) {
			t.Fatalf("err = %v, want ErrUnreachable", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("command to a frozen host hangs; keepalives did not notice the dead peer")
	}
}

// TestSSHConfigFile reaches a host only through ssh_config: aliases,
// HostName, Port, User, IdentityFile and a ProxyJump to another alias.
func TestSSHConfigFile(t *testing.T) {
	jump, target := sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})
	key, _ := sshtest.ClientKey(t)
	users := sshtest.TestUsers(t)
	cfg := filepath.Join(t.TempDir(), "config")
	text := fmt.Sprintf(`Host app
  HostName %s
  Port %d
  User %s
  IdentityFile %s
  ProxyJump bastion

Host bastion
  HostName %s
  Port %d
  User %s
  IdentityFile %s
`, target.Host, target.Port, users.Login, key, jump.Host, jump.Port, users.Login, key)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, connection.Config{SSHConfigFile: cfg}, jump, target)
	c, err := f.pool.Conn(t.Context(), connection.Target{Name: "app"})
	if err != nil {
		t.Fatalf("connect through ssh_config: %v", err)
	}
	var out bytes.Buffer
	if err := c.Exec(t.Context(), &connection.Cmd{Line: "id -un; echo $SSH_CONNECTION", Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%s\n", users.Login); !strings.HasPrefix(out.String(), want) || !strings.Contains(out.String(), fmt.Sprintf(" %s %d", target.Host, target.Port)) {
		t.Errorf("output %q", out.String())
	}
}
