package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover/drover/connection/sshtest"
)

// TestExecWithInventoryFile reaches hosts through connection variables
// from an INI inventory: ansible_host, ansible_port, ansible_user,
// ansible_ssh_private_key_file, and a jump host in ansible_ssh_common_args.
func TestExecWithInventoryFile(t *testing.T) {
	isolate(t)
	jump, a, b := sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})
	users := sshtest.TestUsers(t)
	key, _ := sshtest.ClientKey(t)
	known := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(known, []byte(jump.KnownHostsLine()+"\n"+a.KnownHostsLine()+"\n"+b.KnownHostsLine()+"\n"), 0o600)
	inv := filepath.Join(t.TempDir(), "hosts")
	text := fmt.Sprintf(`[web]
web1 ansible_host=%s ansible_port=%d
web2 ansible_host=%s ansible_port=%d ansible_ssh_common_args='-J %s@%s:%d'
[web:vars]
ansible_user=%s
ansible_ssh_private_key_file=%s
[db]
db1 ansible_host=127.0.1.254 ansible_port=1
`, a.Host, a.Port, b.Host, b.Port, users.Login, jump.Host, jump.Port, users.Login, key)
	os.WriteFile(inv, []byte(text), 0o644)

	code, out, errOut := drover(t, "exec", "web", "-i", inv, "--known-hosts", known, "-a", "echo $SSH_CONNECTION", "-o")
	if code != 0 || !strings.Contains(out, "web1 | CHANGED") || !strings.Contains(out, "web2 | CHANGED") {
		t.Fatalf("exec web: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = drover(t, "exec", "all", "-i", inv, "--known-hosts", known, "-l", "db*", "-a", "true", "-T", "2")
	if code != 4 || !strings.Contains(out, "db1 | UNREACHABLE!") || strings.Contains(out, "web1") {
		t.Fatalf("exec all -l db*: exit %d\n%s", code, out)
	}
	code, out, _ = drover(t, "exec", "web", "-i", inv, "--list-hosts")
	if code != 0 || out != "  hosts (2):\n    web1\n    web2\n" {
		t.Fatalf("--list-hosts: %d %q", code, out)
	}
}

func TestInventoryCommand(t *testing.T) {
	isolate(t)
	inv := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(inv, []byte("[web]\nw[1:2] port=80\n[web:vars]\nenv=prod\n"), 0o644)
	code, out, _ := drover(t, "inventory", "-i", inv, "--list")
	if code != 0 || !strings.Contains(out, `"hosts": [`) || !strings.Contains(out, `"env": "prod"`) {
		t.Errorf("--list: %d\n%s", code, out)
	}
	code, out, _ = drover(t, "inventory", "-i", inv, "--graph")
	if code != 0 || out != "@all:\n  |--@ungrouped:\n  |--@web:\n  |  |--w1\n  |  |--w2\n" {
		t.Errorf("--graph: %d %q", code, out)
	}
	code, out, _ = drover(t, "inventory", "-i", inv, "--host", "w2")
	if code != 0 || out != "{\n    \"env\": \"prod\",\n    \"port\": 80\n}\n" {
		t.Errorf("--host: %d %q", code, out)
	}
	dest := filepath.Join(t.TempDir(), "inv.yml")
	if code, _, _ = drover(t, "inventory", "-i", inv, "--list", "--yaml", "--output", dest); code != 0 {
		t.Errorf("--output: %d", code)
	}
	if data, _ := os.ReadFile(dest); !strings.HasPrefix(string(data), "all:\n") {
		t.Errorf("--output wrote %q", data)
	}
	t.Setenv("DROVER_INVENTORY", inv)
	if code, out, _ = drover(t, "inventory", "--host", "w1"); code != 0 || !strings.Contains(out, "prod") {
		t.Errorf("DROVER_INVENTORY: %d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.WriteFile(bad, []byte("[web]\nweb[01:5]\n"), 0o644)
	code, _, errOut := drover(t, "inventory", "-i", bad, "--list")
	if code != 1 || !strings.Contains(errOut, bad+":2") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("bad inventory: %d %q", code, errOut)
	}
	if code, _, errOut = drover(t, "inventory", "-i", inv); code != 1 || !strings.Contains(errOut, "--list") {
		t.Errorf("no mode: %d %q", code, errOut)
	}
}
