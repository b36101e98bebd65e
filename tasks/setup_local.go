package tasks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// gatherLocal is Ansible's LocalFactCollector: each *.fact file under
// fact_path, or the output of running it when it is executable, read as
// JSON or else as INI; a file that is neither becomes an error message.
func gatherLocal(o *setupOutput, _ map[string]any) map[string]any {
	local := map[string]any{}
	for _, lf := range o.facts {
		name := strings.ReplaceAll(path.Base(lf.path), ".fact", "")
		out := lf.out
		if lf.exec && lf.rc != 0 {
			local[name] = fmt.Sprintf("Failure executing fact script (%s), rc: %d, err: %s", lf.path, lf.rc, lf.stderr)
			continue
		}
		if !lf.exec {
			out = strings.TrimSpace(out)
		}
		local[name] = parseLocalFact(lf.path, out)
	}
	return map[string]any{"local": local}
}

func parseLocalFact(file, out string) any {
	if !utf8.ValidString(out) {
		return fmt.Sprintf("error loading fact - output of running \"%s\" was not utf-8", file)
	}
	if v, err := decodeJSON(out); err == nil {
		return v
	}
	ini, err := parseINI(out)
	var convErr *iniValueError
	switch {
	case errors.As(err, &convErr):
		return fmt.Sprintf("Failed to convert (%s) to JSON: %v", file, err)
	case err != nil:
		return fmt.Sprintf("error loading facts as JSON or ini - please check content: %s", file)
	}
	return ini
}

// decodeJSON decodes one JSON value with Python's number types: ints stay
// ints, the rest are floats.
func decodeJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err == nil {
		return nil, errors.New("extra data after the JSON value")
	}
	return pythonNumbers(v), nil
}

func pythonNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return int(n)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = pythonNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = pythonNumbers(x[k])
		}
	}
	return v
}

// iniValueError is an interpolation failure, which Ansible reports
// differently from a syntax error.
type iniValueError struct{ msg string }

func (e *iniValueError) Error() string { return e.msg }

var (
	iniSection = regexp.MustCompile(`^\[(.+)\]`)
	iniOption  = regexp.MustCompile(`^(.*?)\s*(=|:)\s*(.*)$`)
	iniRef     = regexp.MustCompile(`^%\(([^)]+)\)s`)
)

// iniSectionData is one configparser section: its keys in order and
// their values, line by line.
type iniSectionData struct {
	keys []string
	vals map[string][]string
}

// parseINI reads text as Python's configparser.ConfigParser with its
// defaults: = or : between a lower-cased key and its value, # and ;
// comment lines, indented continuation lines, a DEFAULT section every
// section inherits, no duplicates, and %(name)s interpolation.
func parseINI(text string) (map[string]any, error) {
	defaults, sections, order, err := readINI(text)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	for _, name := range order {
		s := sections[name]
		raw := func(k string) (string, bool) {
			v, ok := s.vals[k]
			if !ok {
				v, ok = defaults.vals[k]
			}
			return strings.TrimRight(strings.Join(v, "\n"), " \t\r\n"), ok
		}
		opts := map[string]any{}
		for _, k := range append(append([]string{}, s.keys...), defaults.keys...) {
			v, err := interpolate(k, raw, 0)
			if err != nil {
				return nil, err
			}
			opts[k] = v
		}
		out[name] = opts
	}
	return out, nil
}

// readINI is RawConfigParser._read.
func readINI(text string) (defaults *iniSectionData, sections map[string]*iniSectionData, order []string, err error) {
	defaults = &iniSectionData{vals: map[string][]string{}}
	sections = map[string]*iniSectionData{}
	var cur *iniSectionData
	opt, indent := "", -1
	var syntaxErr error
	for _, line := range strings.Split(text, "\n") {
		value := strings.TrimSpace(line)
		comment := strings.HasPrefix(value, "#") || strings.HasPrefix(value, ";")
		if comment {
			value = ""
		}
		if value == "" {
			if !comment && cur != nil && opt != "" && cur.vals[opt] != nil {
				cur.vals[opt] = append(cur.vals[opt], "")
			} else {
				indent = 1 << 30
			}
			continue
		}
		lineIndent := len(line) - len(strings.TrimLeft(line, " \t\r\f\v"))
		if cur != nil && opt != "" && lineIndent > indent {
			cur.vals[opt] = append(cur.vals[opt], value)
			continue
		}
		indent = lineIndent
		if m := iniSection.FindStringSubmatch(value); m != nil {
			switch name := m[1]; {
			case sections[name] != nil:
				return nil, nil, nil, fmt.Errorf("section %q already exists", name)
			case name == "DEFAULT":
				cur = defaults
			default:
				cur = &iniSectionData{vals: map[string][]string{}}
				sections[name], order = cur, append(order, name)
			}
			opt = ""
			continue
		}
		if cur == nil {
			return nil, nil, nil, errors.New("file contains no section headers")
		}
		m := iniOption.FindStringSubmatch(value)
		if m == nil || m[1] == "" {
			syntaxErr = fmt.Errorf("cannot parse %q", line)
			continue
		}
		opt = strings.ToLower(strings.TrimRight(m[1], " \t"))
		if cur.vals[opt] != nil {
			return nil, nil, nil, fmt.Errorf("option %q already exists", opt)
		}
		cur.keys = append(cur.keys, opt)
		cur.vals[opt] = []string{strings.TrimSpace(m[3])}
	}
	return defaults, sections, order, syntaxErr
}

// interpolate is configparser's BasicInterpolation: %% is %, %(name)s is
// another option's value.
func interpolate(key string, raw func(string) (string, bool), depth int) (string, error) {
	v, _ := raw(key)
	if depth > 10 {
		return "", &iniValueError{fmt.Sprintf("recursion limit exceeded in value substitution: option %q", key)}
	}
	var b bytes.Buffer
	for i := 0; i < len(v); {
		j := strings.IndexByte(v[i:], '%')
		if j < 0 {
			b.WriteString(v[i:])
			break
		}
		b.WriteString(v[i : i+j])
		i += j
		switch m := iniRef.FindStringSubmatch(v[i:]); {
		case strings.HasPrefix(v[i:], "%%"):
			b.WriteByte('%')
			i += 2
		case m != nil:
			name := strings.ToLower(m[1])
			if _, ok := raw(name); !ok {
				return "", &iniValueError{fmt.Sprintf("bad interpolation variable reference %q in option %q", m[0], key)}
			}
			sub, err := interpolate(name, raw, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(sub)
			i += len(m[0])
		default:
			return "", &iniValueError{fmt.Sprintf("'%%' must be followed by '%%' or '(', found: %q", v[i:])}
		}
	}
	return b.String(), nil
}
