package template

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/drover/drover/playbook/value"
)

// TestTuplesLeaveAsLists: what Eval and RenderString hand to the playbook
// holds no tuple or dict view, as Ansible registers, sets and loops over
// lists; text rendering still shows the tuples.
func TestTuplesLeaveAsLists(t *testing.T) {
	d := value.NewDict(2)
	d.Set("k", "v")
	d.Set("a", int64(1))
	vars := Vars{"d": d}
	pairs := []any{[]any{"k", "v"}, []any{"a", int64(1)}}
	tests := []struct {
		src  string
		want any
	}{
		{"{{ d.items() | list }}", pairs},
		{"{{ d.items() }}", pairs},
		{"{{ d | dictsort }}", []any{[]any{"a", int64(1)}, []any{"k", "v"}}},
		{"{{ {'t': [(1, (2,))]} }}", map[string]any{"t": []any{[]any{int64(1), []any{int64(2)}}}}},
		{"{{ (1, 2) }}", "(1, 2)"},
		{"x {{ d.items() | list }}", "x [('k', 'v'), ('a', 1)]"},
		{"{{ [d.keys()] }}", "[dict_keys(['k', 'a'])]"}, // Ansible cannot read that text back
	}
	c := &Cache{}
	for _, tt := range tests {
		got, err := c.RenderString(tt.src, vars)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if holds(got, isTupleOrView, 0) || !equal(got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.src, got, tt.want)
		}
	}
	e, err := ParseExpr("(1, [d.values()])")
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Eval(vars)
	if want := []any{int64(1), []any{[]any{"v", int64(1)}}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Eval = %#v, %v; want %#v", got, err, want)
	}
}

// TestVariablesKeepTuples: a variable whose template makes tuples keeps
// them for the templates that read it, as Ansible's play vars do.
func TestVariablesKeepTuples(t *testing.T) {
	l := NewLazy(Vars{"d": map[string]any{"k": "v"}, "pairs": "{{ d.items() | list }}", "groups": "{{ [{'a': 1}] | groupby('a') }}"}, nil)
	for src, want := range map[string]string{
		"{{ pairs[0] | type_debug }} {{ pairs }}": "tuple [('k', 'v')]",
		"{{ groups[0] | type_debug }}":            "tuple", // the text read back: a plain tuple
	} {
		got, err := l.cache.RenderString(src, l)
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %q", src, got, err, want)
		}
	}
}

// TestNativeKeepsSharing: converting tuples keeps one value met twice one
// value, so to_yaml still writes an alias for it as PyYAML does.
func TestNativeKeepsSharing(t *testing.T) {
	tp := tuple{items: []any{int64(1), int64(2)}}
	inner := []any{tp}
	got, ok := native([]any{tp, tp, inner, inner}).([]any)
	if !ok || len(got) != 4 {
		t.Fatalf("native = %#v", got)
	}
	same := func(a, b any) bool { return reflect.ValueOf(a).Pointer() == reflect.ValueOf(b).Pointer() }
	if !same(got[0], got[1]) || !same(got[2], got[3]) {
		t.Errorf("shared values were copied apart: %#v", got)
	}
	if !reflect.DeepEqual(got[2], []any{[]any{int64(1), int64(2)}}) {
		t.Errorf("inner list = %#v", got[2])
	}
}

func TestTupleRepr(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{tuple{}, "()"},
		{tuple{items: []any{"a"}}, "('a',)"},
		{tuple{items: []any{int64(1), nil, []any{tuple{}}}}, "(1, None, [()])"},
		{tuple{items: []any{false, []any{}}, name: "_GroupTuple"}, "(False, [])"},
		{&view{kind: "dict_keys", items: []any{"k"}}, "dict_keys(['k'])"},
	}
	for _, tt := range tests {
		if got := ToString(tt.v); got != tt.want {
			t.Errorf("ToString(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestSetUnpacks: {% set a, b = ... %} unpacks a tuple or fails naming
// the mismatch.
func TestSetUnpacks(t *testing.T) {
	d, err := ParseDocument("t.j2", "{% set a, b = 1, 2 %}{{ b }}{{ a }}")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := d.Render(Vars{}); err != nil || got != "21" {
		t.Errorf("got %q, %v", got, err)
	}
	d, err = ParseDocument("t.j2", "{% set a, b = (1, 2, 3) %}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Render(Vars{}); err == nil {
		t.Error("unpacking 3 items into 2 names succeeded")
	}
}

// TestTupleJSON: a tuple reached past the conversion still writes as a
// JSON array.
func TestTupleJSON(t *testing.T) {
	v := map[string]any{"t": tuple{items: []any{int64(1), tuple{items: []any{"a"}}}}, "v": &view{kind: "dict_keys", items: []any{"k"}}}
	got, err := json.Marshal(v)
	if want := `{"t":[1,["a"]],"v":["k"]}`; err != nil || string(got) != want {
		t.Errorf("got %s (%v), want %s", got, err, want)
	}
}
