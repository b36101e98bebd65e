package connection

import (
	"context"
	"errors"
)

// Pool owns the SSH connections of a run: one client per (host, port, user),
// dialled on first use and shared by every command to that host.
type Pool struct {
	cfg Config
}

// NewPool returns a pool configured by cfg.
func NewPool(cfg Config) (*Pool, error) {
	return &Pool{cfg: cfg}, nil
}

// Conn returns the connection for t, dialling it if needed. Errors wrap
// [ErrUnreachable], [ErrAuth] or [ErrHostKey]. The returned Conn belongs to
// the pool: callers do not close it.
func (p *Pool) Conn(ctx context.Context, t Target) (Conn, error) {
	return nil, errors.New("connection: not implemented yet")
}

// Close closes every connection and waits for the pool's goroutines.
func (p *Pool) Close() error { return nil }
