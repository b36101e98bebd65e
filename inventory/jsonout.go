package inventory

import (
	"fmt"
	"github.com/drover/drover/playbook/value"
	"github.com/drover/drover/vault"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// pyJSON renders v as Python's json.dumps(v, sort_keys=True, indent=4,
// ensure_ascii=False) does, so drover's output matches ansible-inventory's
// byte for byte: floats as Python prints them (1000.0, 1e+16, Infinity),
// big integers exactly, non-ASCII text unescaped.
func pyJSON(v any) string {
	var b strings.Builder
	writeJSON(&b, v, 0)
	return b.String()
}

func writeJSON(b *strings.Builder, v any, depth int) {
	indent := func(d int) { b.WriteString("\n" + strings.Repeat("    ", d)) }
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			writeString(b, k)
			b.WriteString(": ")
			writeJSON(b, x[k], depth+1)
		}
		indent(depth)
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, item := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			writeJSON(b, item, depth+1)
		}
		indent(depth)
		b.WriteByte(']')
	case tuple:
		writeJSON(b, []any(x), depth)
	case *value.Dict:
		writeJSON(b, x.Map(), depth)
	case value.Unsafe:
		writeString(b, string(x))
	case vault.String:
		writeJSON(b, map[string]any{"__ansible_vault": x.Text}, depth)
	case []string:
		items := make([]any, len(x))
		for i, s := range x {
			items[i] = s
		}
		writeJSON(b, items, depth)
	case string:
		writeString(b, x)
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	default:
		b.WriteString(formatScalar(x))
	}
}

// formatScalar prints a number as Python does.
func formatScalar(v any) string {
	switch x := v.(type) {
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		return pyFloat(x)
	default:
		return fmt.Sprint(x)
	}
}

// pyFloat is a float as json.dumps writes it.
func pyFloat(f float64) string { return value.JSONFloat(f) }

func writeString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
