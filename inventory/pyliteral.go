package inventory

import (
	"errors"
	"github.com/drover/drover/playbook/value"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseValue reads an INI value as Ansible does: Python's ast.literal_eval,
// falling back to the text itself. Numbers, True/False/None, quoted strings,
// lists, tuples and dicts become typed values; anything else stays a string.
func parseValue(s string) any {
	p := &pyParser{s: s}
	v, err := p.value()
	if err != nil {
		return s
	}
	p.space()
	if p.i != len(p.s) {
		return s
	}
	return v
}

// pyParser is a recursive-descent reader of Python literals.
type pyParser struct {
	s string
	i int
}

var errNotLiteral = errors.New("not a Python literal")

func (p *pyParser) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\n\r", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) value() (any, error) {
	p.space()
	if p.i >= len(p.s) {
		return nil, errNotLiteral
	}
	switch c := p.s[p.i]; {
	case c == '[':
		p.i++
		return p.sequence(']')
	case c == '(':
		p.i++
		return p.tuple()
	case c == '{':
		p.i++
		return p.dict()
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || c == '+' || c == '.' || '0' <= c && c <= '9':
		return p.number()
	default:
		return p.name()
	}
}

func (p *pyParser) name() (any, error) {
	start := p.i
	for p.i < len(p.s) && (isWordByte(p.s[p.i])) {
		p.i++
	}
	switch word := p.s[start:p.i]; {
	case word == "True":
		return true, nil
	case word == "False":
		return false, nil
	case word == "None":
		return nil, nil
	case len(word) <= 2 && strings.ContainsAny(word, "bBrRuU") && p.i < len(p.s) && (p.s[p.i] == '\'' || p.s[p.i] == '"'):
		if strings.ContainsAny(word, "bB") {
			return nil, errNotLiteral // bytes have no JSON form
		}
		p.i = start + len(word)
		raw := strings.ContainsAny(word, "rR")
		return p.quoted(raw)
	}
	return nil, errNotLiteral
}

func isWordByte(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func (p *pyParser) sequence(end byte) ([]any, error) {
	out := []any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == end {
			p.i++
			return out, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, errNotLiteral
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case end:
		default:
			return nil, errNotLiteral
		}
	}
}

// tuple reads (a, b); a parenthesised single value without a comma is
// just that value.
func (p *pyParser) tuple() (any, error) {
	start := p.i
	items, err := p.sequence(')')
	if err != nil {
		return nil, err
	}
	inner := strings.TrimSpace(p.s[start : p.i-1])
	if len(items) == 1 && !strings.HasSuffix(inner, ",") {
		return items[0], nil
	}
	return tuple(items), nil
}

// tuple is a Python tuple: a list in JSON, (a, b) when printed.
type tuple []any

func (p *pyParser) dict() (any, error) {
	out := map[string]any{}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return out, nil
		}
		k, err := p.value()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, errNotLiteral // sets and malformed dicts
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out[value.KeyString(k)] = v
		p.space()
		if p.i >= len(p.s) {
			return nil, errNotLiteral
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
		default:
			return nil, errNotLiteral
		}
	}
}

func (p *pyParser) str() (any, error) {
	return p.quoted(false)
}

// quoted reads a string literal; adjacent literals concatenate.
func (p *pyParser) quoted(raw bool) (any, error) {
	var b strings.Builder
	for {
		q := p.s[p.i]
		triple := strings.HasPrefix(p.s[p.i:], strings.Repeat(string(q), 3))
		delim := string(q)
		if triple {
			delim = strings.Repeat(delim, 3)
		}
		p.i += len(delim)
		for {
			if p.i >= len(p.s) {
				return nil, errNotLiteral
			}
			if strings.HasPrefix(p.s[p.i:], delim) {
				p.i += len(delim)
				break
			}
			c := p.s[p.i]
			if c == '\n' && !triple {
				return nil, errNotLiteral
			}
			if c == '\\' && p.i+1 < len(p.s) {
				if raw {
					b.WriteString(p.s[p.i : p.i+2])
					p.i += 2
					continue
				}
				n, ok := pyEscape(p.s[p.i:], &b)
				if !ok {
					return nil, errNotLiteral
				}
				p.i += n
				continue
			}
			b.WriteByte(c)
			p.i++
		}
		p.space()
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			return b.String(), nil
		}
	}
}

// pyEscape decodes one backslash escape at the start of s.
func pyEscape(s string, b *strings.Builder) (int, bool) {
	switch c := s[1]; c {
	case '\n':
		return 2, true
	case '\\', '\'', '"':
		b.WriteByte(c)
		return 2, true
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case 'x', 'u', 'U':
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if len(s) < 2+width {
			return 0, false
		}
		n, err := strconv.ParseUint(s[2:2+width], 16, 32)
		if err != nil || !utf8.ValidRune(rune(n)) {
			return 0, false
		}
		b.WriteRune(rune(n))
		return 2 + width, true
	default:
		if '0' <= c && c <= '7' {
			j := 1
			for j < 4 && 1+j < len(s) && '0' <= s[1+j] && s[1+j] <= '7' {
				j++
			}
			n, _ := strconv.ParseUint(s[1:1+j], 8, 32)
			b.WriteRune(rune(n))
			return 1 + j, true
		}
		b.WriteByte('\\') // unknown escapes stay, as Python keeps them
		b.WriteByte(c)
	}
	return 2, true
}

// number reads Python's int and float literals, with an optional sign.
func (p *pyParser) number() (any, error) {
	neg := false
	for p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] == '+') {
		if p.s[p.i] == '-' {
			neg = !neg
		}
		p.i++
		p.space()
	}
	start := p.i
	for p.i < len(p.s) && (isWordByte(p.s[p.i]) || p.s[p.i] == '.' ||
		(p.s[p.i] == '-' || p.s[p.i] == '+') && p.i > start && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E')) {
		p.i++
	}
	v, err := pyNumber(p.s[start:p.i])
	if err != nil {
		return nil, err
	}
	if neg {
		switch x := v.(type) {
		case int64:
			return -x, nil
		case float64:
			return -x, nil
		case *big.Int:
			return new(big.Int).Neg(x), nil
		}
	}
	return v, nil
}

func pyNumber(tok string) (any, error) {
	if tok == "" || strings.HasPrefix(tok, "_") || strings.HasSuffix(tok, "_") || strings.Contains(tok, "__") {
		return nil, errNotLiteral
	}
	clean := strings.ReplaceAll(tok, "_", "")
	lower := strings.ToLower(clean)
	base := 10
	digits := clean
	switch {
	case strings.HasPrefix(lower, "0x"):
		base, digits = 16, clean[2:]
	case strings.HasPrefix(lower, "0o"):
		base, digits = 8, clean[2:]
	case strings.HasPrefix(lower, "0b"):
		base, digits = 2, clean[2:]
	case strings.ContainsAny(lower, ".e") || strings.HasSuffix(lower, "j"):
		if strings.HasSuffix(lower, "j") || strings.Contains(lower, "inf") || strings.Contains(lower, "nan") {
			return nil, errNotLiteral
		}
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil {
			return nil, errNotLiteral
		}
		return f, nil
	case len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "":
		return nil, errNotLiteral // Python 3 forbids leading zeros
	}
	n, ok := new(big.Int).SetString(digits, base)
	if !ok || digits == "" {
		return nil, errNotLiteral
	}
	if n.IsInt64() {
		return n.Int64(), nil
	}
	return n, nil
}
