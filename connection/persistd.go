package connection

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Lifetimes of the daemon with no connection to hold.
const (
	persistLinger = 2 * time.Second  // after the last one closed
	persistUnused = 10 * time.Second // after starting, for its first run
)

// ServePersist runs the connection daemon of [Persist] on dir until it holds
// no connection and serves no run, or ctx ends. It returns nil at once when
// another daemon already serves dir.
func ServePersist(ctx context.Context, dir string, log logrus.FieldLogger) error {
	log = orDiscard(log)
	if err := persistDir(dir); err != nil {
		return fmt.Errorf("connection daemon: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, persistLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("connection daemon: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil // another daemon serves dir
		}
		return fmt.Errorf("connection daemon: lock %s: %w", lock.Name(), err)
	}
	if lock.Truncate(0) == nil { // the lock file names the daemon, for kill $(cat …)
		lock.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	sock := filepath.Join(dir, persistSocket)
	os.Remove(sock) // left by a daemon that died; we hold the lock
	l, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("connection daemon: %w", err)
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		l.Close()
		return err
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		l.Close()
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &persistServer{ctx: ctx, log: log, ups: map[string]*upstream{}, dials: make(chan struct{}, DefaultMaxDials)}
	s.sshCfg = &ssh.ServerConfig{Config: localLink, NoClientAuth: true, ServerVersion: "SSH-2.0-drover-persist"}
	s.sshCfg.AddHostKey(signer)
	s.exit = time.AfterFunc(persistUnused, cancel)
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	log.WithField("socket", sock).Info("connection daemon started")
	for {
		nc, err := l.Accept()
		if err != nil {
			break
		}
		s.mu.Lock()
		s.clients++
		s.exit.Stop()
		s.mu.Unlock()
		s.wg.Go(func() { s.serveConn(nc) })
	}
	s.mu.Lock()
	for _, u := range s.ups {
		if u.client != nil {
			u.client.Close()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	log.Info("connection daemon stopped")
	return nil
}

// persistServer is the daemon's state.
type persistServer struct {
	ctx    context.Context
	log    logrus.FieldLogger
	sshCfg *ssh.ServerConfig
	dials  chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex
	ups     map[string]*upstream
	clients int         // runs' connections being served
	exit    *time.Timer // cancels ctx when nothing is left to do
}

// upstream is one held connection.
type upstream struct {
	key    string
	ready  chan struct{} // closed once the dial ended; then client is set, or the entry is gone
	client *liveClient
	idle   time.Duration
	users  map[*ssh.ServerConn]bool // runs' connections forwarding to it
	timer  *time.Timer              // closes it once unused for idle
}

// serveConn serves one run's connection: a dial request, then forwarded
// channels.
func (s *persistServer) serveConn(nc net.Conn) {
	defer func() {
		s.mu.Lock()
		s.clients--
		s.lingerLocked()
		s.mu.Unlock()
	}()
	if err := checkPeer(nc); err != nil {
		s.log.WithError(err).Warn("refused a connection")
		nc.Close()
		return
	}
	nc.SetDeadline(time.Now().Add(persistTimeout))
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.sshCfg)
	if err != nil {
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { sc.Close() })
	defer stop()
	var up *upstream
	attached := make(chan struct{}) // closed once up is set
	s.wg.Go(func() {
		for req := range reqs {
			if req.Type != dialRequest || up != nil {
				req.Reply(false, nil)
				continue
			}
			var q persistDial
			if err := json.Unmarshal(req.Payload, &q); err != nil {
				req.Reply(false, nil)
				continue
			}
			u, reused, err := s.attach(ctx, sc, &q)
			rep := persistReply{Reused: reused}
			if err != nil {
				rep = replyFor(err)
			} else {
				up = u
				close(attached)
			}
			answer, _ := json.Marshal(rep)
			req.Reply(true, answer)
		}
	})
	for nch := range chans {
		select {
		case <-attached:
			s.wg.Go(func() { forwardChannel(nch, up.client.Client, s.log) })
		default:
			nch.Reject(ssh.Prohibited, "no connection dialled yet")
		}
	}
	select {
	case <-attached:
		s.detach(up, sc)
	default:
	}
}

// attach returns the held connection for q, dialling it if there is none,
// and whether it was held already.
func (s *persistServer) attach(ctx context.Context, sc *ssh.ServerConn, q *persistDial) (*upstream, bool, error) {
	key := q.key()
	for {
		s.mu.Lock()
		u := s.ups[key]
		if u == nil {
			u = &upstream{key: key, ready: make(chan struct{}), users: map[*ssh.ServerConn]bool{}}
			s.ups[key] = u
			s.mu.Unlock()
			return u, false, s.dial(ctx, sc, q, u)
		}
		select {
		case <-u.ready: // a dial that failed removed u first, so u.client is set
			if !u.client.isDead() {
				u.users[sc] = true
				u.idle = q.Idle
				if u.timer != nil {
					u.timer.Stop()
				}
				s.mu.Unlock()
				return u, true, nil
			}
			delete(s.ups, key) // died; lost() ends its users
			s.mu.Unlock()
		default:
			s.mu.Unlock()
			select {
			case <-u.ready:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
		}
	}
}

// dial opens u's connection, authenticating with the keys of the run at sc.
func (s *persistServer) dial(ctx context.Context, sc *ssh.ServerConn, q *persistDial, u *upstream) error {
	r := q.resolved()
	var err error
	defer func() {
		s.mu.Lock()
		if err != nil {
			delete(s.ups, u.key)
		}
		close(u.ready)
		s.mu.Unlock()
	}()
	if r.known, err = newHostKeys(r.knownFiles, q.ExtraKnown, r.userKnownHosts, s.log); err != nil {
		return err
	}
	select {
	case s.dials <- struct{}{}:
	case <-ctx.Done():
		err = ctx.Err()
		return err
	}
	c, err := dialSSH(ctx, r, nil, func(ctx context.Context) ([]ssh.AuthMethod, func(), error) {
		ch, reqs, err := sc.OpenChannel(agentChannel, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: ask the run for its keys: %w", ErrAuth, err)
		}
		go ssh.DiscardRequests(reqs)
		signers, err := agent.NewClient(ch).Signers()
		if err != nil {
			ch.Close()
			return nil, nil, fmt.Errorf("%w: ask the run for its keys: %w", ErrAuth, err)
		}
		return methodsFor(signers, r.password), func() { ch.Close() }, nil
	}, s.log)
	<-s.dials
	if err != nil {
		return err
	}
	lc := watch(c, r, &s.wg, s.log)
	s.mu.Lock()
	u.client, u.idle = lc, q.Idle
	u.users[sc] = true
	s.mu.Unlock()
	s.wg.Go(func() {
		select {
		case <-lc.dead:
			s.lost(u)
		case <-s.ctx.Done():
		}
	})
	return nil
}

// detach ends sc's use of u, starting u's idle timer when nobody uses it.
func (s *persistServer) detach(u *upstream, sc *ssh.ServerConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(u.users, sc)
	if len(u.users) > 0 || s.ups[u.key] != u {
		return
	}
	if u.idle <= 0 {
		s.closeLocked(u)
		return
	}
	u.timer = time.AfterFunc(u.idle, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(u.users) == 0 && s.ups[u.key] == u {
			s.log.WithField(KeyHost, u.client.RemoteAddr().String()).Debug("closed an idle connection")
			s.closeLocked(u)
		}
	})
}

// lost forgets a connection that died, and ends the runs' connections that
// used it, so they redial.
func (s *persistServer) lost(u *upstream) {
	s.mu.Lock()
	users := u.users
	u.users = map[*ssh.ServerConn]bool{}
	if s.ups[u.key] == u {
		delete(s.ups, u.key)
	}
	s.lingerLocked()
	s.mu.Unlock()
	for sc := range users {
		sc.Close()
	}
}

// closeLocked closes u and forgets it. s.mu is held.
func (s *persistServer) closeLocked(u *upstream) {
	delete(s.ups, u.key)
	u.client.Close()
	s.lingerLocked()
}

// lingerLocked arms the exit timer when nothing is held or served. s.mu is
// held.
func (s *persistServer) lingerLocked() {
	if len(s.ups) == 0 && s.clients == 0 {
		s.exit.Reset(persistLinger)
	}
}
