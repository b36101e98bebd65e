package template

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/drover/drover/playbook/value"
)

// tuple is Python's tuple, as Jinja2 expressions make and meet them: a
// literal (1, 2), the pairs of dict.items(), zip, dictsort and product, a
// regex_findall match with several groups, os.path.splitext's result. It
// indexes, slices, iterates and orders like a list, but it is another
// type: (1, 2) == [1, 2] is False, (1, 2) + [3] fails, and it prints in
// parentheses, (1,) for one item.
//
// name is a namedtuple's type name, "" for a plain tuple: Jinja2's
// groupby yields _GroupTuple pairs whose items also read as the
// attributes .grouper and .list (see namedFields).
//
// Tuples live only inside the template layer. Where a value leaves it
// ([Expr.Eval], [Cache.RenderString]) they become lists, as they do in
// Ansible once a value is registered, set as a fact or looped over.
type tuple struct {
	items []any
	name  string
}

// namedFields are the field names of the namedtuple types templates
// meet, by type name.
var namedFields = map[string][]string{"_GroupTuple": {"grouper", "list"}}

// typeName is the tuple's Python type name, as type_debug shows it.
func (t tuple) typeName() string {
	if t.name != "" {
		return t.name
	}
	return "tuple"
}

// field returns a namedtuple's item by field name.
func (t tuple) field(name string) (any, bool) {
	for i, f := range namedFields[t.name] {
		if f == name && i < len(t.items) {
			return t.items[i], true
		}
	}
	return nil, false
}

// String is Python's repr of a tuple: (1, 'a'), (1,) and ().
func (t tuple) String() string {
	if len(t.items) == 1 {
		return "(" + repr(t.items[0]) + ",)"
	}
	return "(" + reprItems(t.items) + ")"
}

// MarshalJSON writes the tuple as a JSON array, as Python's json does:
// the conversion of values leaving the template layer makes lists of
// tuples, and this keeps one that is reached some other way (a
// Mapping's value) from printing as {}.
func (t tuple) MarshalJSON() ([]byte, error) { return json.Marshal(t.items) }

// MarshalJSON writes a dict view as the JSON array of its items, as
// Ansible would the list it unrolls the view to.
func (v *view) MarshalJSON() ([]byte, error) { return json.Marshal(v.items) }

func reprItems(items []any) string {
	parts := make([]string, len(items))
	for i, e := range items {
		parts[i] = repr(e)
	}
	return strings.Join(parts, ", ")
}

// pair is the tuple (a, b).
func pair(a, b any) tuple { return tuple{items: []any{a, b}} }

// view is a dict view: d.keys(), d.values() or d.items(). Python lets one
// be iterated, sized and searched with in, but not indexed; it prints as
// dict_keys(['k']), and type_debug names it. Ansible unrolls a view into
// a list where it leaves a {{ }} and after every filter, so
// {{ d.items() }} prints a list of pairs; see unroll.
type view struct {
	kind  string // dict_keys, dict_values or dict_items
	items []any
}

// String is Python's repr of the view.
func (v *view) String() string { return v.kind + "([" + reprItems(v.items) + "])" }

// unroll turns a view into the list of its items, as Ansible's finalize
// hook and its filter wrapper do with views and iterators.
func unroll(v any) any {
	if w, ok := v.(*view); ok {
		return w.items
	}
	return v
}

// seqItems returns the items of a list or a tuple, which Python code that
// takes "a sequence" accepts alike.
func seqItems(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case tuple:
		return x.items, true
	}
	return nil, false
}

// native returns v with every tuple and dict view inside it made a list:
// what a value is once it leaves the template layer, as a registered
// result, a fact, a loop's items or a module's argument, all of which
// Ansible hands on as lists. Containers without one are returned as they
// are; a container met twice is converted once, so values that shared it
// still do.
func native(v any) any {
	if !holds(v, func(x any) bool { _, isMapping := x.(Mapping); return isMapping || isTupleOrView(x) }, 0) {
		return v
	}
	return convert(v, map[any]any{}, func(t tuple) any { return []any(t.items) }, 0)
}

