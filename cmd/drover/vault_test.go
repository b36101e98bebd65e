package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVaultCommands(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	pw := write(t, dir, "pw", "hunter42\n", 0o600)
	newPW := write(t, dir, "newpw", "hunter43\n", 0o600)
	script := write(t, dir, "pass.sh", "#!/bin/sh\necho hunter42\n", 0o755)
	client := write(t, dir, "keyring-client.sh", "#!/bin/sh\n[ \"$2\" = prod ] && echo hunter42 && exit 0\nexit 2\n", 0o755)
	secret := write(t, dir, "secret.yml", "db_password: s3cret\n", 0o640)

	if code, _, errOut := drover(t, "vault", "encrypt", "--vault-password-file", pw, secret); code != 0 {
		t.Fatalf("encrypt: %d %s", code, errOut)
	}
	data, _ := os.ReadFile(secret)
	fi, _ := os.Stat(secret)
	if !bytes.HasPrefix(data, []byte("$ANSIBLE_VAULT;1.1;AES256\n")) || fi.Mode().Perm() != 0o640 {
		t.Fatalf("encrypted file: mode %v, %q", fi.Mode(), data[:30])
	}
	for _, id := range []string{"--vault-password-file=" + script, "--vault-id=prod@" + client} {
		code, out, errOut := drover(t, "vault", "view", id, secret)
		if code != 0 || out != "db_password: s3cret\n" {
			t.Errorf("view with %s: %d %q %s", id, code, out, errOut)
		}
	}
	if code, _, errOut := drover(t, "vault", "rekey", "--vault-password-file", pw, "--new-vault-password-file", newPW, secret); code != 0 {
		t.Fatalf("rekey: %d %s", code, errOut)
	}
	code, _, errOut := drover(t, "vault", "view", "--vault-password-file", pw, secret)
	if code != 1 || !strings.Contains(errOut, secret) || !strings.Contains(errOut, "no vault secret decrypts") {
		t.Errorf("old password after rekey: %d %q", code, errOut)
	}
	if code, _, errOut := drover(t, "vault", "decrypt", "--vault-password-file", newPW, secret); code != 0 {
		t.Fatalf("decrypt: %d %s", code, errOut)
	}
	if data, _ := os.ReadFile(secret); string(data) != "db_password: s3cret\n" {
		t.Fatalf("decrypted file %q", data)
	}

	// encrypt-string, read back by drover through an inventory.
	code, out, _ := drover(t, "vault", "encrypt-string", "--vault-id", "prod@"+pw, "-n", "api_key", "k-123")
	if code != 0 || !strings.HasPrefix(out, "api_key: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Fatalf("encrypt-string: %d %q", code, out)
	}
	inv := write(t, dir, "inv.yml", "all:\n  hosts:\n    h1:\n  vars:\n"+indent(out, "    "), 0o644)
	code, out, errOut = drover(t, "inventory", "-i", inv, "--host", "h1")
	if code != 0 || !strings.Contains(out, `"__ansible_vault": "$ANSIBLE_VAULT;1.2;AES256;prod\n`) || strings.Contains(out, "k-123") {
		t.Fatalf("inventory with !vault: %d %q %s", code, out, errOut)
	}

	// create and edit through $EDITOR; the temp file is private and removed.
	editor := write(t, dir, "editor.sh", "#!/bin/sh\nstat -c %a \"$1\" > "+dir+"/mode\necho \"edited by $(basename $1)\" >> \"$1\"\n", 0o755)
	t.Setenv("EDITOR", editor)
	created := filepath.Join(dir, "created.yml")
	if code, _, errOut := drover(t, "vault", "create", "--vault-password-file", pw, created); code != 0 {
		t.Fatalf("create: %d %s", code, errOut)
	}
	if code, _, errOut := drover(t, "vault", "edit", "--vault-password-file", pw, created); code != 0 {
		t.Fatalf("edit: %d %s", code, errOut)
	}
	if code, out, _ := drover(t, "vault", "view", "--vault-password-file", pw, created); code != 0 || out != "edited by created.yml\nedited by created.yml\n" {
		t.Errorf("after create+edit: %q", out)
	}
	if mode, _ := os.ReadFile(filepath.Join(dir, "mode")); string(mode) != "600\n" {
		t.Errorf("editor's temp file mode %q, want 600", mode)
	}
}

func indent(s, by string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = by + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestVaultBadInput(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	pw := write(t, dir, "pw", "hunter42\n", 0o600)
	plain := write(t, dir, "plain.txt", "hello\n", 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a vault file", []string{"vault", "view", "--vault-password-file", pw, plain}, plain + " is not a vault-encrypted file"},
		{"missing password file", []string{"vault", "view", "--vault-password-file", dir + "/nope", plain}, dir + "/nope"},
		{"failing password script", []string{"vault", "view", "--vault-password-file", write(t, dir, "bad.sh", "#!/bin/sh\necho 'keyring locked' >&2\nexit 3\n", 0o755), plain}, "exited with status 3: keyring locked"},
		{"empty password file", []string{"vault", "view", "--vault-password-file", write(t, dir, "empty", "\n", 0o600), plain}, "is empty"},
		{"unknown encrypt id", []string{"vault", "encrypt-string", "--vault-id", "a@" + pw, "--encrypt-vault-id", "b", "x"}, `"b" matches none`},
		{"truncated", []string{"vault", "view", "--vault-password-file", pw, write(t, dir, "trunc", "$ANSIBLE_VAULT;1.1;AES256\n6162", 0o600)}, "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := drover(t, tt.args...)
			if code != 1 || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut, tt.want)
			}
		})
	}
}

// TestVaultStringForAnsiblePlaybook: drover's encrypt-string output is
// read by the real ansible-playbook.
func TestVaultStringForAnsiblePlaybook(t *testing.T) {
	isolate(t)
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-playbook not found")
		}
		t.Skip("ansible-playbook not found")
	}
	dir := t.TempDir()
	pw := write(t, dir, "pw", "hunter42\n", 0o600)
	_, out, _ := drover(t, "vault", "encrypt-string", "--vault-password-file", pw, "-n", "token", "multi\nline secret")
	write(t, dir, "vars.yml", out, 0o644)
	play := write(t, dir, "play.yml", "- hosts: localhost\n  gather_facts: false\n  vars_files: [vars.yml]\n  tasks:\n    - debug: {msg: \"{{ token }}\"}\n", 0o644)
	cmd := exec.Command(bin, "--vault-password-file", pw, play)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_NOCOLOR=1")
	got, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(got), `"msg": "multi\nline secret"`) {
		t.Fatalf("ansible-playbook: %v\n%s", err, got)
	}
}
