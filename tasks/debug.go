package tasks

import (
	"context"
	"fmt"
)

// debugModule prints a message or a variable, on the controller.
//
// Arguments: msg (default "Hello world!"; templated before the module
// runs); var, the name or expression of a variable to show (exclusive with
// msg); verbosity, the -v count needed to show anything (default 0).
type debugModule struct{}

func (debugModule) Run(_ context.Context, env *Env, args Args) (*Result, error) {
	if err := args.check("msg", "var", "verbosity"); err != nil {
		return nil, err
	}
	if _, hasMsg := args["msg"]; hasMsg {
		if _, hasVar := args["var"]; hasVar {
			return nil, &ArgError{Arg: "var", Err: fmt.Errorf("give either msg or var, not both")}
		}
	}
	level := 0
	if v, ok, err := args.str("verbosity"); err != nil {
		return nil, err
	} else if ok {
		if _, err := fmt.Sscanf(v, "%d", &level); err != nil {
			return nil, &ArgError{Arg: "verbosity", Err: fmt.Errorf("%q is not a number", v)}
		}
	}
	if level > env.Verbosity {
		return &Result{Skipped: true, Msg: "Verbosity threshold not met."}, nil
	}
	if name, ok, err := args.str("var"); err != nil {
		return nil, err
	} else if ok {
		if env.Eval == nil {
			return nil, &ArgError{Arg: "var", Err: fmt.Errorf("no variables to show here")}
		}
		v, err := env.Eval.Eval(name)
		if err != nil {
			v = "VARIABLE IS NOT DEFINED!"
		}
		return &Result{Data: map[string]any{name: v}}, nil
	}
	msg, ok := args["msg"]
	if !ok {
		msg = "Hello world!"
	}
	return &Result{Data: map[string]any{"msg": msg}}, nil
}
