// Package connection carries commands and files to a host: over SSH with one
// pooled client per (host, port, user), or on the controller itself.
//
// The main types are [Conn], the contract every transport meets, [Pool], which
// owns the SSH clients of a run, and [Become], which wraps a command in sudo or
// su. Every argument placed in a remote command line goes through [Quote].
//
// This package imports no other drover package.
package connection
