package template

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// cryptFilters adds password_hash and urlsplit to t. They live outside the
// main table because they carry their own algorithms (crypt(3) hashing,
// Python's URL splitting) rather than plain value shuffling.
func cryptFilters(t map[string]filterFunc) {
	t["password_hash"] = fPasswordHash
	t["urlsplit"] = fURLSplit
}

// cryptAlphabet is crypt(3)'s base-64 alphabet; salts are drawn from it too.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Limits from Drepper's SHA-crypt specification.
const (
	shaMinRounds     = 1000
	shaMaxRounds     = 999999999
	shaDefaultRounds = 5000
	shaMaxSalt       = 16
)

// maxSecret is passlib's limit on a password, in characters: past it
// Ansible fails rather than spend unbounded time hashing.
const maxSecret = 4096

// cryptScheme is one hash family as Ansible configures it through passlib,
// which it uses whenever passlib is installed (as on Debian). passlib is
// stricter than crypt(3): a long salt or out-of-range rounds is an error,
// not silently truncated or clamped.
type cryptScheme struct {
	name    string // passlib's name; Ansible's messages use it
	maxSalt int    // also the size of a random salt
	// defRounds is what Ansible asks for when rounds is not given. Ansible
	// pins it (not 5000) so hashes do not depend on passlib's version; 0
	// means the scheme has no rounds.
	defRounds int64
	crypt     func(password, salt []byte, rounds int64) string
}

var (
	md5Scheme = &cryptScheme{name: "md5_crypt", maxSalt: 8, crypt: func(p, s []byte, _ int64) string {
		return md5Crypt(p, s)
	}}
	sha256Scheme = &cryptScheme{name: "sha256_crypt", maxSalt: shaMaxSalt, defRounds: 535000, crypt: func(p, s []byte, r int64) string {
		return sha256Crypt.crypt(p, s, int(r), r != shaDefaultRounds)
	}}
	sha512Scheme = &cryptScheme{name: "sha512_crypt", maxSalt: shaMaxSalt, defRounds: 656000, crypt: func(p, s []byte, r int64) string {
		return sha512Crypt.crypt(p, s, int(r), r != shaDefaultRounds)
	}}
)

// cryptSchemes maps Ansible's hashtype names, short and passlib's, to
// schemes. bcrypt and passlib's other schemes are not implemented.
var cryptSchemes = map[string]*cryptScheme{
	"md5": md5Scheme, "md5_crypt": md5Scheme,
	"sha256": sha256Scheme, "sha256_crypt": sha256Scheme,
	"sha512": sha512Scheme, "sha512_crypt": sha512Scheme,
}

// fPasswordHash is Ansible's password_hash(hashtype='sha512', salt=None,
// salt_size=None, rounds=None, ident=None). The checks run in the order
// Ansible and passlib make them, so the first error is the same one.
func fPasswordHash(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	p, err := bindArgs("password_hash", []string{"hashtype", "salt", "salt_size", "rounds", "ident"}, args, kw)
	if err != nil {
		return nil, err
	}
	name := "sha512"
	if v, ok := p["hashtype"]; ok {
		name = ToString(v)
	}
	sc, ok := cryptSchemes[name]
	if !ok {
		return nil, fmt.Errorf("unsupported hash type '%s' (supported: md5, sha256, sha512)", name)
	}
	if sc.defRounds == 0 && truthy(p["rounds"]) {
		return nil, fmt.Errorf("%s does not take rounds", sc.name)
	}
	size, err := sc.saltSize(p["salt_size"])
	if err != nil {
		return nil, err
	}
	salt, err := sc.salt(p["salt"], size)
	if err != nil {
		return nil, err
	}
	rounds, err := sc.rounds(p["rounds"])
	if err != nil {
		return nil, err
	}
	secret, err := secretOf(in)
	if err != nil {
		return nil, err
	}
	return sc.crypt([]byte(secret), []byte(salt), rounds), nil
}

// secretOf checks the password as passlib does. ident needs no check: it
// only matters to bcrypt.
func secretOf(in any) (string, error) {
	if typeName(in) != "str" {
		t := typeName(in)
		if in == nil {
			t = "None"
		}
		return "", fmt.Errorf("secret must be unicode or bytes, not %s", t)
	}
	s := ToString(in)
	if utf8.RuneCountInString(s) > maxSecret {
		return "", fmt.Errorf("password exceeds maximum allowed size (%d characters)", maxSecret)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", fmt.Errorf("null character in secret")
	}
	return s, nil
}

