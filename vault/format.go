package vault

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Header is how every vault text starts.
const Header = "$ANSIBLE_VAULT"

const (
	lineWidth  = 80
	cipherName = "AES256"
)

// The classes of failure.
var (
	// ErrFormat means the data is not a well-formed vault text.
	ErrFormat = errors.New("vault: not a valid vault text")
	// ErrIntegrity means no secret opened the text: a wrong password, or a
	// changed file. Retrying with the same secrets does not help.
	ErrIntegrity = errors.New("vault: no vault secret decrypts this")
	// ErrNoSecret means something encrypted was found but no secret was
	// given.
	ErrNoSecret = errors.New("vault: encrypted data found but no vault secret given; pass --vault-password-file, --vault-id or --ask-vault-pass")
)

// envelope is a parsed vault text.
type envelope struct {
	version    string // "1.1" or "1.2"
	label      string // vault id of 1.2 texts
	salt       []byte
	mac        []byte
	ciphertext []byte
}

// IsEncrypted reports whether data starts like a vault text.
func IsEncrypted(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(Header+";"))
}

// Label returns the vault id named in a 1.2 header, or "".
func Label(data []byte) string {
	env, err := parse(data)
	if err != nil {
		return ""
	}
	return env.label
}

// parse reads the header and the doubly hex-encoded body.
func parse(data []byte) (*envelope, error) {
	text := strings.TrimSpace(string(data))
	header, body, _ := strings.Cut(text, "\n")
	fields := strings.Split(strings.TrimSpace(header), ";")
	if len(fields) < 3 || fields[0] != Header {
		return nil, fmt.Errorf("%w: it does not start with %s;", ErrFormat, Header)
	}
	env := &envelope{version: strings.TrimSpace(fields[1])}
	switch env.version {
	case "1.1":
	case "1.2":
		if len(fields) < 4 || strings.TrimSpace(fields[3]) == "" {
			return nil, fmt.Errorf("%w: a 1.2 header needs a vault id label", ErrFormat)
		}
		env.label = strings.TrimSpace(fields[3])
	default:
		return nil, fmt.Errorf("%w: format version %q is not supported (1.1 and 1.2 are)", ErrFormat, env.version)
	}
	if c := strings.TrimSpace(fields[2]); c != cipherName {
		return nil, fmt.Errorf("%w: cipher %q is not supported (only AES256 is)", ErrFormat, c)
	}
	outer, err := hex.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("%w: the body is not hex (truncated or edited?)", ErrFormat)
	}
	parts := strings.SplitN(string(outer), "\n", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: the body lacks salt, HMAC or ciphertext (truncated?)", ErrFormat)
	}
	decoded := make([][]byte, 3)
	for i, p := range parts {
		if decoded[i], err = hex.DecodeString(strings.TrimSpace(p)); err != nil {
			return nil, fmt.Errorf("%w: the body's inner hex is damaged", ErrFormat)
		}
	}
	env.salt, env.mac, env.ciphertext = decoded[0], decoded[1], decoded[2]
	if len(env.salt) == 0 || len(env.mac) != 32 || len(env.ciphertext) == 0 || len(env.ciphertext)%16 != 0 {
		return nil, fmt.Errorf("%w: salt, HMAC or ciphertext has the wrong size", ErrFormat)
	}
	return env, nil
}

// format writes the envelope as ansible-vault does: the header, then the
// hex of "hex(salt)\nhex(hmac)\nhex(ciphertext)" in lines of 80.
func (e *envelope) format() []byte {
	var b bytes.Buffer
	b.WriteString(Header + ";" + e.version + ";" + cipherName)
	if e.version == "1.2" {
		b.WriteString(";" + e.label)
	}
	inner := hex.EncodeToString(e.salt) + "\n" + hex.EncodeToString(e.mac) + "\n" + hex.EncodeToString(e.ciphertext)
	body := hex.EncodeToString([]byte(inner))
	for i := 0; i < len(body); i += lineWidth {
		b.WriteByte('\n')
		b.WriteString(body[i:min(i+lineWidth, len(body))])
	}
	b.WriteByte('\n')
	return b.Bytes()
}
