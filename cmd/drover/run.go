package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/drover/drover/connection"
	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

// Exit codes, as Ansible's.
const (
	exitOK          = 0
	exitUsage       = 1
	exitFailed      = 2
	exitUnreachable = 4
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    every host ok
  1    usage or input error (bad flags, unknown module, bad arguments)
  2    some host failed
  4    some host unreachable (wins over 2)
  130  interrupted (Ctrl-C)`

// globalOptions are the flags every command takes.
type globalOptions struct {
	verbose int
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	// prompter asks for passwords on the terminal; tests replace it.
	prompter connection.Prompter
}

// runExit carries the exit code of a run that finished with failed or
// unreachable hosts; it prints nothing more.
type runExit struct{ code int }

func (e *runExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError marks errors that are the user's input, exit code 1.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// run is the whole program, testable without a process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runWith(&globalOptions{stdin: stdin, stdout: stdout, stderr: stderr, prompter: newTerminalPrompter()}, args)
}

// runWith runs the command line with g's streams and prompter.
func runWith(g *globalOptions, args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand(g)
	root.SetArgs(args)
	root.SetIn(g.stdin)
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	err := root.ExecuteContext(ctx)
	return exitCode(ctx, err, g.stderr)
}

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	var ee *runExit
	var pe *playExit
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &pe):
		if pe.err != nil {
			for _, l := range strings.Split(strings.TrimSpace(pe.err.Error()), "\n") {
				fmt.Fprintln(stderr, "ERROR! "+l)
			}
		}
		return pe.code
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "ERROR! interrupted")
		return exitInterrupted
	default:
		fmt.Fprintln(stderr, "ERROR! "+oneLine(err.Error()))
		return exitUsage
	}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "drover",
		Short: "Run Ansible playbooks and modules over SSH, fast, with no Python on the targets",
		Long: `drover runs Ansible content over SSH from one binary: no Python and no agent
on the targets, one SSH connection per host for the whole run.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().CountVarP(&g.verbose, "verbose", "v", "more diagnostics on stderr (-v info, -vvv each remote command and its timing, -vvvv trace)")
	root.AddCommand(newExecCommand(g), newPlayCommand(g), newInventoryCommand(g), newVaultCommand(g), newVersionCommand(g), newPersistDaemonCommand())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	return root
}

// logger returns the diagnostics logger for the verbosity asked for.
func (g *globalOptions) logger() *logrus.Logger {
	log := logrus.New()
	log.SetOutput(g.stderr)
	log.SetFormatter(&logrus.TextFormatter{DisableTimestamp: false, FullTimestamp: true})
	switch {
	case g.verbose >= 4:
		log.SetLevel(logrus.TraceLevel)
	case g.verbose >= 3:
		log.SetLevel(logrus.DebugLevel)
	case g.verbose >= 1:
		log.SetLevel(logrus.InfoLevel)
	default:
		log.SetLevel(logrus.WarnLevel)
	}
	return log
}
