// Package playbook runs work on hosts: for now one ad hoc module across a
// host pattern ([Runner.RunAdHoc]); plays, blocks and roles follow. Every
// host result becomes an [Event] delivered to a [Reporter] from a single
// goroutine, so reporters need no locks.
package playbook
