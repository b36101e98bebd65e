package tasks_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/tasks"
	"github.com/google/go-cmp/cmp"
)

// countingConn counts the commands and uploads a module makes.
type countingConn struct {
	connection.Conn
	execs, puts int
}

func (c *countingConn) Exec(ctx context.Context, cmd *connection.Cmd) error {
	c.execs++
	return c.Conn.Exec(ctx, cmd)
}

func (c *countingConn) Put(ctx context.Context, dst string, src io.Reader, opts connection.PutOptions) error {
	c.puts++
	return c.Conn.Put(ctx, dst, src, opts)
}

func runModule(t *testing.T, env *tasks.Env, module, text string) *tasks.Result {
	t.Helper()
	m, ok := tasks.Lookup(module)
	if !ok {
		t.Fatalf("no module %s", module)
	}
	args, err := tasks.ParseArgs(module, text)
	if err != nil {
		t.Fatalf("ParseArgs(%q): %v", text, err)
	}
	r, err := m.Run(t.Context(), env, args)
	if err != nil {
		t.Fatalf("%s %s: %v", module, text, err)
	}
	return r
}

func localEnv() *tasks.Env {
	return &tasks.Env{Host: "localhost", Conn: connection.NewLocal(nil)}
}

func TestCommandModules(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DROVER_MOD_T", "x y")
	tests := []struct {
		module, args string
		wantOut      string
		wantRC       int
		wantChanged  bool
	}{
		// $VARS expand as Ansible's command module expands them (unset ones stay), but no shell runs: ; is a word
		{"command", `echo 'a  b' "$DROVER_MOD_T" $DROVER_MOD_UNSET ; x`, "a  b x y $DROVER_MOD_UNSET ; x", 0, true},
		{"command", "printf '%s\\n' hi chdir=" + dir, "hi", 0, true},
		{"command", "pwd chdir=" + dir, dir, 0, true},
		{"shell", "echo $((1+2)) | tr 3 4", "4", 0, true},
		{"shell", "exit 3", "", 3, true},
		{"raw", "echo raw; echo err >&2", "raw\n", 0, true},
		{"command", "echo never creates=" + dir, "skipped, since " + dir + " exists", 0, false},
		{"command", "echo ran removes=" + dir, "ran", 0, true},
		{"command", "echo never removes=" + dir + "/nope", "skipped, since " + dir + "/nope does not exist", 0, false},
		{"command", "cat stdin=hello", "hello", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.module+" "+tt.args, func(t *testing.T) {
			r := runModule(t, localEnv(), tt.module, tt.args)
			if r.Stdout != tt.wantOut || r.RC == nil || *r.RC != tt.wantRC || r.Changed != tt.wantChanged {
				t.Errorf("got stdout %q rc %v changed %v; want %q %d %v", r.Stdout, r.RC, r.Changed, tt.wantOut, tt.wantRC, tt.wantChanged)
			}
			if r.Failed != (tt.wantRC != 0) {
				t.Errorf("failed = %v with rc %d", r.Failed, tt.wantRC)
			}
		})
	}
}

func TestCommandResultMap(t *testing.T) {
	r := runModule(t, localEnv(), "command", "echo hi")
	m := r.Map()
	for _, k := range []string{"changed", "cmd", "delta", "end", "rc", "start", "stderr", "stderr_lines", "stdout", "stdout_lines"} {
		if _, ok := m[k]; !ok {
			t.Errorf("result lacks %q: %v", k, m)
		}
	}
	if diff := cmp.Diff([]any{"echo", "hi"}, m["cmd"]); diff != "" {
		t.Errorf("cmd: %s", diff)
	}
}

func TestCheckMode(t *testing.T) {
	env := localEnv()
	env.Check = true
	dir := t.TempDir()
	r := runModule(t, env, "command", "touch "+dir+"/x")
	if !r.Skipped || r.Changed {
		t.Errorf("command in check mode: %+v", r)
	}
	r = runModule(t, env, "copy", "content=x dest="+dir+"/y")
	if !r.Changed {
		t.Errorf("copy in check mode reports no change")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("check mode changed the directory: %v", entries)
	}
}

