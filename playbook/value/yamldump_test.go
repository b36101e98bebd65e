package value

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/drover/drover/vault"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/yamldump/*.golden from Ansible's own filters")

type yamlCase struct {
	name  string
	in    any
	style YAMLStyle
}

// A vault text as ansible-vault encrypt_string writes it, so that the
// round trip through ParseYAML accepts it.
const testVault = "$ANSIBLE_VAULT;1.1;AES256\n" +
	"62313365396662343061393464336163383764373764613633653634306231386433626436623361\n" +
	"6538"

func dictOf(kv ...any) *Dict {
	d := NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.Set(kv[i].(string), kv[i+1])
	}
	return d
}

func ints(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

func nested(depth int, leaf any) any {
	for i := range depth {
		leaf = dictOf("k"+strconv.Itoa(i), leaf)
	}
	return leaf
}

func flowStyle(b bool) *bool { return &b }

// yamlCases are the inputs whose outputs testdata/yamldump/*.golden
// holds, as Ansible produced them.
func yamlCases() []yamlCase {
	big70, _ := new(big.Int).SetString("1180591620717411303424", 10)
	bigNeg, _ := new(big.Int).SetString("-18446744073709551616", 10)
	long := strings.Repeat("word ", 30) + "end"
	nice := NiceYAML(4)
	// Containers met twice, as when a template names one variable twice.
	shared := dictOf("a", []any{int64(1)}, "b", "x")
	sharedList := []any{int64(1), int64(2)}
	goMap := map[string]any{"k": []any{"v"}}
	cases := []yamlCase{
		{name: "plain", in: "hello world"},
		{name: "empty_string", in: ""},
		{name: "bool_words", in: []any{"yes", "No", "on", "OFF", "true", "y", "n"}},
		{name: "number_like", in: []any{"0644", "1e3", "1.5", "1_000", "0x1F", "1:30", ".inf", "-.nan", "+.5", "08", "1.5E+3"}},
		{name: "null_like", in: []any{"~", "null", "Null", "nULL", nil}},
		{name: "dates", in: []any{"2024-01-02", "2001-12-14 21:59:43.10 -5", "2001-12-14t21:59:43.10-05:00", "2024-01-02 "}},
		// PyYAML reads both as strings, so they go unquoted; ParseYAML
		// does not (see misread), so only this case skips the round trip.
		{name: "plain_misread_by_parseyaml", in: []any{"._1", "2024-1-2"}},
		{name: "merge_and_value", in: dictOf("<<", "=", "=", "<<", "<<<", "==")},
		{name: "spaces_at_ends", in: []any{" a", "a ", " ", "  ", "a  b"}},
		{name: "indicators_first", in: []any{"#a", ",a", "[a", "]a", "{a", "}a", "&a", "*a", "!a", "|a", ">a", "'a", "\"a", "%a", "@a", "`a"}},
		{name: "indicators_block", in: dictOf("colon_space", "a: b", "colon_end", "a:", "hash", "a #b", "hash_inside", "a#b", "dash", "- a", "dash_alone", "-", "dash_word", "-a", "question", "? a", "q_word", "?a", "colon_word", ":a", "doc_start", "---", "doc_end", "...", "dashes", "--", "comma", "a,b", "brackets", "a[b]c")},
		{name: "indicators_flow", in: []any{"a:b", "a,b", "a]", "a}", "?a", ":a", "a?", "-a", "a#b"}},
		{name: "quotes_inside", in: []any{"it's", "'", "''", `say "hi"`, `"`, `back\slash`}},
		{name: "multiline", in: dictOf("two", "a\nb", "trailing", "a\n", "leading", "\na", "blank", "a\n\nb\n", "indented", "a\n b", "space_break", "a \nb")},
		{name: "multiline_nice", in: dictOf("text", "line one\nline two\n\nline four\n", "list", []any{"x\ny"}), style: nice},
		{name: "control_chars", in: []any{"a\tb", "\x00", "\x01\x07\x08\x0b\x0c\x1b", "\x7f", "a\rb", "\t"}},
		{name: "unicode", in: dictOf("latin", "héllo wörld", "cjk", "日本語のテキスト", "nbsp", "a\u00a0b", "private", "\ue000")},
		{name: "unicode_escaped", in: []any{"😀 emoji", "\ufeffbom", "\u2028", "a\u2029b", "\u0085", "\ufffe", "a\U0010FFFF"}},
		{name: "ascii", in: dictOf("é", "héllo", "nbsp", "\u00a0", "nel", "\u0085", "ls", "\u2028", "cjk", "日本"), style: YAMLStyle{ASCII: true}},
		{name: "ascii_nice", in: []any{"ünïcödé " + strings.Repeat("ä ", 40)}, style: YAMLStyle{ASCII: true, Indent: 4, FlowStyle: flowStyle(false)}},
		{name: "long_plain", in: long},
		{name: "long_plain_nice", in: dictOf("key", long), style: nice},
		{name: "long_no_spaces", in: strings.Repeat("x", 200)},
		{name: "long_single", in: " " + long},
		{name: "long_double", in: "\t" + strings.ReplaceAll(long, " ", "  ")},
		{name: "long_double_nice", in: dictOf("k", "\t"+strings.Repeat("wo   ", 30)), style: nice},
		{name: "long_multiline", in: dictOf("k", " line one\n"+long+"\n\nlast")},
		{name: "long_unicode", in: dictOf("k", strings.Repeat("é ", 60)+"é")},
		{name: "width_40", in: dictOf("text", long, "list", ints(30)), style: YAMLStyle{Width: 40}},
		{name: "width_unlimited", in: dictOf("text", long, "list", ints(60)), style: YAMLStyle{Width: -1}},
		{name: "width_too_small", in: dictOf("text", long), style: YAMLStyle{Width: 4}},
		{name: "width_tiny", in: "ab ab ab ab ab ab ab ab", style: YAMLStyle{Width: 5}},
		{name: "ints", in: []any{int64(0), int64(-1), int64(42), int64(math.MaxInt64), int64(math.MinInt64)}},
		{name: "big_ints", in: dictOf("big", big70, "neg", bigNeg, "small", big.NewInt(7))},
		{name: "floats", in: []any{1.0, 0.1, -0.0, 1e16, 1e15, 1e20, 1.5e-5, 1e-7, 0.0001, 123456789.123, math.MaxFloat64, 5e-324, 2.5e+300}},
		{name: "float_specials", in: dictOf("inf", math.Inf(1), "ninf", math.Inf(-1), "nan", math.NaN())},
		{name: "scalars_root_null", in: nil},
		{name: "scalars_root_true", in: true},
		{name: "scalars_root_int", in: int64(5)},
		{name: "scalars_root_float", in: 2.5},
		{name: "scalars_mixed", in: []any{nil, true, false, int64(1), 1.5, "s", Unsafe("{{ unsafe }}")}},
		{name: "empty_collections", in: dictOf("list", []any{}, "dict", NewDict(0), "nested_list", []any{[]any{}}, "nested_dict", []any{NewDict(0)}, "map", map[string]any{})},
		{name: "empty_root_list", in: []any{}},
		{name: "empty_root_dict", in: NewDict(0)},
		{name: "empty_nice", in: dictOf("a", []any{}, "b", NewDict(0)), style: nice},
		{name: "nested", in: dictOf("a", []any{int64(1), int64(2), dictOf("b", "x")}, "c", dictOf("d", []any{int64(1), int64(2)}), "e", []any{[]any{int64(1), int64(2)}, []any{int64(3)}})},
		{name: "nested_nice", in: dictOf("a", []any{int64(1), int64(2), dictOf("b", "x")}, "c", dictOf("d", []any{int64(1), int64(2)}), "e", []any{[]any{int64(1), int64(2)}, []any{int64(3)}}), style: nice},
		{name: "nested_lists", in: []any{[]any{int64(1), int64(2), []any{int64(3), []any{int64(4), ints(30)}}}}},
		{name: "nested_lists_nice", in: []any{[]any{int64(1), []any{int64(2), []any{"deep"}}}}, style: nice},
		{name: "indent_3_nice", in: nested(3, []any{int64(1), dictOf("e", "x")}), style: NiceYAML(3)},
		{name: "indent_9_nice", in: nested(2, []any{"x", []any{"y"}}), style: NiceYAML(9)},
		{name: "indent_12_invalid", in: nested(2, []any{"x", []any{"y"}}), style: NiceYAML(12)},
		{name: "indent_2_nice", in: nested(2, []any{"x", dictOf("y", "z")}), style: NiceYAML(2)},
		{name: "indent_5_flow_none", in: nested(2, []any{"x", []any{"y"}}), style: YAMLStyle{Indent: 5}},
		{name: "deep_past_width", in: nested(25, " padded "+long), style: nice},
		{name: "long_flow_seq", in: dictOf("k", ints(40), "m", dictOf("a", ints(30), "b", "x"))},
		{name: "long_flow_strings", in: slices.Repeat([]any{"word word word word word "}, 6)},
		{name: "long_flow_map", in: dictOf("k", dictOf("a", strings.Repeat("x", 70), "b", strings.Repeat("y", 70), "c", int64(1)))},
		{name: "flow_after_long_key", in: dictOf(strings.Repeat("a", 85), []any{int64(1), int64(2)}, strings.Repeat("b", 85), dictOf("c", int64(1)))},
		{name: "flow_style_true", in: dictOf("a", []any{int64(1), dictOf("b", []any{"c", nil})}, "d", "e"), style: YAMLStyle{FlowStyle: flowStyle(true)}},
		{name: "flow_style_true_long", in: dictOf("list", ints(25), "text", long), style: YAMLStyle{FlowStyle: flowStyle(true)}},
		{name: "flow_style_false", in: dictOf("a", []any{int64(1), []any{int64(2)}}, "b", dictOf("c", "d")), style: YAMLStyle{FlowStyle: flowStyle(false)}},
		{name: "keys_needing_quotes", in: dictOf("yes", int64(1), "a: b", int64(2), "", int64(3), " k", int64(4), "#", int64(5), "1", int64(6), "null", int64(7), "-", int64(8), "a,b", int64(9), "it's", int64(10))},
		{name: "keys_needing_quotes_flow", in: []any{dictOf("a,b", "c", "[k]", "v", "k:v", "w")}},
		{name: "key_long_128", in: dictOf(strings.Repeat("a", 128), int64(1))},
		{name: "key_long_129", in: dictOf(strings.Repeat("a", 129), []any{[]any{int64(1)}, int64(2)}, "b", []any{int64(1)})},
		{name: "key_long_129_nice", in: dictOf(strings.Repeat("a", 129), dictOf("b", []any{int64(1), dictOf("c", int64(2))})), style: nice},
		{name: "key_long_bytes", in: dictOf(strings.Repeat("é", 65), int64(1), strings.Repeat("é", 64), int64(2))},
		{name: "key_long_spaces", in: dictOf(strings.Repeat("word ", 30), "x")},
		{name: "key_long_flow", in: []any{dictOf(strings.Repeat("a", 129), int64(1))}},
		{name: "key_multiline", in: dictOf("a\nb", int64(1), "c\u0085", int64(2))},
		{name: "key_multiline_nice", in: dictOf("a\nb", []any{int64(1)}), style: nice},
		{name: "order_sorted", in: dictOf("zeta", int64(1), "alpha", int64(2), "Beta", int64(3), "é", int64(4), "_", int64(5))},
		{name: "order_kept", in: dictOf("zeta", int64(1), "alpha", dictOf("y", int64(1), "x", int64(2)), "Beta", int64(3)), style: YAMLStyle{KeepOrder: true}},
		{name: "order_kept_nice", in: dictOf("zeta", int64(1), "alpha", []any{dictOf("y", int64(1), "x", int64(2))}), style: YAMLStyle{KeepOrder: true, Indent: 4, FlowStyle: flowStyle(false)}},
		{name: "order_go_map", in: map[string]any{"b": int64(1), "a": map[string]any{"d": "x", "c": "y"}}, style: YAMLStyle{KeepOrder: true}},
		{name: "explicit_scalar", in: "abc", style: YAMLStyle{ExplicitStart: true, ExplicitEnd: true}},
		{name: "explicit_flow", in: dictOf("a", int64(1)), style: YAMLStyle{ExplicitStart: true, ExplicitEnd: true}},
		{name: "explicit_block", in: []any{int64(1)}, style: YAMLStyle{Indent: 4, FlowStyle: flowStyle(false), ExplicitStart: true}},
		{name: "explicit_end_only", in: dictOf("a", []any{[]any{}}), style: YAMLStyle{ExplicitEnd: true}},
		{name: "explicit_multiline", in: "a\nb", style: YAMLStyle{ExplicitStart: true, ExplicitEnd: true}},
		{name: "vault_in_mapping", in: dictOf("password", vault.String{Text: testVault}, "user", "admin")},
		{name: "vault_in_mapping_nice", in: dictOf("password", vault.String{Text: testVault + "\n"}), style: nice},
		{name: "vault_in_list", in: dictOf("k", []any{vault.String{Text: testVault}, "x"})},
		{name: "vault_root", in: vault.String{Text: testVault}},
		{name: "vault_keep", in: []any{vault.String{Text: testVault + "\n\n"}, int64(1)}},
		{name: "vault_flow", in: dictOf("k", vault.String{Text: testVault}), style: YAMLStyle{FlowStyle: flowStyle(true)}},
		{name: "vault_indented", in: dictOf("k", vault.String{Text: "  " + testVault}), style: nice},
		{name: "unsafe", in: dictOf("cmd", Unsafe("echo {{ x }}"), "list", []any{Unsafe("{% raw %}")})},
		{name: "anchor_shared_dict", in: []any{shared, shared}},
		{name: "anchor_order", in: []any{sharedList, shared, shared, sharedList}},
		{name: "anchor_nested", in: dictOf("z", sharedList, "m", []any{sharedList, dictOf("q", sharedList)})},
		{name: "anchor_nice", in: dictOf("old", shared, "new", shared, "list", []any{sharedList, sharedList}), style: nice},
		{name: "anchor_flow", in: dictOf("p", shared, "q", shared), style: YAMLStyle{FlowStyle: flowStyle(true)}},
		{name: "anchor_vault", in: []any{vault.String{Text: testVault}, vault.String{Text: testVault}, dictOf("k", vault.String{Text: testVault})}},
		{name: "anchor_go_map", in: dictOf("a", goMap, "b", []any{goMap})},
	}
	return cases
}

func goldenPath(name string) string {
	return filepath.Join("testdata", "yamldump", name+".golden")
}

func TestDumpYAMLGolden(t *testing.T) {
	cases := yamlCases()
	if *update {
		writeGolden(t, cases)
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(goldenPath(tt.name))
			if err != nil {
				t.Fatalf("%v (run go test -update with Ansible installed)", err)
			}
			got, err := DumpYAML(tt.in, tt.style)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("got\n%s\nwant\n%s\ndiff (-want +got):\n%s", got, want, cmp.Diff(string(want), got))
			}
		})
	}
}

