package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover/drover/connection/sshtest"
)

// TestMain turns connection persistence off for the tests, which start
// and stop their own servers; TestPersistAcrossRuns turns it on.
func TestMain(m *testing.M) {
	os.Setenv("DROVER_PERSIST", "0")
	os.Exit(sshtest.Main(m))
}

// drover runs the command in-process and returns exit code and output.
func drover(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// isolate gives the test its own HOME, so no ~/.ssh of the machine leaks in.
func isolate(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("DROVER_KNOWN_HOSTS", "")
	return home
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := drover(t, "version")
	if code != 0 || !strings.HasPrefix(out, "drover ") {
		t.Errorf("version: %d %q", code, out)
	}
	code, out, _ = drover(t, "exec", "--help")
	if code != 0 || !strings.Contains(out, "4    some host unreachable") || !strings.Contains(out, "--become-method") {
		t.Errorf("exec --help: %d %q", code, out)
	}
	code, out, _ = drover(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "drover") {
		t.Errorf("completion bash: %d", code)
	}
}

func TestExecLocal(t *testing.T) {
	isolate(t)
	dest := filepath.Join(t.TempDir(), "hi")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
	}{
		{"ping", []string{"exec", "localhost", "-m", "ping"}, 0, "localhost | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}\n"},
		{"command", []string{"exec", "localhost", "-a", "echo 'a  b'"}, 0, "localhost | CHANGED | rc=0 >>\na  b\n"},
		{"shell one line", []string{"exec", "localhost", "-m", "shell", "-a", "echo a; echo b", "-o"}, 0, "localhost | CHANGED | rc=0 | (stdout) a\\nb\n"},
		{"raw", []string{"exec", "localhost", "-m", "raw", "-a", "echo raw"}, 0, "localhost | CHANGED | rc=0 >>\nraw\n\n"},
		{"copy", []string{"exec", "localhost", "-m", "copy", "-a", `content="hi\n" dest=` + dest + " mode=0644"}, 0, "localhost | CHANGED => {"},
		{"copy again", []string{"exec", "localhost", "-m", "copy", "-a", `content="hi\n" dest=` + dest + " mode=0644"}, 0, "localhost | SUCCESS => {"},
		{"failed command", []string{"exec", "localhost", "-m", "shell", "-a", "exit 3"}, 2, "localhost | FAILED | rc=3 >>\nnon-zero return code\n"},
		{"list hosts", []string{"exec", "localhost", "--list-hosts"}, 0, "  hosts (1):\n    localhost\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := drover(t, tt.args...)
			if code != tt.wantCode || !strings.HasPrefix(out, tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, stdout starting %q", code, out, errOut, tt.wantCode, tt.wantOut)
			}
		})
	}
	if data, err := os.ReadFile(dest); err != nil || string(data) != "hi\n" {
		t.Errorf("copy wrote %q, %v", data, err)
	}
}

func TestExecBadInput(t *testing.T) {
	isolate(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		wantOut  string
	}{
		{"unknown module", []string{"exec", "localhost", "-m", "cpy"}, 1, "ERROR! unknown module cpy; did you mean copy?", ""},
		{"unbalanced quote", []string{"exec", "localhost", "-m", "copy", "-a", `content="x dest=/tmp/x`}, 1, "unclosed \" quote", ""},
		{"no command", []string{"exec", "localhost"}, 1, "no argument passed to command module", ""},
		{"bad flag", []string{"exec", "localhost", "--nope"}, 1, "unknown flag: --nope", ""},
		{"bad policy", []string{"exec", "localhost", "-a", "true", "--host-key-checking", "maybe"}, 1, "use strict, accept-new or off", ""},
		{"missing ssh config", []string{"exec", "web1,", "-a", "true", "--ssh-config", "/nonexistent/config"}, 1, "/nonexistent/config", ""},
		{"unknown argument", []string{"exec", "localhost", "-m", "copy", "-a", "content=x dest=/tmp/x mod=0644"}, 2, "", "did you mean mode?"},
		{"unknown host", []string{"exec", "nohost.invalid,", "-a", "true"}, 4, "", "nohost.invalid | UNREACHABLE! =>"},
		{"no hosts", []string{"exec", "-i", "web1,", "db1", "-a", "true"}, 0, "No hosts matched", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := drover(t, tt.args...)
			if code != tt.wantCode || !strings.Contains(errOut, tt.wantErr) || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d with %q / %q", code, out, errOut, tt.wantCode, tt.wantErr, tt.wantOut)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
				t.Errorf("stderr is not one clear line: %q", errOut)
			}
		})
	}
}

