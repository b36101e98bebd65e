package connection

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testSSHConfig = `
Host web*
  HostName %h.example.com
  User deploy
  Port 2222
  IdentityFile ~/.ssh/id_web
  IdentityFile /keys/%r@%h
  IdentitiesOnly yes

Host db1
  HostName 10.0.0.5
  ProxyJump bastion
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/.ssh/known_db /etc/ssh/known_db
  ConnectTimeout 3
  ServerAliveInterval 7

Host * !db1
  User fallback
`

func TestSSHConfigResolve(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config")
	os.WriteFile(p, []byte(testSSHConfig), 0o600)
	c, err := loadSSHConfig(p, true, "/home/me")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		alias string
		want  hostSettings
	}{
		{"web1", hostSettings{HostName: "web1.example.com", User: "deploy", Port: 2222, IdentitiesOnly: true,
			IdentityFiles: []string{"/home/me/.ssh/id_web", "/keys/deploy@web1.example.com"}}},
		{"db1", hostSettings{HostName: "10.0.0.5", ProxyJump: "bastion", StrictHostKeyChecking: "accept-new",
			UserKnownHostsFiles: []string{"/home/me/.ssh/known_db", "/etc/ssh/known_db"}, ConnectTimeout: 3 * time.Second, ServerAliveInterval: 7 * time.Second}},
		{"other", hostSettings{User: "fallback"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, c.resolve(tt.alias)); diff != "" {
			t.Errorf("resolve(%q) (-want +got):\n%s", tt.alias, diff)
		}
	}
	var none *sshConfig
	if got := none.resolve("x"); !cmp.Equal(got, hostSettings{}) {
		t.Errorf("nil config resolved to %+v", got)
	}
}

// TestSSHConfigMatchesOpenSSH compares a few values with `ssh -G`, the
// authority on ssh_config semantics.
func TestSSHConfigMatchesOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ssh client missing")
		}
		t.Skip("ssh client missing")
	}
	p := filepath.Join(t.TempDir(), "config")
	os.WriteFile(p, []byte(testSSHConfig), 0o600)
	c, _ := loadSSHConfig(p, true, os.Getenv("HOME"))
	for _, alias := range []string{"web1", "db1", "other"} {
		out, err := exec.Command("ssh", "-G", "-F", p, alias).Output()
		if err != nil {
			t.Fatalf("ssh -G %s: %v", alias, err)
		}
		g := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(line, " "); ok {
				if _, dup := g[k]; !dup {
					g[k] = v
				}
			}
		}
		s := c.resolve(alias)
		if want := g["hostname"]; orDefault(s.HostName, alias) != want {
			t.Errorf("%s: hostname %q, ssh -G says %q", alias, s.HostName, want)
		}
		if want := g["user"]; s.User != "" && s.User != want {
			t.Errorf("%s: user %q, ssh -G says %q", alias, s.User, want)
		}
		if want := g["port"]; s.Port != 0 && want != strconv.Itoa(s.Port) {
			t.Errorf("%s: port %d, ssh -G says %q", alias, s.Port, want)
		}
	}
}

func TestSSHConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, text, want string }{
		{"bad port", "Host a\n  Port abc\n", ":2: Port \"abc\": want a port number"},
		{"bad timeout", "Host a\n\n  ConnectTimeout soon\n", ":3: ConnectTimeout"},
		{"bad policy", "Host a\n  StrictHostKeyChecking maybe\n", "want yes, no, ask, off or accept-new"},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		os.WriteFile(p, []byte(tt.text), 0o600)
		_, err := loadSSHConfig(p, true, dir)
		if err == nil || !strings.Contains(err.Error(), p+tt.want) && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if c, err := loadSSHConfig(filepath.Join(dir, "none"), false, dir); err != nil || c != nil {
		t.Errorf("missing default config: %v, %v", c, err)
	}
	if _, err := loadSSHConfig(filepath.Join(dir, "none"), true, dir); err == nil {
		t.Error("missing explicit config gave no error")
	}
}
