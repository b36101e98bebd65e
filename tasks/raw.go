package tasks

import (
	"context"
	"fmt"

	"github.com/drover/drover/connection"
)

// rawModule sends its free-form text to the host's login shell as it is,
// with no quoting and no checks: the way to bootstrap a bare host.
// Argument: executable, a shell to run the text with instead.
type rawModule struct{}

func (rawModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	if err := args.check("_raw_params", "executable"); err != nil {
		return nil, err
	}
	line, err := args.required("_raw_params")
	if err != nil {
		return nil, &ArgError{Err: fmt.Errorf("no command given; write it as the module's free-form argument")}
	}
	if exe, ok, err := args.str("executable"); err != nil {
		return nil, err
	} else if ok {
		line = connection.QuoteAll(exe, "-c", line)
	}
	if env.Check {
		return &Result{Skipped: true, Msg: "raw does not support check mode"}, nil
	}
	out, err := run(ctx, env, line, nil)
	if err != nil {
		return nil, err
	}
	return rawResult(out), nil
}

// rawResult is what raw and script report: the command's output and
// status, with no cmd or times.
func rawResult(out output) *Result {
	r := &Result{Changed: true, RC: intp(out.rc), Stdout: out.stdout, Stderr: out.stderr}
	if out.rc != 0 {
		r.Failed, r.Msg = true, "non-zero return code"
	}
	return r
}