func TestExecSSH(t *testing.T) {
	home := isolate(t)
	a, b := sshtest.Start(t, sshtest.Options{}), sshtest.Start(t, sshtest.Options{})
	users := sshtest.TestUsers(t)
	key, _ := sshtest.ClientKey(t)
	known := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(known, []byte(a.KnownHostsLine()+"\n"+b.KnownHostsLine()+"\n"), 0o600)
	hosts := fmt.Sprintf("%s,%s,", a.Addr, b.Addr)
	base := []string{"exec", hosts, "-u", users.Login, "--private-key", key, "--known-hosts", known}

	// command expands $VARS on the host as Ansible's does, but runs no shell.
	code, out, errOut := drover(t, append(base, "-m", "command", "-a", "echo $SSH_CONNECTION ; $NOT_SET_HERE")...)
	if code != 0 || strings.Count(out, "| CHANGED | rc=0 >>") != 2 || !strings.Contains(out, " "+a.Host+" ") || !strings.Contains(out, "; $NOT_SET_HERE") {
		t.Fatalf("command on two hosts: exit %d\n%s%s", code, out, errOut)
	}
	if users.Root {
		code, out, errOut = drover(t, append(base, "-b", "-m", "shell", "-a", "id -u; cat /etc/shadow | wc -l", "-o")...)
		if code != 0 || strings.Count(out, "| CHANGED | rc=0 | (stdout) 0\\n") != 2 {
			t.Fatalf("become: exit %d\n%s%s", code, out, errOut)
		}
	}

	// An unknown host key stops that host only, with its fingerprint.
	c := sshtest.Start(t, sshtest.Options{})
	code, out, _ = drover(t, append(base[:1:1], c.Addr+","+a.Addr+",", "-u", users.Login, "--private-key", key, "--known-hosts", known, "-a", "true", "-o")...)
	if code != 4 || !strings.Contains(out, c.Host+" | UNREACHABLE!: ") || !strings.Contains(out, "SHA256:") || !strings.Contains(out, a.Host+" | CHANGED") {
		t.Fatalf("unknown key: exit %d\n%s", code, out)
	}
	// accept-new records it in ~/.ssh/known_hosts.
	code, out, _ = drover(t, "exec", c.Addr+",", "-u", users.Login, "--private-key", key, "--host-key-checking", "accept-new", "-a", "true")
	if data, err := os.ReadFile(filepath.Join(home, ".ssh", "known_hosts")); code != 0 || err != nil || len(data) == 0 {
		t.Fatalf("accept-new: exit %d, %s, known_hosts %q %v", code, out, data, err)
	}
}

// fixedPrompter answers every question with the same secret.
type fixedPrompter struct{ answer string }

func (p fixedPrompter) Prompt(context.Context, string) (string, error) { return p.answer, nil }

// TestSecretsNeverPrinted runs become with a password at -vvvv, right and
// wrong, and greps everything drover printed for the password.
func TestSecretsNeverPrinted(t *testing.T) {
	sshtest.RequireRoot(t)
	isolate(t)
	s := sshtest.Start(t, sshtest.Options{})
	users := sshtest.TestUsers(t)
	key, _ := sshtest.ClientKey(t)
	known := s.WriteKnownHosts(t)
	for _, pw := range []string{users.SudoPassword, "wrong-" + users.SudoPassword} {
		var stdout, stderr bytes.Buffer
		g := &globalOptions{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, prompter: fixedPrompter{pw}}
		code := runWith(g, []string{"exec", s.Addr + ",", "-vvvv", "-u", users.SudoPass, "--private-key", key, "--known-hosts", known,
			"-b", "-K", "-m", "shell", "-a", "id -u"})
		all := stdout.String() + stderr.String()
		if strings.Contains(all, pw) {
			t.Fatalf("the become password appears in the output:\n%s", all)
		}
		if !strings.Contains(stderr.String(), "remote command") {
			t.Errorf("-vvvv logged no remote commands:\n%s", stderr.String())
		}
		wantCode, wantOut := 0, "| CHANGED | rc=0 >>\n0"
		if pw != users.SudoPassword {
			wantCode, wantOut = 2, "incorrect become password"
		}
		if code != wantCode || !strings.Contains(stdout.String(), wantOut) {
			t.Errorf("exit %d, stdout %q; want %d with %q", code, stdout.String(), wantCode, wantOut)
		}
	}
}

// TestVaultAndBecomeSecretsNeverPrinted: the become password comes from a
// !vault inventory variable; neither it nor the vault password appears in
// anything drover prints at -vvvv.
func TestVaultAndBecomeSecretsNeverPrinted(t *testing.T) {
	sshtest.RequireRoot(t)
	isolate(t)
	s := sshtest.Start(t, sshtest.Options{})
	users := sshtest.TestUsers(t)
	key, _ := sshtest.ClientKey(t)
	known := s.WriteKnownHosts(t)
	dir := t.TempDir()
	vaultPW := "vault-" + users.SudoPassword[:8]
	pwFile := write(t, dir, "pw", vaultPW+"\n", 0o600)
	_, enc, _ := drover(t, "vault", "encrypt-string", "--vault-password-file", pwFile, "-n", "ansible_become_password", users.SudoPassword)
	inv := write(t, dir, "inv.yml", fmt.Sprintf("all:\n  hosts:\n    web1:\n      ansible_host: %s\n      ansible_port: %d\n      ansible_user: %s\n      ansible_ssh_private_key_file: %s\n%s",
		s.Host, s.Port, users.SudoPass, key, indent(enc, "      ")), 0o644)
	code, out, errOut := drover(t, "exec", "web1", "-i", inv, "--known-hosts", known, "--vault-password-file", pwFile, "-vvvv", "-b", "-a", "id -u")
	all := out + errOut
	if code != 0 || !strings.Contains(out, "web1 | CHANGED | rc=0 >>\n0") {
		t.Fatalf("exit %d\n%s", code, all)
	}
	for _, secret := range []string{users.SudoPassword, vaultPW} {
		if strings.Contains(all, secret) {
			t.Fatalf("a secret appears in the output:\n%s", all)
		}
	}
}
