package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func writePlaybook(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "play.yml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlayExitCodes: ansible-playbook's exit codes and one clear line per
// problem, with file:line:col.
func TestPlayExitCodes(t *testing.T) {
	isolate(t)
	tests := []struct {
		name, play string
		code       int
		stderr     string
	}{
		{"ok", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n", 0, ""},
		{"failed host", "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: 'false'\n", 2, ""},
		{"unknown module", "- hosts: localhost\n  tasks:\n    - debugg: msg=hi\n", 4, "play.yml:3:7: unknown module or task keyword \"debugg\"; did you mean debug?"},
		{"unknown key", "- hosts: localhost\n  tasks:\n    - debug: msg=hi\n      whenn: x\n", 4, "play.yml:4:7: unknown task keyword \"whenn\"; did you mean when?"},
		{"bad yaml", "- hosts: localhost\n  tasks: [\n", 4, "play.yml:"},
		{"no hosts", "- tasks: []\n", 4, "play.yml:1:3: the play has no hosts:"},
		{"not a list", "hosts: all\n", 4, "a playbook must be a list of plays"},
		{"two modules", "- hosts: localhost\n  tasks:\n    - debug: msg=a\n      command: ls\n", 4, "play.yml:4:7: conflicting action statements: debug, command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := drover(t, "play", writePlaybook(t, tt.play))
			if code != tt.code || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d with %q\n%s", code, errOut, tt.code, tt.stderr, out)
			}
			if strings.Contains(errOut, "goroutine ") || strings.Contains(errOut, "panic") {
				t.Errorf("stderr has a Go trace: %s", errOut)
			}
		})
	}
	code, _, errOut := drover(t, "play", filepath.Join(t.TempDir(), "missing.yml"))
	if code != 4 || !strings.Contains(errOut, "missing.yml: no such file or directory") {
		t.Errorf("missing playbook: exit %d, %q", code, errOut)
	}
	code, _, errOut = drover(t, "play", "--output", "xml", writePlaybook(t, "- hosts: localhost\n  tasks: []\n"))
	if code != 5 || !strings.Contains(errOut, "--output \"xml\"") {
		t.Errorf("bad option: exit %d, %q", code, errOut)
	}
}

// TestPlayJSONOutput: one JSON event per line, from playbook_start to the
// recap, with task positions.
func TestPlayJSONOutput(t *testing.T) {
	isolate(t)
	p := writePlaybook(t, "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: echo hi\n    - debug: msg={{ item }}\n      loop: [1, 2]\n")
	code, out, errOut := drover(t, "play", "--output", "json", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var kinds []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		kinds = append(kinds, e["event"].(string))
		if e["event"] == "task_result" && e["module"] == "command" {
			if e["status"] != "changed" || !strings.HasSuffix(e["path"].(string), "play.yml:4:7") {
				t.Errorf("command result: %v", e)
			}
		}
	}
	want := "playbook_start play_start task_start task_result task_start item_result item_result task_result recap"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("events %s, want %s", got, want)
	}
}

// TestPlayListingsMatchAnsible compares --list-hosts, --list-tasks,
// --list-tags and --syntax-check with ansible-playbook's.
func TestPlayListingsMatchAnsible(t *testing.T) {
	isolate(t)
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ansible-playbook not found")
		}
		t.Skip("ansible-playbook not found")
	}
	dir := t.TempDir()
	play := "- name: first\n  hosts: localhost\n  gather_facts: false\n  tags: [p]\n  tasks:\n    - debug: msg=a\n      tags: [x, a]\n    - block:\n        - command: echo\n          tags: b\n      tags: [blk]\n    - debug: msg=never\n      tags: never\n- hosts: all:localhost\n  tasks:\n    - name: named\n      debug: msg=b\n"
	os.WriteFile(filepath.Join(dir, "site.yml"), []byte(play), 0o644)
	for _, args := range [][]string{{"--list-hosts"}, {"--list-tasks"}, {"--list-tasks", "-t", "b"}, {"--list-tasks", "--skip-tags", "x"}, {"--list-tags"}, {"--syntax-check"}} {
		cmd := exec.Command(bin, append(args, "site.yml")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ANSIBLE_HOME="+t.TempDir(), "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("ansible-playbook %v: %v", args, err)
		}
		wd, _ := os.Getwd()
		os.Chdir(dir)
		code, got, errOut := drover(t, append([]string{"play"}, append(args, "site.yml")...)...)
		os.Chdir(wd)
		if code != 0 || got != string(want) {
			t.Errorf("play %v (exit %d, %s):\n--- ansible\n%s--- drover\n%s", args, code, errOut, want, got)
		}
	}
}
