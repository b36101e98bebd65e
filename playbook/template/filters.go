package template

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/drover/drover/playbook/value"
	"hash"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// filterFunc is one filter: in | name(args, kw).
type filterFunc func(ev *evaluator, in any, args []any, kw map[string]any) (any, error)

// acceptsUndefinedTest are the tests that may judge an undefined value,
// as selectattr('x', 'defined') asks of items without x.
var acceptsUndefinedTest = map[string]bool{"defined": true, "undefined": true}

// acceptsUndefined are the filters that may receive an undefined value.
var acceptsUndefined = map[string]bool{"default": true, "d": true, "mandatory": true}

// filters maps Jinja2's and Ansible's filter names to their code. A
// read-only table: filters are pure functions. map and select reach it
// through the evaluator, which keeps the table free of cycles.
var filters = map[string]filterFunc{
	"default": fDefault, "d": fDefault, "mandatory": fMandatory,
	"bool": fBool, "int": fInt, "float": fFloat, "string": func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) { return ToString(in), nil },
	"lower": strFilter(strings.ToLower), "upper": strFilter(strings.ToUpper), "capitalize": strFilter(capitalize), "title": strFilter(title),
	"trim":    strFilter(strings.TrimSpace),
	"replace": fReplace,
	"length":  fLength, "count": fLength,
	"first": fFirst, "last": fLast,
	"min": minMax(true), "max": minMax(false),
	"sum":    fSum,
	"join":   fJoin,
	"list":   func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) { return iterate(in) },
	"unique": fUnique,
	"union":  setOp("union"), "intersect": setOp("intersect"), "difference": setOp("difference"), "symmetric_difference": setOp("symmetric_difference"),
	"sort":    fSort,
	"reverse": fReverse,
	"map":     fMap,
	"select":  selectFilter(true, false), "reject": selectFilter(false, false),
	"selectattr": selectFilter(true, true), "rejectattr": selectFilter(false, true),
	"dict2items": fDict2Items, "items2dict": fItems2Dict,
	"combine": fCombine,
	"to_json": fToJSON, "to_nice_json": fToNiceJSON, "from_json": fFromJSON,
	"b64encode":     strFilter(func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }),
	"b64decode":     fB64Decode,
	"regex_replace": fRegexReplace, "regex_search": fRegexSearch, "regex_findall": fRegexFindall,
	"regex_escape": strFilter(pyReEscape),
	"quote":        strFilter(shellQuote),
	"basename":     strFilter(path.Base), "dirname": strFilter(pyDirname),
	"splitext": fSplitext,
	"ternary":  fTernary,
	"hash":     fHash, "checksum": func(ev *evaluator, in any, _ []any, _ map[string]any) (any, error) {
		return fHash(ev, in, []any{"sha1"}, nil)
	},
	"md5": func(ev *evaluator, in any, _ []any, _ map[string]any) (any, error) {
		return fHash(ev, in, []any{"md5"}, nil)
	},
	"sha1": func(ev *evaluator, in any, _ []any, _ map[string]any) (any, error) {
		return fHash(ev, in, []any{"sha1"}, nil)
	},
	"zip":         fZip,
	"zip_longest": fZipLongest,
	"flatten":     fFlatten,
	"abs":         fAbs,
	"round":       fRound,
	"type_debug":  func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) { return typeName(in), nil },
	"indent":      fIndent,
	"center":      fCenter,
	"wordcount": func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
		return int64(len(strings.Fields(ToString(in)))), nil
	},
	"format": func(_ *evaluator, in any, args []any, _ map[string]any) (any, error) {
		return percentFormat(ToString(in), tuple{items: args})
	},
	"dictsort": fDictsort,
	"batch":    fBatch,
	"items":    fItems,
}

// arg returns positional argument i, or keyword name, or def.
func arg(args []any, kw map[string]any, i int, name string, def any) any {
	if v, ok := kw[name]; ok {
		return v
	}
	if i >= 0 && i < len(args) {
		return args[i]
	}
	return def
}

// intArg is an argument that Python uses as an integer: a str there is
// the TypeError Python raises, not a silent default.
func intArg(args []any, kw map[string]any, i int, name string, def int64) (int64, error) {
	v := arg(args, kw, i, name, def)
	n, ok := toInt(v)
	if !ok {
		return 0, fmt.Errorf("'%s' object cannot be interpreted as an integer (%s)", typeName(v), name)
	}
	return n, nil
}

