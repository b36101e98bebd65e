package template

import (
	"strings"
	"testing"
)

// TestErrors: each failure names what went wrong and where (the column).
func TestErrors(t *testing.T) {
	vars := Vars{"a": map[string]any{"x": int64(1), "y": int64(2)}, "n": int64(3), "s": "text"}
	tests := []struct {
		expr string
		want string
	}{
		{"missing", "column 1: undefined variable 'missing'"},
		{"a.b", "a.b is undefined (a has keys: x, y)"},
		{"a.b.c", "a.b.c is undefined (a has keys: x, y)"},
		{"missing.key", "undefined variable 'missing.key'"},
		{"n | lenght", "column 5: no filter named 'lenght'; did you mean 'length'?"},
		{"n is evn", "column 6: no test named 'evn'; did you mean 'even'?"},
		{"n + s", "column 3: unsupported operand type(s) for +: 'int' and 'str'"},
		{"s | int + missing", "undefined variable 'missing'"},
		{"n / 0", "division by zero"},
		{"(1, 2", "column 6: expected \")\", found the end of the expression"},
		{"n +", "column 4: expected a value, found the end of the expression"},
		{"'open", "column 1: unterminated string"},
		{"n $ 2", "column 3: unexpected character '$'"},
		{"a.", "expected an attribute name after '.'"},
		{"n | default(1) | mandatory | replace", "filter replace: replace needs the old and the new text"},
		{"missing | mandatory", "mandatory variable 'missing' not defined"},
		{"missing | mandatory('set missing in group_vars')", "set missing in group_vars"},
		{"n(1)", "'int' object is not callable"},
		{"1 < 'a'", "'<' not supported between instances of 'int' and 'str'"},
		{"s.nosuch()", "s.nosuch is undefined"},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err == nil {
			_, err = e.Eval(vars)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.expr, err, tt.want)
		}
	}
}

func TestNativeTypes(t *testing.T) {
	vars := Vars{"l": []any{int64(1)}, "n": int64(2)}
	tests := []struct {
		expr string
		want any
	}{
		{"l", []any{int64(1)}},
		{"n > 1", true},
		{"n / 2", 1.0},
		{"'abc' | length", int64(3)},
		{"none", nil},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Eval(vars)
		if err != nil || !equal(got, tt.want) || typeName(got) != typeName(tt.want) {
			t.Errorf("%s = %#v (%v), want %#v", tt.expr, got, err, tt.want)
		}
	}
}

func TestToString(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "None"}, {true, "True"}, {1.0, "1.0"}, {1e16, "1e+16"}, {[]any{"a", int64(1), nil}, "['a', 1, None]"},
		{map[string]any{"k": "it's"}, `{'k': "it's"}`}, {"x\ny", "x\ny"}, {[]any{"x\ny"}, `['x\ny']`},
	}
	for _, tt := range tests {
		if got := ToString(tt.v); got != tt.want {
			t.Errorf("ToString(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// FuzzParseExpr: any input parses or fails with a positioned error, and
// evaluation never panics.
func FuzzParseExpr(f *testing.F) {
	for _, s := range readExprsF(f) {
		f.Add(s)
	}
	vars := Vars{"a": "foo", "n": int64(7), "lst": []any{int64(1), "x"}, "d": map[string]any{"k": []any{}}}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("parse error of type %T: %v", err, err)
			}
			return
		}
		_, _ = e.Eval(vars)
	})
}

func readExprsF(f *testing.F) []string {
	return readExprs(f)
}

// BenchmarkWhen evaluates a typical when: condition, parsed once.
func BenchmarkWhen(b *testing.B) {
	e, err := ParseExpr("ansible_os_family == 'Debian' and (pkgs | length) > 2 and inventory_hostname is not match('db')")
	if err != nil {
		b.Fatal(err)
	}
	vars := Vars{"ansible_os_family": "Debian", "pkgs": []any{"a", "b", "c"}, "inventory_hostname": "web1"}
	for b.Loop() {
		if _, err := e.Eval(vars); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := ParseExpr("users | selectattr('age', 'gt', 28) | map(attribute='name') | join(', ')"); err != nil {
			b.Fatal(err)
		}
	}
}
