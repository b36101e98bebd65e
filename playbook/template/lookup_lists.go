package template

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/drover/drover/playbook/value"
)

// listLookups are Ansible's lookups that build a list from their terms
// alone. Loops reach them as with_<name> through ListLookup, templates
// through lookup() and query().
var listLookups = map[string]func(terms []any) ([]any, error){
	"items":         func(terms []any) ([]any, error) { return flattenOnce(terms), nil },
	"list":          func(terms []any) ([]any, error) { return terms, nil },
	"flattened":     func(terms []any) ([]any, error) { return flattenAll(terms, 0), nil },
	"dict":          lookupDict,
	"indexed_items": lookupIndexedItems,
	"together":      lookupTogether,
	"nested":        lookupNested,
	"sequence":      lookupSequence,
	"subelements":   lookupSubelements,
	"random_choice": func(terms []any) ([]any, error) {
		if len(terms) == 0 {
			return []any{}, nil
		}
		return []any{terms[rand.IntN(len(terms))]}, nil
	},
}

// ListLookup runs the list lookup name on terms, the value of a
// with_<name> loop made a list as Ansible's listify does: a list as it is,
// anything else as the one term.
func ListLookup(name string, v any) ([]any, error) {
	fn, ok := listLookups[name]
	if !ok {
		return nil, fmt.Errorf("with_%s: no such lookup", name)
	}
	terms, isList := v.([]any)
	if !isList {
		terms = []any{v}
	}
	out, err := fn(terms)
	if err != nil {
		return nil, fmt.Errorf("%s lookup: %w", name, err)
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

// flattenOnce is LookupBase._flatten: the terms, with those that are lists
// replaced by their items.
func flattenOnce(terms []any) []any {
	out := []any{}
	for _, t := range terms {
		if l, ok := t.([]any); ok {
			out = append(out, l...)
		} else {
			out = append(out, t)
		}
	}
	return out
}

// flattenAll is the flattened lookup: lists in lists, all the way down.
func flattenAll(terms []any, depth int) []any {
	out := []any{}
	for _, t := range terms {
		if l, ok := t.([]any); ok && depth < maxDepth {
			out = append(out, flattenAll(l, depth+1)...)
		} else {
			out = append(out, t)
		}
	}
	return out
}

// lookupDict gives each dict term's items as {key, value}, in order.
func lookupDict(terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		d, ok := asDict(t)
		if !ok {
			return nil, fmt.Errorf("expects a dict, got %s", typeName(t))
		}
		for k, e := range d.All() {
			item := value.NewDict(2)
			item.Set("key", k)
			item.Set("value", e)
			out = append(out, item)
		}
	}
	return out, nil
}

// lookupIndexedItems pairs each item (of the terms flattened once) with
// its index.
func lookupIndexedItems(terms []any) ([]any, error) {
	items := flattenOnce(terms)
	out := make([]any, len(items))
	for i, e := range items {
		out[i] = []any{int64(i), e}
	}
	return out, nil
}

// lookupTogether zips the term lists, filling the short ones with None.
func lookupTogether(terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, fmt.Errorf("needs at least one list")
	}
	n := 0
	for _, t := range terms {
		if l, ok := t.([]any); ok {
			n = max(n, len(l))
		}
	}
	out := make([]any, n)
	for i := range n {
		row := make([]any, len(terms))
		for j, t := range terms {
			if l, ok := t.([]any); ok && i < len(l) {
				row[j] = l[i]
			}
		}
		out[i] = row
	}
	return out, nil
}

// lookupNested is the product of the term lists, each combination one
// list.
func lookupNested(terms []any) ([]any, error) {
	if len(terms) == 0 {
		return nil, fmt.Errorf("needs at least one list")
	}
	out := []any{[]any{}}
	for _, t := range terms {
		l, ok := t.([]any)
		if !ok {
			l = []any{t}
		}
		var next []any
		for _, prefix := range out {
			for _, x := range l {
				next = append(next, append(slices.Clone(prefix.([]any)), x))
			}
		}
		out = next
	}
	return out, nil
}

