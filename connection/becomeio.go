package connection

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
)

// becomeIO sits between a become-wrapped process and the caller's streams.
// Until the success marker appears it holds the output back, answers the
// password prompt once, and fails fast on a second prompt (a wrong password);
// afterwards it passes output through untouched.
type becomeIO struct {
	w        wrapped
	password string
	stdout   io.Writer
	stderr   io.Writer
	abort    func() // stops the process; called at most once

	mu        sync.Mutex
	started   bool
	startedCh chan struct{}
	promptCh  chan struct{}
	outBuf    []byte
	errBuf    []byte
	prompts   int
	failure   string
	aborted   bool
}

// suPrompt matches su's localised password prompt at the end of its output.
var suPrompt = regexp.MustCompile(`(?i)(pass|mot de passe|contrase|senha|パスワード|密码)[^\n]*[:：]\s*$`)

func newBecomeIO(w wrapped, password string, stdout, stderr io.Writer, abort func()) *becomeIO {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if w.pty {
		stdout = &crlfWriter{w: stdout}
	}
	return &becomeIO{
		w: w, password: password, stdout: stdout, stderr: stderr, abort: abort,
		startedCh: make(chan struct{}),
		promptCh:  make(chan struct{}, 1),
	}
}

// outWriter is the process's stdout (and, on a terminal, its stderr too).
func (b *becomeIO) outWriter() io.Writer { return writerFunc(b.writeOut) }

// errWriter is the process's stderr.
func (b *becomeIO) errWriter() io.Writer { return writerFunc(b.writeErr) }

func (b *becomeIO) writeOut(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return b.stdout.Write(p)
	}
	b.outBuf = append(b.outBuf, p...)
	if i := bytes.Index(b.outBuf, []byte(b.w.success)); i >= 0 {
		rest := b.outBuf[i+len(b.w.success):]
		rest = bytes.TrimPrefix(bytes.TrimPrefix(rest, []byte("\r")), []byte("\n"))
		b.started = true
		close(b.startedCh)
		if _, err := b.stderr.Write(b.errBuf); err != nil {
			return len(p), err
		}
		b.errBuf, b.outBuf = nil, nil
		_, err := b.stdout.Write(rest)
		return len(p), err
	}
	if b.w.pty && suPrompt.Match(b.outBuf) {
		b.outBuf = b.outBuf[:0]
		b.promptSeen()
	}
	return len(p), nil
}

func (b *becomeIO) writeErr(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return b.stderr.Write(p)
	}
	b.errBuf = append(b.errBuf, p...)
	if b.w.prompt != "" {
		for {
			i := bytes.Index(b.errBuf, []byte(b.w.prompt))
			if i < 0 {
				break
			}
			b.errBuf = append(b.errBuf[:i], b.errBuf[i+len(b.w.prompt):]...)
			b.promptSeen()
		}
	}
	return len(p), nil
}

// promptSeen handles one password prompt; b.mu is held.
func (b *becomeIO) promptSeen() {
	b.prompts++
	switch {
	case b.password == "":
		b.fail("a password is required: pass -K/--ask-become-pass or set ansible_become_password")
	case b.prompts > 1:
		b.fail("incorrect become password")
	default:
		b.promptCh <- struct{}{}
	}
}

func (b *becomeIO) fail(msg string) {
	if b.failure == "" {
		b.failure = msg
	}
	if !b.aborted {
		b.aborted = true
		go b.abort()
	}
}

// feed writes the password when asked and, once the command runs, copies
// the caller's stdin. It returns when stdin is done or done is closed.
func (b *becomeIO) feed(stdin io.WriteCloser, user io.Reader, done <-chan struct{}) {
	defer stdin.Close()
	for {
		select {
		case <-b.promptCh:
			if _, err := io.WriteString(stdin, b.password+"\n"); err != nil {
				return
			}
		case <-b.startedCh:
			if user != nil {
				_, _ = io.Copy(stdin, user)
			}
			return
		case <-done:
			return
		}
	}
}

// finish turns the process's end into the result of the call: a become
// failure when the command never started, waitErr otherwise.
func (b *becomeIO) finish(waitErr error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failure != "" {
		return fmt.Errorf("%w: %s", ErrBecome, b.failure)
	}
	if b.started {
		return waitErr
	}
	var exit *ExitError
	if waitErr != nil && !asExitError(waitErr, &exit) {
		return waitErr // the transport broke; not sudo's fault
	}
	return fmt.Errorf("%w: %s", ErrBecome, becomeReason(string(b.errBuf)+string(b.outBuf)))
}

// becomeReason names why sudo or su refused, from what they printed.
func becomeReason(out string) string {
	lower := strings.ToLower(out)
	switch {
	case strings.Contains(lower, "a password is required"):
		return "sudo asked for a password: pass -K/--ask-become-pass or set ansible_become_password"
	case strings.Contains(lower, "authentication failure"), strings.Contains(lower, "incorrect password"),
		strings.Contains(lower, "sorry, try again"):
		return "incorrect become password"
	}
	msg := strings.Join(strings.Fields(out), " ")
	if msg == "" {
		return "sudo/su exited before running the command and printed nothing"
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// crlfWriter turns a terminal's \r\n line ends back into \n.
type crlfWriter struct {
	w       io.Writer
	pending bool // the last write ended in \r
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	var out []byte
	if c.pending {
		if len(p) == 0 || p[0] != '\n' {
			out = append(out, '\r')
		}
		c.pending = false
	}
	out = append(out, bytes.ReplaceAll(p, []byte("\r\n"), []byte("\n"))...)
	if len(out) > 0 && out[len(out)-1] == '\r' {
		out = out[:len(out)-1]
		c.pending = true
	}
	if _, err := c.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
