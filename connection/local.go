package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// Local runs commands on the controller itself (ansible_connection=local).
type Local struct {
	log logrus.FieldLogger
	dir string // working directory of commands; "" is the controller's
}

var _ Conn = (*Local)(nil)

// NewLocal returns a local connection logging to log (nil discards).
func NewLocal(log logrus.FieldLogger) *Local {
	return &Local{log: orDiscard(log)}
}

// Exec runs cmd.Line with /bin/sh -c. With become, sudo and su run under
// a new session without a controlling terminal, so su cannot prompt;
// sudo's prompt is answered on stdin.
func (l *Local) Exec(ctx context.Context, cmd *Cmd) error {
	line, w, err := commandLine(cmd)
	if err != nil {
		return err
	}
	start := time.Now()
	c := exec.Command("/bin/sh", "-c", line)
	c.Dir = l.dir
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	kill := func() {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		}
	}
	var bio *becomeIO
	if w != nil {
		var once sync.Once
		bio = newBecomeIO(*w, cmd.Become.Password, cmd.Stdout, cmd.Stderr, func() { once.Do(kill) })
		c.Stdout, c.Stderr = bio.outWriter(), bio.errWriter()
	} else {
		c.Stdin, c.Stdout, c.Stderr = cmd.Stdin, orDiscardW(cmd.Stdout), orDiscardW(cmd.Stderr)
	}
	var stdin io.WriteCloser
	if bio != nil {
		if stdin, err = c.StdinPipe(); err != nil {
			return fmt.Errorf("local: %w", err)
		}
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("local: start /bin/sh: %w", err)
	}
	done := make(chan struct{})
	if bio != nil {
		go bio.feed(stdin, cmd.Stdin, done)
	}
	stop := context.AfterFunc(ctx, kill)
	waitErr := c.Wait()
	close(done)
	stop()
	l.log.WithFields(logrus.Fields{"host": "localhost", "cmd": line, "took": time.Since(start)}).Debug("local command")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err = localExit(waitErr)
	if bio != nil {
		return bio.finish(err)
	}
	return err
}

func localExit(err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ExitError{Status: -1, Signal: ws.Signal().String()}
	}
	return &ExitError{Status: ee.ExitCode()}
}

// Put writes src to dst through a temporary file in dst's directory and a
// rename. With become it goes through a private temporary file and one
// become command, as over SSH.
func (l *Local) Put(ctx context.Context, dst string, src io.Reader, opts PutOptions) error {
	if opts.Become != nil {
		dir, err := os.MkdirTemp("", ".drover-")
		if err != nil {
			return fmt.Errorf("local: put %s: %w", dst, err)
		}
		defer os.RemoveAll(dir)
		tmp := filepath.Join(dir, "upload")
		if err := writeLocal(ctx, tmp, src, 0o600); err != nil {
			return fmt.Errorf("local: put %s: %w", dst, err)
		}
		return installAsBecome(ctx, l, tmp, dst, opts)
	}
	tmp := filepath.Join(filepath.Dir(dst), ".drover-tmp-"+randomToken()+"-"+filepath.Base(dst))
	if err := writeLocal(ctx, tmp, src, fileMode(opts.Mode)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("local: put %s: %w", dst, err)
	}
	if opts.Owner != "" || opts.Group != "" {
		if err := l.Exec(ctx, &Cmd{Line: chownLine(opts.Owner, opts.Group, tmp)}); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("local: put %s: chown: %w", dst, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("local: put %s: %w", dst, err)
	}
	return nil
}

func writeLocal(ctx context.Context, name string, src io.Reader, mode os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil { // the umask must not narrow the mode asked for
		f.Close()
		return err
	}
	if _, err := io.Copy(f, ctxReader{ctx, src}); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Get copies the file src to dst; with become it reads it through cat.
func (l *Local) Get(ctx context.Context, src string, dst io.Writer) error {
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("local: get %s: %w", src, err)
	}
	defer f.Close()
	if _, err := io.Copy(dst, ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("local: get %s: %w", src, err)
	}
	return nil
}

// Close does nothing: a local connection holds no resources.
func (l *Local) Close() error { return nil }

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func orDiscard(log logrus.FieldLogger) logrus.FieldLogger {
	if log != nil {
		return log
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	return l
}

func orDiscardW(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func fileMode(m os.FileMode) os.FileMode {
	if m == 0 {
		return 0o644
	}
	return m.Perm()
}
