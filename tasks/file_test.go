package tasks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
	"github.com/drover/drover/tasks"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// TestMain removes the sshd harness's test users and sudo rules when the
// tests end. The package's tests share it; keep exactly one.
func TestMain(m *testing.M) { os.Exit(sshtest.Main(m)) }

// fileCase is one scenario of the cross-check: a directory built by setup,
// then tasks run in order on it.
type fileCase struct {
	name  string
	setup string // shell commands run in the case's directory
	tasks []fileTask
}

// fileTask is one file task. args is a YAML flow mapping, as a playbook
// writes it (so mode: 0644 is the integer 420); @ stands for the case's
// directory.
type fileTask struct {
	args        string
	check, diff bool
	looseMsg    bool // drover words this argument error its own way
}

func ft(args string) fileTask { return fileTask{args: args} }

func checked(args string) fileTask { return fileTask{args: args, check: true} }

func diffed(args string) fileTask { return fileTask{args: args, diff: true} }

var fileCases = []fileCase{
	{"file mode int, twice", "echo hi > f; chmod 644 f", []fileTask{ft("{path: '@/f', mode: 0600}"), ft("{path: '@/f', mode: 0600}")}},
	{"file mode string and decimal text", "echo hi > f; chmod 600 f", []fileTask{ft("{path: '@/f', mode: '0640'}"), ft("{path: '@/f', mode: '640'}"), ft("{path: '@/f', state: file, mode: 0o644}")}},
	{"file missing", "", []fileTask{ft("{path: '@/nope'}"), ft("{path: '@/nope', state: file}")}},
	{"file through a link", "echo hi > f; chmod 644 f; ln -s f l", []fileTask{ft("{path: '@/l', state: file, mode: 0600}"), ft("{path: '@/l', state: file, follow: false}")}},
	{"directory nested with mode", "", []fileTask{ft("{path: '@/a/b/c', state: directory, mode: 0750}"), ft("{path: '@/a/b/c', state: directory, mode: 0750}")}},
	{"directory default mode", "", []fileTask{ft("{path: '@/d', state: directory}"), ft("{dest: '@/d', state: directory}")}},
	{"directory symbolic mode", "mkdir d; chmod 755 d", []fileTask{ft("{name: '@/d', state: directory, mode: 'u=rwx,g=rx,o='}"), ft("{path: '@/d', state: directory, mode: 'u=rwx,g=rx,o='}")}},
	{"directory over a file", "touch f", []fileTask{ft("{path: '@/f', state: directory}")}},
	{"directory recurse symbolic", "mkdir -p d/s/t; touch d/a d/s/b; chmod 755 d/a; chmod 600 d/s/b",
		[]fileTask{ft("{path: '@/d', state: directory, recurse: true, mode: 'u=rwX,g=rX,o='}"), ft("{path: '@/d', state: directory, recurse: true, mode: 'u=rwX,g=rX,o='}")}},
	{"directory recurse octal and owner", "mkdir -p d/s; touch d/a d/s/b",
		[]fileTask{ft("{path: '@/d', state: directory, recurse: true, mode: 0700, owner: nobody, group: '65534'}"), ft("{path: '@/d', state: directory, recurse: true, mode: 0700, owner: nobody, group: '65534'}")}},
	{"directory recurse follows links", "mkdir d; echo x > t; chmod 644 t; ln -s ../t d/l; ln -s nowhere d/dangling",
		[]fileTask{ft("{path: '@/d', recurse: true, mode: 0600}"), ft("{path: '@/d', state: directory, recurse: true, mode: 0600}")}},
	{"directory recurse no follow", "mkdir d; echo x > t; chmod 644 t; ln -s ../t d/l",
		[]fileTask{ft("{path: '@/d', state: directory, recurse: true, follow: false, mode: 0640}")}},
	{"recurse on a file", "touch f", []fileTask{ft("{path: '@/f', recurse: true, mode: 0600}")}},
	{"touch new, existing, mode", "echo hi > f", []fileTask{ft("{path: '@/t', state: touch}"), ft("{path: '@/f', state: touch}"), ft("{path: '@/t', state: touch, mode: 0640}")}},
	{"touch missing parent", "", []fileTask{ft("{path: '@/no/t', state: touch}")}},
	{"absent file and missing", "echo hi > f", []fileTask{ft("{path: '@/f', state: absent}"), ft("{path: '@/f', state: absent}")}},
	{"absent tree", "mkdir -p d/s; touch d/a d/s/b", []fileTask{diffed("{path: '@/d', state: absent}")}},
	{"absent link keeps target", "touch f; ln -s f l", []fileTask{ft("{path: '@/l', state: absent}")}},
	{"link create, twice", "echo hi > f", []fileTask{ft("{src: f, dest: '@/l', state: link}"), ft("{src: f, dest: '@/l', state: link}")}},
	{"link retarget", "touch a b; ln -s a l", []fileTask{ft("{src: b, path: '@/l', state: link}")}},
	{"link over file", "touch f g", []fileTask{ft("{src: g, path: '@/f', state: link}"), ft("{src: g, path: '@/f', state: link, force: true}")}},
	{"link to missing src", "", []fileTask{ft("{src: nowhere, path: '@/l', state: link}"), ft("{src: nowhere, path: '@/l', state: link, force: yes}")}},
	{"link over directories", "mkdir e n; touch n/x f", []fileTask{ft("{src: f, path: '@/e', state: link, force: true}"), ft("{src: f, path: '@/n', state: link, force: true}"), ft("{src: f, path: '@/n', state: link}")}},
	{"link existing without src", "touch f; ln -s f l", []fileTask{ft("{path: '@/l'}"), ft("{path: '@/l', state: link}")}},
	{"link follow sets target mode", "touch f; chmod 644 f", []fileTask{ft("{src: f, path: '@/l', state: link, mode: 0600}")}},
	{"hard create, twice", "echo hi > f", []fileTask{ft("{src: '@/f', dest: '@/h', state: hard}"), ft("{src: '@/f', dest: '@/h', state: hard}")}},
	{"hard over file", "echo hi > f; echo ho > g", []fileTask{ft("{src: '@/f', path: '@/g', state: hard}"), ft("{src: '@/f', path: '@/g', state: hard, force: true}")}},
	{"hard missing src and into directory", "echo hi > f; mkdir d", []fileTask{ft("{src: '@/nope', path: '@/h', state: hard}"), ft("{src: '@/f', path: '@/d', state: hard}")}},
	{"check mode", "echo hi > f; chmod 644 f; mkdir e",
		[]fileTask{checked("{path: '@/new/dir', state: directory}"), checked("{path: '@/f', mode: 0600}"), checked("{path: '@/f', state: absent}"),
			checked("{path: '@/t', state: touch}"), checked("{path: '@/f', state: touch}"), checked("{src: f, path: '@/l', state: link}"),
			checked("{path: '@/e', state: directory, recurse: true, mode: 0700}")}},
	{"diff mode", "echo hi > f; chmod 644 f", []fileTask{diffed("{path: '@/d/e', state: directory, mode: 0700}"), diffed("{path: '@/f', mode: 'go-r'}"), diffed("{path: '@/f', owner: nobody}")}},
	{"symbolic modes", "touch f; chmod 640 f; mkdir d; chmod 700 d",
		[]fileTask{ft("{path: '@/f', mode: 'a+x'}"), ft("{path: '@/f', mode: 'u-x,g+w-r'}"), ft("{path: '@/f', mode: '=r'}"), ft("{path: '@/f', mode: 'g=u,o=g'}"),
			ft("{path: '@/d', mode: 'o+t,g+s'}"), ft("{path: '@/d', mode: 'u=rw-x+X,go=X'}"), ft("{path: '@/f', mode: 'u+s,+w'}")}},
	{"owner and group", "touch f", []fileTask{ft("{path: '@/f', owner: nobody, group: nogroup}"), ft("{path: '@/f', owner: '65534', group: '65534'}"), ft("{path: '@/f', owner: root, group: '0'}")}},
	{"unknown owner and group", "touch f", []fileTask{ft("{path: '@/f', owner: no-such-user-x}"), ft("{path: '@/f', group: no-such-group-x}")}},
	{"quoting in paths", "mkdir \"it's a dir\"; touch 'it'\"'\"'s a dir/f \\$x'",
		[]fileTask{ft(`{path: "@/it's a dir/f \\$x", mode: 0600}`), ft(`{path: "@/it's a dir/n;ew $(echo)", state: directory}`), ft(`{path: "@/it's a dir", state: absent}`)}},
	{"hard link counts", "echo hi > f; ln f g", []fileTask{ft("{path: '@/g', mode: 0600}"), ft("{path: '@/g', state: file}"), ft("{src: '@/f', path: '@/g', state: hard}")}},
	{"directory through links", "mkdir real; ln -s real l; ln -s gone dl",
		[]fileTask{ft("{path: '@/l', state: directory, mode: 0700}"), ft("{path: '@/l', state: directory, follow: false}"), ft("{path: '@/dl', state: directory}")}},
	{"setgid parent", "mkdir p; chgrp 65534 p; chmod 2775 p",
		[]fileTask{ft("{path: '@/p/a/b', state: directory}"), ft("{path: '@/p/t', state: touch}"), ft("{path: '@/p/c/d', state: directory, mode: 0750}"), ft("{path: '@/p/e/f', state: directory, mode: 'g-s'}")}},
	{"trailing slash", "", []fileTask{ft("{path: '@/d/', state: directory}"), ft("{path: '@/d/', state: directory, mode: 0700}")}},
	{"retarget a link to a directory", "mkdir a b; ln -s a l", []fileTask{ft("{src: b, path: '@/l', state: link}"), ft("{src: '@/b', path: '@/l', state: link}")}},
	{"relative link in a subdirectory", "mkdir s; echo x > f", []fileTask{ft("{src: ../f, path: '@/s/l', state: link}"), ft("{src: f, path: '@/s/l2', state: link}")}},
	{"touch through a link", "touch f; chmod 600 f; ln -s f l", []fileTask{ft("{path: '@/l', state: touch, mode: 0640}"), ft("{path: '@/l', state: touch, follow: false}")}},
	{"modification time now", "touch f", []fileTask{ft("{path: '@/f', modification_time: now}"), ft("{path: '@/f', access_time: preserve, modification_time: preserve}")}},
	{"check and diff for absent tree", "mkdir -p d/a/b d/c; touch d/a/x d/c/y d/z; ln -s a d/la",
		[]fileTask{{args: "{path: '@/d', state: absent}", check: true, diff: true}, checked("{path: '@/d/z', state: link, src: '@/d/c', force: true}")}},
	{"recurse owner through links", "mkdir d e; touch e/t d/f; ln -s ../e d/le",
		[]fileTask{ft("{path: '@/d', state: directory, recurse: true, owner: '65534'}"), ft("{path: '@/d', state: directory, recurse: true, owner: '65534'}")}},
	{"recurse check mode with links", "mkdir d; touch d/f; ln -s f d/l", []fileTask{checked("{path: '@/d', state: directory, recurse: true, mode: 0644}")}},
	{"link follow false with owner", "touch f; ln -s f l", []fileTask{ft("{src: f, path: '@/l', state: link, follow: false, owner: '65534'}"), ft("{src: f, path: '@/l', state: link, follow: false, mode: 0600}")}},
	{"check mode replacing and linking", "touch f g; chmod 600 g",
		[]fileTask{checked("{src: g, path: '@/f', state: link, force: true, mode: 0640}"), checked("{src: '@/g', path: '@/h', state: hard}"), checked("{src: '@/g', path: '@/f', state: hard, force: true}")}},
	{"recurse into linked directories", "mkdir -p d e/s; touch e/x e/s/y; ln -s ../e d/le; chmod 755 e e/s",
		[]fileTask{ft("{path: '@/d', state: directory, recurse: true, mode: 'go-rx'}"), ft("{path: '@/d', state: directory, recurse: true, mode: 'go-rx'}")}},
	{"argument errors", "touch f", []fileTask{ft("{path: '@/f', src: '@/f'}"), {args: "{path: '@/f', state: foo}"}, ft("{path: '@/f', mode: 'u=rz'}"), {args: "{state: touch}", looseMsg: true}}},
}