// writeGolden stores what Ansible itself prints for each case: the
// golden files are the oracle's, never this package's, output.
func writeGolden(t *testing.T, cases []yamlCase) {
	t.Helper()
	results := runOracle(t, cases)
	for i, tt := range cases {
		if results[i].Err != "" {
			t.Fatalf("%s: Ansible failed: %s", tt.name, results[i].Err)
		}
		if err := os.WriteFile(goldenPath(tt.name), []byte(results[i].Out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDumpYAMLAgainstAnsible runs Ansible's filters on every table case
// and on many random values, and wants the same text from DumpYAML. It
// also catches golden files that no longer say what Ansible says.
func TestDumpYAMLAgainstAnsible(t *testing.T) {
	cases := yamlCases()
	n := 3000
	if s := os.Getenv("DROVER_YAML_RANDOM_CASES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatalf("DROVER_YAML_RANDOM_CASES: %v", err)
		}
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range n {
		cases = append(cases, yamlCase{name: fmt.Sprintf("random_%d", i), in: randomValue(rng), style: randomStyle(rng)})
	}
	results := runOracle(t, cases)
	failures := 0
	for i, tt := range cases {
		want := results[i]
		if want.Err != "" {
			t.Errorf("%s: Ansible failed: %s", tt.name, want.Err)
			continue
		}
		if golden, err := os.ReadFile(goldenPath(tt.name)); err == nil && string(golden) != want.Out {
			t.Errorf("%s: the golden file differs from Ansible's output; rerun with -update", tt.name)
		}
		got, err := DumpYAML(tt.in, tt.style)
		if err == nil && got == want.Out {
			continue
		}
		if failures++; failures <= 10 {
			t.Errorf("%s: style %+v, input %s\ngot  %q (err %v)\nwant %q", tt.name, tt.style, describe(tt.in), got, err, want.Out)
		}
	}
	if failures > 0 {
		t.Errorf("%d of %d outputs differ from Ansible's", failures, len(cases))
	}
}

func describe(v any) string {
	b, _ := json.Marshal(oracleValue(v))
	return string(b)
}

type oracleResult struct {
	Out string `json:"out"`
	Err string `json:"err"`
}

// runOracle returns Ansible's output for each case, running its filters
// under Python. Without Ansible the test is skipped, except under CI,
// where a missing oracle must not pass unnoticed.
func runOracle(t *testing.T, cases []yamlCase) []oracleResult {
	t.Helper()
	python := findOracle()
	if python == "" {
		msg := "no python3 whose Ansible dumps YAML through libyaml (set DROVER_TEST_PYTHON to one)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + ": the YAML oracle is required under CI")
		}
		t.Skip("skipping: " + msg)
	}
	type call struct {
		Call  string         `json:"call"`
		Kw    map[string]any `json:"kw"`
		Value any            `json:"value"`
	}
	calls := make([]call, len(cases))
	for i, tt := range cases {
		name, kw := oracleCall(tt.style)
		calls[i] = call{name, kw, oracleValue(tt.in)}
	}
	in, err := json.Marshal(calls)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "yamldump", "oracle.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run the oracle: %v\n%s", err, stderr.Bytes())
	}
	var results []oracleResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(cases) {
		t.Fatalf("read the oracle's output (%d results for %d cases): %v", len(results), len(cases), err)
	}
	return results
}

// oracleProbe succeeds under a Python whose Ansible writes YAML with
// libyaml's emitter, the one DumpYAML follows. Without PyYAML's C
// extension Ansible falls back to the pure-Python emitter, whose output
// differs, and that Python cannot be the oracle.
const oracleProbe = `import yaml, yaml.cyaml, ansible.plugins.filter.core
from ansible.parsing.yaml.dumper import AnsibleDumper
assert issubclass(AnsibleDumper, yaml.cyaml.CEmitter)`

// findOracle returns a Python that can be the oracle: $DROVER_TEST_PYTHON
// if set, else the one ansible itself runs under, then the system's.
func findOracle() string {
	candidates := []string{os.Getenv("DROVER_TEST_PYTHON")}
	if candidates[0] == "" {
		candidates = append(ansiblePython(), "/usr/bin/python3", "python3")
	}
	for _, c := range candidates {
		if exec.Command(c, "-c", oracleProbe).Run() == nil {
			return c
		}
	}
	return ""
}

// ansiblePython reads the interpreter from the ansible script's #! line.
func ansiblePython() []string {
	path, err := exec.LookPath("ansible")
	if err != nil {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	switch {
	case len(fields) == 0 || !strings.HasPrefix(line, "#!"):
		return nil
	case strings.HasSuffix(fields[0], "/env") && len(fields) > 1:
		return fields[1:2]
	}
	return fields[:1]
}

// oracleCall is the Python call that s stands for: to_nice_yaml for
// block style, to_yaml otherwise, and yaml.dump itself for ASCII output,
// which the filters cannot ask for.
func oracleCall(s YAMLStyle) (string, map[string]any) {
	kw := map[string]any{}
	if s.Width != 0 {
		kw["width"] = s.Width
	}
	if s.KeepOrder {
		kw["sort_keys"] = false
	}
	if s.ExplicitStart {
		kw["explicit_start"] = true
	}
	if s.ExplicitEnd {
		kw["explicit_end"] = true
	}
	if s.FlowStyle != nil && !*s.FlowStyle && !s.ASCII {
		kw["indent"] = s.Indent // to_nice_yaml's own default is 4
		return "to_nice_yaml", kw
	}
	if s.Indent != 0 {
		kw["indent"] = s.Indent
	}
	if s.FlowStyle != nil {
		kw["default_flow_style"] = *s.FlowStyle
	}
	if s.ASCII {
		kw["allow_unicode"] = false
		kw["default_flow_style"] = s.FlowStyle
		return "dump", kw
	}
	return "to_yaml", kw
}

// oracleValue tags v for oracle.py, which rebuilds the Python value.
// What DumpYAML takes for one object met twice (see [DumpYAML]) becomes
// one Python object.
func oracleValue(v any) any {
	enc := oracleEncoder{ids: map[any]int{}}
	return enc.value(v)
}

type oracleEncoder struct {
	ids map[any]int
}

func (enc *oracleEncoder) value(v any) any {
	switch x := v.(type) {
	case int64:
		return map[string]any{"i": strconv.FormatInt(x, 10)}
	case *big.Int:
		return map[string]any{"i": x.String()}
	case float64:
		return map[string]any{"f": FloatRepr(x)}
	case Unsafe:
		return map[string]any{"u": string(x)}
	case vault.String:
		return enc.shared("vault:"+x.Text, func() any { return map[string]any{"v": x.Text} })
	case []any:
		return enc.shared(containerID{reflect.ValueOf(x).Pointer(), len(x)}, func() any {
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = enc.value(e)
			}
			return out
		})
	case *Dict:
		return enc.shared(containerID{reflect.ValueOf(x).Pointer(), -1}, func() any {
			pairs := []any{}
			for k, e := range x.All() {
				pairs = append(pairs, []any{k, enc.value(e)})
			}
			return map[string]any{"d": pairs}
		})
	case map[string]any:
		return enc.shared(containerID{reflect.ValueOf(x).Pointer(), -1}, func() any {
			pairs := []any{}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				pairs = append(pairs, []any{k, enc.value(x[k])})
			}
			return map[string]any{"d": pairs}
		})
	}
	return v
}

