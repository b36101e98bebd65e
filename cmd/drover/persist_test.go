package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/drover/drover/connection/sshtest"
)

// TestPersistAcrossRuns runs the built binary twice: the second run reuses
// the connection the first one left with the daemon it started.
func TestPersistAcrossRuns(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "drover")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil { // before isolate: HOME holds the build cache
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home := isolate(t)
	s := sshtest.Start(t, sshtest.Options{})
	users := sshtest.TestUsers(t)
	key, _ := sshtest.ClientKey(t)
	known := s.WriteKnownHosts(t)
	runtime := t.TempDir()
	env := append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+runtime, "DROVER_PERSIST=30s")
	dir := filepath.Join(runtime, "drover")
	t.Cleanup(func() { stopDaemon(t, dir) })
	var ports []string
	for range 2 {
		cmd := exec.Command(bin, "exec", s.Addr+",", "-u", users.Login, "--private-key", key, "--known-hosts", known, "-m", "shell", "-a", "echo $SSH_CONNECTION", "-o")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		fields := strings.Fields(string(out))
		if err != nil || len(fields) < 8 {
			t.Fatalf("drover exec: %v\n%s", err, out)
		}
		ports = append(ports, fields[len(fields)-3])
	}
	if ports[0] != ports[1] {
		t.Errorf("the second run came from port %s, the first from %s: the connection was not kept", ports[1], ports[0])
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("daemon directory: %v %v", fi, err)
	}
}

// stopDaemon ends the daemon serving dir, whose pid is in its lock file.
func stopDaemon(t *testing.T, dir string) {
	data, err := os.ReadFile(filepath.Join(dir, "persist-v1.lock"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		t.Errorf("no daemon pid: %q %v", data, err)
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	t.Errorf("daemon %d still runs", pid)
}
