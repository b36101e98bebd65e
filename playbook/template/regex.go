package template

import (
	"fmt"
	"regexp"
	"strings"
)

// compileRe compiles a Python regular expression; RE2 covers what
// templates use (no backreferences or lookaround).
func compileRe(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("bad regular expression %q: %v", pattern, err)
	}
	return re, nil
}

// pyReplacement turns Python's \1, \g<1> and \g<name> into Go's ${1}.
func pyReplacement(r string) string {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			j := i + 1
			for j < len(r) && r[j] >= '0' && r[j] <= '9' && j < i+3 {
				j++
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		case c == '\\' && strings.HasPrefix(r[i:], `\g<`):
			end := strings.IndexByte(r[i:], '>')
			if end < 0 {
				b.WriteByte(c)
				continue
			}
			b.WriteString("${" + r[i+3:i+end] + "}")
			i += end
		case c == '\\' && i+1 < len(r):
			i++
			switch r[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case '\\':
				b.WriteByte('\\')
			default:
				b.WriteByte('\\')
				b.WriteByte(r[i])
			}
		case c == '$':
			b.WriteString("$$")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func reFlags(args []any, kw map[string]any, first int) string {
	flags := ""
	if truthy(arg(args, kw, first, "ignorecase", false)) {
		flags += "i"
	}
	if truthy(arg(args, kw, first+1, "multiline", false)) {
		flags += "m"
	}
	if flags != "" {
		return "(?" + flags + ")"
	}
	return ""
}

func fRegexReplace(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	pattern, err := patternArg(args, kw, 0, "pattern")
	if err != nil {
		return nil, err
	}
	repl := ToString(arg(args, kw, 1, "replacement", ""))
	re, err := compileRe(reFlags(args, kw, 2) + pattern)
	if err != nil {
		return nil, err
	}
	return re.ReplaceAllString(ToString(in), pyReplacement(repl)), nil
}

func fRegexSearch(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("regex_search needs a pattern")
	}
	var groups []string
	for _, a := range args[1:] {
		g := ToString(a)
		ref := groupRef.FindStringSubmatch(g)
		if ref == nil {
			return nil, fmt.Errorf("unknown argument %q; give groups as '\\1' or '\\g<name>'", g)
		}
		groups = append(groups, ref[1]+ref[2])
	}
	pattern, err := patternArg(args, nil, 0, "pattern")
	if err != nil {
		return nil, err
	}
	re, err := compileRe(reFlags(nil, kw, 0) + pattern)
	if err != nil {
		return nil, err
	}
	s := ToString(in)
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	if len(groups) == 0 {
		return s[m[0]:m[1]], nil
	}
	out := []any{}
	for _, name := range groups {
		expanded := re.ExpandString(nil, "${"+name+"}", s, m)
		out = append(out, string(expanded))
	}
	return out, nil
}

func fRegexFindall(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	pattern, err := patternArg(args, kw, 0, "regex")
	if err != nil {
		return nil, err
	}
	re, err := compileRe(reFlags(args, kw, 1) + pattern)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range re.FindAllStringSubmatch(ToString(in), -1) {
		switch len(m) {
		case 1:
			out = append(out, m[0])
		case 2:
			out = append(out, m[1])
		default:
			g := make([]any, len(m)-1)
			for i, s := range m[1:] {
				g[i] = s
			}
			out = append(out, tuple{items: g}) // re.findall gives a tuple of the groups
		}
	}
	return out, nil
}

// groupRef is a regex_search group argument: \1 or \g<name>.
var groupRef = regexp.MustCompile(`^\\(\d+)$|^\\g<(\S+)>$`)

// pyReEscape is Python 3.7+'s re.escape.
func pyReEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