// saltSize is the size of a random salt: salt_size when given, as passlib
// reads it (a string is parsed, a fraction rounds up), else the maximum.
func (sc *cryptScheme) saltSize(v any) (int, error) {
	if !truthy(v) {
		return sc.maxSalt, nil
	}
	var f float64
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, fmt.Errorf("salt_size must be an integer, not %s", ToString(x))
		}
		f = x
	default:
		n, err := pyIntArg("salt_size", v)
		if err != nil {
			return 0, err
		}
		if !n.IsInt64() {
			f = float64(n.Sign()) * math.Inf(1)
			break
		}
		f = float64(n.Int64())
	}
	switch {
	case f < 0:
		return 0, fmt.Errorf("%s: salt_size (%s) below min_salt_size (0)", sc.name, ToString(v))
	case f > float64(sc.maxSalt):
		return 0, fmt.Errorf("%s: salt_size (%s) above max_salt_size (%d)", sc.name, ToString(v), sc.maxSalt)
	}
	return int(math.Ceil(f)), nil
}

// salt is the given salt as text, or a random one of size characters
// when none (or an empty one) is given.
func (sc *cryptScheme) salt(v any, size int) (string, error) {
	if !truthy(v) {
		return randomSalt(size), nil
	}
	s := ToString(v)
	if strings.Trim(s, cryptAlphabet) != "" {
		return "", fmt.Errorf("invalid characters in %s salt", sc.name)
	}
	if len(s) > sc.maxSalt {
		return "", fmt.Errorf("salt too large (%s requires <= %d chars)", sc.name, sc.maxSalt)
	}
	return s, nil
}

// rounds is the rounds argument, or Ansible's default when it is missing
// or zero.
func (sc *cryptScheme) rounds(v any) (int64, error) {
	if !truthy(v) {
		return sc.defRounds, nil
	}
	n, err := pyIntArg("rounds", v)
	if err != nil {
		return 0, err
	}
	switch {
	case n.Cmp(big.NewInt(shaMinRounds)) < 0:
		return 0, fmt.Errorf("%s: rounds (%s) is too low, must be at least %d", sc.name, n, shaMinRounds)
	case n.Cmp(big.NewInt(shaMaxRounds)) > 0:
		return 0, fmt.Errorf("%s: rounds (%s) is too large, cannot be more than %d", sc.name, n, shaMaxRounds)
	}
	return n.Int64(), nil
}

// pyIntArg reads an integer parameter as passlib does: ints and bools
// as they are, strings through Python's int(), anything else an error.
// A big.Int, because Python's int() of a long string does not overflow.
func pyIntArg(param string, v any) (*big.Int, error) {
	if n, ok := toInt(v); ok {
		return big.NewInt(n), nil
	}
	if typeName(v) != "str" {
		return nil, fmt.Errorf("%s must be an integer, not %s", param, typeName(v))
	}
	s := ToString(v)
	if n, ok := pyIntLiteral(s); ok {
		return n, nil
	}
	return nil, fmt.Errorf("invalid literal for int() with base 10: %s", repr(s))
}

// pyIntLiteral parses s as Python's int(s) does: surrounding space, a
// sign, and underscores between digits. Only ASCII digits are accepted,
// where Python also takes other scripts' digits.
func pyIntLiteral(s string) (*big.Int, bool) {
	s = strings.TrimSpace(s)
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return nil, false
	}
	n, ok := new(big.Int).SetString(s[:len(s)-len(digits)]+strings.ReplaceAll(digits, "_", ""), 10)
	return n, ok
}

// bindArgs matches a filter's arguments to its Python parameters, by
// position and then keyword, and rejects what Python would reject, so a
// misspelt keyword is an error rather than silently ignored.
func bindArgs(name string, params []string, args []any, kw map[string]any) (map[string]any, error) {
	if len(args) > len(params) {
		return nil, fmt.Errorf("%s takes at most %d arguments, got %d", name, len(params), len(args))
	}
	bound := make(map[string]any, len(params))
	for i, a := range args {
		bound[params[i]] = a
	}
	for _, k := range slices.Sorted(maps.Keys(kw)) {
		if !slices.Contains(params, k) {
			return nil, fmt.Errorf("%s got an unexpected keyword argument '%s'", name, k)
		}
		if _, dup := bound[k]; dup {
			return nil, fmt.Errorf("%s got multiple values for argument '%s'", name, k)
		}
		bound[k] = kw[k]
	}
	return bound, nil
}

// randomSalt draws n characters of cryptAlphabet from crypto/rand. The
// alphabet has 64 characters, so taking 6 bits of each byte is uniform.
func randomSalt(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: the runtime aborts first
	for i := range b {
		b[i] = cryptAlphabet[b[i]&63]
	}
	return string(b)
}

