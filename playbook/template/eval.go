package template

import (
	"errors"
	"fmt"
	"github.com/drover/drover/playbook/value"
	"math"
	"slices"
	"strings"
	"sync"
)

// Scope supplies variables to an expression.
type Scope interface {
	// Lookup returns the value of a variable and whether it exists.
	Lookup(name string) (any, bool)
}

// Vars is a Scope backed by a map.
type Vars map[string]any

// Lookup returns vars[name].
func (v Vars) Lookup(name string) (any, bool) {
	x, ok := v[name]
	return x, ok
}

// EvalError is an expression that could not be evaluated; Pos is the byte
// offset of the part that failed.
type EvalError struct {
	Pos int
	Msg string
}

func (e *EvalError) Error() string { return fmt.Sprintf("column %d: %s", e.Pos+1, e.Msg) }

// Eval evaluates the expression to a native value (bool, int64, float64,
// string, []any, *value.Dict or nil; a Go map from the scope comes back as
// it is). Tuples and dict views come back as lists, as Ansible hands
// them on. Using an undefined variable is an error naming it.
func (e *Expr) Eval(s Scope) (any, error) {
	v, err := e.eval(s)
	return native(v), err
}

// eval is Eval keeping the template layer's own values (tuples, dict
// views), for templates that go on using the result.
func (e *Expr) eval(s Scope) (any, error) {
	ev := &evaluator{scope: s, filters: allFilters()}
	v, err := ev.eval(e.root)
	if err != nil {
		return nil, err
	}
	// As Ansible's templar, an undefined value anywhere in the result fails
	// it: users | map(attribute='nope') | list is no list of nothings.
	var u *Undefined
	if holds(v, func(x any) bool { u, _ = x.(*Undefined); return u != nil }, 0) {
		return nil, &EvalError{Pos: e.root.position(), Msg: u.err()}
	}
	return v, nil
}

// allFilters is the filter table, built once.
var allFilters = sync.OnceValue(func() map[string]filterFunc {
	t := make(map[string]filterFunc, len(filters)+20)
	for k, v := range filters {
		t[k] = v
	}
	extraFilters(t)
	cryptFilters(t)
	return t
})

// allTests is the test table, built once.
var allTests = sync.OnceValue(func() map[string]testFunc {
	t := make(map[string]testFunc, len(tests)+5)
	for k, v := range tests {
		t[k] = v
	}
	fileTests(t)
	return t
})

// evaluator holds the state of one evaluation, apart from the immutable
// Expr, so one Expr runs in parallel.
type evaluator struct {
	scope   Scope
	filters map[string]filterFunc
}

func (ev *evaluator) fail(n node, format string, args ...any) error {
	return &EvalError{Pos: n.position(), Msg: fmt.Sprintf(format, args...)}
}

// defined returns v, or an error if it is undefined.
func (ev *evaluator) defined(n node, v any) (any, error) {
	if u, ok := v.(*Undefined); ok {
		return nil, &EvalError{Pos: n.position(), Msg: u.err()}
	}
	return v, nil
}

// evalDefined evaluates n and requires a defined value.
func (ev *evaluator) evalDefined(n node) (any, error) {
	v, err := ev.eval(n)
	if err != nil {
		return nil, err
	}
	return ev.defined(n, v)
}

func (ev *evaluator) eval(n node) (any, error) {
	switch x := n.(type) {
	case *literal:
		return x.val, nil
	case *name:
		if v, ok := ev.scope.Lookup(x.name); ok {
			return safe(v), nil
		}
		return &Undefined{Path: x.name}, nil
	case *attr:
		return ev.attr(x)
	case *index:
		return ev.index(x)
	case *sliceNode:
		return ev.slice(x)
	case *listLit:
		items := make([]any, len(x.items))
		for i, it := range x.items {
			v, err := ev.evalDefined(it)
			if err != nil {
				return nil, err
			}
			items[i] = v
		}
		if x.tuple {
			return tuple{items: items}, nil
		}
		return items, nil
	case *dictLit:
		m := value.NewDict(len(x.keys))
		for i := range x.keys {
			k, err := ev.evalDefined(x.keys[i])
			if err != nil {
				return nil, err
			}
			v, err := ev.evalDefined(x.vals[i])
			if err != nil {
				return nil, err
			}
			m.Set(ToString(k), v)
		}
		return m, nil
	case *unary:
		return ev.unary(x)
	case *binary:
		return ev.binary(x)
	case *compare:
		return ev.compare(x)
	case *condExpr:
		c, err := ev.evalDefined(x.cond)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return ev.eval(x.then)
		}
		if x.els == nil {
			return "", nil
		}
		return ev.eval(x.els)
	case *filter:
		return ev.filter(x)
	case *test:
		return ev.test(x)
	case *call:
		return ev.call(x)
	}
	return nil, ev.fail(n, "cannot evaluate %T", n)
}

