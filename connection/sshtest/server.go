package sshtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"
)

// SSHD is the sshd binary; OpenSSH insists on an absolute path.
const SSHD = "/usr/sbin/sshd"

// Options configure one server.
type Options struct {
	// Config holds extra sshd_config lines, such as "MaxSessions 10".
	// They take precedence over the defaults.
	Config []string
	// HostKeyType is "ed25519" (default), "ecdsa" or "rsa".
	HostKeyType string
	// Port is the port to listen on; 0 picks a free one.
	Port int
}

// Server is one running sshd.
type Server struct {
	// Host is the loopback address the server listens on.
	Host string
	// Port is its port.
	Port int
	// Addr is Host:Port.
	Addr string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey

	opts   Options
	dir    string
	stderr *lockedBuffer
	mu     sync.Mutex
	cmd    *exec.Cmd
}

// serverCount spreads servers of one process over distinct addresses.
var serverCount atomic.Int64

// Start starts an sshd on a fresh 127.0.1.x address and stops it when the
// test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	requireSSHD(t)
	shared := setup(t)
	s := &Server{opts: opts, dir: t.TempDir(), stderr: &lockedBuffer{}}
	s.writeHostKey(t)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		n := serverCount.Add(1)
		s.Host = fmt.Sprintf("127.0.1.%d", 2+(os.Getpid()*7+int(n))%250)
		s.Port = opts.Port
		if s.Port == 0 {
			if s.Port, lastErr = freePort(s.Host); lastErr != nil {
				continue
			}
		}
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
		if lastErr = s.start(shared); lastErr == nil {
			t.Cleanup(s.Kill)
			return s
		}
		if opts.Port != 0 {
			break
		}
	}
	t.Fatalf("sshtest: start sshd: %v", lastErr)
	return nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// writeHostKey generates the server's host key.