// shared encodes an object: in full the first time, by reference after.
// Nil and empty containers have no identity, as in DumpYAML.
func (enc *oracleEncoder) shared(id any, build func() any) any {
	if c, ok := id.(containerID); ok && (c.p == 0 || c.n == 0) {
		return build()
	}
	if n, ok := enc.ids[id]; ok {
		return map[string]any{"ref": n}
	}
	n := len(enc.ids)
	enc.ids[id] = n
	return map[string]any{"def": n, "val": build()}
}

func TestDumpYAMLRoundTrip(t *testing.T) {
	for _, tt := range yamlCases() {
		t.Run(tt.name, func(t *testing.T) {
			if s := misread(tt.in); s != "" {
				t.Skipf("ParseYAML reads %q, written plain, as another type; PyYAML reads a string", s)
			}
			if err := roundTrip(tt.in, tt.style); err != nil {
				t.Error(err)
			}
		})
	}
	rng := rand.New(rand.NewPCG(2, 2))
	skipped := 0
	for i := range 2000 {
		v, s := randomValue(rng), randomStyle(rng)
		if misread(v) != "" {
			skipped++
			continue
		}
		if err := roundTrip(v, s); err != nil {
			t.Fatalf("random value %d: %v", i, err)
		}
	}
	t.Logf("%d of 2000 random values hold a string ParseYAML misreads", skipped)
}

