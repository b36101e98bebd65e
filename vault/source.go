package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Prompter asks the person at the terminal for a secret.
type Prompter interface {
	Prompt(ctx context.Context, question string) (string, error)
}

// ParseVaultID splits a --vault-id value, [label@]source, as Ansible does;
// a missing label is "default".
func ParseVaultID(s string) (label, source string) {
	if i := strings.Index(s, "@"); i >= 0 {
		return labelOr(s[:i]), s[i+1:]
	}
	return DefaultLabel, s
}

// LoadSecret reads the secret for label from source: "prompt" (asks on the
// terminal), an executable (its stdout is the password; a script whose
// name ends in -client is asked with --vault-id LABEL), or a file whose
// content, stripped, is the password.
func LoadSecret(ctx context.Context, label, source string, p Prompter) (*Secret, error) {
	label = labelOr(label)
	switch source {
	case "prompt", "prompt_ask_vault_pass":
		if p == nil {
			return nil, fmt.Errorf("vault: vault id %s wants a prompt but there is no terminal; use a password file", label)
		}
		question := "Vault password (" + label + "): "
		if source == "prompt_ask_vault_pass" || label == DefaultLabel {
			question = "Vault password: "
		}
		pw, err := p.Prompt(ctx, question)
		if err != nil {
			return nil, fmt.Errorf("vault: read password for vault id %s: %w", label, err)
		}
		return NewSecret(label, []byte(pw))
	}
	fi, err := os.Stat(source)
	if err != nil {
		return nil, fmt.Errorf("vault: password file %s: %w; check --vault-password-file / --vault-id", source, errors.Unwrap(err))
	}
	if fi.Mode()&0o111 != 0 && !fi.IsDir() {
		return scriptSecret(ctx, label, source)
	}
	data, err := os.ReadFile(source)
	if err != nil {
		return nil, fmt.Errorf("vault: read password file %s: %w", source, errors.Unwrap(err))
	}
	data = bytes.TrimSpace(data)
	if IsEncrypted(data) {
		return nil, fmt.Errorf("vault: password file %s is itself vault-encrypted; give a plain password file", source)
	}
	s, err := NewSecret(label, bytes.Trim(data, "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("vault: password file %s is empty", source)
	}
	return s, nil
}

// scriptSecret runs a password script.
func scriptSecret(ctx context.Context, label, path string) (*Secret, error) {
	var args []string
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	client := strings.HasSuffix(stem, "-client")
	if client {
		args = []string{"--vault-id", label}
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && client && exit.ExitCode() == 2:
		return nil, fmt.Errorf("vault: password script %s does not know vault id %q", path, label)
	case errors.As(err, &exit):
		return nil, fmt.Errorf("vault: password script %s exited with status %d: %s", path, exit.ExitCode(), oneLine(stderr.String()))
	case err != nil:
		return nil, fmt.Errorf("vault: run password script %s: %w", path, err)
	}
	s, err := NewSecret(label, bytes.Trim(stdout.Bytes(), "\r\n"))
	if err != nil {
		return nil, fmt.Errorf("vault: password script %s printed no password", path)
	}
	return s, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
