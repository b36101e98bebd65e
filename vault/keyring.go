package vault

import (
	"crypto/sha256"
	"errors"
	"fmt"
)

// DefaultLabel is the vault id of a secret given without one.
const DefaultLabel = "default"

// Secret is one vault password with its vault id label. Its String method
// never shows the password.
type Secret struct {
	// Label is the vault id ("default" when none was given).
	Label       string
	password    []byte
	fingerprint [32]byte
}

// NewSecret returns the secret password labelled label.
func NewSecret(label string, password []byte) (*Secret, error) {
	if len(password) == 0 {
		return nil, fmt.Errorf("vault: the password for vault id %q is empty", labelOr(label))
	}
	s := &Secret{Label: labelOr(label), password: append([]byte(nil), password...)}
	s.fingerprint = sha256.Sum256(append([]byte("drover vault key cache\x00"), password...))
	return s, nil
}

func labelOr(label string) string {
	if label == "" {
		return DefaultLabel
	}
	return label
}

func (s *Secret) String() string { return "vault secret " + s.Label }

// Keyring holds the secrets of a run, in the order they were given, and
// caches derived keys. Safe for concurrent use.
type Keyring struct {
	secrets []*Secret
	// EncryptID names the secret new texts are encrypted with
	// (--encrypt-vault-id); empty means the first.
	EncryptID string
	cache     keyCache
}

// NewKeyring returns a keyring holding secrets.
func NewKeyring(secrets ...*Secret) *Keyring { return &Keyring{secrets: secrets} }

// Add appends a secret.
func (k *Keyring) Add(s *Secret) { k.secrets = append(k.secrets, s) }

// Len is the number of secrets.
func (k *Keyring) Len() int { return len(k.secrets) }

// Decrypt opens a vault text with the first secret that verifies, trying
// secrets whose label matches the text's vault id first. It never returns
// plaintext whose HMAC did not verify.
func (k *Keyring) Decrypt(data []byte) ([]byte, error) {
	env, err := parse(data)
	if err != nil {
		return nil, err
	}
	if k == nil || len(k.secrets) == 0 {
		return nil, ErrNoSecret
	}
	for _, s := range k.ordered(env.label) {
		key, err := k.cache.get(s, env.salt)
		if err != nil {
			return nil, err
		}
		if plain, ok := open(key, env); ok {
			return plain, nil
		}
	}
	if env.label != "" {
		return nil, fmt.Errorf("%w (it was encrypted with vault id %q); check the password for that id", ErrIntegrity, env.label)
	}
	return nil, fmt.Errorf("%w; check the vault password", ErrIntegrity)
}

// ordered lists secrets with those labelled label first.
func (k *Keyring) ordered(label string) []*Secret {
	var first, rest []*Secret
	for _, s := range k.secrets {
		if label != "" && s.Label == label {
			first = append(first, s)
		} else {
			rest = append(rest, s)
		}
	}
	return append(first, rest...)
}

// Encrypt seals plaintext with the encryption secret, with a fresh random
// salt: format 1.1 for the default vault id, 1.2 with the label otherwise.
func (k *Keyring) Encrypt(plaintext []byte) ([]byte, error) {
	s, err := k.encryptSecret()
	if err != nil {
		return nil, err
	}
	salt, err := newSalt()
	if err != nil {
		return nil, err
	}
	return encryptWith(s, salt, plaintext)
}

func (k *Keyring) encryptSecret() (*Secret, error) {
	if k == nil || len(k.secrets) == 0 {
		return nil, errors.New("vault: no vault secret to encrypt with; pass --vault-password-file, --vault-id or --ask-vault-pass")
	}
	if k.EncryptID == "" {
		return k.secrets[0], nil
	}
	for _, s := range k.secrets {
		if s.Label == k.EncryptID {
			return s, nil
		}
	}
	return nil, fmt.Errorf("vault: --encrypt-vault-id %q matches none of the vault ids given", k.EncryptID)
}

// encryptWith is Encrypt with a chosen salt; tests use it for fixed vectors.
func encryptWith(s *Secret, salt, plaintext []byte) ([]byte, error) {
	key, err := deriveKeys(s.password, salt)
	if err != nil {
		return nil, err
	}
	ct, mac, err := seal(key, plaintext)
	if err != nil {
		return nil, err
	}
	env := &envelope{version: "1.1", salt: salt, mac: mac, ciphertext: ct}
	if s.Label != DefaultLabel {
		env.version, env.label = "1.2", s.Label
	}
	return env.format(), nil
}