// roundTrip dumps v and wants ParseYAML to read it back.
func roundTrip(v any, s YAMLStyle) error {
	out, err := DumpYAML(v, s)
	if err != nil {
		return fmt.Errorf("dump %s: %w", describe(v), err)
	}
	return readBack(v, s, out)
}

// readBack wants ParseYAML to read out, DumpYAML's output, as v.
func readBack(v any, s YAMLStyle, out string) error {
	back, err := ParseYAML("dump.yml", []byte(out))
	if err != nil {
		return fmt.Errorf("parse %q: %w", out, err)
	}
	want, got := canonical(v, !s.KeepOrder), canonical(back, !s.KeepOrder)
	if reflect.DeepEqual(want, got) {
		return nil
	}
	// Diff the values as indented JSON lines: cmp's own search through
	// deeply nested lists takes exponential time.
	w, _ := json.MarshalIndent(want, "", " ")
	g, _ := json.MarshalIndent(got, "", " ")
	return fmt.Errorf("%q read back differently (-dumped +read):\n%s", out, cmp.Diff(strings.Split(string(w), "\n"), strings.Split(string(g), "\n")))
}

// misread returns a string in v that ParseYAML would read, written
// plain, as something else, though PyYAML reads it as a string and so
// DumpYAML rightly leaves it unquoted. yaml.go's YAML 1.1 patterns are
// looser than PyYAML's in two corners: "._1" is a float to it and
// "2024-1-2" a date. Such values cannot make the round trip until
// yaml.go follows PyYAML; everything else must.
func misread(v any) string {
	switch x := v.(type) {
	case string:
		if p, ok := Plain11(x).(string); readsAsString(x) && (!ok || p != x) {
			return x
		}
	case Unsafe:
		return misread(string(x))
	case []any:
		for _, e := range x {
			if s := misread(e); s != "" {
				return s
			}
		}
	case *Dict:
		for k, e := range x.All() {
			if s := misread(k); s != "" {
				return s
			}
			if s := misread(e); s != "" {
				return s
			}
		}
	case map[string]any:
		return misread(DictOf(x))
	}
	return ""
}

