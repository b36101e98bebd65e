package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"unicode/utf16"
)

// ParseJSON decodes one JSON value as Python's json.loads does: objects
// become [Dict] in document order (a later duplicate key wins but keeps
// the first one's place), integers int64 (or *big.Int when larger),
// other numbers float64. Text after the value is an error.
func ParseJSON(src []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	v, err := decodeJSON(dec)
	if err != nil {
		return nil, jsonError(src, dec, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("extra data after the JSON value at offset %d", dec.InputOffset())
	}
	return v, nil
}

func jsonError(src []byte, dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) {
		return errors.New("unexpected end of the JSON text")
	}
	off := int(dec.InputOffset())
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		off = int(syn.Offset)
	}
	off = min(off, len(src))
	line := 1 + bytes.Count(src[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(src[:off], '\n')
	return fmt.Errorf("line %d column %d: %s", line, col, strings.TrimPrefix(err.Error(), "json: "))
}

func decodeJSON(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := NewDict(4)
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				d.Set(k.(string), v)
			}
			_, err := dec.Token() // }
			return d, err
		case '[':
			out := []any{}
			for dec.More() {
				v, err := decodeJSON(dec)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := dec.Token() // ]
			return out, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return jsonNumber(t), nil
	}
	return tok, nil // string, bool or nil
}

// jsonNumber is Python's reading of a JSON number: an int when it has no
// fraction or exponent, however large, a float otherwise.
func jsonNumber(n json.Number) any {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := n.Int64(); err == nil {
			return i
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b
		}
	}
	f, _ := n.Float64()
	return f
}

// WriteJSONString writes s as Python's json.dumps does by default:
// non-ASCII as \uXXXX escapes, no HTML escaping.
func WriteJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7e && r <= 0xffff:
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
