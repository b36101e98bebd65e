package playbook

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/vault"
)

func TestLoadErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"- hosts: all\n  tasks:\n    - copyy: src=a dest=b\n", "p.yml:3:7: unknown module or task keyword \"copyy\"; did you mean copy?"},
		{"- hosts: all\n  tsks: []\n", "p.yml:2:3: unknown play keyword \"tsks\"; did you mean tasks?"},
		{"- hosts: all\n  tasks:\n    - block:\n        - debug: msg=a\n      rescu: []\n", "p.yml:5:7: unknown block keyword \"rescu\"; did you mean rescue?"},
		{"- hosts: all\n  tasks:\n    - name: only a name\n", "p.yml:3:7: the task has no module"},
		{"- hosts: all\n  tasks:\n    - debug: msg=a\n      args: [1]\n", "args: must be a mapping"},
		{"- hosts: all\n  tasks: {a: 1}\n", "p.yml:2:10: a task list must be a list of tasks, not a mapping"},
		{"- hosts: all\n  tasks:\n    - action: {msg: x}\n", "action: needs module: name"},
		{"- hosts: all\n  tasks:\n    - local_action: nosuch x=1\n", "unknown module \"nosuch\""},
		{"- hosts: all\n  tasks:\n    - meta: flush_handler\n", "p.yml:3:13: unknown meta action \"flush_handler\"; did you mean flush_handlers?"},
		{"- hosts: all\n  tasks:\n    - meta: restart_everything\n", "unknown meta action \"restart_everything\"; use one of flush_handlers, noop"},
		{"- hosts: all\n  handlers:\n    - name: h\n      meta: flush_handlers\n", "p.yml:4:13: flush_handlers cannot be used as a handler"},
		{"- hosts: all\n  roles: [web]\n", "roles: are not supported yet"},
		{"- import_playbook: other.yml\n  become: true\n", "p.yml:2:3: import_playbook does not take become"},
		{"- 5\n", "each play must be a mapping"},
	}
	for _, tt := range tests {
		_, err := Parse("p.yml", []byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}

func TestLoadTasks(t *testing.T) {
	src := `- hosts: web
  tasks:
    - name: free form
      command: ls -l chdir=/tmp
    - ansible.builtin.copy:
        src: a
        dest: /b
      args:
        mode: "0644"
    - action: shell echo hi
    - local_action:
        module: debug
        msg: here
    - block:
        - debug: msg=in
      rescue:
        - debug: msg=r
      when: x
  handlers:
    - name: h
      debug: msg=h
      listen: topic
`
	pb, err := Parse("p.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tasks := pb.Plays[0].Tasks
	if tasks[0].Module != "command" || tasks[0].Args["_raw_params"] != "ls -l" || tasks[0].Args["chdir"] != "/tmp" {
		t.Errorf("free form: %+v", tasks[0])
	}
	if tasks[1].Module != "ansible.builtin.copy" || tasks[1].Args["mode"] != "0644" || tasks[1].Args["dest"] != "/b" || tasks[1].Pos.Line != 5 {
		t.Errorf("args merge: %+v", tasks[1])
	}
	if tasks[2].Module != "shell" || tasks[2].Args["_raw_params"] != "echo hi" {
		t.Errorf("action: %+v", tasks[2])
	}
	if tasks[3].Module != "debug" || tasks[3].Keywords["delegate_to"].Value != "localhost" {
		t.Errorf("local_action: %+v", tasks[3])
	}
	if !tasks[4].IsBlock || len(tasks[4].Block) != 1 || len(tasks[4].Rescue) != 1 {
		t.Errorf("block: %+v", tasks[4])
	}
	if h := pb.Plays[0].Handlers[0]; !h.IsHandler || h.Keywords["listen"].Value != "topic" {
		t.Errorf("handler: %+v", h)
	}
}

// FuzzParse: any input parses or fails with errors that each name the
// file and a line, never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"- hosts: all\n  tasks:\n    - debug: msg=a\n", "- hosts: x\n  tasks:\n    - block:\n        - command: ls\n      rescue: []\n",
		"- hosts: a\n  vars: {x: 1}\n  handlers:\n    - name: h\n      shell: x\n      listen: [a]\n", "- hosts: a\n  tasks:\n    - action: {module: copy, src: a}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.Contains(src, "import_playbook") {
			return // would read other files
		}
		_, err := Parse("fuzz.yml", []byte(src))
		if err == nil {
			return
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "fuzz.yml") {
				t.Errorf("error line without the file: %q", line)
			}
		}
	})
}