// lookupSequence is each term's sequence, one after another: "start=1
// end=5 stride=1 format=%d", "count=3", or the shorthand "1-10/2:host%02d".
func lookupSequence(terms []any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		items, err := sequence(ToString(t))
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(out) > 100000 {
			return nil, fmt.Errorf("more than 100,000 items")
		}
	}
	return out, nil
}

func sequence(spec string) ([]any, error) {
	start, end, stride, count, format := int64(1), int64(0), int64(1), int64(-1), "%d"
	hasEnd := false
	spec = strings.TrimSpace(spec)
	if !strings.Contains(spec, "=") && spec != "" {
		body, f, hasFormat := strings.Cut(spec, ":")
		if hasFormat {
			format = f
		}
		body, st, hasStride := strings.Cut(body, "/")
		a, b, hasRange := strings.Cut(body, "-")
		var err error
		if !hasRange {
			if end, err = strconv.ParseInt(a, 0, 64); err != nil {
				return nil, fmt.Errorf("%q: can't parse the end", spec)
			}
		} else {
			if start, err = strconv.ParseInt(a, 0, 64); err == nil {
				end, err = strconv.ParseInt(b, 0, 64)
			}
			if err != nil {
				return nil, fmt.Errorf("%q: can't parse the range", spec)
			}
		}
		hasEnd = true
		if hasStride {
			if stride, err = strconv.ParseInt(st, 0, 64); err != nil {
				return nil, fmt.Errorf("%q: can't parse the stride", spec)
			}
		}
	} else {
		for _, kv := range strings.Fields(spec) {
			k, v, _ := strings.Cut(kv, "=")
			if k == "format" {
				format = v
				continue
			}
			n, err := strconv.ParseInt(v, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("%s=%q is not a number", k, v)
			}
			switch k {
			case "start":
				start = n
			case "end":
				end, hasEnd = n, true
			case "stride":
				stride = n
			case "count":
				count = n
			default:
				return nil, fmt.Errorf("unknown argument %q; use start, end, stride, count, format", k)
			}
		}
	}
	if count >= 0 {
		if hasEnd {
			return nil, fmt.Errorf("give end or count, not both")
		}
		if count == 0 {
			return []any{}, nil
		}
		end, hasEnd = start+(count-1)*stride, true
	}
	if !hasEnd {
		return nil, fmt.Errorf("needs end= or count=")
	}
	if stride == 0 {
		return nil, fmt.Errorf("stride must not be 0")
	}
	out := []any{}
	for i := start; (stride > 0 && i <= end) || (stride < 0 && i >= end); i += stride {
		out = append(out, fmt.Sprintf(format, i))
		if len(out) > 100000 {
			return nil, fmt.Errorf("more than 100,000 items")
		}
	}
	return out, nil
}

// lookupSubelements is [list, 'key'] (and maybe {skip_missing: true}):
// [parent, each of parent[key]], the parent without that key, as Ansible's
// lookup hands it out.
func lookupSubelements(terms []any) ([]any, error) {
	if len(terms) < 2 {
		return nil, fmt.Errorf("needs [list, 'key'] (and maybe {skip_missing: true})")
	}
	parents, ok := terms[0].([]any)
	if !ok {
		return nil, fmt.Errorf("the first term must be a list, not %s", typeName(terms[0]))
	}
	key := ToString(terms[1])
	skip := false
	if len(terms) > 2 {
		if d, ok := asDict(terms[2]); ok {
			s, _ := d.Get("skip_missing")
			skip = truthy(s)
		}
	}
	out := []any{}
	for _, p := range parents {
		d, ok := asDict(p)
		if !ok {
			return nil, fmt.Errorf("the list must hold dicts, not %s", typeName(p))
		}
		sub, found := d.Get(key)
		if !found {
			if skip {
				continue
			}
			return nil, fmt.Errorf("could not find %q in an item; add {skip_missing: true} to skip those", key)
		}
		subs, ok := sub.([]any)
		if !ok {
			return nil, fmt.Errorf("%s must be a list, not %s", key, typeName(sub))
		}
		parent := d.Clone()
		parent.Delete(key)
		for _, s := range subs {
			out = append(out, []any{parent, s})
		}
	}
	return out, nil
}