// canonical gives a value the form two readings of it share: numbers as
// text of their type, Unsafe as a plain string, mappings as key-value
// lists, sorted when the dump sorted them.
func canonical(v any, sorted bool) any {
	switch x := v.(type) {
	case string:
		return "str:" + x
	case Unsafe:
		return "str:" + string(x)
	case int64:
		return "int:" + strconv.FormatInt(x, 10)
	case *big.Int:
		return "int:" + x.String()
	case float64:
		return "float:" + strconv.FormatFloat(x, 'g', -1, 64)
	case vault.String:
		return "vault:" + x.Text
	case []any:
		out := []any{"list"}
		for _, e := range x {
			out = append(out, canonical(e, sorted))
		}
		return out
	case map[string]any:
		return canonical(DictOf(x), sorted)
	case *Dict:
		keys := slices.Clone(x.Keys())
		if sorted {
			slices.Sort(keys)
		}
		out := []any{"dict"}
		for _, k := range keys {
			e, _ := x.Get(k)
			out = append(out, k, canonical(e, sorted))
		}
		return out
	}
	return v
}

func TestDumpYAMLErrors(t *testing.T) {
	loop := []any{nil}
	loop[0] = loop
	self := NewDict(0)
	self.Set("me", self)
	shared := []any{int64(1)}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"int", []any{1}, "value[0]: unsupported type int"},
		{"struct", dictOf("a", struct{}{}), "value.a: unsupported type struct {}"},
		{"nil big", (*big.Int)(nil), "value: nil *big.Int"},
		{"bad utf8", "a\xffb", "value: string is not UTF-8"},
		{"bad utf8 key", dictOf("\xff", int64(1)), "value: string is not UTF-8"},
		{"bad vault", vault.String{Text: "\xff"}, "vault text is not UTF-8"},
		{"list cycle", loop, "value[0]: the value contains itself"},
		{"dict cycle", self, "value.me: the value contains itself"},
		{"shared is fine", []any{shared, shared}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DumpYAML(tt.in, YAMLStyle{})
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.want == "":
			case err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrDumpYAML):
				t.Errorf("got %v, want an ErrDumpYAML with %q", err, tt.want)
			}
		})
	}
}