// TestStepAndWaiting: --step asks before each task, and a slow task
// reports whom it waits for.
func TestStepAndWaiting(t *testing.T) {
	pb, err := Parse("p.yml", []byte("- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: one\n      debug: msg=1\n    - name: slow\n      pause: seconds=2\n    - name: three\n      debug: msg=3\n"))
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	rec := &recorder{}
	r := &Runner{Reporter: rec, Step: func(_ context.Context, task string) (bool, bool) {
		asked = append(asked, task)
		return task != "one", task == "slow"
	}}
	if _, err := r.RunPlaybook(t.Context(), pb, PlayOptions{Inventory: inventory.New()}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(asked, ",") != "one,slow" {
		t.Errorf("asked %v, want one then slow (then continue)", asked)
	}
	var ran, waited []string
	for _, e := range rec.events {
		switch e.Kind {
		case KindResult:
			ran = append(ran, e.Task)
		case KindWaiting:
			waited = append(waited, strings.Join(e.Waiting, ","))
		}
	}
	if strings.Join(ran, ",") != "slow,three" || len(waited) == 0 || waited[0] != "localhost" {
		t.Errorf("ran %v, waiting events %v", ran, waited)
	}
}

type recorder struct{ events []Event }

func (r *recorder) Report(e Event) { r.events = append(r.events, e) }

// TestStrategyFree: under strategy free a slow host does not hold the
// others back, handlers run per host, and nothing races (go test -race).
func TestStrategyFree(t *testing.T) {
	inv, err := inventory.ParseHostList("h1,h2,h3,")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range inv.Hosts() {
		h.Vars["ansible_connection"] = "local"
	}
	pb, err := Parse("p.yml", []byte(`- hosts: all
  gather_facts: false
  strategy: free
  tasks:
    - pause: seconds=1
      when: inventory_hostname == 'h1'
    - set_fact: seen="{{ ansible_play_hosts | length }}"
    - debug: msg="{{ hostvars['h2'].seen | default('not yet') }}"
      changed_when: true
      notify: h
    - block:
        - fail: msg=boom
          when: inventory_hostname == 'h3'
      rescue:
        - debug: msg=rescued
  handlers:
    - name: h
      debug: msg=handled
`))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	r := &Runner{Reporter: rec}
	stats, err := r.RunPlaybook(t.Context(), pb, PlayOptions{Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range rec.events {
		if e.Kind == KindResult {
			order = append(order, e.Host+":"+e.Task)
		}
	}
	done := func(s string) int { return slices.Index(order, s) }
	if done("h2:debug") < 0 || done("h1:pause") < 0 || done("h2:debug") > done("h1:pause") {
		t.Errorf("h2 waited for h1's pause: %v", order)
	}
	for _, h := range []string{"h1", "h2", "h3"} {
		if done(h+":h") < 0 {
			t.Errorf("%s ran no handler: %v", h, order)
		}
	}
	if s := stats.Hosts["h3"]; s == nil || s.Rescued != 1 || s.Failed != 0 {
		t.Errorf("h3 stats %+v", s)
	}
}

// TestVaultVariables: a !vault value in the play's vars reads as its
// plaintext in templates, and without a password the task says so.
func TestVaultVariables(t *testing.T) {
	secret, err := vault.NewSecret("", []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	keys := vault.NewKeyring(secret)
	enc, err := keys.Encrypt([]byte("s3cret {{ 1 + 1 }}"))
	if err != nil {
		t.Fatal(err)
	}
	indented := "      " + strings.ReplaceAll(strings.TrimSpace(string(enc)), "\n", "\n      ")
	src := "- hosts: localhost\n  gather_facts: false\n  vars:\n    pw: !vault |\n" + indented + "\n  tasks:\n    - debug: msg=\"{{ pw }}\"\n"
	pb, err := Parse("p.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		keys *vault.Keyring
		want string
	}{{keys, "s3cret 2"}, {nil, "no vault password was given"}} {
		rec := &recorder{}
		r := &Runner{Reporter: rec, Vault: tt.keys}
		if _, err := r.RunPlaybook(t.Context(), pb, PlayOptions{Inventory: inventory.New()}); err != nil {
			t.Fatal(err)
		}
		var got string
		for _, e := range rec.events {
			if e.Kind == KindResult {
				got = fmt.Sprint(e.Result.Data["msg"])
			}
		}
		if !strings.Contains(got, tt.want) {
			t.Errorf("msg %q, want %q", got, tt.want)
		}
	}
}
