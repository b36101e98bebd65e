package template

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/drover/drover/playbook/value"
	"html"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// moreFilters are added to the filter table by extraFilters; split out to
// keep files short.
func extraFilters(t map[string]filterFunc) {
	t["truncate"] = fTruncate
	t["extract"] = fExtract
	t["strftime"] = fStrftime
	t["to_uuid"] = fToUUID
	t["log"] = fLog
	t["pow"] = fPow
	t["root"] = fRoot
	t["urldecode"] = strFilter(urlDecode)
	t["to_datetime"] = fToDatetime
	t["path_join"] = fPathJoin
	t["relpath"] = fRelpath
	t["striptags"] = strFilter(stripTags)
	t["slice"] = fSlice
	t["groupby"] = fGroupby
	t["random"] = fRandom
	t["shuffle"] = fShuffle
	t["urlencode"] = fURLEncode
	t["comment"] = fComment
	t["expanduser"] = strFilter(expandUser)
	t["realpath"] = strFilter(func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			if abs, err := filepath.Abs(r); err == nil {
				return abs
			}
		}
		abs, _ := filepath.Abs(p)
		return abs
	})
	t["to_yaml"] = func(_ *evaluator, in any, _ []any, kw map[string]any) (any, error) {
		s, err := yamlStyle(value.YAMLStyle{}, kw, "to_yaml")
		if err != nil {
			return nil, err
		}
		return dumpYAML(in, s)
	}
	t["to_nice_yaml"] = func(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
		indent, err := intArg(args, kw, 0, "indent", 4)
		if err != nil {
			return nil, err
		}
		delete(kw, "indent")
		if _, ok := kw["default_flow_style"]; ok {
			return nil, fmt.Errorf("to_nice_yaml got multiple values for keyword argument 'default_flow_style'")
		}
		s, err := yamlStyle(value.NiceYAML(int(indent)), kw, "to_nice_yaml")
		if err != nil {
			return nil, err
		}
		return dumpYAML(in, s)
	}
	t["product"] = fProduct
	t["permutations"] = fPermutations
	t["combinations"] = fCombinations
	t["tojson"] = fTojson
	t["from_yaml"] = func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
		return value.ParseYAML("from_yaml", []byte(ToString(in)))
	}
	t["from_yaml_all"] = func(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
		return value.ParseYAMLAll("from_yaml_all", []byte(ToString(in)))
	}
	t["human_readable"] = fHumanReadable
	t["human_to_bytes"] = fHumanToBytes
	t["subelements"] = fSubelements
	t["split"] = func(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
		return stringMethod(ToString(in), "split", args, kw)
	}
}

// dumpYAML is value.DumpYAML for template values: Ansible's YAML dumper
// writes a tuple as a list and cannot represent a dict view.
func dumpYAML(v any, s value.YAMLStyle) (any, error) {
	if holds(v, func(x any) bool { _, ok := x.(*view); return ok }, 0) {
		return nil, fmt.Errorf("cannot represent an object: a dict view; add | list")
	}
	return value.DumpYAML(native(v), s)
}

func fTruncate(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	s := ToString(in)
	length, err := intArg(args, kw, 0, "length", 255)
	if err != nil {
		return nil, err
	}
	killwords := truthy(arg(args, kw, 1, "killwords", false))
	end := ToString(arg(args, kw, 2, "end", "..."))
	leeway, err := intArg(args, kw, 3, "leeway", 5)
	if err != nil {
		return nil, err
	}
	if length < int64(len([]rune(end))) {
		return nil, fmt.Errorf("expected length >= %d, got %d", len([]rune(end)), length)
	}
	r := []rune(s)
	if int64(len(r)) <= length+leeway {
		return s, nil
	}
	cut := max(int(length)-len([]rune(end)), 0)
	if killwords {
		return string(r[:cut]) + end, nil
	}
	head := string(r[:cut])
	if i := strings.LastIndexByte(head, ' '); i >= 0 {
		head = head[:i]
	}
	return head + end, nil
}

func fSlice(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	n, ok := toInt(arg(args, kw, 0, "slices", nil))
	if !ok || n <= 0 {
		return nil, fmt.Errorf("slice needs a positive number of slices")
	}
	per, extra := len(items)/int(n), len(items)%int(n)
	out := []any{}
	offset := 0
	for i := range int(n) {
		size := per
		if i < extra {
			size++
		}
		out = append(out, slices.Clone(items[offset:offset+size]))
		offset += size
	}
	return out, nil
}

