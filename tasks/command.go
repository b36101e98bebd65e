package tasks

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/drover/drover/connection"
)

// commandModule runs a command: without a shell (command: each word quoted,
// so pipes and $VARS stay literal) or through /bin/sh (shell).
//
// Arguments: the command as free-form text, cmd or argv (command only);
// chdir; creates and removes (skip when the path exists / does not exist);
// stdin and stdin_add_newline (default yes); strip_empty_ends (default yes);
// executable (shell only).
type commandModule struct{ shell bool }

func (m commandModule) name() string {
	if m.shell {
		return "shell"
	}
	return "command"
}

func (m commandModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	known := []string{"_raw_params", "cmd", "chdir", "creates", "removes", "stdin", "stdin_add_newline", "strip_empty_ends", "warn", "_uses_shell", "expand_argument_vars"}
	if m.shell {
		known = append(known, "executable")
	} else {
		known = append(known, "argv")
	}
	if err := args.check(known...); err != nil {
		return nil, err
	}
	line, cmdValue, err := m.commandLine(args)
	if err != nil {
		return nil, err
	}
	if dir, ok, err := args.str("chdir"); err != nil {
		return nil, err
	} else if ok {
		line = "cd " + connection.Quote(dir) + " && " + line
	}
	if r, err := skipByPath(ctx, env, args); err != nil || r != nil {
		return r, err
	}
	if env.Check {
		// Ansible's partial check mode: a command guarded by creates or
		// removes reports the change it would make; others are skipped.
		r := &Result{RC: intp(0), Msg: "Command would have run if not in check mode",
			Data: map[string]any{"cmd": cmdValue, "start": nil, "end": nil, "delta": nil}}
		_, creates := args["creates"]
		_, removes := args["removes"]
		r.Changed = creates || removes
		r.Skipped = !r.Changed
		return r, nil
	}
	stdin, err := stdinOf(args)
	if err != nil {
		return nil, err
	}
	out, err := run(ctx, env, line, stdin)
	if err != nil {
		return nil, err
	}
	strip, err := args.boolean("strip_empty_ends", true)
	if err != nil {
		return nil, err
	}
	return commandResult(out, cmdValue, strip), nil
}

// commandLine builds the shell line and the "cmd" value Ansible reports.
func (m commandModule) commandLine(args Args) (string, any, error) {
	raw, hasRaw, err := args.str("_raw_params")
	if err != nil {
		return "", nil, err
	}
	if !hasRaw {
		if raw, hasRaw, err = args.str("cmd"); err != nil {
			return "", nil, err
		}
	}
	if m.shell {
		if !hasRaw || strings.TrimSpace(raw) == "" {
			return "", nil, &ArgError{Err: fmt.Errorf("no command given; write it as the module's free-form argument")}
		}
		if exe, ok, err := args.str("executable"); err != nil {
			return "", nil, err
		} else if ok {
			return connection.QuoteAll(exe, "-c", raw), raw, nil
		}
		return raw, raw, nil
	}
	argv, hasArgv, err := args.list("argv")
	if err != nil {
		return "", nil, err
	}
	switch {
	case hasArgv && hasRaw:
		return "", nil, &ArgError{Arg: "argv", Err: fmt.Errorf("give the command either as text or as argv, not both")}
	case !hasArgv:
		if argv, err = shlexSplit(raw); err != nil {
			return "", nil, &ArgError{Err: err}
		}
	}
	if len(argv) == 0 {
		return "", nil, &ArgError{Err: fmt.Errorf("no command given; write it as the module's free-form argument or argv")}
	}
	cmd := make([]any, len(argv))
	words := make([]string, len(argv))
	for i, a := range argv {
		cmd[i] = a
		words[i] = expandingQuote(a)
	}
	return strings.Join(words, " "), cmd, nil
}

// envRef finds what Python's os.path.expandvars expands: $name and
// ${name}.
var envRef = regexp.MustCompile(`\$(\w+|\{[^}]*\})`)

// shellName is a variable name the shell can expand.
var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// expandingQuote quotes one word of a command as Ansible's command module
// treats it on the host: $HOME and ${HOME} expand (left as written when
// unset, as expandvars leaves them), a leading ~ or ~user expands, and
// nothing else is special.
func expandingQuote(w string) string {
	var b strings.Builder
	rest := w
	if m := regexp.MustCompile(`^~[A-Za-z0-9_.-]*`).FindString(rest); m != "" && (len(rest) == len(m) || rest[len(m)] == '/') {
		b.WriteString(m) // unquoted, for the shell's tilde expansion
		rest = rest[len(m):]
	}
	for {
		loc := envRef.FindStringIndex(rest)
		if loc == nil {
			break
		}
		ref := rest[loc[0]:loc[1]]
		name := strings.Trim(ref[1:], "{}")
		if !shellName.MatchString(name) {
			b.WriteString(connection.Quote(rest[:loc[1]]))
			rest = rest[loc[1]:]
			continue
		}
		if loc[0] > 0 {
			b.WriteString(connection.Quote(rest[:loc[0]]))
		}
		fmt.Fprintf(&b, `"${%s-\%s}"`, name, strings.ReplaceAll(ref, "}", `\}`))
		rest = rest[loc[1]:]
	}
	if rest != "" || b.Len() == 0 {
		b.WriteString(connection.Quote(rest))
	}
	return b.String()
}

// skipByPath applies creates and removes: one test on the host.
func skipByPath(ctx context.Context, env *Env, args Args) (*Result, error) {
	for _, c := range []struct {
		arg, test, verb string
		skipIf          bool
	}{{"creates", "-e", "exists", true}, {"removes", "-e", "does not exist", false}} {
		p, ok, err := args.str(c.arg)
		if err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		out, err := run(ctx, env, "test "+c.test+" "+connection.Quote(p), nil)
		if err != nil {
			return nil, err
		}
		if exists := out.rc == 0; exists == c.skipIf {
			did := "Did"
			if env.Check {
				did = "Would"
			}
			return &Result{
				RC:     intp(0),
				Stdout: fmt.Sprintf("skipped, since %s %s", p, c.verb),
				Msg:    fmt.Sprintf("%s not run command since '%s' %s", did, p, c.verb),
			}, nil
		}
	}
	return nil, nil
}

func stdinOf(args Args) (io.Reader, error) {
	s, ok, err := args.str("stdin")
	if err != nil || !ok {
		return nil, err // a nil interface, never a typed nil
	}
	add, err := args.boolean("stdin_add_newline", true)
	if err != nil {
		return nil, err
	}
	if add {
		s += "\n"
	}
	return strings.NewReader(s), nil
}

func commandResult(out output, cmd any, strip bool) *Result {
	if strip {
		out.stdout = strings.TrimRight(out.stdout, "\r\n")
		out.stderr = strings.TrimRight(out.stderr, "\r\n")
	}
	r := &Result{
		Changed: true,
		RC:      intp(out.rc),
		Stdout:  out.stdout,
		Stderr:  out.stderr,
		Data: map[string]any{
			"cmd":   cmd,
			"start": ansibleTime(out.start),
			"end":   ansibleTime(out.end),
			"delta": ansibleDelta(out.end.Sub(out.start)),
		},
	}
	if out.rc != 0 {
		r.Failed = true
		r.Msg = "non-zero return code"
	} else {
		r.Data["msg"] = "" // as Ansible's command module reports success
	}
	return r
}
