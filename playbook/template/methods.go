package template

import (
	"fmt"
	"github.com/drover/drover/playbook/value"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// method is a bound Python method such as d.items or s.split.
type method struct {
	recv any
	name string
}

var stringMethods = map[string]bool{"upper": true, "lower": true, "strip": true, "lstrip": true, "rstrip": true, "split": true,
	"startswith": true, "endswith": true, "replace": true, "format": true, "join": true, "capitalize": true, "title": true,
	"find": true, "count": true, "splitlines": true, "isdigit": true, "isalpha": true, "zfill": true}

var dictMethods = map[string]bool{"items": true, "keys": true, "values": true, "get": true}

var listMethods = map[string]bool{"index": true, "count": true}

func isMethod(v any, name string) bool {
	switch x := v.(type) {
	case string:
		return stringMethods[name]
	case *value.Dict, map[string]any, Mapping:
		return dictMethods[name]
	case []any, tuple:
		return listMethods[name]
	case object:
		return x.hasMethod(name)
	}
	return false
}

func (ev *evaluator) call(x *call) (any, error) {
	args := make([]any, len(x.args))
	for i, a := range x.args {
		v, err := ev.evalDefined(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	kw := map[string]any{}
	for _, k := range x.kwargs {
		v, err := ev.evalDefined(k.val)
		if err != nil {
			return nil, err
		}
		kw[k.name] = v
	}
	if n, ok := x.fn.(*name); ok {
		if _, defined := ev.scope.Lookup(n.name); !defined {
			switch n.name {
			case "lookup", "query", "q":
				v, err := ev.callLookup(n.name != "lookup", args, kw)
				if err != nil {
					return nil, ev.fail(x, "%s(): %v", n.name, err)
				}
				return v, nil
			}
			if n.name == "dict" {
				// Python keeps the keyword arguments in the order written.
				order := make([]string, len(x.kwargs))
				for i, k := range x.kwargs {
					order[i] = k.name
				}
				v, err := pyDict(args, kw, slices.Compact(order))
				if err != nil {
					return nil, ev.fail(x, "dict(): %v", err)
				}
				return v, nil
			}
			if fn, ok := globals[n.name]; ok {
				v, err := fn(args, kw)
				if err != nil {
					return nil, ev.fail(x, "%s(): %v", n.name, err)
				}
				return v, nil
			}
		}
	}
	fn, err := ev.evalDefined(x.fn)
	if err != nil {
		return nil, err
	}
	if mac, ok := fn.(*macro); ok {
		v, err := mac.invoke(args, kw)
		if err != nil {
			if _, placed := err.(*placedError); placed {
				return nil, err // already positioned inside the template
			}
			return nil, ev.fail(x, "%v", err)
		}
		return v, nil
	}
	m, ok := fn.(*method)
	if !ok {
		return nil, ev.fail(x, "'%s' object is not callable", typeName(fn))
	}
	v, err := m.call(args, kw)
	if err != nil {
		return nil, ev.fail(x, "%s(): %v", m.name, err)
	}
	return v, nil
}

// globals are Jinja's global functions.
var globals = map[string]func(args []any, kw map[string]any) (any, error){
	"now": now,
	"range": func(args []any, _ map[string]any) (any, error) {
		var nums []int64
		for _, a := range args {
			n, ok := toInt(a)
			if !ok {
				return nil, fmt.Errorf("'%s' object cannot be interpreted as an integer", typeName(a))
			}
			nums = append(nums, n)
		}
		start, stop, step := int64(0), int64(0), int64(1)
		switch len(nums) {
		case 1:
			stop = nums[0]
		case 2:
			start, stop = nums[0], nums[1]
		case 3:
			start, stop, step = nums[0], nums[1], nums[2]
		default:
			return nil, fmt.Errorf("expected 1 to 3 arguments, got %d", len(nums))
		}
		if step == 0 {
			return nil, fmt.Errorf("arg 3 must not be zero")
		}
		// Count first: a huge range fails at once instead of after filling memory.
		if n := (stop - start) / step; n > 1_000_000 || n < -1_000_000 {
			return nil, fmt.Errorf("range too large (over a million items)")
		}
		out := []any{}
		for i := start; step > 0 && i < stop || step < 0 && i > stop; i += step {
			out = append(out, i)
			if len(out) > 1_000_000 {
				return nil, fmt.Errorf("range too large")
			}
		}
		return out, nil
	},
	"dict": func(args []any, kw map[string]any) (any, error) { return pyDict(args, kw, nil) },
}

// pyDict is Python's dict(): the pairs of an iterable (dict(keys |
// zip(values)), dict(d.items())) or a mapping's entries, then the keyword
// arguments.
func pyDict(args []any, kw map[string]any, order []string) (any, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("dict expected at most 1 argument, got %d", len(args))
	}
	out := value.NewDict(len(kw))
	if len(args) == 1 {
		if d, ok := asDict(args[0]); ok {
			out = d.Clone()
		} else {
			items, err := iterate(args[0])
			if err != nil {
				return nil, err
			}
			for i, it := range items {
				kv, err := iterate(it)
				if err != nil {
					return nil, fmt.Errorf("cannot convert dictionary update sequence element #%d to a sequence", i)
				}
				if len(kv) != 2 {
					return nil, fmt.Errorf("dictionary update sequence element #%d has length %d; 2 is required", i, len(kv))
				}
				out.Set(ToString(kv[0]), kv[1])
			}
		}
	}
	if order == nil {
		order = slices.Sorted(maps.Keys(kw))
	}
	for _, k := range order {
		out.Set(k, kw[k])
	}
	return out, nil
}

func (m *method) call(args []any, kw map[string]any) (any, error) {
	switch r := m.recv.(type) {
	case string:
		return stringMethod(r, m.name, args, kw)
	case object:
		return r.callMethod(m.name, args, kw)
	case *value.Dict, map[string]any, Mapping:
		d, _ := asDict(r)
		switch m.name {
		case "items":
			return &view{kind: "dict_items", items: dictItems(d)}, nil
		case "keys":
			out := make([]any, 0, d.Len())
			for _, k := range d.Keys() {
				out = append(out, k)
			}
			return &view{kind: "dict_keys", items: out}, nil
		case "values":
			out := make([]any, 0, d.Len())
			for _, v := range d.All() {
				out = append(out, v)
			}
			return &view{kind: "dict_values", items: out}, nil
		case "get":
			if len(args) == 0 {
				return nil, fmt.Errorf("expected at least 1 argument")
			}
			if v, ok := d.Get(ToString(args[0])); ok {
				return v, nil
			}
			if len(args) > 1 {
				return args[1], nil
			}
			return nil, nil
		}
	case []any, tuple:
		items, _ := seqItems(m.recv)
		switch m.name {
		case "count":
			n := int64(0)
			for _, e := range items {
				if len(args) > 0 && equal(e, args[0]) {
					n++
				}
			}
			return n, nil
		case "index":
			for i, e := range items {
				if len(args) > 0 && equal(e, args[0]) {
					return int64(i), nil
				}
			}
			if _, ok := m.recv.(tuple); ok {
				return nil, fmt.Errorf("tuple.index(x): x not in tuple")
			}
			return nil, fmt.Errorf("%s is not in list", repr(firstOr(args, nil)))
		}
	}
	return nil, fmt.Errorf("no method %s", m.name)
}

func strArg(args []any, i int, def string) (string, bool) {
	if i >= len(args) || args[i] == nil {
		return def, false
	}
	return ToString(args[i]), true
}

func stringMethod(s, name string, args []any, kw map[string]any) (any, error) {
	switch name {
	case "upper":
		return strings.ToUpper(s), nil
	case "lower":
		return strings.ToLower(s), nil
	case "strip", "lstrip", "rstrip":
		chars, given := strArg(args, 0, "")
		trim := map[string]func(string, string) string{"strip": strings.Trim, "lstrip": strings.TrimLeft, "rstrip": strings.TrimRight}[name]
		if !given {
			return map[string]func(string) string{"strip": strings.TrimSpace,
				"lstrip": func(x string) string { return strings.TrimLeftFunc(x, unicode.IsSpace) },
				"rstrip": func(x string) string { return strings.TrimRightFunc(x, unicode.IsSpace) }}[name](s), nil
		}
		return trim(s, chars), nil
	case "split":
		if len(args) > 0 && args[0] != nil {
			if _, ok := args[0].(string); !ok {
				return nil, fmt.Errorf("must be str or None, not %s", typeName(args[0]))
			}
		}
		sep, given := strArg(args, 0, "")
		var parts []string
		if !given {
			parts = strings.Fields(s)
		} else {
			if sep == "" {
				return nil, fmt.Errorf("empty separator")
			}
			parts = strings.Split(s, sep)
		}
		out := make([]any, len(parts))
		for i, p := range parts {
			out[i] = p
		}
		return out, nil
	case "splitlines":
		out := []any{}
		for _, l := range lines(s) {
			out = append(out, l)
		}
		return out, nil
	case "startswith", "endswith":
		if len(args) == 0 {
			return nil, fmt.Errorf("%s expected at least 1 argument, got 0", name)
		}
		prefixes := args[:1]
		if t, ok := args[0].(tuple); ok {
			prefixes = t.items
		}
		for _, p := range prefixes {
			if _, ok := p.(string); !ok {
				return nil, fmt.Errorf("%s first arg must be str or a tuple of str, not %s", name, typeName(p))
			}
			if name == "startswith" && strings.HasPrefix(s, ToString(p)) || name == "endswith" && strings.HasSuffix(s, ToString(p)) {
				return true, nil
			}
		}
		return false, nil
	case "replace":
		if len(args) < 2 {
			return nil, fmt.Errorf("expected 2 arguments")
		}
		n := -1
		if len(args) > 2 {
			c, _ := toInt(args[2])
			n = int(c)
		}
		return strings.Replace(s, ToString(args[0]), ToString(args[1]), n), nil
	case "join":
		if len(args) != 1 {
			return nil, fmt.Errorf("expected 1 argument")
		}
		items, err := iterate(args[0])
		if err != nil {
			return nil, err
		}
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = ToString(it)
		}
		return strings.Join(parts, s), nil
	case "capitalize":
		return capitalize(s), nil
	case "title":
		return title(s), nil
	case "find":
		sub, _ := strArg(args, 0, "")
		return int64(strings.Index(s, sub)), nil
	case "count":
		sub, _ := strArg(args, 0, "")
		return int64(strings.Count(s, sub)), nil
	case "isdigit":
		return s != "" && strings.Trim(s, "0123456789") == "", nil
	case "isalpha":
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) < 0, nil
	case "zfill":
		w, _ := toInt(firstOr(args, int64(0)))
		for int64(len(s)) < w {
			s = "0" + s
		}
		return s, nil
	case "format":
		return strFormat(s, args, kw)
	}
	return nil, fmt.Errorf("no method %s", name)
}

