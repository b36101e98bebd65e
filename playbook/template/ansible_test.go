package template

import (
	"bytes"
	"encoding/json"
	"flag"
	"github.com/drover/drover/playbook/value"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/expected.json from the real Ansible")

// expectation is what Ansible 2.14 gave for one expression: its value as
// sorted JSON, or that it failed.
type expectation struct {
	Expr  string `json:"expr"`
	JSON  string `json:"json,omitempty"`
	Error bool   `json:"error,omitempty"`
}

func loadVars(t testing.TB) Vars {
	t.Helper()
	data, err := os.ReadFile("testdata/vars.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := value.ParseJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	return Vars(v.(*value.Dict).Map())
}

func readExprs(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/exprs.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// runAnsible evaluates every expression with the real ansible-playbook:
// one debug task each, the value rendered as sorted JSON after a "J:"
// prefix so Ansible does not turn it back into an object.
func runAnsible(t *testing.T, exprs []string) []expectation {
	t.Helper()
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-playbook not found; CI must re-check the expectations")
		}
		t.Skip("ansible-playbook not found")
	}
	dir := t.TempDir()
	vars, _ := filepath.Abs("testdata/vars.json")
	var b strings.Builder
	b.WriteString("- hosts: localhost\n  gather_facts: false\n  vars_files: [" + vars + "]\n  tasks:\n")
	for _, e := range exprs {
		msg, _ := json.Marshal("J:{{ (" + e + ") | to_json(sort_keys=true) }}")
		b.WriteString("    - debug: {\"msg\": " + string(msg) + "}\n      ignore_errors: true\n")
	}
	play := filepath.Join(dir, "play.yml")
	os.WriteFile(play, []byte(b.String()), 0o644)
	cmd := exec.Command(bin, play)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
	out, err := cmd.Output()
	if len(out) == 0 {
		t.Fatalf("ansible-playbook: %v", err)
	}
	var res struct {
		Plays []struct {
			Tasks []struct {
				Hosts map[string]map[string]any `json:"hosts"`
			} `json:"tasks"`
		} `json:"plays"`
	}
	if err := json.Unmarshal(out[bytes.IndexByte(out, '{'):], &res); err != nil {
		t.Fatalf("ansible's JSON: %v", err)
	}
	var exps []expectation
	for i, task := range res.Plays[0].Tasks {
		r := task.Hosts["localhost"]
		msg, ok := r["msg"].(string)
		if failed, _ := r["failed"].(bool); failed || !ok || !strings.HasPrefix(msg, "J:") {
			exps = append(exps, expectation{Expr: exprs[i], Error: true})
			continue
		}
		exps = append(exps, expectation{Expr: exprs[i], JSON: strings.TrimPrefix(msg, "J:")})
	}
	return exps
}

func readExpectations(t *testing.T) []expectation {
	t.Helper()
	data, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatalf("%v (run go test -run TestAnsibleExpectations -update)", err)
	}
	var exps []expectation
	if err := json.Unmarshal(data, &exps); err != nil {
		t.Fatal(err)
	}
	return exps
}

// TestAnsibleExpectations evaluates every expression of testdata/exprs.txt
// and compares with what Ansible gave (testdata/expected.json). Where
// ansible-playbook is installed it re-checks the expectations too.
func TestAnsibleExpectations(t *testing.T) {
	exprs := readExprs(t)
	if *update {
		exps := runAnsible(t, exprs)
		data, _ := json.MarshalIndent(exps, "", "  ")
		if err := os.WriteFile("testdata/expected.json", append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	exps := readExpectations(t)
	if len(exps) != len(exprs) {
		t.Fatalf("%d expressions but %d expectations; run with -update", len(exprs), len(exps))
	}
	vars := loadVars(t)
	failures := 0
	for i, e := range exps {
		if why, ok := knownDifferences[e.Expr]; ok {
			t.Logf("known difference, %s: %s", why, e.Expr)
			continue
		}
		if e.Expr != exprs[i] {
			t.Fatalf("expectation %d is for %q, not %q; run with -update", i, e.Expr, exprs[i])
		}
		got, err := evalJSON(e.Expr, vars)
		switch {
		case e.Error && err == nil:
			t.Errorf("%s: Ansible fails, drover gives %s", e.Expr, got)
		case !e.Error && err != nil:
			t.Errorf("%s: Ansible gives %s, drover fails: %v", e.Expr, e.JSON, err)
		case !e.Error && got != e.JSON:
			t.Errorf("%s: Ansible gives %s, drover %s", e.Expr, e.JSON, got)
		default:
			continue
		}
		failures++
	}
	t.Logf("%d of %d expressions agree with Ansible", len(exps)-failures, len(exps))
}

// knownDifferences are expressions where drover does not match Ansible
// yet, and why. Each is a bug to fix, not a choice.
var knownDifferences = map[string]string{
	"10 | random(seed=1)":                "random with a seed does not follow Python's Mersenne Twister",
	"['a', 'b', 'c'] | random(seed='x')": "random with a seed does not follow Python's Mersenne Twister",
	"12345678901234567890":               "integers are 64-bit, Python's unbounded",
	"(1, 2) | union((2, 3)) | string":    "Ansible's set filters build a Python set from two hashable values such as tuples ({1, 2, 3}); drover has no set type and gives a list",
}

func evalJSON(src string, vars Vars) (string, error) {
	e, err := ParseExpr(src)
	if err != nil {
		return "", err
	}
	v, err := e.Eval(vars)
	if err != nil {
		return "", err
	}
	return pyJSONDump(v, "", ", ", ": ", true), nil
}

// TestExpectationsStillHold re-runs Ansible and requires the committed
// expectations to be what it gives today.
func TestExpectationsStillHold(t *testing.T) {
	if *update {
		t.Skip("just regenerated")
	}
	want := readExpectations(t)
	got := runAnsible(t, readExprs(t))
	for i := range want {
		if i < len(got) && got[i] != want[i] {
			t.Errorf("Ansible now gives %+v for %q; committed %+v", got[i], want[i].Expr, want[i])
		}
	}
}
