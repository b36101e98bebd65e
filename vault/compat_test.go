package vault

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ansibleVault runs the real ansible-vault, skipping (failing under
// CI=true) when ansible-core is missing.
func ansibleVault(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	p, err := exec.LookPath("ansible-vault")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-vault not found; CI must compare with the real Ansible")
		}
		t.Skip("ansible-vault not found")
	}
	cmd := exec.Command(p, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir())
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ansible-vault %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompatWithAnsibleVault encrypts with each tool and decrypts with the
// other, for both formats and awkward plaintexts.
func TestCompatWithAnsibleVault(t *testing.T) {
	big := make([]byte, 10<<20)
	rand.Read(big)
	plaintexts := map[string][]byte{
		"empty":      {},
		"text":       []byte("db_password: s3cret\n"),
		"multi-line": []byte("line 1\nline 2\n\nline 4 with ünïcödé\n"),
		"binary":     {0, 1, 2, 255, 254, '\n', 0, 16, 16},
		"10MB":       big,
	}
	pwFile := writeFile(t, "pw", []byte("correct horse\n"))
	for _, label := range []string{"", "prod"} {
		for name, plain := range plaintexts {
			if name == "10MB" && label != "" {
				continue // once is enough for the big one
			}
			t.Run(name+"/"+labelOr(label), func(t *testing.T) {
				id := pwFile
				if label != "" {
					id = label + "@" + pwFile
				}
				k := NewKeyring(mustSecret(t, label, "correct horse"))

				// ansible-vault → drover
				src := writeFile(t, "plain", plain)
				enc := filepath.Join(filepath.Dir(src), "enc")
				ansibleVault(t, nil, "encrypt", "--vault-id", id, "--output", enc, src)
				data, _ := os.ReadFile(enc)
				got, err := k.Decrypt(data)
				if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("drover decrypting ansible-vault's text: %v", err)
				}
				if wantHeader := map[string]string{"": "$ANSIBLE_VAULT;1.1;AES256\n", "prod": "$ANSIBLE_VAULT;1.2;AES256;prod\n"}[label]; !bytes.HasPrefix(data, []byte(wantHeader)) {
					t.Fatalf("ansible-vault header %q", data[:40])
				}

				// drover → ansible-vault
				ours, err := k.Encrypt(plain)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(ours[:bytes.IndexByte(ours, '\n')+1], data[:bytes.IndexByte(data, '\n')+1]) {
					t.Fatalf("headers differ: %q vs %q", ours[:40], data[:40])
				}
				back := ansibleVault(t, nil, "decrypt", "--vault-id", id, "--output", "-", writeFile(t, "ours", ours))
				if !bytes.Equal(back, plain) {
					t.Fatalf("ansible-vault decrypt of drover's text gave %d bytes, want %d", len(back), len(plain))
				}
			})
		}
	}
}

// TestCompatSeveralIDs: a file encrypted for one id opens with a keyring
// holding several, and encrypt_string output decrypts with drover.
func TestCompatSeveralIDs(t *testing.T) {
	dev := writeFile(t, "dev", []byte("dev-pass"))
	prod := writeFile(t, "prod", []byte("prod-pass"))
	out := ansibleVault(t, nil, "encrypt_string", "--vault-id", "dev@"+dev, "--vault-id", "prod@"+prod, "--encrypt-vault-id", "prod", "--name", "api_key", "k-123")
	text := string(out)
	if !strings.HasPrefix(text, "api_key: !vault |\n          $ANSIBLE_VAULT;1.2;AES256;prod\n") {
		t.Fatalf("encrypt_string output: %q", text)
	}
	var lines []string
	for _, l := range strings.Split(text, "\n")[1:] {
		lines = append(lines, strings.TrimSpace(l))
	}
	k := NewKeyring(mustSecret(t, "dev", "dev-pass"), mustSecret(t, "prod", "prod-pass"))
	got, err := k.Decrypt([]byte(strings.Join(lines, "\n")))
	if err != nil || string(got) != "k-123" {
		t.Fatalf("decrypting encrypt_string output: %q, %v", got, err)
	}
}