func firstOr(args []any, def any) any {
	if len(args) > 0 {
		return args[0]
	}
	return def
}

// strFormat is str.format with {} / {0} / {name} fields.
func strFormat(f string, args []any, kw map[string]any) (any, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c == '{' && i+1 < len(f) && f[i+1] == '{' || c == '}' && i+1 < len(f) && f[i+1] == '}' {
			b.WriteByte(c)
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(f[i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("single '{' encountered in format string")
		}
		field, spec, _ := strings.Cut(f[i+1:i+end], ":")
		var v any
		switch {
		case field == "":
			if auto >= len(args) {
				return nil, fmt.Errorf("replacement index %d out of range", auto)
			}
			v = args[auto]
			auto++
		case field[0] >= '0' && field[0] <= '9':
			n := 0
			fmt.Sscanf(field, "%d", &n)
			if n >= len(args) {
				return nil, fmt.Errorf("replacement index %d out of range", n)
			}
			v = args[n]
		default:
			var ok bool
			if v, ok = kw[field]; !ok {
				return nil, fmt.Errorf("KeyError: '%s'", field)
			}
		}
		text, err := formatValue(v, spec)
		if err != nil {
			return nil, err
		}
		b.WriteString(text)
		i += end
	}
	return b.String(), nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	r := []rune(strings.ToLower(s))
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// title is Python's str.title: every letter after a non-letter upper-cased.
func title(s string) string {
	var b strings.Builder
	prev := false
	for _, r := range s {
		if unicode.IsLetter(r) {
			if prev {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToUpper(r))
			}
			prev = true
		} else {
			b.WriteRune(r)
			prev = false
		}
	}
	return b.String()
}

// lines is Python's str.splitlines.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	if strings.HasSuffix(s, "\n") {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// dictItems are d's (key, value) pairs, as dict.items() yields them.
func dictItems(d *value.Dict) []any {
	out := make([]any, 0, d.Len())
	for k, v := range d.All() {
		out = append(out, pair(k, v))
	}
	return out
}

// iterate returns the items of a list, the keys of a dict or the characters
// of a string, as Python's iteration does.
func iterate(v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case tuple:
		return x.items, nil
	case *view:
		return x.items, nil
	case *value.Dict, map[string]any, Mapping:
		d, _ := asDict(x)
		out := make([]any, 0, d.Len())
		for _, k := range d.Keys() {
			out = append(out, k)
		}
		return out, nil
	case value.Unsafe:
		return iterate(string(x))
	case string:
		out := []any{}
		for _, r := range x {
			out = append(out, string(r))
		}
		return out, nil
	}
	return nil, fmt.Errorf("'%s' object is not iterable", typeName(v))
}

