package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebugMatchesAnsible runs the same ad hoc debug commands through the
// real ansible and through drover and requires the same output.
func TestDebugMatchesAnsible(t *testing.T) {
	isolate(t)
	bin, err := exec.LookPath("ansible")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible not found")
		}
		t.Skip("ansible not found")
	}
	dir := t.TempDir()
	vars := filepath.Join(dir, "vars.yml")
	os.WriteFile(vars, []byte("port: 8080\nflag: yes\nnames: [web1, web2]\nconf: {a: 1, b: [x, y]}\nordered: {zz: 1, aa: {y: 2, b: 1}, mm: '<&>'}\nraw: !unsafe '{{ not_templated }}'\n"), 0o644)
	cases := [][]string{
		{"-e", "x=5 y=[1,2]", "-a", "msg={{ x }}-{{ y }}"},
		{"-e", `{"l": [1, 2], "d": {"k": true}}`, "-a", "msg={{ l }}"},
		{"-e", "@" + vars, "-a", "msg={{ port + 1 }}"},
		{"-e", "@" + vars, "-a", "msg={{ flag }}"},
		{"-e", "@" + vars, "-a", "msg={{ names | join(',') }}"},
		{"-e", "@" + vars, "-a", "msg={{ conf.b }}"},
		{"-e", "@" + vars, "-a", "var=conf"},
		{"-e", "@" + vars, "-a", "var=names"},
		{"-a", "var=inventory_hostname"},
		{"-a", "var=nope"},
		{"-a", "msg={{ 'abc' | length }}"},
		{"-a", "msg={{ [1, 2] | map('string') | list }}"},
		{"-a", "msg={{ 7 / 2 }}"},
		{"-a", "msg={{ 'a' if true else 'b' }}"},
		{"-a", "msg='{{ \"x\" ~ 1 }}'"},
		{"-a", "msg='{% for i in [1, 2] %}<{{ i }}>{% endfor %}'"},
		{"-e", "@" + vars, "-a", "msg='{% if flag %}on{% else %}off{% endif %}'"},
		{"-e", `{"none": null}`, "-a", `msg="x{{ none }}y{{ [none] }}"`},
		{"-e", `{"none": null}`, "-a", `msg="{{ none }}"`},
		{"-e", "@" + vars, "-a", "msg={{ ordered }}"},
		{"-e", "@" + vars, "-a", "msg='{{ ordered | to_json }} {{ ordered.keys() | list }}'"},
		{"-e", "@" + vars, "-a", "msg='{% for k, v in ordered.items() %}{{ k }}={{ v }};{% endfor %}'"},
		{"-e", "@" + vars, "-a", "var=ordered"},
		{"-e", "@" + vars, "-a", "msg={{ raw }}"},
		{"-e", "@" + vars, "-a", "msg={{ port }}"},
		{"-e", "@" + vars, "-a", "msg={{port}}"},
		{"-e", "@" + vars, "-a", "var=port"},
		{"-e", "@" + vars, "-a", "var=conf.a"},
		{},
	}
	for _, c := range cases {
		args := append([]string{"localhost", "-m", "debug"}, c...)
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_NOCOLOR=1", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible %s: %v", strings.Join(args, " "), err)
		}
		code, got, errOut := drover(t, append([]string{"exec"}, args...)...)
		if code != 0 || got != string(want) {
			t.Errorf("drover exec %s (exit %d, %s):\n--- ansible\n%s--- drover\n%s", strings.Join(args, " "), code, errOut, want, got)
		}
	}
}