func fGroupby(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	attribute := ToString(arg(args, kw, 0, "attribute", ""))
	def, hasDef := kw["default"]
	type group struct {
		key   any
		items []any
	}
	var groups []*group
	for _, it := range items {
		k := attrPath(it, attribute)
		if u, ok := k.(*Undefined); ok {
			if !hasDef {
				return nil, fmt.Errorf("%s", u.err())
			}
			k = def
		}
		i := slices.IndexFunc(groups, func(g *group) bool { return equal(g.key, k) })
		if i < 0 {
			groups = append(groups, &group{key: k})
			i = len(groups) - 1
		}
		groups[i].items = append(groups[i].items, it)
	}
	slices.SortStableFunc(groups, func(a, b *group) int {
		if lt, _ := less(a.key, b.key); lt {
			return -1
		}
		if equal(a.key, b.key) {
			return 0
		}
		return 1
	})
	out := []any{}
	for _, g := range groups {
		out = append(out, tuple{items: []any{g.key, g.items}, name: "_GroupTuple"})
	}
	return out, nil
}

func fRandom(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	if n, ok := toInt(in); ok {
		start, _ := toInt(arg(args, kw, 0, "start", int64(0)))
		step, _ := toInt(arg(args, kw, 1, "step", int64(1)))
		if n <= start || step <= 0 {
			return nil, fmt.Errorf("random: empty range")
		}
		return start + rand.Int64N((n-start+step-1)/step)*step, nil
	}
	items, err := iterate(in)
	if err != nil || len(items) == 0 {
		return nil, fmt.Errorf("random needs a non-empty sequence or a number")
	}
	return items[rand.IntN(len(items))], nil
}

func fShuffle(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(items)
	rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out, nil
}

func fURLEncode(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	switch x := in.(type) {
	case *value.Dict, map[string]any, Mapping:
		d, _ := asDict(x)
		var parts []string
		for k, v := range d.All() {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(ToString(v)))
		}
		return strings.Join(parts, "&"), nil
	}
	var b strings.Builder
	for _, c := range []byte(ToString(in)) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String(), nil
}

// attrPath follows Jinja2's attribute getter: dotted parts, numbers
// indexing lists.
func attrPath(v any, attribute string) any {
	for _, part := range strings.Split(attribute, ".") {
		if l, ok := v.([]any); ok {
			if n, err := strconv.Atoi(part); err == nil && n >= 0 && n < len(l) {
				v = l[n]
				continue
			}
		}
		v = lookupKey(v, part, attribute)
	}
	return v
}

func fComment(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	style := ToString(arg(args, kw, 0, "style", "plain"))
	prefix := map[string]string{"plain": "# ", "erlang": "% ", "c": "// ", "cblock": " * ", "xml": " - "}[style]
	if prefix == "" {
		return nil, fmt.Errorf("unknown comment style %q", style)
	}
	var b strings.Builder
	bare := strings.TrimRight(prefix, " ")
	b.WriteString(bare + "\n")
	for _, l := range strings.Split(ToString(in), "\n") {
		b.WriteString(prefix + l + "\n")
	}
	b.WriteString(bare)
	return b.String(), nil
}

var byteUnits = []string{"B", "KB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"}

func fHumanReadable(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	f, ok := toFloat(in)
	if !ok {
		s, err := strconv.ParseFloat(ToString(in), 64)
		if err != nil {
			return nil, fmt.Errorf("human_readable needs a number")
		}
		f = s
	}
	isBits := truthy(arg(args, kw, 0, "isbits", false))
	unit := "B"
	if isBits {
		unit = "b"
	}
	i := 0
	for math.Abs(f) >= 1024 && i < len(byteUnits)-1 {
		f /= 1024
		i++
	}
	suffix := strings.TrimSuffix(byteUnits[i], "B")
	if i == 0 {
		return fmt.Sprintf("%.2f %s", f, map[bool]string{true: "Bits", false: "Bytes"}[isBits]), nil
	}
	return fmt.Sprintf("%.2f %s%s", f, suffix, unit), nil
}

