package main

import (
	"context"
	"os"
	"strings"

	"github.com/drover/drover/vault"
	"github.com/spf13/pflag"
)

// vaultOptions are the vault secret flags shared by every command.
type vaultOptions struct {
	ids           []string
	passwordFiles []string
	askPass       bool
	encryptID     string
}

// AddFlags registers ansible's vault flags.
func (o *vaultOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.ids, "vault-id", nil, "vault secret as [label@]source, source being a file, a script or 'prompt' (repeatable)")
	fs.StringArrayVar(&o.passwordFiles, "vault-password-file", nil, "vault password file or script (repeatable; also DROVER_VAULT_PASSWORD_FILE)")
	fs.StringArrayVar(&o.passwordFiles, "vault-pass-file", nil, "alias of --vault-password-file")
	fs.BoolVar(&o.askPass, "ask-vault-pass", false, "ask for the vault password")
	fs.BoolVar(&o.askPass, "ask-vault-password", false, "alias of --ask-vault-pass")
	_ = fs.MarkHidden("vault-pass-file")
	_ = fs.MarkHidden("ask-vault-password")
}

// keyring loads the secrets in Ansible's order: --vault-id values, then
// password files (flags, then the environment), then --ask-vault-pass.
func (o *vaultOptions) keyring(ctx context.Context, g *globalOptions) (*vault.Keyring, error) {
	k := vault.NewKeyring()
	k.EncryptID = o.encryptID
	add := func(label, source string) error {
		s, err := vault.LoadSecret(ctx, label, source, g.prompter)
		if err != nil {
			return err
		}
		k.Add(s)
		return nil
	}
	for _, id := range o.ids {
		if err := add(vault.ParseVaultID(id)); err != nil {
			return nil, err
		}
	}
	files := o.passwordFiles
	for _, env := range []string{"DROVER_VAULT_PASSWORD_FILE", "ANSIBLE_VAULT_PASSWORD_FILE"} {
		if v := os.Getenv(env); v != "" && len(files) == 0 {
			files = strings.Split(v, ",")
		}
	}
	for _, f := range files {
		if err := add(vault.DefaultLabel, f); err != nil {
			return nil, err
		}
	}
	if o.askPass {
		if err := add(vault.DefaultLabel, "prompt_ask_vault_pass"); err != nil {
			return nil, err
		}
	}
	return k, nil
}
