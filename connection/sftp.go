package connection

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"

	"github.com/pkg/sftp"
)

// sftpClient returns the connection's SFTP client, opening it on first use.
// It holds one session for the connection's life, outside the session cap.
func (s *SSH) sftpClient(ctx context.Context) (*sftp.Client, error) {
	for attempt := 0; ; attempt++ {
		client, err := s.conn(ctx)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.sftp != nil && s.sftpOf == client {
			c := s.sftp
			s.mu.Unlock()
			return c, nil
		}
		s.mu.Unlock()
		c, err := newSFTP(ctx, client, &s.pool.wg)
		if err == nil {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.client != client { // redialled meanwhile
				c.Close()
				return nil, fmt.Errorf("%w: %s: connection replaced while opening sftp", ErrUnreachable, s.r.name)
			}
			if s.sftp != nil { // another caller won the race
				c.Close()
				return s.sftp, nil
			}
			s.sftp, s.sftpOf = c, client
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !client.isDead() || attempt > 0 {
			return nil, fmt.Errorf("%w: %s: start sftp (is the sftp subsystem enabled in sshd_config?): %w", ErrUnreachable, s.r.name, err)
		}
		s.drop(client)
	}
}

func newSFTP(ctx context.Context, client *liveClient, wg *sync.WaitGroup) (*sftp.Client, error) {
	sess, err := openSession(ctx, client)
	if err != nil {
		return nil, err
	}
	w, err := sess.StdinPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		sess.Close()
		return nil, err
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		sess.Close()
		return nil, err
	}
	c, err := sftp.NewClientPipe(r, w, sftp.UseConcurrentWrites(true), sftp.MaxPacketUnchecked(128<<10))
	if err != nil {
		sess.Close()
		return nil, err
	}
	wg.Go(func() { // the session ends with the client; reap it
		_ = c.Wait()
		sess.Close()
	})
	return c, nil
}

// Put uploads src to dst atomically; see [Conn.Put].
func (s *SSH) Put(ctx context.Context, dst string, src io.Reader, opts PutOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.sftpClient(ctx)
	if err != nil {
		return err
	}
	if opts.Become != nil {
		return s.putBecome(ctx, c, dst, src, opts)
	}
	tmp := path.Join(path.Dir(dst), ".drover-tmp-"+randomToken()+"-"+path.Base(dst))
	if err := upload(ctx, c, tmp, src, fileMode(opts.Mode)); err != nil {
		_ = c.Remove(tmp)
		return s.putError(dst, err)
	}
	if opts.Owner != "" || opts.Group != "" {
		if err := s.Exec(ctx, &Cmd{Line: chownLine(opts.Owner, opts.Group, tmp)}); err != nil {
			_ = c.Remove(tmp)
			return fmt.Errorf("put %s: set owner: %w", dst, err)
		}
	}
	if err := rename(c, tmp, dst); err != nil {
		_ = c.Remove(tmp)
		return s.putError(dst, err)
	}
	return nil
}

// putBecome uploads into a private directory as the login user, then lets
// one become command move the file into place.
func (s *SSH) putBecome(ctx context.Context, c *sftp.Client, dst string, src io.Reader, opts PutOptions) error {
	dir := "/tmp/.drover-" + randomToken()
	if err := c.Mkdir(dir); err != nil {
		return s.putError(dst, fmt.Errorf("create private upload directory %s: %w", dir, err))
	}
	defer func() {
		_ = c.RemoveAll(dir)
	}()
	if err := c.Chmod(dir, 0o700); err != nil {
		return s.putError(dst, err)
	}
	tmp := dir + "/upload"
	if err := upload(ctx, c, tmp, src, 0o600); err != nil {
		return s.putError(dst, err)
	}
	return installAsBecome(ctx, s, tmp, dst, opts)
}

func (s *SSH) putError(dst string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var status *sftp.StatusError
	if errors.As(err, &status) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("put %s on %s: %w", dst, s.r.name, err)
	}
	return fmt.Errorf("%w: put %s on %s: %w", ErrUnreachable, dst, s.r.name, err)
}

// upload writes src to name, creating it exclusively with mode set before
// any data arrives.
func upload(ctx context.Context, c *sftp.Client, name string, src io.Reader, mode os.FileMode) error {
	f, err := c.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	if err := f.Chmod(mode); err != nil {
		f.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if _, err := io.Copy(f, ctxReader{ctx, src}); err != nil {
		f.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if err := f.Sync(); err != nil && !isUnsupported(err) {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return ctx.Err()
}

func isUnsupported(err error) bool {
	var status *sftp.StatusError
	return errors.As(err, &status) && status.FxCode() == sftp.ErrSSHFxOpUnsupported
}

// rename replaces dst with tmp atomically where the server allows it.
func rename(c *sftp.Client, tmp, dst string) error {
	if _, ok := c.HasExtension("posix-rename@openssh.com"); ok {
		return c.PosixRename(tmp, dst)
	}
	if err := c.Rename(tmp, dst); err == nil {
		return nil
	}
	if err := c.Remove(dst); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return c.Rename(tmp, dst)
}

// Get streams the remote file src into dst.
func (s *SSH) Get(ctx context.Context, src string, dst io.Writer) error {
	c, err := s.sftpClient(ctx)
	if err != nil {
		return err
	}
	f, err := c.Open(src)
	if err != nil {
		return fmt.Errorf("get %s from %s: %w", src, s.r.name, err)
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	defer f.Close()
	if _, err := f.WriteTo(dst); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("get %s from %s: %w", src, s.r.name, err)
	}
	return nil
}
