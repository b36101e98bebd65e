package tasks

import (
	"context"
	"fmt"
	"strings"
)

// pingModule proves drover can log in and run the shell: one echo.
// Argument: data, the reply (default "pong"); data=crash fails on purpose.
type pingModule struct{}

func (pingModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	if err := args.check("data"); err != nil {
		return nil, err
	}
	data, ok, err := args.str("data")
	if err != nil {
		return nil, err
	}
	if !ok {
		data = "pong"
	}
	if data == "crash" {
		return &Result{Failed: true, Msg: "boom"}, nil
	}
	out, err := run(ctx, env, "echo pong", nil)
	if err != nil {
		return nil, err
	}
	if out.rc != 0 || strings.TrimSpace(out.stdout) != "pong" {
		return &Result{Failed: true, Msg: fmt.Sprintf("the shell did not answer: rc=%d %s", out.rc, strings.TrimSpace(out.stderr))}, nil
	}
	return &Result{Data: map[string]any{"ping": data}}, nil
}
