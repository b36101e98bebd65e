package connection_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/connection/sshtest"
	"golang.org/x/crypto/ssh"
)

// BenchmarkExecWarm runs one command at a time on an open connection:
// drover's pooled path beside bare x/crypto/ssh (NewSession + Run).
func BenchmarkExecWarm(b *testing.B) {
	s := sshtest.Start(b, sshtest.Options{})
	users := sshtest.TestUsers(b)
	b.Run("bare", func(b *testing.B) {
		c := s.Dial(b, users.Login)
		for b.Loop() {
			sess, err := c.NewSession()
			if err != nil {
				b.Fatal(err)
			}
			if err := sess.Run("true"); err != nil {
				b.Fatal(err)
			}
			sess.Close()
		}
	})
	b.Run("drover", func(b *testing.B) {
		c := benchConn(b, s, users.Login)
		for b.Loop() {
			if err := c.Exec(b.Context(), &connection.Cmd{Line: "true"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("drover-persisted", func(b *testing.B) {
		c := benchConn(b, s, users.Login, newDaemon(b).persist(time.Minute))
		for b.Loop() {
			if err := c.Exec(b.Context(), &connection.Cmd{Line: "true"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkFanout runs one command on every host at once, over open
// connections.
func BenchmarkFanout(b *testing.B) {
	const hosts = 8
	users := sshtest.TestUsers(b)
	servers := make([]*sshtest.Server, hosts)
	for i := range servers {
		servers[i] = sshtest.Start(b, sshtest.Options{})
	}
	b.Run("bare", func(b *testing.B) {
		clients := make([]*ssh.Client, hosts)
		for i, s := range servers {
			clients[i] = s.Dial(b, users.Login)
		}
		for b.Loop() {
			var wg sync.WaitGroup
			for _, c := range clients {
				wg.Go(func() {
					sess, err := c.NewSession()
					if err != nil {
						b.Error(err)
						return
					}
					defer sess.Close()
					var out bytes.Buffer
					sess.Stdout = &out
					if err := sess.Run("echo ok"); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
	b.Run("drover", func(b *testing.B) {
		conns := make([]connection.Conn, hosts)
		for i, s := range servers {
			conns[i] = benchConn(b, s, users.Login)
		}
		for b.Loop() {
			var wg sync.WaitGroup
			for _, c := range conns {
				wg.Go(func() {
					var out bytes.Buffer
					if err := c.Exec(b.Context(), &connection.Cmd{Line: "echo ok", Stdout: &out}); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
		}
	})
}

func benchConn(b *testing.B, s *sshtest.Server, user string, persist ...*connection.Persist) connection.Conn {
	b.Helper()
	key, _ := sshtest.ClientKey(b)
	known := s.WriteKnownHosts(b)
	cfg := connection.Config{HomeDir: b.TempDir(), KnownHostsFiles: []string{known}, HostKeyPolicy: connection.HostKeyStrict}
	if len(persist) > 0 {
		cfg.Persist = persist[0]
	}
	pool, err := connection.NewPool(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pool.Close() })
	c, err := pool.Conn(b.Context(), connection.Target{Name: s.Host, Host: s.Host, Port: s.Port, User: user, KeyFiles: []string{key}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkNewRun is what a new run pays for its first command on a host:
// a new pool that dials and runs one command, then closes. Persisted, the
// dial is a local handshake with the daemon, which holds the connection.
func BenchmarkNewRun(b *testing.B) {
	s := sshtest.Start(b, sshtest.Options{})
	users := sshtest.TestUsers(b)
	key, _ := sshtest.ClientKey(b)
	known := s.WriteKnownHosts(b)
	home := b.TempDir()
	target := connection.Target{Name: s.Host, Host: s.Host, Port: s.Port, User: users.Login, KeyFiles: []string{key}}
	runOnce := func(b *testing.B, persist *connection.Persist) {
		pool, err := connection.NewPool(connection.Config{HomeDir: home, KnownHostsFiles: []string{known}, HostKeyPolicy: connection.HostKeyStrict, Persist: persist})
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		c, err := pool.Conn(b.Context(), target)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Exec(b.Context(), &connection.Cmd{Line: "true"}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			runOnce(b, nil)
		}
	})
	b.Run("persisted", func(b *testing.B) {
		d := newDaemon(b)
		persist := d.persist(time.Minute)
		runOnce(b, persist) // the daemon's first dial
		for b.Loop() {
			runOnce(b, persist)
		}
	})
}
