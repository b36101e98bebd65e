package vault

import "fmt"

// String is a !vault value from a YAML file: the vault text, kept
// encrypted until something needs the plaintext. Printing it shows the
// vault text, never the secret.
type String struct {
	// Text is the vault text ($ANSIBLE_VAULT;...).
	Text string
}

// Decrypt returns the plaintext, opened with k.
func (s String) Decrypt(k *Keyring) (string, error) {
	plain, err := k.Decrypt([]byte(s.Text))
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// String shows that the value is encrypted, not what it holds.
func (s String) String() string { return fmt.Sprintf("<vault-encrypted, %d bytes>", len(s.Text)) }