func (s *Server) writeHostKey(t testing.TB) {
	t.Helper()
	var key any
	var err error
	switch s.opts.HostKeyType {
	case "", "ed25519":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("sshtest: unknown host key type %q", s.opts.HostKeyType)
	}
	if err != nil {
		t.Fatalf("sshtest: generate host key: %v", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatalf("sshtest: marshal host key: %v", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, "host_key"), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	s.HostKey = signer.PublicKey()
}

func (s *Server) config(shared *state) string {
	lines := append([]string{}, s.opts.Config...)
	set := map[string]bool{}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 {
			set[strings.ToLower(f[0])] = true
		}
	}
	defaults := []string{
		"ListenAddress " + s.Addr,
		"HostKey " + filepath.Join(s.dir, "host_key"),
		"PidFile " + filepath.Join(s.dir, "sshd.pid"),
		"AuthorizedKeysFile " + shared.authorizedKeys,
		"StrictModes no",
		"UsePAM no",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin yes",
		"Subsystem sftp /usr/lib/openssh/sftp-server",
		"MaxStartups 200:30:400",
		"LogLevel ERROR",
		"PrintMotd no",
	}
	for _, l := range defaults {
		if k := strings.ToLower(strings.Fields(l)[0]); !set[k] {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func (s *Server) start(shared *state) error {
	cfg := filepath.Join(s.dir, "sshd_config")
	if err := os.WriteFile(cfg, []byte(s.config(shared)), 0o600); err != nil {
		return err
	}
	if out, err := exec.Command(SSHD, "-t", "-f", cfg).CombinedOutput(); err != nil {
		return fmt.Errorf("sshd -t -f %s: %v: %s", cfg, err, out)
	}
	s.stderr.Reset()
	cmd := exec.Command(SSHD, "-D", "-e", "-f", cfg)
	cmd.Stderr = s.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", SSHD, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	if err := waitBanner(s.Addr, exited); err != nil {
		s.Kill()
		return fmt.Errorf("sshd on %s: %w; sshd said: %s", s.Addr, err, s.stderr.String())
	}
	return nil
}

// waitBanner waits until addr answers with an SSH banner.
func waitBanner(addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("sshd exited")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 8)
			_, err = c.Read(buf)
			c.Close()
			if err == nil && bytes.HasPrefix(buf, []byte("SSH-2.0-")) {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no SSH banner within 5s: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// KnownHostsLine is the server's line in OpenSSH's known_hosts format.
func (s *Server) KnownHostsLine() string {
	host := s.Host
	if s.Port != 22 {
		host = "[" + s.Host + "]:" + strconv.Itoa(s.Port)
	}
	return host + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey)))
}

// WriteKnownHosts writes a known_hosts file holding only this server's key
// and returns its path.
func (s *Server) WriteKnownHosts(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(s.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Kill stops the daemon and every process it started, so open connections
// die as if the host went down. Calling it again does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	// Stop the listener first so it forks no more; then kill its children
	// and every process in their sessions, which catches a child forked
	// while we looked.
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGSTOP)
	sessions := map[int]bool{}
	ours, _ := unix.Getsid(0)
	for round := 0; round < 3; round++ {
		procs := processes()
		var victims []int
		for _, p := range procs.below(cmd.Process.Pid) {
			if sid := procs[p].sid; sid != ours {
				sessions[sid] = true
			}
			victims = append(victims, p)
		}
		for p, info := range procs {
			if sessions[info.sid] && info.sid != 0 {
				victims = append(victims, p)
			}
		}
		for _, p := range victims {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		for _, p := range victims {
			waitGone(p)
		}
		if round == 0 {
			_ = cmd.Process.Kill()
		}
	}
	// Wait until the port is free, so Restart can bind it again.
	for i := 0; i < 100; i++ {
		if c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond); err != nil {
			return
		} else {
			c.Close()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGone waits until pid has exited (a zombie counts as gone).
func waitGone(pid int) {
	for i := 0; i < 200; i++ {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proc is what /proc/PID/stat says of a process.
type proc struct{ ppid, sid int }

type procTable map[int]proc

// processes reads the process table.
func processes() procTable {
	t := procTable{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields after the last ')' are
		// state, ppid, pgrp, session.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) < 4 || f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		sid, _ := strconv.Atoi(f[3])
		t[pid] = proc{ppid: ppid, sid: sid}
	}
	return t
}

// below lists every process under pid.
func (t procTable) below(pid int) []int {
	children := map[int][]int{}
	for p, info := range t {
		children[info.ppid] = append(children[info.ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		out = append(out, children[p]...)
		queue = append(queue, children[p]...)
	}
	return out
}

// Freeze stops the daemon and its connections with SIGSTOP, as a host that
// hangs or a network that drops every packet would look: connections stay
// open but nothing answers.
func (s *Server) Freeze() { s.signalAll(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() { s.signalAll(syscall.SIGCONT) }

func (s *Server) signalAll(sig syscall.Signal) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = syscall.Kill(cmd.Process.Pid, sig)
	for _, p := range processes().below(cmd.Process.Pid) {
		_ = syscall.Kill(p, sig)
	}
}

// Restart starts the server again on the same address with the same key.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Kill()
	if err := s.start(setup(t)); err != nil {
		t.Fatalf("sshtest: restart: %v", err)
	}
}

// RegenerateHostKey restarts the server with a new host key of the same
// type, as a reinstalled host or an attacker would present.
func (s *Server) RegenerateHostKey(t testing.TB) {
	t.Helper()
	s.Kill()
	s.writeHostKey(t)
	if err := s.start(setup(t)); err != nil {
		t.Fatalf("sshtest: restart with new host key: %v", err)
	}
}

// Dial returns a bare x/crypto client logged in as user with the client
// key, closed when the test ends; benchmarks use it as their baseline.
func (s *Server) Dial(t testing.TB, user string) *ssh.Client {
	t.Helper()
	_, signer := ClientKey(t)
	c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User:            user,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(s.HostKey),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		t.Fatalf("sshtest: dial %s as %s: %v", s.Addr, user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// lockedBuffer collects sshd's stderr from its own goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}
