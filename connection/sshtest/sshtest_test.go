package sshtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func run(t *testing.T, s *Server, user, line, stdin string) (string, error) {
	t.Helper()
	c := s.Dial(t, user)
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.Stdin = strings.NewReader(stdin)
	out, err := sess.CombinedOutput(line)
	return string(out), err
}

func TestServers(t *testing.T) {
	a, b := Start(t, Options{}), Start(t, Options{HostKeyType: "rsa"})
	if a.Addr == b.Addr {
		t.Fatalf("two servers share %s", a.Addr)
	}
	users := TestUsers(t)
	for _, s := range []*Server{a, b} {
		out, err := run(t, s, users.Login, "id -un; echo $SSH_CONNECTION", "")
		if err != nil || !strings.HasPrefix(out, users.Login+"\n") || !strings.Contains(out, s.Host) {
			t.Fatalf("%s: %q, %v", s.Addr, out, err)
		}
	}
	old := a.HostKey
	a.RegenerateHostKey(t)
	if string(old.Marshal()) == string(a.HostKey.Marshal()) {
		t.Error("RegenerateHostKey kept the key")
	}
	if _, err := run(t, a, users.Login, "true", ""); err != nil {
		t.Fatalf("after RegenerateHostKey: %v", err)
	}
	c := b.Dial(t, users.Login)
	b.Kill()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		sess, err := c.NewSession()
		if err != nil {
			break
		}
		sess.Close()
		if time.Now().After(deadline) {
			out, _ := exec.Command("sh", "-c", "ss -tnp | grep "+b.Host+"; ps -eo pid,ppid,stat,args | grep -i sshd").CombinedOutput()
			t.Fatalf("connection to a killed server stayed open: %s", out)
		}
	}
	b.Restart(t)
	if _, err := run(t, b, users.Login, "true", ""); err != nil {
		t.Fatalf("after Restart: %v", err)
	}
}

func TestSudoRules(t *testing.T) {
	RequireRoot(t)
	s := Start(t, Options{})
	u := TestUsers(t)
	if out, err := run(t, s, u.Login, "sudo -n id -u", ""); err != nil || out != "0\n" {
		t.Errorf("Login sudo -n: %q, %v", out, err)
	}
	if _, err := run(t, s, u.SudoPass, "sudo -n true", ""); err == nil {
		t.Error("SudoPass ran sudo without a password")
	}
	if out, err := run(t, s, u.SudoPass, "sudo -S -p '' id -u", u.SudoPassword+"\n"); err != nil || out != "0\n" {
		t.Errorf("SudoPass with password: %q, %v", out, err)
	}
	if _, err := run(t, s, u.Plain, "sudo -n true", ""); err == nil {
		t.Error("Plain ran sudo")
	}
}