func TestPing(t *testing.T) {
	r := runModule(t, localEnv(), "ping", "")
	if r.Changed || r.Failed || r.Data["ping"] != "pong" {
		t.Errorf("ping: %+v", r)
	}
	if r := runModule(t, localEnv(), "ping", "data=crash"); !r.Failed {
		t.Errorf("ping data=crash did not fail")
	}
}

func TestCopyIdempotent(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "hi")
	cc := &countingConn{Conn: connection.NewLocal(nil)}
	env := &tasks.Env{Host: "localhost", Conn: cc}
	args := `content="hi\n" dest=` + dest + " mode=0640"
	r := runModule(t, env, "copy", args)
	if !r.Changed || r.Data["checksum"] != "55ca6286e3e4f4fba5d0448333fa99fc5a404a73" || r.Data["mode"] != "0640" {
		t.Fatalf("first copy: %+v", r)
	}
	if got, _ := os.ReadFile(dest); string(got) != "hi\n" {
		t.Fatalf("file holds %q", got)
	}
	execs := cc.execs
	r = runModule(t, env, "copy", args)
	if r.Changed || cc.execs != execs+1 {
		t.Fatalf("second copy: changed=%v, %d commands; want unchanged after one question", r.Changed, cc.execs-execs)
	}
	// Only the mode differs: a chmod, no upload.
	r = runModule(t, env, "copy", `content="hi\n" mode=u=rw,g=,o= dest=`+dest)
	if fi, _ := os.Stat(dest); !r.Changed || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode change: changed=%v mode=%v", r.Changed, fi.Mode())
	}
}

func TestCopySrc(t *testing.T) {
	src := filepath.Join(t.TempDir(), "app.conf")
	os.WriteFile(src, []byte("key=value\n"), 0o600)
	dir := t.TempDir()
	r := runModule(t, localEnv(), "copy", "src="+src+" dest="+dir)
	if !r.Changed || r.Data["dest"] != filepath.Join(dir, "app.conf") {
		t.Fatalf("copy into directory: %+v", r)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "app.conf")); string(got) != "key=value\n" {
		t.Errorf("file holds %q", got)
	}
	r = runModule(t, localEnv(), "copy", "content=x dest="+dir+"/missing/file")
	if !r.Failed || !strings.Contains(r.Msg, "does not exist") {
		t.Errorf("missing parent: %+v", r)
	}
}

func TestModuleArgErrors(t *testing.T) {
	tests := []struct{ module, args, want string }{
		{"copy", "content=x", "dest: missing required argument"},
		{"copy", "dest=/x", "give src"},
		{"copy", "content=x src=/y dest=/x", "not both"},
		{"copy", "content=x dest=/x mod=0644", "did you mean mode"},
		{"copy", "content=x dest=/x mode=abc", "neither an octal mode"},
		{"command", "", "no command given"},
		{"ping", "data=x foo=1", "foo"},
		{"copy", "src=/nonexistent/file dest=/tmp/x", "cannot read /nonexistent/file"},
	}
	for _, tt := range tests {
		m, _ := tasks.Lookup(tt.module)
		args, err := tasks.ParseArgs(tt.module, tt.args)
		if err == nil {
			_, err = m.Run(t.Context(), localEnv(), args)
		}
		var argErr *tasks.ArgError
		if !errors.As(err, &argErr) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %s: err = %v, want ArgError with %q", tt.module, tt.args, err, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"command", "ansible.builtin.shell", "ansible.legacy.copy"} {
		if _, ok := tasks.Lookup(name); !ok {
			t.Errorf("Lookup(%q) found nothing", name)
		}
	}
	if _, ok := tasks.Lookup("nope"); ok {
		t.Error("Lookup(nope) found a module")
	}
}
