package tasks

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/drover/drover/connection"
	"github.com/sirupsen/logrus"
)

// Module makes one task happen on one host.
//
// Run returns an error only when the module could not run: bad arguments
// (an *[ArgError]) or a lost connection (wrapping connection.ErrUnreachable).
// A command that ran and failed is a [Result] with Failed set, so that
// failed_when and ignore_errors can judge it. Run must be safe to call
// concurrently for different hosts.
type Module interface {
	Run(ctx context.Context, env *Env, args Args) (*Result, error)
}

// Args are a task's module arguments, decoded from k=v text, JSON or YAML.
// Free-form text (command: ls -l) is under the key "_raw_params".
type Args map[string]any

// Env is what a module may use while it runs on one host.
type Env struct {
	// Host is the inventory name of the target host.
	Host string
	// Conn reaches the host.
	Conn connection.Conn
	// Become, if not nil, runs the module's commands as another user.
	Become *connection.Become
	// Check asks the module to report what it would change without
	// changing anything.
	Check bool
	// Diff asks the module to describe its changes in Result.Diff.
	Diff bool
	// Files holds controller-side files that relative src paths name;
	// nil means the current directory.
	Files fs.FS
	// Log receives diagnostics; nil discards them.
	Log logrus.FieldLogger
	// Eval evaluates Jinja2 expressions in the host's variables, for
	// modules that take an expression (debug var=); nil means none.
	Eval Evaluator
	// Verbosity is the -v count, for debug's verbosity argument.
	Verbosity int
	// Environment holds the task's environment: variables exported to
	// every command the module runs on the host.
	Environment map[string]string
}

// Evaluator evaluates a Jinja2 expression (without {{ }}) to a value.
// tasks never imports the template engine; playbook supplies one.
type Evaluator interface {
	Eval(expr string) (any, error)
}

// Result is what a module reports for one host.
type Result struct {
	Changed bool
	Failed  bool
	Skipped bool
	// Msg explains a failure or a skip.
	Msg string
	// RC is the exit status of the module's main command, when it ran one.
	RC *int
	// Stdout and Stderr are the main command's output.
	Stdout string
	Stderr string
	// Data holds module-specific return values (ping's "ping", copy's
	// "dest" and "checksum", command's "cmd", "start", "end", "delta").
	Data map[string]any
	// Diff describes the change when Env.Diff was set.
	Diff []Diff
}

// Diff is one before/after pair, as Ansible's --diff shows it.
type Diff struct {
	BeforeHeader string
	AfterHeader  string
	Before       string
	After        string
}

// ArgError reports a bad module argument.
type ArgError struct {
	// Arg is the argument's name; empty when the whole argument string is
	// malformed.
	Arg string
	Err error
}

func (e *ArgError) Error() string {
	if e.Arg == "" {
		return fmt.Sprintf("bad module arguments: %v", e.Err)
	}
	return fmt.Sprintf("argument %s: %v", e.Arg, e.Err)
}

func (e *ArgError) Unwrap() error { return e.Err }
