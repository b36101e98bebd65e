package connection

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestBecomeWrap(t *testing.T) {
	tests := []struct {
		name       string
		b          Become
		wantPrefix string
		wantPrompt bool
		wantPTY    bool
	}{
		{"sudo default", Become{}, "sudo -H -S -n -u root /bin/sh -c ", false, false},
		{"sudo password", Become{Password: "pw", User: "app"}, "sudo -H -S -p '[sudo via drover, key=", true, false},
		{"su", Become{Method: "su", User: "app"}, "su app -c ", false, true},
		{"exe and flags", Become{Exe: "/usr/bin/sudo", Flags: "-E"}, "/usr/bin/sudo -E -u root ", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.b.wrap("id -u")
			if !strings.HasPrefix(w.line, tt.wantPrefix) {
				t.Errorf("line = %q, want prefix %q", w.line, tt.wantPrefix)
			}
			if (w.prompt != "") != tt.wantPrompt || w.pty != tt.wantPTY {
				t.Errorf("prompt = %q, pty = %v", w.prompt, w.pty)
			}
			if strings.Contains(w.line, "pw") && tt.b.Password != "" {
				t.Errorf("password leaked into the command line: %q", w.line)
			}
			if !strings.Contains(w.line, w.success) {
				t.Errorf("success marker missing from %q", w.line)
			}
		})
	}
}

func TestBecomeIO(t *testing.T) {
	w := (&Become{Password: "secret"}).wrap("true")
	var out, errOut bytes.Buffer
	aborted := make(chan struct{})
	b := newBecomeIO(w, "secret", &out, &errOut, func() { close(aborted) })
	stdinR, stdinW := io.Pipe()
	done := make(chan struct{})
	go b.feed(stdinW, strings.NewReader("user input"), done)

	// The prompt arrives split across writes.
	b.errWriter().Write([]byte(w.prompt[:5]))
	b.errWriter().Write([]byte(w.prompt[5:]))
	line := make([]byte, len("secret\n"))
	if _, err := io.ReadFull(stdinR, line); err != nil || string(line) != "secret\n" {
		t.Fatalf("stdin got %q, %v; want the password line", line, err)
	}
	b.errWriter().Write([]byte("warning\n"))
	b.outWriter().Write([]byte(w.success + "\nhello\n"))
	rest, _ := io.ReadAll(stdinR)
	if string(rest) != "user input" {
		t.Errorf("stdin after start = %q, want the user's input", rest)
	}
	if err := b.finish(nil); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if out.String() != "hello\n" || errOut.String() != "warning\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	close(done)
}

func TestBecomeIOWrongPassword(t *testing.T) {
	w := (&Become{Password: "bad"}).wrap("true")
	aborted := make(chan struct{})
	b := newBecomeIO(w, "bad", nil, nil, func() { close(aborted) })
	b.errWriter().Write([]byte(w.prompt))
	<-b.promptCh
	b.errWriter().Write([]byte("Sorry, try again.\n" + w.prompt))
	<-aborted
	err := b.finish(&ExitError{Status: 1})
	if !errors.Is(err, ErrBecome) || !strings.Contains(err.Error(), "incorrect become password") {
		t.Fatalf("err = %v, want incorrect become password", err)
	}
	if strings.Contains(err.Error(), "bad") && !strings.Contains(err.Error(), "incorrect") {
		t.Fatalf("password in error: %v", err)
	}
}

func TestBecomeReason(t *testing.T) {
	tests := []struct{ out, want string }{
		{"sudo: a password is required\n", "sudo asked for a password"},
		{"su: Authentication failure", "incorrect become password"},
		{"alice is not in the sudoers file.  This incident will be reported.\n", "alice is not in the sudoers file"},
		{"", "printed nothing"},
	}
	for _, tt := range tests {
		if got := becomeReason(tt.out); !strings.Contains(got, tt.want) {
			t.Errorf("becomeReason(%q) = %q, want it to contain %q", tt.out, got, tt.want)
		}
	}
}

func TestCRLFWriter(t *testing.T) {
	var b bytes.Buffer
	w := &crlfWriter{w: &b}
	for _, p := range []string{"a\r", "\nb\r\n", "c\rd\r"} {
		w.Write([]byte(p))
	}
	if got := b.String(); got != "a\nb\nc\rd" {
		t.Errorf("got %q", got)
	}
}