// reread is v as Ansible reads back the text of a whole-template value
// ("{{ x }}" with jinja2_native off): it prints the value and parses
// the text as a Python literal again. That gives the same value, except
// that a namedtuple comes back as a plain tuple and a value holding a
// dict view does not parse at all (ok false: the text stays).
func reread(v any) (any, bool) {
	if holds(v, func(x any) bool {
		_, isView := x.(*view)
		_, isObject := x.(object)
		return isView || isObject
	}, 0) {
		return nil, false
	}
	if !holds(v, func(x any) bool { t, ok := x.(tuple); return ok && t.name != "" }, 0) {
		return v, true
	}
	return convert(v, map[any]any{}, func(t tuple) any { return tuple{items: t.items} }, 0), true
}

func isTupleOrView(v any) bool {
	switch v.(type) {
	case tuple, *view:
		return true
	}
	return false
}

// maxDepth bounds how deep holds and convert look, so a container that
// holds itself ends the search instead of the stack.
const maxDepth = 1000

// holds reports whether v is or contains a value for which match is
// true. Mappings computed on demand (hostvars) are not searched: what
// they hold is converted as it is looked up.
func holds(v any, match func(any) bool, depth int) bool {
	if match(v) {
		return true
	}
	if depth > maxDepth {
		return false
	}
	depth++
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if holds(e, match, depth) {
				return true
			}
		}
	case tuple:
		for _, e := range x.items {
			if holds(e, match, depth) {
				return true
			}
		}
	case *view:
		for _, e := range x.items {
			if holds(e, match, depth) {
				return true
			}
		}
	case *value.Dict:
		for _, e := range x.All() {
			if holds(e, match, depth) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if holds(e, match, depth) {
				return true
			}
		}
	}
	return false
}

// convert rebuilds v with each tuple replaced by conv of it (its items
// converted first) and each view by a list. seen maps a container
// already converted to its result, keyed by identity.
func convert(v any, seen map[any]any, conv func(tuple) any, depth int) any {
	if depth > maxDepth {
		return v
	}
	depth++
	key := identity(v)
	if key != nil {
		if out, ok := seen[key]; ok {
			return out
		}
	}
	var out any
	switch x := v.(type) {
	case []any:
		out = convertItems(x, seen, conv, depth)
	case tuple:
		out = conv(tuple{items: convertItems(x.items, seen, conv, depth), name: x.name})
	case *view:
		out = convertItems(x.items, seen, conv, depth)
	case *value.Dict:
		d := value.NewDict(x.Len())
		for k, e := range x.All() {
			d.Set(k, convert(e, seen, conv, depth))
		}
		out = d
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = convert(e, seen, conv, depth)
		}
		out = m
	case Mapping: // hostvars, vars: a dict once it leaves the templates
		d := value.NewDict(0)
		for _, k := range x.Keys() {
			e, _ := x.Get(k)
			d.Set(k, convert(e, seen, conv, depth))
		}
		out = d
	default:
		return v
	}
	if key != nil {
		seen[key] = out
	}
	return out
}

func convertItems(items []any, seen map[any]any, conv func(tuple) any, depth int) []any {
	out := make([]any, len(items))
	for i, e := range items {
		out[i] = convert(e, seen, conv, depth)
	}
	return out
}

// containerKey names a container by where its contents live, Go's
// nearest thing to Python's object identity.
type containerKey struct {
	p    uintptr
	n    int
	kind byte
}

// identity is v's containerKey, or nil for a value that is not a
// non-empty container.
func identity(v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			return containerKey{reflect.ValueOf(x).Pointer(), len(x), 'l'}
		}
	case tuple:
		if len(x.items) > 0 {
			return containerKey{reflect.ValueOf(x.items).Pointer(), len(x.items), 't'}
		}
	case *view:
		return containerKey{reflect.ValueOf(x).Pointer(), -1, 'v'}
	case *value.Dict:
		return containerKey{reflect.ValueOf(x).Pointer(), -1, 'd'}
	case map[string]any:
		return containerKey{reflect.ValueOf(x).Pointer(), -1, 'm'}
	}
	return nil
}
