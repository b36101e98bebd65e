package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
)

// Field keys of this package's log entries.
const (
	KeyHost = "host"
	KeyCmd  = "cmd"
	KeyTook = "took"
	KeyRC   = "rc"
)

// SSH is the pooled connection to one (host, port, user). It dials on first
// use, redials once when the connection broke before a command started, and
// caps its concurrent sessions.
type SSH struct {
	pool *Pool
	r    resolved
	sem  chan struct{}

	mu     sync.Mutex // guards client and sftp; held while dialling
	client *liveClient
	sftp   *sftp.Client
	sftpOf *liveClient // the client sftp runs on
}

var _ Conn = (*SSH)(nil)

// liveClient is an ssh.Client with a channel closed when it dies.
type liveClient struct {
	*ssh.Client
	dead chan struct{}
}

func (l *liveClient) isDead() bool {
	select {
	case <-l.dead:
		return true
	default:
		return false
	}
}

// conn returns the live client, dialling it if needed.
func (s *SSH) conn(ctx context.Context) (*liveClient, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil && !s.client.isDead() {
		return s.client, nil
	}
	s.dropLocked()
	c, err := s.pool.dial(ctx, s.r)
	if err != nil {
		return nil, err
	}
	s.client = c
	return c, nil
}

// drop forgets a broken client so the next call dials afresh.
func (s *SSH) drop(c *liveClient) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == c {
		s.dropLocked()
	}
}

func (s *SSH) dropLocked() {
	if s.sftp != nil {
		s.sftp.Close()
		s.sftp, s.sftpOf = nil, nil
	}
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
}

// Exec runs cmd in a new session on the pooled connection.
func (s *SSH) Exec(ctx context.Context, cmd *Cmd) error {
	line, w, err := commandLine(cmd)
	if err != nil {
		return err
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return ctx.Err()
	}
	start := time.Now()
	sess, client, err := s.session(ctx)
	if err != nil {
		return err
	}
	err = s.run(ctx, sess, client, line, w, cmd)
	s.pool.log.WithFields(logrus.Fields{KeyHost: s.r.name, KeyCmd: line, KeyTook: time.Since(start), KeyRC: rcOf(err)}).
		Debug("remote command")
	return err
}

// session opens a session, redialling once if the connection broke before
// the command could start.
func (s *SSH) session(ctx context.Context) (*ssh.Session, *liveClient, error) {
	for attempt := 0; ; attempt++ {
		client, err := s.conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		sess, err := openSession(ctx, client)
		if err == nil {
			return sess, client, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) || attempt > 0 {
			return nil, nil, fmt.Errorf("%w: %s: open session: %w", ErrUnreachable, s.r.name, err)
		}
		s.pool.log.WithFields(logrus.Fields{KeyHost: s.r.name}).WithError(err).Info("connection broke; redialling")
		s.drop(client)
	}
}

// openSession opens a session, retrying with backoff while sshd refuses the
// channel: it still counts sessions that are closing against MaxSessions.
func openSession(ctx context.Context, c *liveClient) (*ssh.Session, error) {
	delay := 2 * time.Millisecond
	deadline := time.Now().Add(5 * time.Second)
	for {
		sess, err := c.NewSession()
		var refused *ssh.OpenChannelError
		if err == nil || !errors.As(err, &refused) || time.Now().After(deadline) {
			return sess, err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		delay = min(delay*2, 100*time.Millisecond)
	}
}

func (s *SSH) run(ctx context.Context, sess *ssh.Session, client *liveClient, line string, w *wrapped, cmd *Cmd) error {
	defer sess.Close()
	var bio *becomeIO
	var stdin io.WriteCloser
	if w != nil {
		if w.pty {
			modes := ssh.TerminalModes{ssh.ECHO: 0, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
			if err := sess.RequestPty("xterm", 40, 200, modes); err != nil {
				return s.lost(client, "request terminal for su", err)
			}
		}
		bio = newBecomeIO(*w, cmd.Become.Password, cmd.Stdout, cmd.Stderr, func() { sess.Close() })
		sess.Stdout, sess.Stderr = bio.outWriter(), bio.errWriter()
		var err error
		if stdin, err = sess.StdinPipe(); err != nil {
			return s.lost(client, "open stdin", err)
		}
	} else {
		sess.Stdin, sess.Stdout, sess.Stderr = cmd.Stdin, cmd.Stdout, cmd.Stderr
	}
	if err := sess.Start(line); err != nil {
		return s.lost(client, "start command", err)
	}
	done := make(chan struct{})
	var feeding sync.WaitGroup
	if bio != nil {
		feeding.Go(func() { bio.feed(stdin, cmd.Stdin, done) })
	}
	stop := context.AfterFunc(ctx, func() {
		_ = sess.Signal(ssh.SIGTERM)
		sess.Close()
	})
	waitErr := sess.Wait()
	close(done)
	stop()
	feeding.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	err := s.exitError(client, waitErr)
	if bio != nil {
		return bio.finish(err)
	}
	return err
}

func (s *SSH) exitError(client *liveClient, err error) error {
	var exit *ssh.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exit):
		if exit.Signal() != "" {
			return &ExitError{Status: -1, Signal: exit.Signal()}
		}
		return &ExitError{Status: exit.ExitStatus()}
	default:
		// No exit status: sshd or the network went away under the command.
		return s.lost(client, "connection lost while the command ran", err)
	}
}

func (s *SSH) lost(client *liveClient, doing string, err error) error {
	s.drop(client)
	return fmt.Errorf("%w: %s: %s: %w", ErrUnreachable, s.r.name, doing, err)
}

// Close does nothing: the pool closes its connections.
func (s *SSH) Close() error { return nil }

func rcOf(err error) int {
	var exit *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.Status
	default:
		return -1
	}
}
