package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/drover/drover/vault"
	"github.com/spf13/cobra"
)

func newVaultCommand(g *globalOptions) *cobra.Command {
	var o vaultOptions
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Create, encrypt, decrypt, view, edit and rekey ansible-vault files",
	}
	o.AddFlags(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&o.encryptID, "encrypt-vault-id", "", "vault id to encrypt with (default: the first given)")
	var output string
	withOutput := func(c *cobra.Command) *cobra.Command {
		c.Flags().StringVar(&output, "output", "", "write the result to this file ('-' for stdout) instead of in place")
		return c
	}
	cmd.AddCommand(
		&cobra.Command{Use: "create FILE", Short: "Create a new encrypted file with $EDITOR", Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error { return vaultCreate(c.Context(), g, &o, args[0]) }},
		withOutput(&cobra.Command{Use: "encrypt [FILE...]", Short: "Encrypt files (or stdin) in place",
			RunE: func(c *cobra.Command, args []string) error {
				return vaultTransform(c.Context(), g, &o, args, output, true)
			}}),
		withOutput(&cobra.Command{Use: "decrypt [FILE...]", Short: "Decrypt files (or stdin) in place",
			RunE: func(c *cobra.Command, args []string) error {
				return vaultTransform(c.Context(), g, &o, args, output, false)
			}}),
		&cobra.Command{Use: "view FILE...", Short: "Print decrypted files", Args: cobra.MinimumNArgs(1),
			RunE: func(c *cobra.Command, args []string) error { return vaultView(c.Context(), g, &o, args) }},
		&cobra.Command{Use: "edit FILE", Short: "Edit an encrypted file with $EDITOR", Args: cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error { return vaultEdit(c.Context(), g, &o, args[0]) }},
		newRekeyCommand(g, &o),
		newEncryptStringCommand(g, &o),
	)
	return cmd
}

func vaultKeyring(ctx context.Context, g *globalOptions, o *vaultOptions) (*vault.Keyring, error) {
	k, err := o.keyring(ctx, g)
	if err != nil {
		return nil, &usageError{err}
	}
	if k.Len() == 0 {
		if k, err = (&vaultOptions{askPass: true, encryptID: o.encryptID}).keyring(ctx, g); err != nil {
			return nil, &usageError{err}
		}
	}
	return k, nil
}