// patternArg is a regular expression argument, which Python's re wants as
// a string.
func patternArg(args []any, kw map[string]any, i int, name string) (string, error) {
	v := arg(args, kw, i, name, "")
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("the pattern must be a string, not %s", typeName(v))
	}
	return s, nil
}

func strFilter(f func(string) string) filterFunc {
	return func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) { return f(ToString(in)), nil }
}

func fDefault(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	def := arg(args, kw, 0, "default_value", "")
	boolean := truthy(arg(args, kw, 1, "boolean", false))
	if _, undefined := in.(*Undefined); undefined || boolean && !truthy(in) {
		return def, nil
	}
	return in, nil
}

func fMandatory(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	if u, ok := in.(*Undefined); ok {
		if msg := arg(args, kw, 0, "msg", nil); msg != nil {
			return nil, fmt.Errorf("%s", ToString(msg))
		}
		return nil, fmt.Errorf("mandatory variable '%s' not defined", u.Path)
	}
	return in, nil
}

func fBool(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case nil, bool:
		return x, nil
	case string:
		switch strings.ToLower(x) {
		case "yes", "on", "1", "true":
			return true, nil
		}
		return false, nil
	case int64:
		return x == 1, nil
	case float64:
		return x == 1, nil
	}
	return false, nil
}

func fInt(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	def := arg(args, kw, 0, "default", int64(0))
	base, _ := toInt(arg(args, kw, 1, "base", int64(10)))
	switch x := in.(type) {
	case int64:
		return x, nil
	case bool:
		n, _ := toInt(x)
		return n, nil
	case float64:
		return int64(x), nil
	case string:
		s := strings.TrimSpace(strings.ReplaceAll(x, "_", ""))
		if prefix := map[int64]string{16: "0x", 8: "0o", 2: "0b"}[base]; prefix != "" && strings.HasPrefix(strings.ToLower(s), prefix) {
			s = s[2:]
		}
		if n, err := strconv.ParseInt(s, int(base), 64); err == nil {
			return n, nil
		}
		if base == 10 {
			if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return int64(f), nil
			}
		}
	}
	return def, nil
}

func fFloat(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	def := arg(args, kw, 0, "default", 0.0)
	if f, ok := toFloat(in); ok {
		return f, nil
	}
	if s, ok := in.(string); ok {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			return f, nil
		}
	}
	return def, nil
}

func fReplace(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("replace needs the old and the new text")
	}
	n := -1
	if c, ok := toInt(arg(args, kw, 2, "count", nil)); ok {
		n = int(c)
	}
	return strings.Replace(ToString(in), ToString(args[0]), ToString(args[1]), n), nil
}

func fLength(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case string:
		return int64(len([]rune(x))), nil
	case []any:
		return int64(len(x)), nil
	case tuple:
		return int64(len(x.items)), nil
	case *view:
		return int64(len(x.items)), nil
	case *value.Dict:
		return int64(x.Len()), nil
	case map[string]any:
		return int64(len(x)), nil
	case Mapping:
		return int64(len(x.Keys())), nil
	}
	return nil, fmt.Errorf("object of type '%s' has no len()", typeName(in))
}

func fFirst(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return &Undefined{Path: "first item", Hint: "the sequence is empty"}, nil
	}
	return items[0], nil
}

func fLast(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return &Undefined{Path: "last item", Hint: "the sequence is empty"}, nil
	}
	return items[len(items)-1], nil
}

func minMax(isMin bool) filterFunc {
	return func(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
		items, err := iterate(in)
		if err != nil {
			return nil, err
		}
		attribute, _ := arg(args, kw, -1, "attribute", nil).(string)
		if len(items) == 0 {
			return &Undefined{Path: "min/max", Hint: "the sequence is empty"}, nil
		}
		key := func(v any) any {
			if attribute != "" {
				return lookupKey(v, attribute, attribute)
			}
			return v
		}
		best := items[0]
		for _, it := range items[1:] {
			lt, err := less(key(it), key(best))
			if err != nil {
				return nil, err
			}
			if lt == isMin && !equal(key(it), key(best)) {
				best = it
			}
		}
		return best, nil
	}
}

