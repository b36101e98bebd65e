package template

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

func (ev *evaluator) filter(x *filter) (any, error) {
	in, err := ev.eval(x.x)
	if err != nil {
		return nil, err
	}
	name := shortName(x.name)
	f, ok := ev.filters[name]
	if !ok {
		return nil, &EvalError{Pos: x.pos, Msg: unknownFilter(name, ev.filters).Error()}
	}
	if !acceptsUndefined[name] {
		if in, err = ev.defined(x.x, in); err != nil {
			return nil, err
		}
	}
	args, kw, err := ev.arguments(x.args, x.kwargs)
	if err != nil {
		return nil, err
	}
	out, err := f(ev, in, args, kw)
	if err != nil {
		return nil, ev.fail(x, "filter %s: %v", name, err)
	}
	return unroll(out), nil // Ansible's filter wrapper unrolls views: d.keys() | default([]) is a list
}

func (ev *evaluator) arguments(nodes []node, kwargs []kwarg) ([]any, map[string]any, error) {
	args := make([]any, len(nodes))
	for i, a := range nodes {
		v, err := ev.evalDefined(a)
		if err != nil {
			return nil, nil, err
		}
		args[i] = v
	}
	kw := map[string]any{}
	for _, k := range kwargs {
		v, err := ev.evalDefined(k.val)
		if err != nil {
			return nil, nil, err
		}
		kw[k.name] = v
	}
	return args, kw, nil
}

func (ev *evaluator) test(x *test) (any, error) {
	v, err := ev.eval(x.x)
	if err != nil {
		return nil, err
	}
	name := shortName(x.name)
	t, ok := allTests()[name]
	if !ok {
		return nil, &EvalError{Pos: x.pos, Msg: unknownTest(name).Error()}
	}
	if name != "defined" && name != "undefined" {
		if v, err = ev.defined(x.x, v); err != nil {
			return nil, err
		}
	}
	args, kw, err := ev.arguments(x.args, x.kwargs)
	if err != nil {
		return nil, err
	}
	if args, err = placeTestKeywords(name, args, kw); err != nil {
		return nil, ev.fail(x, "test %s: %v", name, err)
	}
	ok, err = t(v, args)
	if err != nil {
		return nil, ev.fail(x, "test %s: %v", name, err)
	}
	return ok != x.not, nil
}

// testParams name the parameters of the tests that take keywords, after the
// value tested, in Ansible's order.
var testParams = map[string][]string{
	"match":           {"pattern", "ignorecase", "multiline"},
	"search":          {"pattern", "ignorecase", "multiline"},
	"regex":           {"pattern", "ignorecase", "multiline", "match_type"},
	"version":         {"version", "operator", "strict", "version_type"},
	"version_compare": {"version", "operator", "strict", "version_type"},
}

// placeTestKeywords puts a test's keyword arguments where its positional
// ones go, as Python binds them.
func placeTestKeywords(name string, args []any, kw map[string]any) ([]any, error) {
	if len(kw) == 0 {
		return args, nil
	}
	params := testParams[name]
	for k, v := range kw {
		i := slices.Index(params, k)
		if i < 0 {
			return nil, fmt.Errorf("unexpected keyword argument '%s'", k)
		}
		if i < len(args) {
			return nil, fmt.Errorf("got multiple values for argument '%s'", k)
		}
		for len(args) <= i {
			args = append(args, nil)
		}
		args[i] = v
	}
	return args, nil
}

// shortName strips ansible.builtin. and ansible.legacy. prefixes.
func shortName(n string) string {
	for _, p := range []string{"ansible.builtin.", "ansible.legacy.", "ansible.netcommon."} {
		n = strings.TrimPrefix(n, p)
	}
	return n
}

func unknownFilter(name string, known map[string]filterFunc) error {
	return fmt.Errorf("no filter named '%s'%s", name, didYouMean(name, slices.Collect(maps.Keys(known))))
}

func unknownTest(name string) error {
	return fmt.Errorf("no test named '%s'%s", name, didYouMean(name, slices.Collect(maps.Keys(allTests()))))
}

// didYouMean suggests the closest known name.
func didYouMean(name string, known []string) string {
	slices.Sort(known)
	best, bestDist := "", 3
	for _, k := range known {
		if d := editDistance(name, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean '" + best + "'?"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
