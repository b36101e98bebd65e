package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Conn runs commands on one host and moves files to and from it.
//
// A Conn is safe for concurrent use: many commands may run at once, each in
// its own session. Cancelling the context of a call stops that call's remote
// work and releases its session.
type Conn interface {
	// Exec runs cmd on the host and waits for it to finish. A command that
	// ran and exited non-zero returns an *[ExitError]; an error wrapping
	// [ErrUnreachable] means the host could not be reached, and one wrapping
	// [ErrBecome] means privilege escalation failed.
	Exec(ctx context.Context, cmd *Cmd) error

	// Put streams src into the file dst on the host. The data goes to a
	// temporary file in dst's directory that is renamed over dst once
	// complete, so readers never see a half-written file and a failed Put
	// leaves no file behind. With opts.Become the upload lands in a private
	// temporary path as the login user and one become command moves it into
	// place with its owner and mode.
	Put(ctx context.Context, dst string, src io.Reader, opts PutOptions) error

	// Get streams the remote file src into dst.
	Get(ctx context.Context, src string, dst io.Writer) error

	// Close releases the transport. Pooled connections are closed by
	// [Pool.Close]; calling Close on them is a no-op.
	Close() error
}

// Cmd is one command to run on a host.
type Cmd struct {
	// Line is the command line given to the shell (/bin/sh -c for local, the
	// login shell over SSH). Every argument in it must already be quoted with
	// [Quote].
	Line string

	// Stdin, if not nil, is copied to the command's standard input.
	Stdin io.Reader

	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout io.Writer
	Stderr io.Writer

	// Env holds variables exported to the command. They are put in the
	// command line (sshd rejects most environment requests), so never put
	// secrets here.
	Env map[string]string

	// Become, if not nil, runs the command as another user.
	Become *Become
}

// PutOptions says how [Conn.Put] writes a file.
type PutOptions struct {
	// Mode is the file's permission bits; zero means 0644.
	Mode fs.FileMode

	// Owner and Group, if set, are given to the file (by name or number).
	// Changing them usually needs Become.
	Owner string
	Group string

	// Become, if not nil, writes the file as the become user.
	Become *Become
}

// ExitError reports a command that ran on the host and did not succeed.
type ExitError struct {
	// Status is the exit status, or -1 when the command was killed by a
	// signal or sent no status.
	Status int
	// Signal names the signal that killed the command, if any.
	Signal string
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("command killed by signal %s", e.Signal)
	}
	return fmt.Sprintf("command exited with status %d", e.Status)
}

// The classes of failure. Callers test for them with errors.Is; each error
// also carries its cause.
var (
	// ErrUnreachable means the host could not be reached or the connection
	// was lost. Retrying later may help.
	ErrUnreachable = errors.New("host unreachable")

	// ErrAuth means the host refused every credential offered. Retrying
	// with the same credentials does not help.
	ErrAuth = errors.New("authentication failed")

	// ErrHostKey means the host's key is unknown, changed or revoked.
	// Never retried: the user must decide whether to trust the key.
	ErrHostKey = errors.New("host key verification failed")

	// ErrBecome means sudo or su refused to run the command (no password
	// given, a wrong password, or a missing sudo rule). Not retried.
	ErrBecome = errors.New("become failed")
)

func asExitError(err error, target **ExitError) bool { return errors.As(err, target) }