// Pieces random strings are made of: each trips a rule of the emitter.
var stringPieces = []string{
	"a", "word", "x", " ", "  ", "\n", "\n\n", ":", ": ", "#", " #", "-", "- ", "?", "? ", ",", "[", "]", "{", "}",
	"&", "*", "!", "|", ">", "'", "\"", "%", "@", "`", "\\", "~", "---", "...", "<<", "=", "yes", "No", "null",
	"0644", "1e3", "1.5", "1_0", "0x1F", "1:30", ".inf", ".5", "2024-01-02", "10:00:00", "é", "日本", "😀", "\t",
	"\r", "\u2028", "\u0085", "\ufeff", "\u00a0", "\x00", "\x1b", "\x7f", strings.Repeat("long", 12), "0", "+", ".",
}

func randomString(rng *rand.Rand) string {
	var b strings.Builder
	n := rng.IntN(6)
	if rng.IntN(8) == 0 {
		n = 20 + rng.IntN(40) // long enough to be broken at the width
	}
	for range n {
		b.WriteString(stringPieces[rng.IntN(len(stringPieces))])
	}
	return b.String()
}

// randomValue builds a value of random shape, now and then using a list
// or mapping it built before a second time, as a template that names one
// variable twice does.
func randomValue(rng *rand.Rand) any {
	g := randomValues{rng: rng}
	return g.value(0)
}

