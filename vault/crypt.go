package vault

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"sync"
)

const (
	saltSize   = 32
	iterations = 10000
	keySize    = 32
)

// keys are what PBKDF2 derives from a password and a salt.
type keys struct {
	cipher, mac, iv []byte
}

func deriveKeys(password, salt []byte) (*keys, error) {
	dk, err := pbkdf2.Key(sha256.New, string(password), salt, iterations, 2*keySize+aes.BlockSize)
	if err != nil {
		return nil, fmt.Errorf("vault: derive key: %w", err)
	}
	return &keys{cipher: dk[:keySize], mac: dk[keySize : 2*keySize], iv: dk[2*keySize:]}, nil
}

// keyCache remembers derived keys per (secret, salt), so a file with many
// !vault values, or many files, costs one PBKDF2 run per salt.
type keyCache struct {
	mu   sync.Mutex
	keys map[string]*keys
}

func (c *keyCache) get(s *Secret, salt []byte) (*keys, error) {
	id := string(s.fingerprint[:]) + string(salt)
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := deriveKeys(s.password, salt)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = map[string]*keys{}
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k, nil
}

// seal encrypts plaintext with k: PKCS#7 padding, AES-256-CTR, then
// HMAC-SHA256 over the ciphertext.
func seal(k *keys, plaintext []byte) (ciphertext, mac []byte, err error) {
	block, err := aes.NewCipher(k.cipher)
	if err != nil {
		return nil, nil, err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(bytes.Clone(plaintext), bytes.Repeat([]byte{byte(pad)}, pad)...)
	ciphertext = make([]byte, len(padded))
	cipher.NewCTR(block, k.iv).XORKeyStream(ciphertext, padded)
	h := hmac.New(sha256.New, k.mac)
	h.Write(ciphertext)
	return ciphertext, h.Sum(nil), nil
}

// open checks the HMAC in constant time before decrypting anything, so a
// wrong key or a changed text never yields plaintext.
func open(k *keys, env *envelope) ([]byte, bool) {
	h := hmac.New(sha256.New, k.mac)
	h.Write(env.ciphertext)
	if !hmac.Equal(h.Sum(nil), env.mac) {
		return nil, false
	}
	block, err := aes.NewCipher(k.cipher)
	if err != nil {
		return nil, false
	}
	padded := make([]byte, len(env.ciphertext))
	cipher.NewCTR(block, k.iv).XORKeyStream(padded, env.ciphertext)
	pad := int(padded[len(padded)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(padded) {
		return nil, false
	}
	for _, b := range padded[len(padded)-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	return padded[:len(padded)-pad], true
}

func newSalt() ([]byte, error) {
	salt := make([]byte, saltSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("vault: random salt: %w", err)
	}
	return salt, nil
}