// formatSpec is a parsed Python format spec:
// [[fill]align][sign][#][0][width][,|_][.precision][type].
type formatSpec struct {
	fill, align, sign byte
	alt               bool
	width, precision  int // precision -1: none
	group, kind       byte
}

func parseFormatSpec(spec string) (formatSpec, error) {
	f := formatSpec{fill: ' ', precision: -1}
	i := 0
	isAlign := func(c byte) bool { return c == '<' || c == '>' || c == '^' || c == '=' }
	if len(spec) >= 2 && isAlign(spec[1]) {
		f.fill, f.align, i = spec[0], spec[1], 2
	} else if len(spec) >= 1 && isAlign(spec[0]) {
		f.align, i = spec[0], 1
	}
	if i < len(spec) && strings.IndexByte("+- ", spec[i]) >= 0 {
		f.sign, i = spec[i], i+1
	}
	if i < len(spec) && spec[i] == '#' {
		f.alt, i = true, i+1
	}
	if i < len(spec) && spec[i] == '0' {
		if f.align == 0 {
			f.fill, f.align = '0', '='
		}
		i++
	}
	for ; i < len(spec) && spec[i] >= '0' && spec[i] <= '9'; i++ {
		f.width = f.width*10 + int(spec[i]-'0')
	}
	if i < len(spec) && (spec[i] == ',' || spec[i] == '_') {
		f.group, i = spec[i], i+1
	}
	if i < len(spec) && spec[i] == '.' {
		i++
		f.precision = 0
		start := i
		for ; i < len(spec) && spec[i] >= '0' && spec[i] <= '9'; i++ {
			f.precision = f.precision*10 + int(spec[i]-'0')
		}
		if i == start {
			return f, fmt.Errorf("Format specifier missing precision")
		}
	}
	if i < len(spec) {
		f.kind, i = spec[i], i+1
	}
	if i != len(spec) {
		return f, fmt.Errorf("Invalid format specifier '%s'", spec)
	}
	return f, nil
}