// shaVariant is one of SHA-crypt's two instances.
type shaVariant struct {
	id  string
	new func() hash.Hash
	// order lists the digest's bytes in the order the specification
	// encodes them, three at a time, the first the most significant.
	order []int
}

var (
	sha256Crypt = &shaVariant{id: "5", new: sha256.New, order: []int{
		0, 10, 20, 21, 1, 11, 12, 22, 2, 3, 13, 23, 24, 4, 14,
		15, 25, 5, 6, 16, 26, 27, 7, 17, 18, 28, 8, 9, 19, 29,
		31, 30,
	}}
	sha512Crypt = &shaVariant{id: "6", new: sha512.New, order: []int{
		0, 21, 42, 22, 43, 1, 44, 2, 23, 3, 24, 45, 25, 46, 4,
		47, 5, 26, 6, 27, 48, 28, 49, 7, 50, 8, 29, 9, 30, 51,
		31, 52, 10, 53, 11, 32, 12, 33, 54, 34, 55, 13, 56, 14, 35,
		15, 36, 57, 37, 58, 16, 59, 17, 38, 18, 39, 60, 40, 61, 19,
		62, 20, 41, 63,
	}}
	md5Order = []int{0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 4, 10, 5, 11}
)

// crypt is Drepper's SHA-crypt. It applies the specification's own
// limits (salt cut to 16 bytes, rounds clamped) so it is right on its own;
// password_hash rejects such input before it gets here, as passlib does.
// showRounds says whether the rounds= field is written: crypt(3) writes it
// when the setting had one, passlib unless it is 5000.
func (v *shaVariant) crypt(password, salt []byte, rounds int, showRounds bool) string {
	salt = salt[:min(len(salt), shaMaxSalt)]
	rounds = min(max(rounds, shaMinRounds), shaMaxRounds)
	h := v.new()

	h.Write(password)
	h.Write(salt)
	h.Write(password)
	b := h.Sum(nil)

	h.Reset()
	h.Write(password)
	h.Write(salt)
	h.Write(repeatTo(b, len(password)))
	for n := len(password); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write(b)
		} else {
			h.Write(password)
		}
	}
	a := h.Sum(nil)

	h.Reset()
	for range len(password) {
		h.Write(password)
	}
	p := repeatTo(h.Sum(nil), len(password))

	h.Reset()
	for range 16 + int(a[0]) {
		h.Write(salt)
	}
	s := repeatTo(h.Sum(nil), len(salt))

	c := a
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	var out strings.Builder
	out.WriteString("$" + v.id + "$")
	if showRounds {
		out.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	out.Write(salt)
	out.WriteByte('$')
	out.WriteString(crypt64(c, v.order))
	return out.String()
}

// md5Crypt is Poul-Henning Kamp's MD5-crypt ($1$), with its quirk kept:
// the bit loop adds a NUL byte, not a digest byte, for each set bit.
func md5Crypt(password, salt []byte) string {
	salt = salt[:min(len(salt), 8)]
	h := md5.New()
	h.Write(password)
	h.Write(salt)
	h.Write(password)
	alt := h.Sum(nil)

	h.Reset()
	h.Write(password)
	h.Write([]byte("$1$"))
	h.Write(salt)
	h.Write(repeatTo(alt, len(password)))
	for n := len(password); n > 0; n >>= 1 {
		if n&1 != 0 {
			h.Write([]byte{0})
		} else {
			h.Write(password[:1])
		}
	}
	c := h.Sum(nil)

	for i := range 1000 {
		h.Reset()
		if i&1 != 0 {
			h.Write(password)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(salt)
		}
		if i%7 != 0 {
			h.Write(password)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(password)
		}
		c = h.Sum(c[:0])
	}
	return "$1$" + string(salt) + "$" + crypt64(c, md5Order)
}

// repeatTo is d repeated and cut to n bytes.
func repeatTo(d []byte, n int) []byte {
	out := make([]byte, 0, n+len(d))
	for len(out) < n {
		out = append(out, d...)
	}
	return out[:n]
}

// crypt64 encodes the bytes of sum at the indexes of order in crypt(3)'s
// base 64: each group of three makes a 24-bit number written least
// significant 6 bits first; a short last group of one or two bytes gives
// two or three characters.
func crypt64(sum []byte, order []int) string {
	var out []byte
	for g := 0; g < len(order); g += 3 {
		group := order[g:min(g+3, len(order))]
		w := 0
		for _, i := range group {
			w = w<<8 | int(sum[i])
		}
		for range len(group) + 1 {
			out = append(out, cryptAlphabet[w&63])
			w >>= 6
		}
	}
	return string(out)
}
