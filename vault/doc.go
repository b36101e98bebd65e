// Package vault reads and writes ansible-vault data byte-compatibly: the
// $ANSIBLE_VAULT;1.1;AES256 and 1.2 (with a vault id label) formats, with
// AES-256-CTR, HMAC-SHA256 and PBKDF2-SHA256 as ansible-vault uses them.
//
// [Encrypt] and [Decrypt] work on bytes with secrets from a [Keyring];
// [Keyring] caches derived keys per (secret, salt), so many values sharing
// a salt cost one PBKDF2 run. Secrets come from password files, scripts
// and prompts ([Source]). This package imports no other drover package.
package vault
