package tasks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/drover/drover/connection"
)

// scriptModule copies a controller-side script to the host, runs it and
// removes it, as Ansible's script module does, with no Python there.
//
// Arguments: the script and its arguments as free-form text (or cmd);
// creates and removes; chdir; executable (the interpreter to run it with).
type scriptModule struct{}

func (scriptModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	if err := args.check("_raw_params", "cmd", "creates", "removes", "chdir", "executable", "decrypt"); err != nil {
		return nil, err
	}
	raw, ok, err := args.str("_raw_params")
	if err != nil {
		return nil, err
	}
	if !ok {
		if raw, ok, err = args.str("cmd"); err != nil {
			return nil, err
		}
	}
	words, err := shlexSplit(raw)
	if err != nil || len(words) == 0 {
		return nil, &ArgError{Err: fmt.Errorf("script needs the path of a script on the controller, and its arguments")}
	}
	if r, err := skipByPath(ctx, env, args); err != nil || r != nil {
		if r != nil {
			r.Skipped = true // Ansible's script skips where command reports ok
		}
		return r, err
	}
	if env.Check {
		return &Result{Skipped: true, Msg: "Check mode is not supported for this task"}, nil
	}
	body, err := readController(env, words[0])
	if err != nil {
		return nil, &ArgError{Err: fmt.Errorf("could not find or access '%s' on the controller: %w", words[0], unwrapPath(err))}
	}
	var nonce [8]byte
	rand.Read(nonce[:])
	remote := "/tmp/.drover-script-" + hex.EncodeToString(nonce[:]) + "-" + path.Base(words[0])
	if err := env.Conn.Put(ctx, remote, strings.NewReader(body), connection.PutOptions{Mode: 0o700, Become: env.Become}); err != nil {
		return nil, fmt.Errorf("upload the script: %w", err)
	}
	cmdline := connection.Quote(remote)
	if exe, ok, err := args.str("executable"); err != nil {
		return nil, err
	} else if ok {
		cmdline = exe + " " + cmdline // an interpreter line, such as "python3 -u"
	}
	if len(words) > 1 {
		cmdline += " " + connection.QuoteAll(words[1:]...)
	}
	if dir, ok, err := args.str("chdir"); err != nil {
		return nil, err
	} else if ok {
		cmdline = "cd " + connection.Quote(dir) + " && " + cmdline
	}
	// One command runs it and removes it, whatever its exit status.
	line := "(" + cmdline + "); rc=$?; rm -f " + connection.Quote(remote) + "; exit $rc"
	out, err := run(ctx, env, line, nil)
	if err != nil {
		return nil, err
	}
	return rawResult(out), nil
}

// readController reads a file on the controller, relative paths through
// env.Files (for a playbook, its files/ directory and its own).
func readController(env *Env, name string) (string, error) {
	if env.Files != nil && !path.IsAbs(name) {
		f, err := env.Files.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		return string(data), err
	}
	data, err := os.ReadFile(name)
	return string(data), err
}
