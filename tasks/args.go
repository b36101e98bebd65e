package tasks

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// rawKeys are the options Ansible picks out of a free-form command line;
// everything else stays part of the command.
var rawKeys = []string{"creates", "removes", "chdir", "executable", "warn", "stdin", "stdin_add_newline", "strip_empty_ends"}

// ParseArgs reads a module's arguments as `ansible -a` takes them: a JSON
// object, or Ansible's k=v form with shell-like quoting. For free-form
// modules (command, shell, raw) words that are not one of their k=v options
// form the command, under "_raw_params".
func ParseArgs(module, text string) (Args, error) {
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, "{") {
		var a Args
		if err := json.Unmarshal([]byte(trimmed), &a); err != nil {
			return nil, &ArgError{Err: fmt.Errorf("arguments look like JSON but are not valid JSON: %w", err)}
		}
		return a, nil
	}
	words, err := splitArgs(text)
	if err != nil {
		return nil, &ArgError{Err: err}
	}
	freeForm := isFreeForm(module)
	args := Args{}
	var raw []string
	for _, w := range words {
		k, v, ok := splitKV(w)
		if ok && (!freeForm || slices.Contains(rawKeys, k)) {
			args[k] = unquote(decodeEscapes(v))
			continue
		}
		if !freeForm {
			return nil, &ArgError{Err: fmt.Errorf("unexpected free-form text %q: module %s takes k=v arguments", w, moduleName(module))}
		}
		raw = append(raw, w)
	}
	if len(raw) > 0 {
		args["_raw_params"] = strings.Join(raw, " ")
	}
	return args, nil
}

func isFreeForm(module string) bool {
	switch moduleName(module) {
	case "command", "shell", "raw", "script":
		return true
	}
	return false
}

// moduleName strips the ansible.builtin. and ansible.legacy. prefixes.
func moduleName(name string) string {
	for _, p := range []string{"ansible.builtin.", "ansible.legacy."} {
		if strings.HasPrefix(name, p) {
			return name[len(p):]
		}
	}
	return name
}

// splitKV splits k=v at the first unescaped '='; k must look like a name.
func splitKV(w string) (k, v string, ok bool) {
	for i := 1; i < len(w); i++ {
		if w[i] == '=' && w[i-1] != '\\' {
			k = w[:i]
			if !isIdent(k) {
				return "", "", false
			}
			return k, w[i+1:], true
		}
	}
	return "", "", false
}

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return s != ""
}

// splitArgs splits on unquoted blanks, keeping quotes in the words and
// Jinja2 blocks ({{ }}, {% %}, {# #}) whole, as Ansible's split_args does.
func splitArgs(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	var quote byte
	quoteAt := 0
	depth := 0
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			cur.WriteByte(c)
			if c == '\\' && i+1 < len(s) {
				i++
				cur.WriteByte(s[i])
			} else if c == quote {
				quote = 0
			}
		case depth > 0:
			cur.WriteByte(c)
			if (c == '}' || c == '%' || c == '#') && i+1 < len(s) && s[i+1] == '}' {
				cur.WriteByte('}')
				i++
				depth--
			}
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(c)
			i++
			cur.WriteByte(s[i])
			inWord = true
		case c == '"' || c == '\'':
			quote, quoteAt, inWord = c, i, true
			cur.WriteByte(c)
		case c == '{' && i+1 < len(s) && strings.IndexByte("{%#", s[i+1]) >= 0:
			depth++
			cur.WriteString(s[i : i+2])
			i++
			inWord = true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed %c quote starting at character %d; close it or quote the whole line", quote, utf8.RuneCountInString(s[:quoteAt])+1)
	}
	if depth > 0 {
		return nil, errors.New("unclosed Jinja2 block ({{, {% or {#); close it with }}, %} or #}")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// unquote removes one pair of matching outer quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// decodeEscapes turns Python's backslash escapes (\n, \t, \\, \", \xNN,
// \uNNNN) into the characters they stand for, as Ansible does for k=v
// values; unknown escapes stay as written.
func decodeEscapes(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		c := s[i+1]
		if r, ok := simpleEscapes[c]; ok {
			b.WriteByte(r)
			i++
			continue
		}
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if width > 0 && i+2+width <= len(s) {
			if n, err := strconv.ParseUint(s[i+2:i+2+width], 16, 32); err == nil && utf8.ValidRune(rune(n)) {
				b.WriteRune(rune(n))
				i += 1 + width
				continue
			}
		}
		b.WriteByte('\\')
	}
	return b.String()
}

var simpleEscapes = map[byte]byte{
	'n': '\n', 't': '\t', 'r': '\r', '\\': '\\', '"': '"', '\'': '\'',
	'a': '\a', 'b': '\b', 'f': '\f', 'v': '\v', '0': 0,
}

// shlexSplit splits a command line into words as POSIX sh would, without
// expanding anything: the command module's argv.
func shlexSplit(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 < len(s) {
				i++
				if s[i] != '\n' {
					cur.WriteByte(s[i])
				}
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed ' quote in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, fmt.Errorf("unclosed \" quote in %q", s)
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