// vaultTransform encrypts or decrypts files in place (atomically, mode
// kept), or stdin to stdout, or into --output.
func vaultTransform(ctx context.Context, g *globalOptions, o *vaultOptions, files []string, output string, encrypt bool) error {
	k, err := vaultKeyring(ctx, g, o)
	if err != nil {
		return err
	}
	if len(files) == 0 || len(files) == 1 && files[0] == "-" {
		data, err := io.ReadAll(g.stdin)
		if err != nil {
			return err
		}
		out, err := transform(k, "stdin", data, encrypt)
		if err != nil {
			return err
		}
		return writeOutput(g, orDash(output), out)
	}
	if output != "" && len(files) > 1 {
		return &usageError{errors.New("--output takes one input file")}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read %s: %w", f, errors.Unwrap(err))
		}
		out, err := transform(k, f, data, encrypt)
		if err != nil {
			return err
		}
		dest := f
		if output != "" {
			dest = output
		}
		if err := writeOutput(g, dest, out); err != nil {
			return err
		}
	}
	if isTerminal(g.stdout) {
		fmt.Fprintln(g.stderr, map[bool]string{true: "Encryption successful", false: "Decryption successful"}[encrypt])
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func transform(k *vault.Keyring, name string, data []byte, encrypt bool) ([]byte, error) {
	if encrypt {
		if vault.IsEncrypted(data) {
			return nil, fmt.Errorf("%s is already encrypted", name)
		}
		return k.Encrypt(data)
	}
	if !vault.IsEncrypted(data) {
		return nil, fmt.Errorf("%s is not a vault-encrypted file", name)
	}
	out, err := k.Decrypt(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// writeOutput writes to stdout for "-", else atomically keeping the mode of
// an existing file (0600 for a new one).
func writeOutput(g *globalOptions, dest string, data []byte) error {
	if dest == "-" {
		_, err := g.stdout.Write(data)
		return err
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(dest); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".drover-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

// openVaultFile reads and decrypts a vault file, returning its text too.
func openVaultFile(k *vault.Keyring, f string) (plain, data []byte, err error) {
	data, err = os.ReadFile(f)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", f, errors.Unwrap(err))
	}
	plain, err = transform(k, f, data, false)
	return plain, data, err
}

func vaultView(ctx context.Context, g *globalOptions, o *vaultOptions, files []string) error {
	k, err := vaultKeyring(ctx, g, o)
	if err != nil {
		return err
	}
	for _, f := range files {
		plain, _, err := openVaultFile(k, f)
		if err != nil {
			return err
		}
		if _, err := g.stdout.Write(plain); err != nil {
			return err
		}
	}
	return nil
}

// editText opens text in $EDITOR in a private temporary file that is
// removed afterwards, and returns what was saved.
func editText(ctx context.Context, g *globalOptions, name string, text []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "drover-vault-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(name))
	if err := os.WriteFile(tmp, text, 0o600); err != nil {
		return nil, err
	}
	editor := os.Getenv("EDITOR")
	if editor == "" {
		editor = "vi"
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", editor+` "$1"`, "editor", tmp)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, g.stderr
	if f, err := os.Open("/dev/tty"); err == nil {
		defer f.Close()
		cmd.Stdin, cmd.Stdout = f, f
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("editor %q: %w", editor, err)
	}
	return os.ReadFile(tmp)
}

func vaultCreate(ctx context.Context, g *globalOptions, o *vaultOptions, file string) error {
	if _, err := os.Stat(file); err == nil {
		return &usageError{fmt.Errorf("%s exists; use drover vault edit to change it", file)}
	}
	k, err := vaultKeyring(ctx, g, o)
	if err != nil {
		return err
	}
	text, err := editText(ctx, g, file, nil)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(text)) == 0 {
		return errors.New("nothing was written; no file created")
	}
	out, err := k.Encrypt(text)
	if err != nil {
		return err
	}
	return writeOutput(g, file, out)
}

func vaultEdit(ctx context.Context, g *globalOptions, o *vaultOptions, file string) error {
	k, err := vaultKeyring(ctx, g, o)
	if err != nil {
		return err
	}
	plain, data, err := openVaultFile(k, file)
	if err != nil {
		return err
	}
	edited, err := editText(ctx, g, file, plain)
	if err != nil {
		return err
	}
	if bytes.Equal(edited, plain) {
		return nil // unchanged: keep the file as it is
	}
	if label := vault.Label(data); label != "" && k.EncryptID == "" {
		k.EncryptID = label // keep the file's vault id
	}
	out, err := k.Encrypt(edited)
	if err != nil {
		return err
	}
	return writeOutput(g, file, out)
}

func newRekeyCommand(g *globalOptions, o *vaultOptions) *cobra.Command {
	var newFile, newID string
	cmd := &cobra.Command{
		Use:   "rekey FILE...",
		Short: "Re-encrypt files with a new vault password",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, files []string) error {
			ctx := c.Context()
			k, err := vaultKeyring(ctx, g, o)
			if err != nil {
				return err
			}
			label, source := vault.DefaultLabel, "prompt"
			switch {
			case newID != "":
				label, source = vault.ParseVaultID(newID)
			case newFile != "":
				source = newFile
			}
			s, err := vault.LoadSecret(ctx, label, source, g.prompter)
			if err != nil {
				return &usageError{err}
			}
			nk := vault.NewKeyring(s)
			for _, f := range files {
				plain, _, err := openVaultFile(k, f)
				if err != nil {
					return err
				}
				out, err := nk.Encrypt(plain)
				if err != nil {
					return err
				}
				if err := writeOutput(g, f, out); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&newFile, "new-vault-password-file", "", "file or script holding the new password")
	cmd.Flags().StringVar(&newID, "new-vault-id", "", "the new vault id, [label@]source")
	return cmd
}

func newEncryptStringCommand(g *globalOptions, o *vaultOptions) *cobra.Command {
	var names []string
	var stdinName string
	var prompt bool
	cmd := &cobra.Command{
		Use:     "encrypt-string [STRING...]",
		Aliases: []string{"encrypt_string"},
		Short:   "Encrypt strings as !vault values for YAML files",
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			k, err := vaultKeyring(ctx, g, o)
			if err != nil {
				return err
			}
			type item struct{ name, text string }
			var items []item
			switch {
			case prompt:
				text, err := g.prompter.Prompt(ctx, "String to encrypt: ")
				if err != nil {
					return err
				}
				items = append(items, item{first(names), text})
			case len(args) == 0 || len(args) == 1 && args[0] == "-":
				data, err := io.ReadAll(g.stdin)
				if err != nil {
					return err
				}
				items = append(items, item{orString(stdinName, first(names)), string(data)})
			default:
				for i, a := range args {
					name := ""
					if i < len(names) {
						name = names[i]
					}
					items = append(items, item{name, a})
				}
			}
			var out []string
			for _, it := range items {
				ct, err := k.Encrypt([]byte(it.text))
				if err != nil {
					return err
				}
				out = append(out, formatVaultString(it.name, ct))
			}
			fmt.Fprint(g.stdout, strings.Join(out, "\n"))
			fmt.Fprintln(g.stdout)
			if isTerminal(g.stdout) {
				fmt.Fprintln(g.stderr, "Encryption successful")
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&names, "name", "n", nil, "variable name for each string (repeatable)")
	cmd.Flags().StringVar(&stdinName, "stdin-name", "", "variable name for the string read from stdin")
	cmd.Flags().BoolVarP(&prompt, "prompt", "p", false, "ask for the string on the terminal")
	return cmd
}

// formatVaultString writes a !vault YAML value as ansible-vault
// encrypt_string does: the lines indented by 10 spaces.
func formatVaultString(name string, ct []byte) string {
	var b strings.Builder
	if name != "" {
		b.WriteString(name + ": ")
	}
	b.WriteString("!vault |")
	for _, line := range strings.Split(strings.TrimRight(string(ct), "\n"), "\n") {
		b.WriteString("\n          " + line)
	}
	return b.String()
}

func first(s []string) string {
	if len(s) > 0 {
		return s[0]
	}
	return ""
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
