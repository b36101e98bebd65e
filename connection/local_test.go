package connection_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover/drover/connection"
)

func TestLocalExec(t *testing.T) {
	l := connection.NewLocal(nil)
	var out, stderr bytes.Buffer
	err := l.Exec(t.Context(), &connection.Cmd{
		Line: "cat; echo \"$X\"; echo e >&2; exit 4", Stdin: strings.NewReader("in\n"),
		Env: map[string]string{"X": "a b'c"}, Stdout: &out, Stderr: &stderr,
	})
	var exit *connection.ExitError
	if !errors.As(err, &exit) || exit.Status != 4 {
		t.Fatalf("err = %v, want exit status 4", err)
	}
	if out.String() != "in\na b'c\n" || stderr.String() != "e\n" {
		t.Errorf("stdout %q, stderr %q", out.String(), stderr.String())
	}
}

func TestLocalPutGet(t *testing.T) {
	l := connection.NewLocal(nil)
	dir := t.TempDir()
	dst := filepath.Join(dir, "f")
	if err := l.Put(t.Context(), dst, strings.NewReader("hello"), connection.PutOptions{Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dst)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stat: %v, %v", fi, err)
	}
	var got bytes.Buffer
	if err := l.Get(t.Context(), dst, &got); err != nil || got.String() != "hello" {
		t.Fatalf("Get: %q, %v", got.String(), err)
	}
	if err := l.Put(t.Context(), filepath.Join(dir, "g"), errReader{}, connection.PutOptions{}); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed Put, want 1", len(entries))
	}
}

func TestLocalBecome(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("local become needs root here (sudo without a password)")
	}
	l := connection.NewLocal(nil)
	var out bytes.Buffer
	if err := l.Exec(t.Context(), &connection.Cmd{Line: "id -u", Stdout: &out, Become: &connection.Become{}}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "0\n" {
		t.Errorf("id -u = %q", out.String())
	}
	dst := filepath.Join(t.TempDir(), "owned")
	if err := l.Put(t.Context(), dst, strings.NewReader("x"), connection.PutOptions{Mode: 0o640, Owner: "nobody", Become: &connection.Become{}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("stat: %v %v", fi, err)
	}
}