func fHumanToBytes(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	s := strings.TrimSpace(ToString(in))
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	num, err := strconv.ParseFloat(strings.TrimSpace(s[:i]), 64)
	if err != nil {
		return nil, fmt.Errorf("human_to_bytes() can't interpret %q", s)
	}
	unit := strings.ToUpper(strings.TrimSpace(s[i:]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
	power := slices.Index([]string{"", "K", "M", "G", "T", "P", "E", "Z", "Y"}, unit)
	if power < 0 {
		return nil, fmt.Errorf("human_to_bytes() can't interpret the unit in %q", s)
	}
	return int64(num * math.Pow(1024, float64(power))), nil
}

func fSubelements(_ *evaluator, in any, args []any, _ map[string]any) (any, error) {
	items, ok := in.([]any)
	if !ok || len(args) == 0 {
		return nil, fmt.Errorf("subelements needs a list and a key")
	}
	key := ToString(args[0])
	out := []any{}
	for _, it := range items {
		v := lookupKey(it, key, key)
		if u, ok := v.(*Undefined); ok {
			if len(args) > 1 && truthy(args[1]) {
				continue
			}
			return nil, fmt.Errorf("%s", u.err())
		}
		sub, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("the key %s should point to a list, got %s", key, typeName(v))
		}
		for _, s := range sub {
			out = append(out, pair(it, s))
		}
	}
	return out, nil
}

// fileTests check paths on the controller.
func fileTests(t map[string]testFunc) {
	stat := func(check func(os.FileInfo) bool, follow bool) testFunc {
		return func(v any, _ []any) (bool, error) {
			p := expandUser(ToString(v))
			var fi os.FileInfo
			var err error
			if follow {
				fi, err = os.Stat(p)
			} else {
				fi, err = os.Lstat(p)
			}
			return err == nil && check(fi), nil
		}
	}
	t["exists"] = stat(func(os.FileInfo) bool { return true }, true)
	t["file"] = stat(func(fi os.FileInfo) bool { return fi.Mode().IsRegular() }, true)
	t["directory"] = stat(func(fi os.FileInfo) bool { return fi.IsDir() }, true)
	t["link"] = stat(func(fi os.FileInfo) bool { return fi.Mode()&os.ModeSymlink != 0 }, false)
	t["abs"] = func(v any, _ []any) (bool, error) { return filepath.IsAbs(ToString(v)), nil }
}

// yamlStyle applies yaml.dump's keyword arguments, as users pass them to
// to_yaml and to_nice_yaml, to s.
func yamlStyle(s value.YAMLStyle, kw map[string]any, filter string) (value.YAMLStyle, error) {
	for k, v := range kw {
		switch k {
		case "indent":
			n, ok := toInt(v)
			if !ok {
				return s, fmt.Errorf("%s: indent must be an integer", filter)
			}
			s.Indent = int(n)
		case "width":
			n, ok := toInt(v)
			if !ok {
				return s, fmt.Errorf("%s: width must be an integer", filter)
			}
			s.Width = int(n)
		case "sort_keys":
			s.KeepOrder = !truthy(v)
		case "default_flow_style":
			if v != nil {
				b := truthy(v)
				s.FlowStyle = &b
			} else {
				s.FlowStyle = nil
			}
		case "explicit_start":
			s.ExplicitStart = truthy(v)
		case "explicit_end":
			s.ExplicitEnd = truthy(v)
		case "allow_unicode":
			return s, fmt.Errorf("%s got multiple values for keyword argument 'allow_unicode'", filter)
		default:
			return s, fmt.Errorf("%s: unexpected keyword argument '%s'", filter, k)
		}
	}
	return s, nil
}

// fProduct is Ansible's product filter (itertools.product): every
// combination of one item from each list, in order.
func fProduct(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	lists := make([][]any, 0, len(args)+1)
	for _, v := range append([]any{in}, args...) {
		items, err := iterate(v)
		if err != nil {
			return nil, fmt.Errorf("product: %v", err)
		}
		lists = append(lists, items)
	}
	if r, ok := kw["repeat"]; ok {
		n, ok := toInt(r)
		if !ok || n < 0 {
			return nil, fmt.Errorf("product: repeat must be a non-negative integer")
		}
		base := lists
		lists = nil
		for range n {
			lists = append(lists, base...)
		}
	}
	total := 1
	for _, l := range lists {
		if total *= len(l); total > 1_000_000 {
			return nil, fmt.Errorf("product: more than a million combinations")
		}
	}
	out := [][]any{{}}
	for _, l := range lists {
		var next [][]any
		for _, prefix := range out {
			for _, x := range l {
				next = append(next, append(slices.Clone(prefix), x))
			}
		}
		out = next
		if len(out) > 1_000_000 {
			return nil, fmt.Errorf("product: more than a million combinations")
		}
	}
	tuples := make([]any, len(out))
	for i, items := range out {
		tuples[i] = tuple{items: items}
	}
	return tuples, nil
}

// maxCombinations bounds what permutations and combinations build, as
// product is bounded.
const maxCombinations = 1_000_000

// fPermutations is itertools.permutations: every ordering of r of the
// items (all of them by default) as a tuple, in the order of the items'
// positions.
func fPermutations(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, fmt.Errorf("permutations: %v", err)
	}
	r := int64(len(items))
	if v := arg(args, kw, 0, "r", nil); v != nil {
		n, ok := toInt(v)
		if !ok {
			return nil, fmt.Errorf("permutations: r must be an integer, not %s", typeName(v))
		}
		r = n
	}
	if r < 0 {
		return nil, fmt.Errorf("permutations: r must be non-negative")
	}
	out := []any{}
	if r > int64(len(items)) {
		return out, nil
	}
	used := make([]bool, len(items))
	pick := make([]any, 0, r)
	var walk func() error
	walk = func() error {
		if int64(len(pick)) == r {
			if len(out) >= maxCombinations {
				return fmt.Errorf("permutations: more than a million results")
			}
			out = append(out, tuple{items: slices.Clone(pick)})
			return nil
		}
		for i, it := range items {
			if used[i] {
				continue
			}
			used[i], pick = true, append(pick, it)
			if err := walk(); err != nil {
				return err
			}
			used[i], pick = false, pick[:len(pick)-1]
		}
		return nil
	}
	return out, walk()
}