// formatValue is Python's format(v, spec) for strings, ints and floats.
func formatValue(v any, spec string) (string, error) {
	if spec == "" {
		return ToString(v), nil
	}
	f, err := parseFormatSpec(spec)
	if err != nil {
		return "", err
	}
	var body, sign string
	numeric := true
	switch x := v.(type) {
	case string:
		if f.kind != 0 && f.kind != 's' {
			return "", fmt.Errorf("Unknown format code '%c' for object of type 'str'", f.kind)
		}
		numeric, body = false, x
		if f.precision >= 0 && f.precision < len([]rune(x)) {
			body = string([]rune(x)[:f.precision])
		}
	case bool, int64:
		n, _ := toInt(x)
		if strings.IndexByte("eEfFgG%", f.kind) >= 0 && f.kind != 0 {
			return formatValue(float64(n), spec)
		}
		if n < 0 {
			sign, n = "-", -n
		}
		prefix := ""
		switch f.kind {
		case 0, 'd', 'n':
			body = strconv.FormatInt(n, 10)
		case 'b':
			body, prefix = strconv.FormatInt(n, 2), "0b"
		case 'o':
			body, prefix = strconv.FormatInt(n, 8), "0o"
		case 'x':
			body, prefix = strconv.FormatInt(n, 16), "0x"
		case 'X':
			body, prefix = strings.ToUpper(strconv.FormatInt(n, 16)), "0X"
		case 'c':
			numeric, body = false, string(rune(n))
		default:
			return "", fmt.Errorf("Unknown format code '%c' for object of type 'int'", f.kind)
		}
		if f.group != 0 {
			body = groupDigits(body, f.group)
		}
		if f.alt {
			body = prefix + body
		}
	case float64:
		if math.Signbit(x) {
			sign, x = "-", -x
		}
		prec := f.precision
		switch f.kind {
		case 'f', 'F', '%':
			if prec < 0 {
				prec = 6
			}
			if f.kind == '%' {
				x *= 100
			}
			body = strconv.FormatFloat(x, 'f', prec, 64)
		case 'e', 'E':
			if prec < 0 {
				prec = 6
			}
			body = strconv.FormatFloat(x, 'e', prec, 64)
		case 'g', 'G':
			if prec < 0 {
				prec = 6
			}
			body = strconv.FormatFloat(x, 'g', max(prec, 1), 64)
		case 0:
			if prec < 0 {
				body = pyFloat(x)
			} else {
				body = strconv.FormatFloat(x, 'g', max(prec, 1), 64)
			}
		default:
			return "", fmt.Errorf("Unknown format code '%c' for object of type 'float'", f.kind)
		}
		if f.group != 0 {
			intPart, frac, hasFrac := strings.Cut(body, ".")
			body = groupDigits(intPart, f.group)
			if hasFrac {
				body += "." + frac
			}
		}
		if f.kind == 'E' || f.kind == 'G' || f.kind == 'F' {
			body = strings.ToUpper(body)
		}
		if f.kind == '%' {
			body += "%"
		}
	default:
		if f.kind != 0 && f.kind != 's' {
			return "", fmt.Errorf("Unknown format code '%c' for object of type '%s'", f.kind, typeName(v))
		}
		numeric, body = false, ToString(v)
	}
	if numeric && sign == "" && (f.sign == '+' || f.sign == ' ') {
		sign = string(f.sign)
	}
	align := f.align
	if align == 0 {
		align = '<'
		if numeric {
			align = '>'
		}
	}
	pad := f.width - len([]rune(sign+body))
	if pad <= 0 {
		return sign + body, nil
	}
	fill := strings.Repeat(string(f.fill), pad)
	switch align {
	case '>':
		return fill + sign + body, nil
	case '^':
		return fill[:pad/2] + sign + body + fill[pad/2:], nil
	case '=':
		return sign + fill + body, nil
	}
	return sign + body + fill, nil
}

// groupDigits puts sep between every three digits from the right.
func groupDigits(digits string, sep byte) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