// fileOutcome is what the cross-check compares for one task.
type fileOutcome map[string]any

func TestFileMatchesAnsible(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("cross-check with ansible-playbook skipped under -short")
	}
	playbook, err := exec.LookPath("ansible-playbook")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("ansible-playbook is required under CI=true: %v", err)
		}
		t.Skipf("ansible-playbook not installed: %v", err)
	}
	root := t.TempDir()
	adirs, ddirs := make([]string, len(fileCases)), make([]string, len(fileCases))
	var play strings.Builder
	play.WriteString("- hosts: localhost\n  gather_facts: false\n  tasks:\n")
	for i, c := range fileCases {
		adirs[i], ddirs[i] = filepath.Join(root, "ansible", fmt.Sprint(i)), filepath.Join(root, "drover", fmt.Sprint(i))
		for _, d := range []string{adirs[i], ddirs[i]} {
			mustShell(t, d, c.setup)
		}
		for j, task := range c.tasks {
			fmt.Fprintf(&play, "    - name: %q\n      file: %s\n      ignore_errors: true\n      check_mode: %v\n      diff: %v\n",
				fmt.Sprintf("%d/%d", i, j), strings.ReplaceAll(task.args, "@", adirs[i]), task.check, task.diff)
		}
	}
	pbPath := filepath.Join(root, "cross.yml")
	if err := os.WriteFile(pbPath, []byte(play.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ansible := runAnsible(t, playbook, pbPath)
	k := 0
	var table []string
	for i, c := range fileCases {
		for j, task := range c.tasks {
			if k >= len(ansible) {
				t.Fatalf("ansible reported %d results, want more", len(ansible))
			}
			want := normalizeOutcome(ansible[k], adirs[i], task)
			got := normalizeOutcome(droverFile(t, task, ddirs[i]), ddirs[i], task)
			if w, g := want["msg"], got["msg"]; w != nil && g != nil && strings.Contains(fmt.Sprint(g), fmt.Sprint(w)) {
				got["msg"] = w // drover's ArgError puts the argument's name in front
			}
			k++
			label := fmt.Sprintf("%s #%d %s", c.name, j+1, task.args)
			table = append(table, fmt.Sprintf("%-40s | %s | %s", fmt.Sprintf("%s #%d", c.name, j+1), summary(want), summary(got)))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: result differs (-ansible +drover):\n%s", label, diff)
			}
		}
		if diff := cmp.Diff(snapshot(t, adirs[i]), snapshot(t, ddirs[i])); diff != "" {
			t.Errorf("%s: files on disk differ (-ansible +drover):\n%s", c.name, diff)
		}
	}
	t.Logf("case | ansible | drover\n%s", strings.Join(table, "\n"))
}