// fCombinations is itertools.combinations: every choice of r items, in
// their order, as a tuple.
func fCombinations(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	items, err := iterate(in)
	if err != nil {
		return nil, fmt.Errorf("combinations: %v", err)
	}
	v := arg(args, kw, 0, "r", nil)
	r, ok := toInt(v)
	if !ok {
		return nil, fmt.Errorf("combinations: r must be an integer, not %s", typeName(v))
	}
	if r < 0 {
		return nil, fmt.Errorf("combinations: r must be non-negative")
	}
	out := []any{}
	var pick []any
	var walk func(from int) error
	walk = func(from int) error {
		if int64(len(pick)) == r {
			if len(out) >= maxCombinations {
				return fmt.Errorf("combinations: more than a million results")
			}
			out = append(out, tuple{items: slices.Clone(pick)})
			return nil
		}
		for i := from; int64(len(items)-i) >= r-int64(len(pick)); i++ { // enough items left to finish
			pick = append(pick, items[i])
			if err := walk(i + 1); err != nil {
				return err
			}
			pick = pick[:len(pick)-1]
		}
		return nil
	}
	return out, walk(0)
}

// fTojson is Jinja2's tojson: json.dumps with sorted keys, and <, >, &
// and ' escaped so the text is safe inside HTML.
func fTojson(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	if err := jsonable(in); err != nil {
		return nil, err
	}
	indent, sep := "", ", "
	if v := arg(args, kw, 0, "indent", nil); v != nil {
		n, ok := toInt(v)
		if !ok {
			return nil, fmt.Errorf("tojson: indent must be an integer, not %s", typeName(v))
		}
		indent, sep = strings.Repeat(" ", int(max(n, 0))), ","
	}
	s := pyJSONDump(in, indent, sep, ": ", true)
	return strings.NewReplacer("<", `\u003c`, ">", `\u003e`, "&", `\u0026`, "'", `\u0027`).Replace(s), nil
}

// fExtract is Ansible's extract: container[item], then each of morekeys (a
// key or a list of keys) in turn, as in groups.web | map('extract',
// hostvars, 'ansible_host').
func fExtract(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	if _, ok := kw["container"]; !ok && len(args) == 0 {
		return nil, fmt.Errorf("extract needs a container")
	}
	container := arg(args, kw, 0, "container", nil)
	keys := []any{in}
	switch more := arg(args, kw, 1, "morekeys", nil).(type) {
	case nil:
	case []any:
		keys = append(keys, more...)
	default:
		keys = append(keys, more)
	}
	v, path := container, "container"
	for _, k := range keys {
		if u, ok := v.(*Undefined); ok {
			return u, nil
		}
		p := path + "[" + repr(k) + "]"
		r, msg := getItem(v, k, p, path)
		if msg != "" {
			return nil, fmt.Errorf("%s", msg)
		}
		v, path = r, p
	}
	return v, nil
}