// attr is Jinja's a.b: the attribute (a method) first, then the key.
func (ev *evaluator) attr(x *attr) (any, error) {
	v, err := ev.eval(x.x)
	if err != nil {
		return nil, err
	}
	if u, ok := v.(*Undefined); ok {
		return &Undefined{Path: u.Path + "." + x.name, Hint: u.Hint}, nil
	}
	if isMethod(v, x.name) {
		return &method{recv: v, name: x.name}, nil
	}
	if t, ok := v.(tuple); ok {
		if f, ok := t.field(x.name); ok {
			return safe(f), nil
		}
	}
	if o, ok := v.(object); ok {
		if f, ok := o.attr(x.name); ok {
			return f, nil
		}
	}
	return lookupKey(v, x.name, pathOf(x.x)+"."+x.name), nil
}

// lookupKey reads key from a dict, or returns an Undefined saying what the
// value holds instead.
func lookupKey(v any, key, path string) any {
	if isDict(v) {
		if val, ok := dictGet(v, key); ok {
			return safe(val)
		}
		d, _ := asDict(v)
		keys := slices.Clone(d.Keys())
		if len(keys) > 10 {
			keys = append(keys[:10], "…")
		}
		hint := "it has no keys"
		if len(keys) > 0 {
			hint = strings.TrimSuffix(path, "."+key) + " has keys: " + strings.Join(keys, ", ")
		}
		return &Undefined{Path: path, Hint: hint}
	}
	return &Undefined{Path: path, Hint: fmt.Sprintf("%s is a %s, not a dict", strings.TrimSuffix(path, "."+key), typeName(v))}
}

// pathOf names an expression for messages: a.b[0].c.
func pathOf(n node) string {
	switch x := n.(type) {
	case *name:
		return x.name
	case *attr:
		return pathOf(x.x) + "." + x.name
	case *index:
		if l, ok := x.i.(*literal); ok {
			return pathOf(x.x) + "[" + repr(l.val) + "]"
		}
		return pathOf(x.x) + "[...]"
	}
	return "value"
}

func (ev *evaluator) index(x *index) (any, error) {
	v, err := ev.eval(x.x)
	if err != nil {
		return nil, err
	}
	if u, ok := v.(*Undefined); ok {
		return &Undefined{Path: u.Path + "[...]", Hint: u.Hint}, nil
	}
	i, err := ev.evalDefined(x.i)
	if err != nil {
		return nil, err
	}
	r, msg := getItem(v, i, pathOf(x), pathOf(x.x))
	if msg != "" {
		return nil, ev.fail(x.i, "%s", msg)
	}
	return r, nil
}

