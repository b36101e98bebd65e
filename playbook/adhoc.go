package playbook

import (
	"context"
	"errors"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/tasks"
	"github.com/drover/drover/vault"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"
)

// Runner runs work on hosts through a connection pool.
type Runner struct {
	// Pool reaches the hosts; the caller closes it.
	Pool *connection.Pool
	// Reporter receives every result.
	Reporter Reporter
	// Forks caps how many hosts are worked on at once; default 50.
	Forks int
	// Conn holds the command line's connection settings.
	Conn ConnOptions
	// Vault opens !vault connection variables (ansible_password...); nil
	// means no vault secrets were given.
	Vault *vault.Keyring
	// Log receives diagnostics; nil discards them.
	Log logrus.FieldLogger
	// Prompt asks the user for vars_prompt values; nil means there is no
	// terminal, so only defaults and extra vars can answer.
	Prompt func(ctx context.Context, text string, private bool) (string, error)
	// Step, if set, is asked before each task (--step): whether to run it,
	// and whether to stop asking.
	Step func(ctx context.Context, task string) (run, all bool)
}

// AdHoc is one module run on a set of hosts, as `drover exec` does.
type AdHoc struct {
	Hosts  []*inventory.Host
	Module string
	Args   tasks.Args
	Check  bool
	Diff   bool
	// Inventory supplies group_names and groups to templates; may be nil.
	Inventory *inventory.Inventory
	// ExtraVars (-e) override every other variable.
	ExtraVars map[string]any
	// Verbosity is the -v count.
	Verbosity int
}

// RunAdHoc runs the module on every host, forks at a time; one host's
// failure never stops the others. It returns the counts per host, and
// ctx's error when the run was cancelled.
func (r *Runner) RunAdHoc(ctx context.Context, job AdHoc) (Stats, error) {
	mod, ok := tasks.Lookup(job.Module)
	if !ok {
		return Stats{}, &UnknownModuleError{Name: job.Module}
	}
	forks := r.Forks
	if forks <= 0 {
		forks = 50
	}
	events := make(chan Event)
	cache := &template.Cache{}
	var g errgroup.Group // not WithContext: a failing host must not cancel the others
	g.SetLimit(forks)
	go func() {
		for _, h := range job.Hosts {
			if ctx.Err() != nil {
				break
			}
			g.Go(func() error {
				events <- r.runOne(ctx, h, mod, job, cache)
				return nil
			})
		}
		_ = g.Wait()
		close(events)
	}()
	var stats Stats
	for e := range events {
		stats.add(e)
		if ctx.Err() == nil {
			r.Reporter.Report(e)
		}
	}
	return stats, ctx.Err()
}

func (r *Runner) runOne(ctx context.Context, h *inventory.Host, mod tasks.Module, job AdHoc, cache *template.Cache) Event {
	start := time.Now()
	e := Event{Host: h.Name, Task: job.Module, Module: job.Module}
	res, status := r.execute(ctx, h, mod, job, cache)
	e.Result, e.Status, e.Duration = res, status, time.Since(start)
	return e
}

func (r *Runner) execute(ctx context.Context, h *inventory.Host, mod tasks.Module, job AdHoc, cache *template.Cache) (*tasks.Result, Status) {
	scope := hostScope(h, job.Inventory, job, cache).WithVault(r.Vault)
	args, err := renderArgs(cache, job.Module, job.Args, scope)
	if err != nil {
		return &tasks.Result{Failed: true, Msg: err.Error()}, StatusFailed
	}
	connVars, err := connectionVars(h, scope)
	if err != nil {
		return &tasks.Result{Failed: true, Msg: err.Error()}, StatusFailed
	}
	t, become, err := target(connVars, r.Conn, r.Vault)
	if err != nil {
		return &tasks.Result{Failed: true, Msg: err.Error()}, StatusFailed
	}
	var conn connection.Conn
	if tasks.NeedsConnection(job.Module) {
		if conn, err = r.Pool.Conn(ctx, t); err != nil {
			return unreachable(err), StatusUnreachable
		}
	}
	env := &tasks.Env{Host: h.Name, Conn: conn, Become: become, Check: job.Check, Diff: job.Diff, Log: r.Log,
		Eval: evaluator{cache: cache, scope: scope}, Verbosity: job.Verbosity}
	res, err := mod.Run(ctx, env, args)
	switch {
	case err == nil:
	case errors.Is(err, connection.ErrUnreachable):
		return unreachable(err), StatusUnreachable
	default:
		return &tasks.Result{Failed: true, Msg: err.Error()}, StatusFailed
	}
	switch {
	case res.Failed:
		return res, StatusFailed
	case res.Skipped:
		return res, StatusSkipped
	case res.Changed:
		return res, StatusChanged
	}
	return res, StatusOK
}

func unreachable(err error) *tasks.Result {
	return &tasks.Result{Msg: "Failed to connect to the host via ssh: " + err.Error()}
}

// UnknownModuleError reports a module name drover does not know.
type UnknownModuleError struct{ Name string }

func (e *UnknownModuleError) Error() string {
	msg := "unknown module " + e.Name
	if s := tasks.Suggest(e.Name, tasks.Names()); s != "" {
		msg += "; did you mean " + s + "?"
	}
	return msg
}
