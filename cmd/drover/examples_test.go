package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestExamples runs what examples/ documents: local.yml for real, twice
// (the second run changes nothing), compared with ansible-playbook;
// site.yml's hosts and tasks listed as ansible-playbook lists them; the
// dynamic inventory script graphed as ansible-inventory graphs it.
func TestExamples(t *testing.T) {
	isolate(t)
	examples, _ := filepath.Abs("../../examples")
	ansible := func(name string, args ...string) string {
		t.Helper()
		bin, err := exec.LookPath(name)
		if err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s not found", name)
			}
			t.Skipf("%s not found", name)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false", "ANSIBLE_NOCOLOR=1")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return string(out)
	}
	times := regexp.MustCompile(`"(delta|start|end)": "[^"]*"`)
	local := filepath.Join(examples, "local.yml")
	for _, run := range []string{"first", "second"} {
		a, d := t.TempDir(), t.TempDir()
		if run == "second" { // both directories exist already: nothing to change
			ansible("ansible-playbook", local, "-e", "workdir="+a)
			drover(t, "play", local, "-e", "workdir="+d)
		}
		want := ansible("ansible-playbook", local, "-e", "workdir="+a)
		code, got, errOut := drover(t, "play", local, "-e", "workdir="+d)
		want = times.ReplaceAllString(regexp.MustCompile(regexp.QuoteMeta(a)).ReplaceAllString(want, "WORKDIR"), "T")
		got = times.ReplaceAllString(regexp.MustCompile(regexp.QuoteMeta(d)).ReplaceAllString(got, "WORKDIR"), "T")
		if code != 0 || got != want {
			t.Errorf("%s run of local.yml (exit %d, %s):\n--- ansible\n%s--- drover\n%s", run, code, errOut, want, got)
		}
	}
	inv := filepath.Join(examples, "inventory.ini")
	site := filepath.Join(examples, "site.yml")
	for _, args := range [][]string{{"--list-hosts"}, {"--list-tasks"}, {"--syntax-check"}} {
		all := append(append([]string{}, args...), "-i", inv, site)
		want := sortHostLines(ansible("ansible-playbook", all...))
		code, got, errOut := drover(t, append([]string{"play"}, all...)...)
		if got = sortHostLines(got); code != 0 || got != want {
			t.Errorf("site.yml %v (exit %d, %s):\n--- ansible\n%s--- drover\n%s", args, code, errOut, want, got)
		}
	}
	script := filepath.Join(examples, "inventory.py")
	want := ansible("ansible-inventory", "-i", script, "--graph", "--vars")
	if code, got, errOut := drover(t, "inventory", "-i", script, "--graph", "--vars"); code != 0 || got != want {
		t.Errorf("inventory.py --graph (exit %d, %s):\n--- ansible\n%s--- drover\n%s", code, errOut, want, got)
	}
}

// sortHostLines sorts each "hosts (N):" list: ansible-playbook prints a
// Python set there, in an order that changes from run to run.
func sortHostLines(out string) string {
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), "hosts (") {
			continue
		}
		j := i + 1
		for j < len(lines) && strings.HasPrefix(lines[j], "      ") {
			j++
		}
		slices.Sort(lines[i+1 : j])
		i = j - 1
	}
	return strings.Join(lines, "\n")
}