func summary(o fileOutcome) string {
	return fmt.Sprintf("changed=%-5v failed=%-5v state=%-9v mode=%v", o["changed"], o["failed"] == true, orDash(o["state"]), orDash(o["mode"]))
}

func orDash(v any) any {
	if v == nil {
		return "-"
	}
	return v
}

func mustShell(t *testing.T, dir, script string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup %q: %v: %s", script, err, out)
	}
}

// runAnsible runs the playbook on localhost and returns each task's result.
func runAnsible(t *testing.T, playbook, path string) []fileOutcome {
	t.Helper()
	cmd := exec.Command(playbook, "-i", "localhost,", "-c", "local", path)
	cmd.Env = append(os.Environ(), "ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_LOCALHOST_WARNING=false",
		"ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=false", "ANSIBLE_PYTHON_INTERPRETER=auto_silent")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ansible-playbook: %v\n%s\n%s", err, stderr.String(), stdout.String())
	}
	var report struct {
		Plays []struct {
			Tasks []struct {
				Hosts map[string]fileOutcome `json:"hosts"`
			} `json:"tasks"`
		} `json:"plays"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("ansible-playbook output: %v\n%s", err, stdout.String())
	}
	var out []fileOutcome
	for _, task := range report.Plays[0].Tasks {
		out = append(out, task.Hosts["localhost"])
	}
	return out
}

// droverFile runs one task with drover's module on a local connection and
// returns its result as Ansible's JSON would show it.
func droverFile(t *testing.T, task fileTask, dir string) fileOutcome {
	t.Helper()
	var args tasks.Args
	if err := yaml.Unmarshal([]byte(strings.ReplaceAll(task.args, "@", dir)), &args); err != nil {
		t.Fatalf("args %s: %v", task.args, err)
	}
	m, _ := tasks.Lookup("file")
	env := &tasks.Env{Host: "localhost", Conn: connection.NewLocal(nil), Check: task.check, Diff: task.diff}
	r, err := m.Run(t.Context(), env, args)
	if err != nil {
		return fileOutcome{"changed": false, "failed": true, "msg": err.Error()}
	}
	b, err := json.Marshal(r.Map())
	if err != nil {
		t.Fatal(err)
	}
	var o fileOutcome
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if d, ok := r.Data["diff"]; ok {
		// Map shows the rendered diff; the registered value is the dict.
		b, _ := json.Marshal(d)
		var v any
		_ = json.Unmarshal(b, &v)
		o["diff"] = v
	}
	return o
}

// compared are the result keys the cross-check looks at.
var compared = []string{"changed", "failed", "state", "mode", "path", "dest", "src", "owner", "group", "uid", "gid", "size", "msg", "diff"}

func normalizeOutcome(o fileOutcome, dir string, task fileTask) fileOutcome {
	n := fileOutcome{}
	for _, k := range compared {
		v, ok := o[k]
		if !ok {
			continue
		}
		switch k {
		case "failed":
			if v != true {
				continue
			}
		case "msg":
			if task.looseMsg {
				v = "(an argument error)"
			}
		case "diff":
			v = dropTimes(v)
		}
		n[k] = replaceDir(v, dir)
	}
	if n["failed"] == true {
		delete(n, "diff")
	}
	if src, ok := o["src"].(string); ok && n["state"] == "link" {
		// A link's size is the length of its target, which names dir.
		n["size"] = n["size"].(float64) - float64(strings.Count(src, dir)*(len(dir)-1))
	}
	return n
}

// dropTimes removes atime and mtime, which depend on the clock.
func dropTimes(v any) any {
	d, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for _, side := range []string{"before", "after"} {
		if m, ok := d[side].(map[string]any); ok {
			delete(m, "atime")
			delete(m, "mtime")
		}
	}
	return d
}

func replaceDir(v any, dir string) any {
	switch x := v.(type) {
	case string:
		return strings.ReplaceAll(x, dir, "@")
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = replaceDir(e, dir)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = replaceDir(e, dir)
		}
		return out
	}
	return v
}

// snapshot describes every entry below dir: type, mode, owner, link
// target and content; not times.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %v %04o uid=%d gid=%d", rel, fi.Mode().Type(), st.Mode&0o7777, st.Uid, st.Gid)
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + strings.ReplaceAll(target, dir, "@")
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			line += fmt.Sprintf(" links=%d %q", st.Nlink, b)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// sshConn starts an sshd and logs in to it as user.
func sshConn(t *testing.T, user string) connection.Conn {
	t.Helper()
	s := sshtest.Start(t, sshtest.Options{})
	key, _ := sshtest.ClientKey(t)
	pool, err := connection.NewPool(connection.Config{HomeDir: t.TempDir(), KnownHostsFiles: []string{s.WriteKnownHosts(t)},
		HostKeyPolicy: connection.HostKeyStrict})
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(func() { pool.Close() })
	c, err := pool.Conn(t.Context(), connection.Target{Name: "target", Host: s.Host, Port: s.Port, User: user, KeyFiles: []string{key}})
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	return c
}

// remoteTemp makes a directory on the host through c, removed at the end.
func remoteTemp(t *testing.T, c connection.Conn, become *connection.Become) string {
	t.Helper()
	var out, stderr bytes.Buffer
	if err := c.Exec(t.Context(), &connection.Cmd{Line: "mktemp -d /tmp/drover-file.XXXXXX", Stdout: &out, Stderr: &stderr, Become: become}); err != nil {
		t.Fatalf("mktemp: %v: %s", err, stderr.String())
	}
	dir := strings.TrimSpace(out.String())
	t.Cleanup(func() {
		_ = c.Exec(context.WithoutCancel(t.Context()), &connection.Cmd{Line: "rm -rf " + connection.Quote(dir), Become: become})
	})
	return dir
}

// fileStep is one task of an SSH scenario and what it must report.
type fileStep struct {
	args        string // k=v arguments; @ is the scenario's directory
	changed     bool
	failed      bool
	state, mode string
}

// runFileSteps runs steps in order through env and checks each result, and
// that the module asks once and changes with at most one more command.
func runFileSteps(t *testing.T, env *tasks.Env, dir string, steps []fileStep) {
	t.Helper()
	cc := &countingConn{Conn: env.Conn}
	env.Conn = cc
	for _, s := range steps {
		args := strings.ReplaceAll(s.args, "@", dir)
		before := cc.execs
		r := runModule(t, env, "file", args)
		n := cc.execs - before
		if r.Changed != s.changed || r.Failed != s.failed || orEmpty(r.Data["state"]) != s.state || orEmpty(r.Data["mode"]) != s.mode {
			t.Errorf("file %s: changed=%v failed=%v state=%v mode=%v msg=%q; want %v %v %q %q",
				args, r.Changed, r.Failed, r.Data["state"], r.Data["mode"], r.Msg, s.changed, s.failed, s.state, s.mode)
		}
		if want := 1 + btoi(s.changed && !env.Check); n != want && !(s.failed && n <= 2) {
			t.Errorf("file %s: %d commands, want %d (one question, then one change)", args, n, want)
		}
		if cc.puts != 0 {
			t.Errorf("file %s uploaded a file", args)
		}
	}
}

func orEmpty(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestFileOverSSH(t *testing.T) {
	users := sshtest.TestUsers(t)
	c := sshConn(t, users.Login)
	dir := remoteTemp(t, c, nil)
	env := &tasks.Env{Host: "target", Conn: c}
	runFileSteps(t, env, dir, []fileStep{
		{args: "path=@/a/b state=directory mode=0750", changed: true, state: "directory", mode: "0750"},
		{args: "path=@/a/b state=directory mode=0750", state: "directory", mode: "0750"},
		{args: "path=@/a/b/t state=touch mode=u=rw,g=r,o=", changed: true, state: "file", mode: "0640"},
		{args: "path=@/a/b/t mode=0640", state: "file", mode: "0640"},
		{args: "src=b/t dest=@/a/l state=link", changed: true, state: "link", mode: "0777"},
		{args: "src=b/t dest=@/a/l state=link", state: "link", mode: "0777"},
		{args: "src=@/a/b/t dest=@/a/h state=hard", changed: true, state: "hard", mode: "0640"},
		{args: "path=@/a state=directory recurse=yes mode=u=rwX,go=", changed: true, state: "directory", mode: "0700"},
		{args: "path=@/a state=directory recurse=yes mode=u=rwX,go=", state: "directory", mode: "0700"},
		{args: "path=@/missing", failed: true, state: "absent"},
		{args: "path=@/a state=absent", changed: true, state: "absent"},
		{args: "path=@/a state=absent", state: "absent"},
	})
	if _, err := os.Lstat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("%s/a still exists: %v", dir, err)
	}

	// Check mode asks and reports, and changes nothing.
	env.Check = true
	runFileSteps(t, env, dir, []fileStep{
		{args: "path=@/c state=directory", changed: true},
		{args: "path=@/c state=touch", changed: true},
		{args: "path=@ mode=0755", changed: true, state: "directory", mode: "0700"},
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("check mode changed %s: %v", dir, entries)
	}
}

func TestFileBecomeOverSSH(t *testing.T) {
	sshtest.RequireRoot(t)
	users := sshtest.TestUsers(t)
	plain, err := user.Lookup(users.Plain)
	if err != nil {
		t.Fatal(err)
	}
	for _, login := range []struct{ user, password string }{{users.Login, ""}, {users.SudoPass, users.SudoPassword}} {
		t.Run(login.user, func(t *testing.T) {
			c := sshConn(t, login.user)
			become := &connection.Become{Password: login.password}
			dir := remoteTemp(t, c, become) // root's, 0700: the login user cannot even look
			env := &tasks.Env{Host: "target", Conn: c, Become: become}
			runFileSteps(t, env, dir, []fileStep{
				{args: "path=@/etc/app state=directory owner=" + users.Plain + " group=root mode=0750", changed: true, state: "directory", mode: "0750"},
				{args: "path=@/etc/app state=directory owner=" + users.Plain + " group=root mode=0750", state: "directory", mode: "0750"},
				{args: "path=@/etc/app/conf state=touch owner=" + users.Plain + " mode=0600", changed: true, state: "file", mode: "0600"},
			})
			owners(t, dir, plain.Uid, "etc", "etc/app", "etc/app/conf") // parents get the owner too
			runFileSteps(t, env, dir, []fileStep{
				{args: "path=@/etc state=directory recurse=yes owner=root group=0", changed: true, state: "directory", mode: "0750"},
				{args: "path=@/etc state=directory recurse=yes owner=root group=0", state: "directory", mode: "0750"},
			})
			owners(t, dir, "0", "etc", "etc/app", "etc/app/conf")
			// Without become the same task cannot even look at the path.
			r, err := m(t).Run(t.Context(), &tasks.Env{Host: "target", Conn: c}, tasks.Args{"path": dir + "/etc", "state": "absent"})
			if err == nil && !r.Failed && r.Changed {
				t.Errorf("absent without become removed a root-only path: %+v", r)
			}
		})
	}
	t.Run("su", func(t *testing.T) {
		c := sshConn(t, users.Login)
		root := &connection.Become{}
		dir := remoteTemp(t, c, root)
		runFileSteps(t, &tasks.Env{Host: "target", Conn: c, Become: root}, dir, []fileStep{
			{args: "path=@/shared state=directory owner=" + users.Plain + " mode=0755", changed: true, state: "directory", mode: "0755"},
			{args: "path=@ mode=0755", changed: true, state: "directory", mode: "0755"},
		})
		su := &connection.Become{Method: "su", User: users.Plain, Password: users.PlainPassword}
		runFileSteps(t, &tasks.Env{Host: "target", Conn: c, Become: su}, dir, []fileStep{
			{args: "path=@/shared/mine state=touch", changed: true, state: "file", mode: "0644"},
			{args: "src=mine path=@/shared/link state=link", changed: true, state: "link", mode: "0777"},
		})
		owners(t, dir, plain.Uid, "shared/mine", "shared/link")
	})
}

// owners checks that each path below dir (not followed) belongs to uid.
func owners(t *testing.T, dir, uid string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(fi.Sys().(*syscall.Stat_t).Uid); got != uid {
			t.Errorf("%s is owned by uid %s, want %s", p, got, uid)
		}
	}
}

func m(t *testing.T) tasks.Module {
	t.Helper()
	mod, ok := tasks.Lookup("file")
	if !ok {
		t.Fatal("no file module")
	}
	return mod
}

// TestFilePermissionErrors checks that failures of the change commands are
// worded as Ansible words the failing system call (these messages were
// taken from ansible-core 2.14 run as an unprivileged user).
func TestFilePermissionErrors(t *testing.T) {
	users := sshtest.TestUsers(t)
	if os.Geteuid() == 0 && !users.Root {
		t.Skip("the login user is root: nothing is denied")
	}
	c := sshConn(t, users.Login)
	env := &tasks.Env{Host: "target", Conn: c}
	tests := []struct{ args, msg string }{
		{"path=/root/nope/x state=directory", "There was an issue creating /root/nope as requested: [Errno 13] Permission denied: b'/root/nope'"},
		{"path=/root/t state=touch", "Error, could not touch target: [Errno 13] Permission denied: b'/root/t'"},
		{"path=/etc/hostname owner=nobody", "chown failed: [Errno 1] Operation not permitted: b'/etc/hostname'"},
		{"path=/etc/hostname state=absent", "unlinking failed: [Errno 13] Permission denied: b'/etc/hostname' "},
		{"src=/etc/hostname path=/etc/zz state=link", "Error while linking: [Errno 13] Permission denied: b'/etc/hostname' -> b'/etc/zz'"},
	}
	for _, tt := range tests {
		r := runModule(t, env, "file", tt.args)
		if !r.Failed || r.Changed || r.Msg != tt.msg {
			t.Errorf("file %s: failed=%v changed=%v msg=%q; want failed with %q", tt.args, r.Failed, r.Changed, r.Msg, tt.msg)
		}
	}
}

func TestFileArgErrors(t *testing.T) {
	tests := []struct{ args, want string }{
		{"state=touch", "path: missing required argument"},
		{"path=/x state=foo", "value of state must be one of: absent, directory, file, hard, link, touch, got: foo"},
		{"path=/x stat=file", "did you mean state?"},
		{"path=/x modification_time=202401011200.00", "only now and preserve are supported"},
		{"path=/x attributes=+i", "not supported yet"},
		{"path=/x recurse=maybe", "not a boolean"},
		{`{"path": "/x", "mode": ["0644"]}`, "want an octal or symbolic mode"},
		{`{"path": "/x", "mode": 6.5}`, "not a file mode"},
	}
	for _, tt := range tests {
		args, err := tasks.ParseArgs("file", tt.args)
		if err == nil {
			_, err = m(t).Run(t.Context(), localEnv(), args)
		}
		var argErr *tasks.ArgError
		if !errors.As(err, &argErr) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("file %s: err = %v, want an ArgError with %q", tt.args, err, tt.want)
		}
	}
}

// TestFileDiff checks the rendered diff --diff shows, and that the
// registered value keeps Ansible's before/after dict.
func TestFileDiff(t *testing.T) {
	dir := t.TempDir()
	env := localEnv()
	env.Diff = true
	r := runModule(t, env, "file", "path="+dir+"/d state=directory mode=0700")
	want := tasks.Diff{
		Before: "{\n    \"mode\": \"0755\",\n    \"path\": \"" + dir + "/d\",\n    \"state\": \"absent\"\n}\n",
		After:  "{\n    \"mode\": \"0700\",\n    \"path\": \"" + dir + "/d\",\n    \"state\": \"directory\"\n}\n",
	}
	if len(r.Diff) != 1 || r.Diff[0] != want {
		t.Errorf("diff = %#v, want %#v", r.Diff, want)
	}
	reg := map[string]any{
		"before": map[string]any{"path": dir + "/d", "state": "absent", "mode": "0755"},
		"after":  map[string]any{"path": dir + "/d", "state": "directory", "mode": "0700"},
	}
	if d := cmp.Diff(reg, r.Data["diff"]); d != "" {
		t.Errorf("registered diff (-want +got):\n%s", d)
	}
	// Unchanged: nothing to show.
	if r := runModule(t, env, "file", "path="+dir+"/d state=directory mode=0700"); r.Changed || len(r.Diff) != 0 {
		t.Errorf("second run: changed=%v diff=%v", r.Changed, r.Diff)
	}
}

// TestFileHome expands ~ with the host's HOME, which takes a second look
// for the parents mkdir -p may create.
func TestFileHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cc := &countingConn{Conn: connection.NewLocal(nil)}
	env := &tasks.Env{Host: "localhost", Conn: cc}
	r := runModule(t, env, "file", "path=~/a/b state=directory")
	if !r.Changed || r.Data["path"] != home+"/a/b" || cc.execs != 3 {
		t.Errorf("~/a/b: changed=%v path=%v after %d commands", r.Changed, r.Data["path"], cc.execs)
	}
	if fi, err := os.Stat(home + "/a/b"); err != nil || !fi.IsDir() {
		t.Errorf("~/a/b was not created: %v", err)
	}
	runModule(t, env, "file", "path=~/a/b/f state=touch")
	r = runModule(t, env, "file", "src=~/a/b/f path=~/l state=link")
	if target, _ := os.Readlink(home + "/l"); !r.Changed || target != home+"/a/b/f" || r.Data["dest"] != home+"/l" {
		t.Errorf("link to ~/a/b/f: changed=%v dest=%v target=%q", r.Changed, r.Data["dest"], target)
	}
}
