package inventory

import (
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseValue(t *testing.T) {
	big1, _ := new(big.Int).SetString("12345678901234567890", 10)
	tests := []struct {
		in   string
		want any
	}{
		{"23", int64(23)}, {"-5", int64(-5)}, {"1_000", int64(1000)}, {"0x10", int64(16)}, {"0o17", int64(15)},
		{"1.5", 1.5}, {"1e3", 1000.0}, {"0644", "0644"}, {"True", true}, {"False", false}, {"None", nil},
		{"yes", "yes"}, {"a b", "a b"}, {"'abc'", "abc"}, {`"a\nb"`, "a\nb"}, {"[1,2]", []any{int64(1), int64(2)}},
		{"(1,2)", tuple{int64(1), int64(2)}}, {"(1)", int64(1)}, {"{'a': 1}", map[string]any{"a": int64(1)}},
		{"[1,", "[1,"}, {"12345678901234567890", big1}, {"{1, 2}", "{1, 2}"}, {"1j", "1j"}, {"", ""},
		{"'a' 'b'", "ab"}, {"u'x'", "x"}, {"b'x'", "b'x'"}, {"pool.ntp.org", "pool.ntp.org"},
	}
	for _, tt := range tests {
		got := parseValue(tt.in)
		if !cmp.Equal(got, tt.want, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })) {
			t.Errorf("parseValue(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestPyJSON(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{1000.0, "1000.0"}, {1.5, "1.5"}, {1e16, "1e+16"}, {1e-5, "1e-05"}, {0.0001, "0.0001"}, {123456789012345.0, "123456789012345.0"},
		{map[string]any{"b": int64(1), "a": []any{}}, "{\n    \"a\": [],\n    \"b\": 1\n}"},
		{"é\"\x01", `"é\"\u0001"`},
	}
	for _, tt := range tests {
		if got := pyJSON(tt.in); got != tt.want {
			t.Errorf("pyJSON(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"1", "[1,2]", "{'a': (1,)}", "'x' 'y'", "0x1_0", "-1.5e3", `"\x41"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = pyJSON(parseValue(s))
	})
}