// getItem is Jinja2's environment.getitem, c[i], for subscripts and the
// extract filter: a missing key, an index out of range or a container
// without items gives an Undefined naming path (cpath names c); an index
// of the wrong type gives msg.
func getItem(c, i any, path, cpath string) (r any, msg string) {
	switch c := c.(type) {
	case *value.Dict, map[string]any, Mapping:
		return lookupKey(c, ToString(i), path), ""
	case []any, tuple:
		items, _ := seqItems(c)
		n, ok := toInt(i)
		if !ok {
			return nil, fmt.Sprintf("%s indices must be integers, not %s", typeName(c), typeName(i))
		}
		if n < 0 {
			n += int64(len(items))
		}
		if n < 0 || n >= int64(len(items)) {
			return &Undefined{Path: path, Hint: fmt.Sprintf("the %s has %d items", typeName(c), len(items))}, ""
		}
		return safe(items[n]), ""
	case string:
		r := []rune(c)
		n, ok := toInt(i)
		if !ok {
			return nil, fmt.Sprintf("string indices must be integers, not %s", typeName(i))
		}
		if n < 0 {
			n += int64(len(r))
		}
		if n < 0 || n >= int64(len(r)) {
			return &Undefined{Path: path, Hint: fmt.Sprintf("the string has %d characters", len(r))}, ""
		}
		return string(r[n]), ""
	}
	if s, ok := i.(string); ok && isMethod(c, s) {
		return &method{recv: c, name: s}, ""
	}
	return &Undefined{Path: path, Hint: fmt.Sprintf("%s is a %s", cpath, typeName(c))}, ""
}

func (ev *evaluator) slice(x *sliceNode) (any, error) {
	v, err := ev.evalDefined(x.x)
	if err != nil {
		return nil, err
	}
	bound := func(n node) (*int64, error) {
		if n == nil {
			return nil, nil
		}
		b, err := ev.evalDefined(n)
		if err != nil {
			return nil, err
		}
		if b == nil {
			return nil, nil
		}
		i, ok := toInt(b)
		if !ok {
			return nil, ev.fail(n, "slice indices must be integers or None")
		}
		return &i, nil
	}
	lo, err := bound(x.lo)
	if err != nil {
		return nil, err
	}
	hi, err := bound(x.hi)
	if err != nil {
		return nil, err
	}
	step, err := bound(x.stp)
	if err != nil {
		return nil, err
	}
	switch c := v.(type) {
	case []any:
		out, err := pySlice(c, lo, hi, step)
		if err != nil {
			return nil, ev.fail(x, "%v", err)
		}
		return out, nil
	case tuple:
		out, err := pySlice(c.items, lo, hi, step)
		if err != nil {
			return nil, ev.fail(x, "%v", err)
		}
		return tuple{items: out}, nil
	case string:
		r := []rune(c)
		items := make([]any, len(r))
		for i, ch := range r {
			items[i] = string(ch)
		}
		out, err := pySlice(items, lo, hi, step)
		if err != nil {
			return nil, ev.fail(x, "%v", err)
		}
		var b strings.Builder
		for _, s := range out {
			b.WriteString(s.(string))
		}
		return b.String(), nil
	}
	return nil, ev.fail(x, "a %s cannot be sliced", typeName(v))
}

// pySlice is Python's seq[lo:hi:step].
func pySlice(s []any, lo, hi, step *int64) ([]any, error) {
	n := int64(len(s))
	st := int64(1)
	if step != nil {
		st = *step
	}
	if st == 0 {
		return nil, errors.New("slice step cannot be zero")
	}
	clamp := func(p *int64, def int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += n
		}
		if st > 0 {
			return max(0, min(v, n))
		}
		return max(-1, min(v, n-1))
	}
	var out []any
	if st > 0 {
		for i := clamp(lo, 0); i < clamp(hi, n); i += st {
			out = append(out, s[i])
		}
	} else {
		for i := clamp(lo, n-1); i > clamp(hi, -1); i += st {
			out = append(out, s[i])
		}
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func (ev *evaluator) unary(x *unary) (any, error) {
	v, err := ev.evalDefined(x.x)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "not":
		return !truthy(v), nil
	case "-":
		switch n := v.(type) {
		case int64:
			return -n, nil
		case float64:
			return -n, nil
		case bool:
			i, _ := toInt(n)
			return -i, nil
		}
	case "+":
		if _, ok := toFloat(v); ok {
			return v, nil
		}
	}
	return nil, ev.fail(x, "bad operand type for unary %s: '%s'", x.op, typeName(v))
}

func (ev *evaluator) binary(x *binary) (any, error) {
	l, err := ev.evalDefined(x.l)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return ev.evalDefined(x.r)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return ev.evalDefined(x.r)
	}
	r, err := ev.evalDefined(x.r)
	if err != nil {
		return nil, err
	}
	v, err := arith(x.op, l, r)
	if err != nil {
		return nil, ev.fail(x, "%v", err)
	}
	return v, nil
}