func fSum(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	attribute, _ := arg(args, kw, 0, "attribute", nil).(string)
	total := arg(args, kw, 1, "start", int64(0))
	for _, it := range items {
		if attribute != "" {
			it = lookupKey(it, attribute, attribute)
		}
		if total, err = arith("+", total, it); err != nil {
			return nil, err
		}
	}
	return total, nil
}

func fJoin(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	sep := ToString(arg(args, kw, 0, "d", ""))
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = ToString(it)
	}
	return strings.Join(parts, sep), nil
}

func uniqueItems(items []any) []any {
	out := []any{}
	for _, it := range items {
		if !slices.ContainsFunc(out, func(o any) bool { return equal(o, it) }) {
			out = append(out, it)
		}
	}
	return out
}

// fUnique is Ansible's unique, which is Jinja2's with case_sensitive
// false unless given: strings that differ only in case are one, the first
// kept; with attribute, items are compared by it.
func fUnique(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	caseSensitive := truthy(arg(args, kw, 0, "case_sensitive", false))
	attribute, _ := arg(args, kw, 1, "attribute", nil).(string)
	if caseSensitive && attribute == "" {
		return uniqueItems(items), nil
	}
	key := itemKey(attribute, caseSensitive)
	out, seen := []any{}, []any{}
	for _, it := range items {
		k := key(it)
		if u, ok := k.(*Undefined); ok {
			return nil, errors.New(u.err())
		}
		if !slices.ContainsFunc(seen, func(o any) bool { return equal(o, k) }) {
			seen = append(seen, k)
			out = append(out, it)
		}
	}
	return out, nil
}

func setOp(op string) filterFunc {
	return func(_ *evaluator, in any, args []any, _ map[string]any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("%s needs one list argument", op)
		}
		a, err := iterate(in)
		if err != nil {
			return nil, err
		}
		b, err := iterate(args[0])
		if err != nil {
			return nil, err
		}
		has := func(list []any, v any) bool {
			return slices.ContainsFunc(list, func(o any) bool { return equal(o, v) })
		}
		var out []any
		switch op {
		case "union":
			if concatenates(in) != concatenates(args[0]) {
				_, err := arith("+", in, args[0]) // Ansible's a + b: a list and a tuple do not add up
				return nil, err
			}
			out = append(slices.Clone(a), b...)
		case "intersect":
			for _, v := range a {
				if has(b, v) {
					out = append(out, v)
				}
			}
		case "difference":
			for _, v := range a {
				if !has(b, v) {
					out = append(out, v)
				}
			}
		case "symmetric_difference":
			for _, v := range append(slices.Clone(a), b...) {
				if has(a, v) != has(b, v) {
					out = append(out, v)
				}
			}
		}
		return uniqueItems(out), nil
	}
}

// concatenates reports whether v is a list: Ansible's set filters add
// and search unhashable values such as lists as lists, and build sets of
// hashable ones such as tuples and strings (drover keeps lists there).
func concatenates(v any) bool {
	_, ok := v.([]any)
	return ok
}

func fSort(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	reverse := truthy(arg(args, kw, 0, "reverse", false))
	caseSensitive := truthy(arg(args, kw, 1, "case_sensitive", false))
	attribute, _ := arg(args, kw, 2, "attribute", nil).(string)
	key := itemKey(attribute, caseSensitive)
	out := slices.Clone(items)
	sortErr := sortBy(out, key)
	if reverse {
		slices.Reverse(out)
	}
	return out, sortErr
}

// itemKey is what Jinja2's sort and unique compare an item by: its
// attribute (a dotted path) when given, a string in lower case unless
// caseSensitive.
func itemKey(attribute string, caseSensitive bool) func(any) any {
	return func(v any) any {
		if attribute != "" {
			for _, part := range strings.Split(attribute, ".") {
				v = lookupKey(v, part, attribute)
			}
		}
		if s, ok := v.(string); ok && !caseSensitive {
			return strings.ToLower(s)
		}
		return v
	}
}

// sortBy sorts items stably by key, as Python's sorted(key=...) does; an
// error is a pair of keys Python cannot compare.
func sortBy(items []any, key func(any) any) error {
	var sortErr error
	slices.SortStableFunc(items, func(a, b any) int {
		ka, kb := key(a), key(b)
		lt, err := less(ka, kb)
		if err != nil {
			sortErr = err
		}
		switch {
		case lt:
			return -1
		case equal(ka, kb):
			return 0
		}
		return 1
	})
	return sortErr
}

