package template

import (
	"fmt"
	"strings"
)

// tokenKind classifies tokens.
type tokenKind int

const (
	tokEOF tokenKind = iota
	tokName
	tokInt
	tokFloat
	tokString
	tokOp
)

// token is one lexeme with its byte offset in the source.
type token struct {
	kind tokenKind
	val  string
	pos  int
}

// operators, longest first so ** wins over *.
var operators = []string{"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|", "="}

// lex splits an expression into tokens. With escapes, string literals
// decode Python's backslash escapes as Jinja2 does in template files;
// without, backslashes are literal, as in playbook strings.
func lex(src string, escapes bool) ([]token, error) {
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentStart(c):
			j := i + 1
			for j < len(src) && isIdentChar(src[j]) {
				j++
			}
			toks = append(toks, token{tokName, src[i:j], i})
			i = j
		case c == '.' && afterValue(toks):
			// item.0.name: an attribute dot, and the index after it an
			// integer, never the start of a float
			toks = append(toks, token{tokOp, ".", i})
			i++
			j := i
			for j < len(src) && src[j] >= '0' && src[j] <= '9' {
				j++
			}
			if j > i {
				toks = append(toks, token{tokInt, src[i:j], i})
				i = j
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			t, n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = n
		case c == '\'' || c == '"':
			lexStr := lexString
			if escapes {
				lexStr = lexEscapedString
			}
			s, n, err := lexStr(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tokString, s, i})
			i = n
		default:
			op := ""
			for _, o := range operators {
				if strings.HasPrefix(src[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("unexpected character %q", c)}
			}
			toks = append(toks, token{tokOp, op, i})
			i += len(op)
		}
	}
	return append(toks, token{tokEOF, "", len(src)}), nil
}

// afterValue reports whether the last token ends a value (a name, a
// closing bracket, an index), so that a '.' there reads an attribute.
func afterValue(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	t := toks[len(toks)-1]
	return t.kind == tokName || t.kind == tokOp && (t.val == ")" || t.val == "]") || t.kind == tokInt && len(toks) > 1 && toks[len(toks)-2].val == "."
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

func lexNumber(src string, i int) (token, int, error) {
	j := i
	float := false
	// 0b101, 0o17, 0x1f: Jinja2's integers in other bases.
	if src[i] == '0' && i+2 < len(src) && strings.IndexByte("bBoOxX", src[i+1]) >= 0 && isHexDigit(src[i+2]) {
		for j = i + 2; j < len(src) && (isHexDigit(src[j]) || src[j] == '_'); j++ {
		}
		return token{tokInt, src[i:j], i}, j, nil
	}
	for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
		j++
	}
	if j < len(src) && src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9' {
		float = true
		j++
		for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && src[k] >= '0' && src[k] <= '9' {
			float = true
			for j = k; j < len(src) && src[j] >= '0' && src[j] <= '9'; j++ {
			}
		}
	}
	kind := tokInt
	if float {
		kind = tokFloat
	}
	return token{kind, strings.ReplaceAll(src[i:j], "_", ""), i}, j, nil
}

// lexString reads a quoted string. Backslashes are literal: Ansible
// doubles every backslash in a playbook's {{ }} before Jinja2 sees it, so
// '\d' is a backslash and a d, and a string ends at the next quote.
func lexString(src string, i int) (string, int, error) {
	q := src[i]
	end := strings.IndexByte(src[i+1:], q)
	if end < 0 {
		return "", 0, &SyntaxError{Pos: i, Msg: "unterminated string"}
	}
	return src[i+1 : i+1+end], i + 2 + end, nil
}

// lexEscapedString reads a quoted string decoding \n, \t, \\, \' and
// friends, as Jinja2 does for template files.
func lexEscapedString(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	for j := i + 1; j < len(src); j++ {
		c := src[j]
		if c == q {
			return b.String(), j + 1, nil
		}
		if c != '\\' || j+1 == len(src) {
			b.WriteByte(c)
			continue
		}
		j++
		switch e := src[j]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case '\\', '\'', '"':
			b.WriteByte(e)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return "", 0, &SyntaxError{Pos: i, Msg: "unterminated string"}
}

// SyntaxError is a malformed expression; Pos is the byte offset.
type SyntaxError struct {
	Pos int
	Msg string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
