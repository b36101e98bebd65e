package template

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookups(t *testing.T) {
	t.Setenv("DROVER_TEST_ENV", "from-env")
	f := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(f, []byte("file content\n\n"), 0o644)
	vars := Vars{"f": f, "x": int64(1)}
	tests := []struct {
		expr string
		want any
	}{
		{"lookup('env', 'DROVER_TEST_ENV')", "from-env"},
		{"lookup('env', 'DROVER_NOPE_ENV', default='d')", "d"},
		{"lookup('file', f)", "file content"},
		{"lookup('pipe', 'echo hi')", "hi"},
		{"lookup('vars', 'x')", int64(1)},
		{"query('env', 'DROVER_TEST_ENV')", []any{"from-env"}},
		{"q('pipe', 'echo a', 'echo b')", []any{"a", "b"}},
		{"lookup('pipe', 'echo a', 'echo b')", "a,b"},
		{"lookup('ansible.builtin.env', 'DROVER_TEST_ENV', wantlist=true)", []any{"from-env"}},
	}
	for _, tt := range tests {
		e, err := ParseExpr(tt.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Eval(vars)
		if err != nil || !equal(got, tt.want) {
			t.Errorf("%s = %#v, %v; want %#v", tt.expr, got, err, tt.want)
		}
	}
	e, _ := ParseExpr("lookup('fiel', 'x')")
	if _, err := e.Eval(vars); err == nil || !strings.Contains(err.Error(), "did you mean 'file'") {
		t.Errorf("unknown lookup: %v", err)
	}
}

// TestLookupTemplateMatchesAnsible renders every testdata template through
// lookup('template') with the real Ansible and with drover.
func TestLookupTemplateMatchesAnsible(t *testing.T) {
	files, _ := filepath.Glob("testdata/templates/*.j2")
	var exprs []string
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		exprs = append(exprs, "lookup('template', '"+abs+"')")
	}
	exprs = append(exprs, "lookup('template', '"+mustAbs("testdata/templates/partials/loop.inc")+"', template_vars={'x': 'tv'})")
	want := runAnsible(t, exprs)
	vars := loadVars(t)
	for i, e := range exprs {
		got, err := evalJSON(e, vars)
		if want[i].Error || err != nil || got != want[i].JSON {
			t.Errorf("%s:\n ansible %s (failed %v)\n drover  %s (%v)", e, want[i].JSON, want[i].Error, got, err)
		}
	}
}

func mustAbs(p string) string {
	abs, _ := filepath.Abs(p)
	return abs
}