// fPathJoin is Ansible's path_join: a string as it is, a list joined as
// Python's os.path.join does, an absolute part starting over.
func fPathJoin(_ *evaluator, in any, _ []any, _ map[string]any) (any, error) {
	if s, ok := in.(string); ok {
		return s, nil
	}
	parts, err := iterate(in)
	if err != nil {
		return nil, fmt.Errorf("path_join needs a string or a list of them, got %s", typeName(in))
	}
	out := ""
	for i, p := range parts {
		s := ToString(p)
		switch {
		case i == 0 || strings.HasPrefix(s, "/"):
			out = s
		case out == "" || strings.HasSuffix(out, "/"):
			out += s
		default:
			out += "/" + s
		}
	}
	return out, nil
}

// fRelpath is Python's os.path.relpath(path, start): both made absolute
// against the working directory first.
func fRelpath(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	path := ToString(in)
	if path == "" {
		return nil, fmt.Errorf("no path specified")
	}
	start := ToString(arg(args, kw, 0, "start", "."))
	absPath, err1 := filepath.Abs(path)
	absStart, err2 := filepath.Abs(start)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("relpath: %v", errors.Join(err1, err2))
	}
	rel, err := filepath.Rel(absStart, absPath)
	if err != nil {
		return nil, err
	}
	return rel, nil
}

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	htmlTag     = regexp.MustCompile(`(?s)<.*?>`)
)

// stripTags is Jinja2's striptags: comments and tags removed, entities
// decoded, runs of whitespace made one space.
func stripTags(s string) string {
	s = htmlTag.ReplaceAllString(htmlComment.ReplaceAllString(s, ""), "")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// ansibleUUIDNamespace is the namespace Ansible's to_uuid uses by default.
const ansibleUUIDNamespace = "361e6d51-faec-444a-9079-341386da8e2e"

// fToUUID is Ansible's to_uuid: a version 5 UUID of the text in a
// namespace.
func fToUUID(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	ns := strings.ReplaceAll(strings.ToLower(ToString(arg(args, kw, 0, "namespace", ansibleUUIDNamespace))), "-", "")
	nsBytes, err := hex.DecodeString(ns)
	if err != nil || len(nsBytes) != 16 {
		return nil, fmt.Errorf("Invalid value '%s' for 'namespace'", ToString(arg(args, kw, 0, "namespace", "")))
	}
	h := sha1.Sum(append(nsBytes, ToString(in)...))
	u := h[:16]
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	x := hex.EncodeToString(u)
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:], nil
}

func numberArg(v any, what string) (float64, error) {
	f, ok := toFloat(v)
	if !ok {
		return 0, fmt.Errorf("%s needs a number, not %s", what, typeName(v))
	}
	return f, nil
}

// fLog is Ansible's log(base=e).
func fLog(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	x, err := numberArg(in, "log")
	if err != nil {
		return nil, err
	}
	base := arg(args, kw, 0, "base", nil)
	if base == nil {
		return math.Log(x), nil
	}
	b, err := numberArg(base, "log's base")
	if err != nil {
		return nil, err
	}
	if b == 10 {
		return math.Log10(x), nil
	}
	return math.Log(x) / math.Log(b), nil
}

// fPow is Ansible's pow: math.pow, always a float.
func fPow(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	x, err := numberArg(in, "pow")
	if err != nil {
		return nil, err
	}
	y, err := numberArg(arg(args, kw, 0, "y", nil), "pow's exponent")
	if err != nil {
		return nil, err
	}
	return math.Pow(x, y), nil
}

// fRoot is Ansible's root(base=2): the square root, or another.
func fRoot(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	x, err := numberArg(in, "root")
	if err != nil {
		return nil, err
	}
	b, err := numberArg(arg(args, kw, 0, "base", int64(2)), "root's base")
	if err != nil {
		return nil, err
	}
	if b == 2 {
		return math.Sqrt(x), nil
	}
	r := math.Pow(x, 1/b)
	// C's pow, which Python calls, is correctly rounded where Go's may miss
	// by an ulp: an exact root is exact there.
	if n := math.Round(r); math.Pow(n, b) == x {
		return n, nil
	}
	return r, nil
}

// urlDecode is Ansible's urldecode: urllib's unquote_plus.
func urlDecode(s string) string {
	if out, err := url.QueryUnescape(s); err == nil {
		return out
	}
	return s
}
