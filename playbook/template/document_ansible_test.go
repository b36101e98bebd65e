package template

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplatesMatchAnsible renders testdata/templates/*.j2 with the real
// ansible template module and with drover, and requires the same bytes.
func TestTemplatesMatchAnsible(t *testing.T) {
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-playbook not found")
		}
		t.Skip("ansible-playbook not found")
	}
	files, _ := filepath.Glob("testdata/templates/*.j2")
	out := t.TempDir()
	vars, _ := filepath.Abs("testdata/vars.json")
	var play strings.Builder
	play.WriteString("- hosts: localhost\n  gather_facts: false\n  vars_files: [" + vars + "]\n  tasks:\n")
	for _, f := range files {
		abs, _ := filepath.Abs(f)
		play.WriteString("    - template: {src: " + abs + ", dest: " + filepath.Join(out, filepath.Base(f)) + "}\n")
	}
	pb := filepath.Join(t.TempDir(), "play.yml")
	os.WriteFile(pb, []byte(play.String()), 0o644)
	cmd := exec.Command(bin, pb)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false", "ANSIBLE_NOCOLOR=1")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, msg)
	}
	scope := loadVars(t)
	for _, f := range files {
		src, _ := os.ReadFile(f)
		want, err := os.ReadFile(filepath.Join(out, filepath.Base(f)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseDocument(f, string(src))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		got, err := d.Render(scope)
		if err != nil || got != string(want) {
			t.Errorf("%s (%v):\n--- ansible\n%q\n--- drover\n%q", f, err, want, got)
		}
	}
}