type randomValues struct {
	rng  *rand.Rand
	made []any // containers built so far
}

func (g *randomValues) value(depth int) any {
	limit := 11
	if depth > 4 {
		limit = 7 // only scalars and the occasional deeper list
	}
	switch g.rng.IntN(limit) {
	case 0, 1, 2:
		return randomString(g.rng)
	case 3:
		return []any{int64(g.rng.IntN(2000) - 1000), g.rng.Int64(), nil, true, false}[g.rng.IntN(5)]
	case 4:
		return []any{g.rng.Float64() * 1000, math.Float64frombits(g.rng.Uint64()), math.Inf(1), -0.0, 1e22, float64(g.rng.IntN(100))}[g.rng.IntN(6)]
	case 5:
		return vault.String{Text: []string{testVault, testVault + "\n", testVault + "\n\n", " " + testVault}[g.rng.IntN(4)]}
	case 6:
		if depth > 30 {
			return "leaf"
		}
		return g.keep([]any{g.value(depth + 1)})
	case 7:
		return g.keep(g.list(depth))
	case 8:
		if len(g.made) > 0 {
			return g.made[g.rng.IntN(len(g.made))]
		}
	}
	d := NewDict(0)
	for range g.rng.IntN(5) {
		d.Set(randomString(g.rng), g.value(depth+1))
	}
	if g.rng.IntN(10) == 0 {
		d.Set(strings.Repeat("k", 120+g.rng.IntN(20)), g.value(depth+1))
	}
	return g.keep(d)
}

func (g *randomValues) keep(v any) any {
	g.made = append(g.made, v)
	return v
}

func (g *randomValues) list(depth int) []any {
	n := g.rng.IntN(5)
	if g.rng.IntN(6) == 0 {
		n = 10 + g.rng.IntN(30)
	}
	out := make([]any, n)
	for i := range out {
		out[i] = g.value(depth + 1)
	}
	return out
}

