package template

import (
	"fmt"
	"github.com/drover/drover/playbook/value"
	"strconv"
	"strings"
)

// Undefined is the value of a name or key that does not exist. It may be
// tested (is defined) and defaulted (| default) but any other use is an
// error that names the whole path.
type Undefined struct {
	// Path is what was looked up, such as "a.b".
	Path string
	// Hint says what was there instead, such as "a has keys: x, y".
	Hint string
}

func (u *Undefined) err() string {
	if u.Hint != "" {
		return fmt.Sprintf("%s is undefined (%s)", u.Path, u.Hint)
	}
	return fmt.Sprintf("undefined variable '%s'", u.Path)
}

// Truthy is Python's truth value, which conditions (when:, failed_when:)
// use.
func Truthy(v any) bool { return truthy(v) }

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case tuple:
		return len(x.items) > 0
	case *view:
		return len(x.items) > 0
	case *value.Dict:
		return x.Len() > 0
	case map[string]any:
		return len(x) > 0
	case *Undefined:
		return false
	}
	return true
}

// ToString renders a value as Python's str() does, which is what {{ }}
// prints.
func ToString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return pyFloat(x)
	case []any:
		return "[" + reprItems(x) + "]"
	case *value.Dict:
		parts := make([]string, 0, x.Len())
		for k, e := range x.All() {
			parts = append(parts, repr(k)+": "+repr(e))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case map[string]any:
		return ToString(value.DictOf(x))
	case Mapping:
		d, _ := asDict(x)
		return ToString(d)
	case value.Unsafe:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// finalize is how Ansible prints a {{ }} value into text: as str(), but
// None prints nothing and a dict view prints as the list of its items
// (its templar's finalize hook).
func finalize(v any) string {
	if v == nil {
		return ""
	}
	return ToString(unroll(v))
}

// repr is Python's repr(): strings quoted, the rest as str().
func repr(v any) string {
	if u, ok := v.(value.Unsafe); ok {
		v = string(u)
	}
	if o, ok := v.(object); ok {
		return o.repr()
	}
	s, ok := v.(string)
	if !ok {
		return ToString(v)
	}
	q := "'"
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = `"`
	}
	var b strings.Builder
	b.WriteString(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case string(r) == q:
			b.WriteString(`\` + q)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString(q)
	return b.String()
}

// pyFloat is Python's float repr.
func pyFloat(f float64) string { return value.FloatRepr(f) }

// safe turns an !unsafe string into a plain one as it enters an
// expression: it is text from then on, and since drover renders a result
// only once, never a template.
func safe(v any) any {
	if u, ok := v.(value.Unsafe); ok {
		return string(u)
	}
	return v
}

// Mapping is a dict whose entries are computed when asked for, such as
// hostvars: templates read it like any dict, and nothing is built for
// the hosts a template never looks at.
type Mapping interface {
	// Get returns the value of key and whether it exists.
	Get(key string) (any, bool)
	// Keys lists the keys in order.
	Keys() []string
}

// asDict returns v as a Dict when it is a mapping. Dicts decoded from
// YAML and JSON and built by templates keep their order; a Go map (task
// results, magic variables) is taken in sorted key order.
func asDict(v any) (*value.Dict, bool) {
	switch x := v.(type) {
	case *value.Dict:
		return x, true
	case map[string]any:
		return value.DictOf(x), true
	case Mapping:
		d := value.NewDict(0)
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			d.Set(k, e)
		}
		return d, true
	}
	return nil, false
}

// isDict reports whether v is a mapping, without building a Dict.
func isDict(v any) bool {
	switch v.(type) {
	case *value.Dict, map[string]any, Mapping:
		return true
	}
	return false
}

// dictGet looks a key up in a mapping without building a Dict.
func dictGet(v any, k string) (any, bool) {
	switch x := v.(type) {
	case *value.Dict:
		return x.Get(k)
	case map[string]any:
		e, ok := x[k]
		return e, ok
	case Mapping:
		return x.Get(k)
	}
	return nil, false
}

// typeName is Python's name for a value's type, for error messages.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string, value.Unsafe:
		return "str"
	case []any:
		return "list"
	case tuple:
		return x.typeName()
	case *view:
		return x.kind
	case *value.Dict, map[string]any, Mapping:
		return "dict"
	case *Undefined:
		return "undefined"
	case object:
		return x.typeName()
	}
	return fmt.Sprintf("%T", v)
}

// toFloat converts numbers (and bools, as Python does) to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case int:
		return float64(x), true
	case float64:
		return x, true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func toInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// equal is Python's ==.
func equal(a, b any) bool {
	if c, ok := compareDates(a, b); ok {
		return c == 0
	}
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return fa == fb
		}
		return false
	}
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case []any:
		y, ok := b.([]any)
		return ok && equalItems(x, y)
	case tuple:
		y, ok := b.(tuple)
		return ok && equalItems(x.items, y.items)
	case *view:
		return equalViews(x, b)
	case *value.Dict, map[string]any, Mapping:
		dx, _ := asDict(x)
		dy, ok := asDict(b)
		if !ok || dx.Len() != dy.Len() {
			return false
		}
		for k, v := range dx.All() {
			w, ok := dy.Get(k)
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case value.Unsafe:
		return equal(string(x), b)
	}
	if u, ok := b.(value.Unsafe); ok {
		return equal(a, string(u))
	}
	return false
}

func equalItems(x, y []any) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !equal(x[i], y[i]) {
			return false
		}
	}
	return true
}

// equalViews is == on a dict view: keys and items views compare as sets
// (with each other's kind only), a values view only to itself.
func equalViews(x *view, b any) bool {
	y, ok := b.(*view)
	switch {
	case !ok:
		return false
	case x == y:
		return true
	case x.kind != y.kind || x.kind == "dict_values" || len(x.items) != len(y.items):
		return false
	}
	for _, e := range x.items {
		if in, _ := contains(y.items, e); !in {
			return false
		}
	}
	return true
}

// less is Python's <, or an error for types that do not order.
func less(a, b any) (bool, error) {
	if c, ok := compareDates(a, b); ok {
		return c < 0, nil
	}
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			return fa < fb, nil
		}
	}
	if x, ok := a.(string); ok {
		if y, ok := b.(string); ok {
			return x < y, nil
		}
	}
	x, okA := a.([]any)
	y, okB := b.([]any)
	if ta, ok := a.(tuple); ok {
		x, okA = ta.items, true
		tb, ok := b.(tuple)
		y, okB = tb.items, ok
	} else if _, ok := b.(tuple); ok {
		okB = false
	}
	if okA && okB {
		for i := 0; i < len(x) && i < len(y); i++ {
			if !equal(x[i], y[i]) {
				return less(x[i], y[i])
			}
		}
		return len(x) < len(y), nil
	}
	return false, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", typeName(a), typeName(b))
}