// arith applies a Python arithmetic operator.
func arith(op string, l, r any) (any, error) {
	if op == "~" {
		return ToString(l) + ToString(r), nil
	}
	if op == "+" || op == "-" {
		if v, ok, err := dateArith(op, l, r); ok {
			return v, err
		}
	}
	li, lInt := toInt(l)
	ri, rInt := toInt(r)
	lf, lNum := toFloat(l)
	rf, rNum := toFloat(r)
	bothInt := lInt && rInt
	switch op {
	case "+":
		switch {
		case bothInt:
			if r := li + ri; (r > li) == (ri > 0) || ri == 0 {
				return r, nil
			}
			return nil, errOverflow
		case lNum && rNum:
			return lf + rf, nil
		}
		if ls, ok := l.(string); ok {
			if rs, ok := r.(string); ok {
				return ls + rs, nil
			}
		}
		if ll, ok := l.([]any); ok {
			if rl, ok := r.([]any); ok {
				return append(slices.Clone(ll), rl...), nil
			}
		}
		if lt, ok := l.(tuple); ok {
			if rt, ok := r.(tuple); ok {
				return tuple{items: append(slices.Clone(lt.items), rt.items...)}, nil
			}
		}
		if _, ok := seqItems(l); ok {
			return nil, fmt.Errorf("can only concatenate %s (not \"%s\") to %s", typeName(l), typeName(r), typeName(l))
		}
	case "-":
		switch {
		case bothInt:
			if r := li - ri; (r < li) == (ri > 0) || ri == 0 {
				return r, nil
			}
			return nil, errOverflow
		case lNum && rNum:
			return lf - rf, nil
		}
	case "*":
		switch {
		case bothInt:
			if li != 0 && ((li*ri)/li != ri || li == -1 && ri == math.MinInt64 || ri == -1 && li == math.MinInt64) {
				return nil, errOverflow
			}
			return li * ri, nil
		case lNum && rNum:
			return lf * rf, nil
		}
		if _, ok := r.(string); ok && lInt {
			l, ri, rInt = r, li, true
		}
		if s, ok := l.(string); ok && rInt {
			if ri > 0 && int64(len(s))*ri > maxRepeat {
				return nil, errTooLarge
			}
			return strings.Repeat(s, int(max(ri, 0))), nil
		}
		if _, ok := seqItems(r); ok && lInt {
			l, ri, rInt = r, li, true
		}
		if list, ok := seqItems(l); ok && rInt {
			if ri > 0 && int64(len(list))*ri > maxRepeat {
				return nil, errTooLarge
			}
			out := []any{}
			for range max(ri, 0) {
				out = append(out, list...)
			}
			if _, ok := l.(tuple); ok {
				return tuple{items: out}, nil
			}
			return out, nil
		}
	case "/":
		if lNum && rNum {
			if rf == 0 {
				return nil, errors.New("division by zero")
			}
			return lf / rf, nil
		}
	case "//":
		if lNum && rNum {
			if rf == 0 {
				return nil, errors.New("integer division or modulo by zero")
			}
			if bothInt {
				return floorDiv(li, ri), nil
			}
			return math.Floor(lf / rf), nil
		}
	case "%":
		if s, ok := l.(string); ok {
			return percentFormat(s, r)
		}
		if lNum && rNum {
			if rf == 0 {
				return nil, errors.New("integer division or modulo by zero")
			}
			if bothInt {
				return li - floorDiv(li, ri)*ri, nil
			}
			m := math.Mod(lf, rf)
			if m != 0 && (m < 0) != (rf < 0) {
				m += rf
			}
			return m, nil
		}
	case "**":
		if bothInt && ri >= 0 {
			return intPow(li, ri)
		}
		if lNum && rNum {
			return math.Pow(lf, rf), nil
		}
	}
	return nil, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

// Limits where Python would grow without bound; drover fails instead.
var (
	errOverflow = errors.New("integer overflow: drover's integers hold 64 bits")
	errTooLarge = errors.New("result too large")
)

const maxRepeat = 10 << 20

// intPow is base**exp by squaring, failing on overflow.
func intPow(base, exp int64) (any, error) {
	out := int64(1)
	for exp > 0 {
		if exp&1 == 1 {
			v, err := arith("*", out, base)
			if err != nil {
				return nil, err
			}
			out = v.(int64)
		}
		exp >>= 1
		if exp > 0 {
			v, err := arith("*", base, base)
			if err != nil {
				return nil, err
			}
			base = v.(int64)
		}
	}
	return out, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// percentFormat is Python's "fmt" % args for %s, %d, %i, %f and %%: a
// tuple gives one argument per item, any other value (a list too) is the
// only argument.
func percentFormat(f string, args any) (any, error) {
	list := []any{args}
	if t, ok := args.(tuple); ok {
		list = t.items
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		spec := ""
		for i < len(f) && strings.IndexByte("0123456789.-+ ", f[i]) >= 0 {
			spec += string(f[i])
			i++
		}
		if i == len(f) {
			return nil, errors.New("incomplete format")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		if n >= len(list) {
			return nil, errors.New("not enough arguments for format string")
		}
		a := list[n]
		n++
		switch f[i] {
		case 's':
			fmt.Fprintf(&b, "%"+spec+"s", ToString(a))
		case 'r':
			fmt.Fprintf(&b, "%"+spec+"s", repr(a))
		case 'd', 'i':
			fv, ok := toFloat(a)
			if !ok {
				return nil, fmt.Errorf("%%d format: a number is required, not %s", typeName(a))
			}
			fmt.Fprintf(&b, "%"+spec+"d", int64(fv))
		case 'f', 'e', 'g', 'x', 'o':
			fv, ok := toFloat(a)
			if !ok {
				return nil, fmt.Errorf("%%%c format: a number is required, not %s", f[i], typeName(a))
			}
			if f[i] == 'x' || f[i] == 'o' {
				fmt.Fprintf(&b, "%"+spec+string(f[i]), int64(fv))
			} else {
				fmt.Fprintf(&b, "%"+spec+string(f[i]), fv)
			}
		default:
			return nil, fmt.Errorf("unsupported format character '%c'", f[i])
		}
	}
	if n < len(list) {
		return nil, errors.New("not all arguments converted during string formatting")
	}
	return b.String(), nil
}

func (ev *evaluator) compare(x *compare) (any, error) {
	l, err := ev.evalDefined(x.first)
	if err != nil {
		return nil, err
	}
	for i, op := range x.ops {
		r, err := ev.evalDefined(x.rest[i])
		if err != nil {
			return nil, err
		}
		ok, err := compareOp(op, l, r)
		if err != nil {
			return nil, ev.fail(x.rest[i], "%v", err)
		}
		if !ok {
			return false, nil
		}
		l = r
	}
	return true, nil
}

func compareOp(op string, l, r any) (bool, error) {
	switch op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	case "<":
		return less(l, r)
	case ">":
		return less(r, l)
	case "<=":
		lt, err := less(l, r)
		return lt || equal(l, r), err
	case ">=":
		gt, err := less(r, l)
		return gt || equal(l, r), err
	case "in", "not in":
		in, err := contains(r, l)
		if op == "not in" {
			in = !in
		}
		return in, err
	}
	return false, fmt.Errorf("unknown operator %s", op)
}

// contains is Python's `item in container`.
func contains(container, item any) (bool, error) {
	switch c := container.(type) {
	case string:
		s, ok := item.(string)
		if !ok {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", typeName(item))
		}
		return strings.Contains(c, s), nil
	case []any, tuple, *view:
		items, _ := iterate(c)
		if w, ok := c.(*view); ok && w.kind == "dict_keys" {
			item = ToString(item) // drover's keys are strings; so is what a key matches
		}
		for _, e := range items {
			if equal(e, item) {
				return true, nil
			}
		}
		return false, nil
	case *value.Dict, map[string]any, Mapping:
		_, ok := dictGet(c, ToString(item))
		return ok, nil
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", typeName(container))
}