func fReverse(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	if s, ok := in.(string); ok {
		r := []rune(s)
		slices.Reverse(r)
		return string(r), nil
	}
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(items)
	slices.Reverse(out)
	return out, nil
}

func fMap(ev *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	if attribute, ok := kw["attribute"].(string); ok && len(args) == 0 {
		def, hasDef := kw["default"]
		for _, it := range items {
			v := any(it)
			for _, part := range strings.Split(attribute, ".") {
				v = lookupKey(v, part, attribute)
			}
			if _, undefined := v.(*Undefined); undefined && hasDef {
				v = def
			}
			out = append(out, v)
		}
		return out, nil
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("map needs a filter name or attribute=")
	}
	name := ToString(args[0])
	f, ok := ev.filters[name]
	if !ok {
		return nil, unknownFilter(name, ev.filters)
	}
	for _, it := range items {
		v, err := f(ev, it, args[1:], kw)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// selectFilter builds select/reject (by test) and selectattr/rejectattr.
func selectFilter(keep, byAttr bool) filterFunc {
	return func(ev *evaluator, in any, args []any, _ map[string]any) (any, error) {
		items, err := iterate(in)
		if err != nil {
			return nil, err
		}
		var attribute string
		if byAttr {
			if len(args) == 0 {
				return nil, fmt.Errorf("selectattr needs an attribute name")
			}
			attribute, args = ToString(args[0]), args[1:]
		}
		out := []any{}
		for _, it := range items {
			v := any(it)
			if byAttr {
				for _, part := range strings.Split(attribute, ".") {
					v = lookupKey(v, part, attribute)
				}
			}
			if u, undefined := v.(*Undefined); undefined && (len(args) == 0 || !acceptsUndefinedTest[ToString(args[0])]) {
				return nil, fmt.Errorf("%s", u.err())
			}
			var ok bool
			if len(args) == 0 {
				ok = truthy(v)
			} else {
				name := ToString(args[0])
				t, found := allTests()[name]
				if !found {
					return nil, unknownTest(name)
				}
				if ok, err = t(v, args[1:]); err != nil {
					return nil, err
				}
			}
			if ok == keep {
				out = append(out, it)
			}
		}
		return out, nil
	}
}

func fDict2Items(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	m, ok := asDict(in)
	if !ok {
		return nil, fmt.Errorf("dict2items requires a dictionary, got %s", typeName(in))
	}
	if len(args) > 2 {
		return nil, fmt.Errorf("dict2items takes at most 2 arguments (key_name, value_name), got %d", len(args))
	}
	kn, vn := ToString(arg(args, kw, 0, "key_name", "key")), ToString(arg(args, kw, 1, "value_name", "value"))
	out := make([]any, 0, m.Len())
	for k, v := range m.All() {
		item := value.NewDict(2)
		item.Set(kn, k)
		item.Set(vn, v)
		out = append(out, item)
	}
	return out, nil
}

func fItems2Dict(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, ok := in.([]any)
	if !ok {
		return nil, fmt.Errorf("items2dict requires a list, got %s", typeName(in))
	}
	kn, vn := ToString(arg(args, kw, 0, "key_name", "key")), ToString(arg(args, kw, 1, "value_name", "value"))
	out := value.NewDict(len(items))
	for _, it := range items {
		if !isDict(it) {
			return nil, fmt.Errorf("items2dict requires a list of dicts with %s and %s", kn, vn)
		}
		k, ok1 := dictGet(it, kn)
		v, ok2 := dictGet(it, vn)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("items2dict: an item lacks %q or %q", kn, vn)
		}
		out.Set(ToString(k), v)
	}
	return out, nil
}

func fCombine(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	recursive := truthy(kw["recursive"])
	listMerge, _ := kw["list_merge"].(string)
	dicts := []any{in}
	for _, a := range args {
		if l, ok := seqItems(a); ok {
			dicts = append(dicts, l...)
		} else {
			dicts = append(dicts, a)
		}
	}
	out := value.NewDict(0)
	for _, d := range dicts {
		m, ok := asDict(d)
		if !ok {
			return nil, fmt.Errorf("combine expects dictionaries, got %s", typeName(d))
		}
		out = merge(out, m, recursive, listMerge)
	}
	return out, nil
}

// merge is Ansible's merge_hash: a's keys in their order, then b's new
// ones, b's values winning.
func merge(a, b *value.Dict, recursive bool, listMerge string) *value.Dict {
	out := a.Clone()
	for k, v := range b.All() {
		old, exists := out.Get(k)
		om, oIsMap := asDict(old)
		nm, nIsMap := asDict(v)
		ol, oIsList := old.([]any)
		nl, nIsList := v.([]any)
		switch {
		case exists && recursive && oIsMap && nIsMap:
			out.Set(k, merge(om, nm, recursive, listMerge))
		case exists && oIsList && nIsList && listMerge != "" && listMerge != "replace":
			switch listMerge {
			case "keep":
				out.Set(k, ol)
			case "append":
				out.Set(k, append(slices.Clone(ol), nl...))
			case "prepend":
				out.Set(k, append(slices.Clone(nl), ol...))
			case "append_rp":
				out.Set(k, append(without(ol, nl), nl...))
			case "prepend_rp":
				out.Set(k, append(slices.Clone(nl), without(ol, nl)...))
			}
		default:
			out.Set(k, v)
		}
	}
	return out
}

func without(a, b []any) []any {
	var out []any
	for _, v := range a {
		if !slices.ContainsFunc(b, func(o any) bool { return equal(o, v) }) {
			out = append(out, v)
		}
	}
	return out
}

// fToJSON is json.dumps: keys in insertion order unless sort_keys=True.
func fToJSON(_ *evaluator, in any, _ []any, kw map[string]any) (any, error) {
	if err := jsonable(in); err != nil {
		return nil, err
	}
	return pyJSONDump(in, "", ", ", ": ", truthy(kw["sort_keys"])), nil
}

// jsonable refuses what json.dumps cannot write: a dict view, which
// Python's JSON encoder does not take for a list (a tuple it does).
func jsonable(v any) error {
	var found *view
	holds(v, func(x any) bool {
		w, ok := x.(*view)
		if ok && found == nil {
			found = w
		}
		return ok
	}, 0)
	if found != nil {
		return fmt.Errorf("object of type %s is not JSON serializable; add | list", found.kind)
	}
	return nil
}

// fToNiceJSON sorts keys by default, as Ansible's to_nice_json does.
func fToNiceJSON(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	n, _ := toInt(arg(args, kw, 0, "indent", int64(4)))
	sortKeys := true
	if v, ok := kw["sort_keys"]; ok {
		sortKeys = truthy(v)
	}
	if err := jsonable(in); err != nil {
		return nil, err
	}
	return pyJSONDump(in, strings.Repeat(" ", int(n)), ",", ": ", sortKeys), nil
}

func fFromJSON(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	v, err := value.ParseJSON([]byte(ToString(in)))
	if err != nil {
		return nil, fmt.Errorf("from_json: %v", err)
	}
	return v, nil
}

func fB64Decode(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	b, err := base64.StdEncoding.DecodeString(ToString(in))
	if err != nil {
		return nil, fmt.Errorf("b64decode: %v", err)
	}
	return string(b), nil
}

func pyDirname(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	head := p[:i+1]
	if strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

func fSplitext(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	p := ToString(in)
	base := path.Base(p)
	ext := ""
	if i := strings.LastIndexByte(base, '.'); i > 0 && strings.Trim(base[:i], ".") != "" {
		ext = base[i:]
	}
	return pair(strings.TrimSuffix(p, ext), ext), nil
}

func fTernary(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	t, f := arg(args, kw, 0, "true_val", nil), arg(args, kw, 1, "false_val", nil)
	if none, ok := kw["none_val"]; ok && in == nil || len(args) > 2 && in == nil {
		if !ok {
			none = args[2]
		}
		return none, nil
	}
	if truthy(in) {
		return t, nil
	}
	return f, nil
}

func fHash(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	algo := ToString(arg(args, kw, 0, "hashtype", "sha1"))
	var h hash.Hash
	switch algo {
	case "md5":
		h = md5.New()
	case "sha1":
		h = sha1.New()
	case "sha224":
		h = sha256.New224()
	case "sha256":
		h = sha256.New()
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		return nil, fmt.Errorf("unsupported hash type %s", algo)
	}
	h.Write([]byte(ToString(in)))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fZip is Python's zip, as Ansible's zip filter: a tuple of the i-th
// items, as long as the shortest input.
func fZip(_ *evaluator, in any, args []any, _ map[string]any) (any, error) {
	return zipLists(in, args, false, nil)
}

// fZipLongest is itertools.zip_longest: as long as the longest input,
// the missing items fillvalue (None unless given).
func fZipLongest(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	for k := range kw {
		if k != "fillvalue" {
			return nil, fmt.Errorf("zip_longest() got an unexpected keyword argument '%s'", k)
		}
	}
	return zipLists(in, args, true, kw["fillvalue"])
}

func zipLists(in any, args []any, longest bool, fill any) (any, error) {
	lists := [][]any{}
	for _, v := range append([]any{in}, args...) {
		items, err := iterate(v)
		if err != nil {
			return nil, err
		}
		lists = append(lists, items)
	}
	n := len(lists[0])
	for _, l := range lists {
		if longest {
			n = max(n, len(l))
		} else {
			n = min(n, len(l))
		}
	}
	out := []any{}
	for i := range n {
		row := make([]any, len(lists))
		for j, l := range lists {
			row[j] = fill
			if i < len(l) {
				row[j] = l[i]
			}
		}
		out = append(out, tuple{items: row})
	}
	return out, nil
}

func fFlatten(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	levels, hasLevels := toInt(arg(args, kw, 0, "levels", nil))
	skipNulls := truthy(arg(args, kw, 1, "skip_nulls", true))
	var flat func(items []any, depth int64) []any
	flat = func(items []any, depth int64) []any {
		out := []any{}
		for _, it := range items {
			if it == nil && skipNulls {
				continue
			}
			if l, ok := seqItems(it); ok && (!hasLevels || depth < levels) {
				out = append(out, flat(l, depth+1)...)
			} else {
				out = append(out, it)
			}
		}
		return out
	}
	items, ok := seqItems(unroll(in))
	if !ok {
		return nil, fmt.Errorf("flatten expects a list, got %s", typeName(in))
	}
	return flat(items, 0), nil
}

func fAbs(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case int64:
		if x < 0 {
			return -x, nil
		}
		return x, nil
	case float64:
		return math.Abs(x), nil
	}
	return nil, fmt.Errorf("bad operand type for abs(): '%s'", typeName(in))
}

func fRound(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	f, ok := toFloat(in)
	if !ok {
		return nil, fmt.Errorf("round expects a number, got %s", typeName(in))
	}
	prec, _ := toInt(arg(args, kw, 0, "precision", int64(0)))
	method := ToString(arg(args, kw, 1, "method", "common"))
	p := math.Pow(10, float64(prec))
	switch method {
	case "ceil":
		return math.Ceil(f*p) / p, nil
	case "floor":
		return math.Floor(f*p) / p, nil
	}
	// Python rounds the exact binary value half to even, as FormatFloat does.
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'f', int(max(prec, 0)), 64), 64)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func fIndent(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	width := arg(args, kw, 0, "width", int64(4))
	pad := strings.Repeat(" ", 4)
	if n, ok := toInt(width); ok {
		pad = strings.Repeat(" ", int(n))
	} else if s, ok := width.(string); ok {
		pad = s
	}
	first, blank := truthy(arg(args, kw, 1, "first", false)), truthy(arg(args, kw, 2, "blank", false))
	ls := strings.Split(ToString(in), "\n")
	for i := range ls {
		if i == 0 && !first || !blank && strings.TrimSpace(ls[i]) == "" && i > 0 {
			continue
		}
		ls[i] = pad + ls[i]
	}
	return strings.Join(ls, "\n"), nil
}

func fCenter(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	w, err := intArg(args, kw, 0, "width", 80)
	if err != nil {
		return nil, err
	}
	s := ToString(in)
	n := int(w) - len([]rune(s))
	if n <= 0 {
		return s, nil
	}
	left := n / 2
	if n%2 == 1 && int(w)%2 == 1 {
		left++
	}
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", n-left), nil
}

// fItems is Jinja2's items filter: a mapping's (key, value) pairs.
func fItems(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	d, ok := asDict(in)
	if !ok {
		return nil, fmt.Errorf("can only get item pairs from a mapping, not %s", typeName(in))
	}
	return dictItems(d), nil
}

// fDictsort is Jinja2's dictsort(case_sensitive=False, by='key',
// reverse=False): the items sorted by key or by value, strings compared
// without case unless case_sensitive.
func fDictsort(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	m, ok := asDict(in)
	if !ok {
		return nil, fmt.Errorf("dictsort expects a dict, got %s", typeName(in))
	}
	caseSensitive := truthy(arg(args, kw, 0, "case_sensitive", false))
	by := ToString(arg(args, kw, 1, "by", "key"))
	if by != "key" && by != "value" {
		return nil, fmt.Errorf("You can only sort by either 'key' or 'value'")
	}
	out := []any{}
	for k, v := range m.All() {
		out = append(out, pair(k, v))
	}
	key := func(p any) any {
		kv := p.(tuple).items
		v := kv[0]
		if by == "value" {
			v = kv[1]
		}
		if s, ok := v.(string); ok && !caseSensitive {
			return strings.ToLower(s)
		}
		return v
	}
	if err := sortBy(out, key); err != nil {
		return nil, err
	}
	if truthy(arg(args, kw, 2, "reverse", false)) {
		slices.Reverse(out)
	}
	return out, nil
}

func fBatch(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	n, ok := toInt(arg(args, kw, 0, "linecount", nil))
	if !ok || n <= 0 {
		n = int64(len(items)) + 1 // Jinja2 never fills a batch of that size: one batch
	}
	fill, hasFill := kw["fill_with"]
	if len(args) > 1 {
		fill, hasFill = args[1], true
	}
	out := []any{}
	for i := 0; i < len(items); i += int(n) {
		row := slices.Clone(items[i:min(i+int(n), len(items))])
		for hasFill && int64(len(row)) < n {
			row = append(row, fill)
		}
		out = append(out, row)
	}
	return out, nil
}

// shellQuote is Python's shlex.quote.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r == '_' || r == '@' || r == '%' || r == '+' || r == '=' || r == ':' || r == ',' || r == '.' || r == '/' || r == '-' ||
			r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// DumpJSON is Python's json.dumps(v) with its defaults: ", " and ": "
// between items, non-ASCII as \uXXXX escapes, a dict's keys in order (a Go
// map's sorted). Ansible writes a list or dict given as copy's content so.
func DumpJSON(v any) string { return pyJSONDump(v, "", ", ", ": ", false) }

// pyJSONDump is json.dumps with the given separators.
func pyJSONDump(v any, indent, itemSep, keySep string, sortKeys bool) string {
	var b strings.Builder
	var walk func(v any, depth int)
	nl := func(depth int) {
		if indent != "" {
			b.WriteString("\n" + strings.Repeat(indent, depth))
		}
	}
	walk = func(v any, depth int) {
		switch x := v.(type) {
		case *value.Dict, map[string]any, Mapping:
			d, _ := asDict(x)
			if d.Len() == 0 {
				b.WriteString("{}")
				return
			}
			keys := d.Keys()
			if sortKeys {
				keys = slices.Sorted(slices.Values(keys))
			}
			b.WriteByte('{')
			for i, k := range keys {
				if i > 0 {
					b.WriteString(itemSep)
				}
				nl(depth + 1)
				writeJSONString(&b, k)
				b.WriteString(keySep)
				e, _ := d.Get(k)
				walk(e, depth+1)
			}
			nl(depth)
			b.WriteByte('}')
		case []any, tuple:
			items, _ := seqItems(x)
			if len(items) == 0 {
				b.WriteString("[]")
				return
			}
			b.WriteByte('[')
			for i, e := range items {
				if i > 0 {
					b.WriteString(itemSep)
				}
				nl(depth + 1)
				walk(e, depth+1)
			}
			nl(depth)
			b.WriteByte(']')
		case string:
			writeJSONString(&b, x)
		case value.Unsafe:
			writeJSONString(&b, string(x))
		case nil:
			b.WriteString("null")
		case bool:
			b.WriteString(strconv.FormatBool(x))
		case float64:
			b.WriteString(value.JSONFloat(x))
		case dateTime:
			writeJSONString(&b, x.isoformat())
		case timeDelta:
			writeJSONString(&b, x.String())
		default:
			b.WriteString(ToString(x))
		}
	}
	walk(v, 0)
	return b.String()
}

// writeJSONString writes s as Python's json.dumps does by default.
func writeJSONString(b *strings.Builder, s string) { value.WriteJSONString(b, s) }