func randomStyle(rng *rand.Rand) YAMLStyle {
	s := YAMLStyle{
		Indent:        []int{0, 2, 3, 4, 9, 1, 12}[rng.IntN(7)],
		Width:         []int{0, 0, 0, 40, 20, -1, 5, 1000}[rng.IntN(8)],
		KeepOrder:     rng.IntN(2) == 0,
		ExplicitStart: rng.IntN(4) == 0,
		ExplicitEnd:   rng.IntN(4) == 0,
		ASCII:         rng.IntN(6) == 0,
	}
	if f := rng.IntN(3); f < 2 {
		s.FlowStyle = flowStyle(f == 0)
	}
	return s
}

// fuzzValue builds a value from the fuzzer's bytes: shape chooses each
// node, text supplies the strings.
type fuzzValue struct {
	text  string
	shape []byte
	made  []any // containers built so far, to use again
}

func (f *fuzzValue) next() int {
	if len(f.shape) == 0 {
		return 0
	}
	b := f.shape[0]
	f.shape = f.shape[1:]
	return int(b)
}

func (f *fuzzValue) style() YAMLStyle {
	bits := f.next()
	s := YAMLStyle{
		Indent:        f.next() % 11,
		Width:         f.next()%120 - 10,
		KeepOrder:     bits&1 != 0,
		ExplicitStart: bits&2 != 0,
		ExplicitEnd:   bits&4 != 0,
		ASCII:         bits&8 != 0,
	}
	if b := f.next() % 3; b < 2 {
		s.FlowStyle = flowStyle(b == 0)
	}
	return s
}

// str takes the next piece of text, whole characters only, so that
// text that is UTF-8 gives strings that are.
func (f *fuzzValue) str() string {
	n := min(f.next()%48, len(f.text))
	for n < len(f.text) && !utf8.RuneStart(f.text[n]) {
		n++
	}
	s := f.text[:n]
	f.text = f.text[n:]
	return s
}

func (f *fuzzValue) value(depth int) any {
	op := f.next()
	if depth > 12 {
		op %= 6
	}
	switch op % 11 {
	case 10:
		if len(f.made) > 0 {
			return f.made[f.next()%len(f.made)]
		}
		return nil
	case 0:
		return f.str()
	case 1:
		return Unsafe(f.str())
	case 2:
		return int64(f.next()<<8|f.next()) - 1<<15
	case 3:
		return math.Float64frombits(uint64(f.next())<<56 | uint64(f.next())<<48 | uint64(f.next()))
	case 4:
		return []any{nil, true, false}[f.next()%3]
	case 5:
		return vault.String{Text: testVault + f.str()}
	case 6, 7:
		out := []any{}
		for range f.next() % 6 {
			out = append(out, f.value(depth+1))
		}
		f.made = append(f.made, out)
		return out
	}
	d := NewDict(0)
	for range f.next() % 6 {
		d.Set(f.str(), f.value(depth+1))
	}
	var v any = d
	if op%11 == 9 {
		v = d.Map() // a Go map, whose keys are always sorted
	}
	f.made = append(f.made, v)
	return v
}

func FuzzDumpYAML(f *testing.F) {
	f.Add("hello: world", []byte{0, 2, 0, 0, 8, 2, 5, 0, 6, 9, 1, 2})
	f.Add(strings.Repeat("long text ", 20), []byte{4, 4, 90, 1, 6, 3, 0, 200, 0, 90, 9, 2, 40, 0, 10})
	f.Add("é😀\n\t' \"#:-?", []byte{2, 3, 30, 0, 8, 4, 1, 0, 3, 0, 2, 7, 4, 0, 5})
	f.Add("yes\n0644\n1e3", []byte{1, 0, 0, 0, 6, 3, 0, 3, 0, 4, 0, 4})
	f.Add("\u2028a\n\nb ", []byte{0, 0, 0, 12, 6, 3, 0, 3, 0, 5, 5, 3})
	f.Fuzz(func(t *testing.T, text string, shape []byte) {
		fv := &fuzzValue{text: text, shape: shape}
		style := fv.style()
		v := fv.value(0)
		out, err := DumpYAML(v, style)
		if err != nil {
			if !errors.Is(err, ErrDumpYAML) || utf8.ValidString(text) {
				t.Fatalf("dump %s: %v", describe(v), err)
			}
			return // text that is not UTF-8 must be refused, and was
		}
		if misread(v) != "" {
			return
		}
		if err := readBack(v, style, out); err != nil {
			t.Fatal(err)
		}
	})
}
