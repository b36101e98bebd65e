package value

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDictKeepsInsertionOrder(t *testing.T) {
	d := NewDict(0)
	for _, k := range []string{"z", "a", "m"} {
		d.Set(k, k+"!")
	}
	d.Set("a", "again") // an existing key keeps its place, as in Python
	if got, want := d.Keys(), []string{"z", "a", "m"}; !cmp.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if v, _ := d.Get("a"); v != "again" {
		t.Errorf("a = %v, want again", v)
	}
	d.Delete("z")
	if got, want := d.Keys(), []string{"a", "m"}; !cmp.Equal(got, want) {
		t.Errorf("after delete: keys %v, want %v", got, want)
	}
	c := d.Clone()
	c.Set("new", 1)
	if d.Len() != 2 || c.Len() != 3 {
		t.Errorf("clone shares keys: %d, %d", d.Len(), c.Len())
	}
	var zero Dict
	zero.Set("k", 1)
	if zero.Len() != 1 {
		t.Error("the zero Dict is not usable")
	}
}

func TestDictJSONIsSorted(t *testing.T) {
	d := NewDict(0)
	d.Set("b", "<&>")
	d.Set("a", Unsafe("{{ x }}"))
	var out strings.Builder
	enc := json.NewEncoder(&out) // as the reports encode results
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any{"d": d}); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), `{"d":{"a":"{{ x }}","b":"<&>"}}`+"\n"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseYAML(t *testing.T) {
	src := "base: &b {y: 1, x: 2}\nmerged:\n  <<: *b\n  a: 3\n  y: 9\nflag: yes\nmode: 0644\nnum: 1e3\nsecret: !unsafe '{{ lookup(\"pipe\", \"id\") }}'\n"
	v, err := ParseYAML("f.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	d := v.(*Dict)
	if got, want := d.Keys(), []string{"base", "merged", "flag", "mode", "num", "secret"}; !cmp.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	m, _ := d.Get("merged")
	if got, want := m.(*Dict).Keys(), []string{"y", "x", "a"}; !cmp.Equal(got, want) {
		t.Errorf("merged keys %v, want %v (merged keys first, as PyYAML)", got, want)
	}
	if y, _ := m.(*Dict).Get("y"); y != int64(9) {
		t.Errorf("merged y = %v, want the explicit 9", y)
	}
	want := map[string]any{"flag": true, "mode": int64(420), "num": "1e3", "secret": Unsafe(`{{ lookup("pipe", "id") }}`)}
	for k, w := range want {
		if got, _ := d.Get(k); got != w {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
	_, err = ParseYAML("bad.yml", []byte("a: [1, 2\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yml:") {
		t.Errorf("bad YAML: %v, want an error naming bad.yml", err)
	}
}

func TestParseJSON(t *testing.T) {
	big1, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	tests := []struct {
		src  string
		want any
	}{
		{`{"b": 1, "a": [1.5, null, true], "b": 2}`, func() any {
			d := NewDict(0)
			d.Set("b", int64(2))
			d.Set("a", []any{1.5, nil, true})
			return d
		}()},
		{`123456789012345678901234567890`, big1},
		{`1e2`, 100.0},
		{`"x"`, "x"},
		{`[]`, []any{}},
	}
	for _, tt := range tests {
		got, err := ParseJSON([]byte(tt.src))
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		if diff := cmp.Diff(Plain(tt.want), Plain(got), cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tt.src, diff)
		}
		if d, ok := got.(*Dict); ok && !cmp.Equal(d.Keys(), []string{"b", "a"}) {
			t.Errorf("%s: keys %v", tt.src, d.Keys())
		}
	}
	for _, bad := range []string{`{"a": 1} x`, `{"a": }`, `[1,`, ``} {
		if _, err := ParseJSON([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestPlain(t *testing.T) {
	d := NewDict(0)
	d.Set("u", Unsafe("t"))
	in := []any{d, "s", map[string]any{"k": []any{d}}}
	want := []any{map[string]any{"u": "t"}, "s", map[string]any{"k": []any{map[string]any{"u": "t"}}}}
	if diff := cmp.Diff(want, Plain(in)); diff != "" {
		t.Errorf("(-want +got)\n%s", diff)
	}
	plain := []any{"a", map[string]any{"b": 1}}
	if got := Plain(plain).([]any); &got[0] != &plain[0] {
		t.Error("a value with nothing to change was copied")
	}
}

func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{"a: 1\n", "- !unsafe x\n", "a: &x {b: 1}\nc: {<<: *x}\n", "k: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n", "? [1, 2]\n: x\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := ParseYAML("fuzz.yml", []byte(src))
		if err != nil && !strings.HasPrefix(err.Error(), "fuzz.yml:") {
			t.Errorf("error without the file name: %v", err)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{"a": [1, 2.5, "x", null]}`, `1e400`, `{"a":{"a":{}}}`, `"\u00e9"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		v, err := ParseJSON([]byte(src))
		if err == nil && json.Valid([]byte(src)) != true {
			t.Errorf("accepted invalid JSON %q as %v", src, v)
		}
	})
}

func TestYAMLErrorHints(t *testing.T) {
	for src, want := range map[string]string{
		"- hosts: h\n  tasks:\n    - debug: msg=\"a\n      bad: [\n": "f.yml:4: did not find expected node content (a value is missing, or a quote or bracket before it is not closed)",
		"- hosts: h\n  tasks:\n    - debug: msg=a: b\n":              "f.yml:3: mapping values are not allowed in this context (a value holds ': ' unquoted; quote the whole value)",
		"- a: [1, 2\n": "f.yml:1: did not find expected ',' or ']' (a bracket is not closed)",
		"- a: \"x\n":   "f.yml:2: found unexpected end of stream (a quote or bracket is not closed)",
	} {
		_, err := ParseYAML("f.yml", []byte(src))
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", src, err, want)
		}
	}
}

// TestYAMLAliasLoops: an alias inside the collection it names, directly or
// through a merge key, and aliases that expand past the limit, are
// positioned errors, not a stack overflow or a hang.
func TestYAMLAliasLoops(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		laughs += n + ": &" + n + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = n
	}
	for src, want := range map[string]string{
		"a: &x {*x}\n":         "refers to a collection it is inside of",
		"a: &x [1, *x]\n":      "refers to a collection it is inside of",
		"a: &x {<<: *x}\n":     "refers to a collection it is inside of",
		"a: &x {b: {c: *x}}\n": "refers to a collection it is inside of",
		laughs:                 "expand to more than",
	} {
		_, err := ParseYAML("f.yml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "f.yml:") {
			t.Errorf("%.40q: error %v, want one with %q", src, err, want)
		}
	}
	// An alias used twice, not inside itself, is fine.
	if _, err := ParseYAML("f.yml", []byte("a: &x {k: 1}\nb: *x\nc: [*x, *x]\nd: {<<: *x}\n")); err != nil {
		t.Errorf("aliases used twice: %v", err)
	}
}
