package value

import (
	"bytes"
	"encoding/json"
	"iter"
	"maps"
	"slices"
)

// Dict is a mapping from strings to values that remembers the order its
// keys were first set, as a Python dict does: {% for k, v in d.items() %},
// to_json and dict2items follow it. The zero value is an empty Dict ready
// to use. A Dict is not safe for concurrent writes; values shared between
// hosts are never written after they are built.
type Dict struct {
	keys []string
	m    map[string]any
}

// NewDict returns an empty Dict with room for n keys.
func NewDict(n int) *Dict {
	return &Dict{keys: make([]string, 0, n), m: make(map[string]any, n)}
}

// DictOf returns a Dict of m's entries in sorted key order: the order to
// give a Go map, whose own order is random.
func DictOf(m map[string]any) *Dict {
	d := NewDict(len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		d.Set(k, m[k])
	}
	return d
}

// Len is the number of keys.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.keys)
}

// Get returns the value of k and whether k is there.
func (d *Dict) Get(k string) (any, bool) {
	if d == nil {
		return nil, false
	}
	v, ok := d.m[k]
	return v, ok
}

// Set sets k to v. A new key goes last; an existing key keeps its place,
// as in Python.
func (d *Dict) Set(k string, v any) {
	if d.m == nil {
		d.m = map[string]any{}
	}
	if _, ok := d.m[k]; !ok {
		d.keys = append(d.keys, k)
	}
	d.m[k] = v
}

// Delete removes k, keeping the order of the other keys.
func (d *Dict) Delete(k string) {
	if _, ok := d.m[k]; !ok {
		return
	}
	delete(d.m, k)
	d.keys = slices.DeleteFunc(d.keys, func(s string) bool { return s == k })
}

// Keys returns the keys in order. The slice is the Dict's own: do not
// change it.
func (d *Dict) Keys() []string {
	if d == nil {
		return nil
	}
	return d.keys
}

// All yields the entries in order.
func (d *Dict) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		if d == nil {
			return
		}
		for _, k := range d.keys {
			if !yield(k, d.m[k]) {
				return
			}
		}
	}
}

// Clone returns a shallow copy: the values are shared.
func (d *Dict) Clone() *Dict {
	if d == nil {
		return NewDict(0)
	}
	return &Dict{keys: slices.Clone(d.keys), m: maps.Clone(d.m)}
}

// Map returns the entries as a Go map (shared, not copied: do not change
// it), for code that looks keys up and does not care about order.
func (d *Dict) Map() map[string]any {
	if d == nil {
		return nil
	}
	return d.m
}

// MarshalJSON writes the keys sorted, as Ansible's callbacks and
// ansible-inventory do (json.dumps with sort_keys=True), so results print
// the same whichever way they were built. The to_json filter keeps the
// insertion order instead, as Python's json.dumps does.
func (d *Dict) MarshalJSON() ([]byte, error) {
	if d == nil {
		return []byte("{}"), nil
	}
	return marshal(d.m)
}

// marshal is json.Marshal without HTML escaping, so a Dict inside a
// result prints < and & as the encoder around it chose to.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Plain returns v with every Dict turned into a Go map and every Unsafe
// into a string, deeply: the form modules and encoders outside the
// template layer expect. Containers are copied only when something inside
// them changes.
func Plain(v any) any {
	if !hasOwnTypes(v) {
		return v
	}
	switch x := v.(type) {
	case *Dict:
		out := make(map[string]any, x.Len())
		for k, e := range x.All() {
			out[k] = Plain(e)
		}
		return out
	case Unsafe:
		return string(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Plain(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Plain(e)
		}
		return out
	}
	return v
}

// hasOwnTypes reports whether v is or holds a Dict or an Unsafe.
func hasOwnTypes(v any) bool {
	switch x := v.(type) {
	case *Dict, Unsafe:
		return true
	case []any:
		return slices.ContainsFunc(x, hasOwnTypes)
	case map[string]any:
		for _, e := range x {
			if hasOwnTypes(e) {
				return true
			}
		}
	}
	return false
}
