package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook"
	"github.com/drover/drover/playbook/report"
	"github.com/drover/drover/vault"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ansible-playbook's exit codes where they differ from drover exec's.
const (
	exitParse       = 4  // the playbook does not parse (Ansible's AnsibleParserError)
	exitBadOptions  = 5  // bad or missing options
	exitPlayStopped = 99 // interrupted
)

// playOptions are the flags of `drover play`.
type playOptions struct {
	execOptions
	tags, skipTags []string
	forceHandlers  bool
	syntaxCheck    bool
	listTasks      bool
	listTags       bool
	output         string
	startAt        string
	step           bool
	profile        bool
}

// AddFlags registers the options on fs, with ansible-playbook's names.
func (o *playOptions) AddFlags(fs *pflag.FlagSet) {
	o.addRunFlags(fs)
	fs.StringSliceVarP(&o.tags, "tags", "t", nil, "run only tasks with these tags (comma-separated, repeatable)")
	fs.StringSliceVar(&o.skipTags, "skip-tags", nil, "skip tasks with these tags (comma-separated, repeatable)")
	fs.BoolVar(&o.forceHandlers, "force-handlers", false, "run notified handlers even on hosts that failed")
	fs.BoolVar(&o.syntaxCheck, "syntax-check", false, "check the playbook's syntax and stop")
	fs.BoolVar(&o.listHosts, "list-hosts", false, "list the hosts each play selects and stop")
	fs.BoolVar(&o.listTasks, "list-tasks", false, "list the tasks each play runs and stop")
	fs.BoolVar(&o.listTags, "list-tags", false, "list the tags of each play's tasks and stop")
	fs.StringVar(&o.output, "output", "text", "output format: text (as ansible-playbook prints) or json (one event per line)")
	fs.StringVar(&o.startAt, "start-at-task", "", "start the playbook at the first task of this name (a glob)")
	fs.BoolVar(&o.step, "step", false, "confirm each task before running it")
	fs.BoolVar(&o.profile, "profile", false, "end with the tasks by the time they took")
}

func newPlayCommand(g *globalOptions) *cobra.Command {
	var o playOptions
	cmd := &cobra.Command{
		Use:   "play PLAYBOOK... [-i INVENTORY]",
		Short: "Run playbooks (like ansible-playbook)",
		Example: `  drover play site.yml -i inventory.ini
  drover play deploy.yml -i hosts.yml -l web -e version=1.2 --check --diff
  drover play examples/local.yml`,
		Long: "Run playbooks against the hosts of an inventory, as ansible-playbook does.\n\n" + playExitCodesHelp,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &playExit{code: exitBadOptions, err: errors.New("play needs a playbook file, such as site.yml")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPlay(cmd.Context(), &o, g, args)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

const playExitCodesHelp = `Exit codes (as ansible-playbook's):
  0   every host ok
  1   error
  2   some host failed
  4   some host unreachable, or the playbook does not parse
  5   bad options
  99  interrupted (Ctrl-C)`

// playExit is a drover play outcome with its own exit code.
type playExit struct {
	code int
	err  error
}

func (e *playExit) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *playExit) Unwrap() error { return e.err }

func runPlay(ctx context.Context, o *playOptions, g *globalOptions, paths []string) error {
	var books []*playbook.Playbook
	for _, p := range paths {
		pb, err := playbook.Load(p)
		if err != nil {
			return &playExit{code: exitParse, err: err}
		}
		books = append(books, pb)
	}
	if o.output != "text" && o.output != "json" {
		return &playExit{code: exitBadOptions, err: fmt.Errorf("--output %q: use text or json", o.output)}
	}
	if o.syntaxCheck {
		for _, p := range paths {
			fmt.Fprintf(g.stdout, "\nplaybook: %s\n", p)
		}
		return nil
	}
	if o.listTags || o.listTasks {
		r := &playbook.Runner{}
		sel := playbook.PlayOptions{Tags: o.tags, SkipTags: o.skipTags}
		for _, pb := range books {
			if o.listTags {
				r.ListTags(g.stdout, pb, sel)
			} else {
				r.ListTasks(g.stdout, pb, sel)
			}
		}
		return nil
	}
	keys, err := o.vault.keyring(ctx, g)
	if err != nil {
		return &playExit{code: exitBadOptions, err: err}
	}
	inv, err := o.playInventory(ctx, keys)
	if err != nil {
		return &playExit{code: 1, err: err}
	}
	extra, err := parseExtraVars(o.extraVars, keys)
	if err != nil {
		return &playExit{code: exitBadOptions, err: err}
	}
	connOpts, err := o.credentials(ctx, g)
	if err != nil {
		return err
	}
	cfg, err := o.poolConfig()
	if err != nil {
		return &playExit{code: exitBadOptions, err: err}
	}
	log := g.logger()
	cfg.Logger, cfg.Prompter = log, g.prompter
	pool, err := connection.NewPool(cfg)
	if err != nil {
		return &playExit{code: exitBadOptions, err: err}
	}
	defer pool.Close()
	tty := isTerminal(g.stdout)
	var rep playbook.Reporter = &report.Play{W: g.stdout, Color: tty, Live: tty, Verbosity: g.verbose, Profile: o.profile}
	if o.output == "json" {
		rep = &report.JSON{W: g.stdout}
	}
	runner := &playbook.Runner{
		Pool:     pool,
		Reporter: rep,
		Forks:    o.forks,
		Conn:     connOpts,
		Vault:    keys,
		Log:      log,
	}
	if _, err := os.Stat("/dev/tty"); err == nil && isTerminal(os.Stdin) {
		runner.Prompt = func(ctx context.Context, text string, _ bool) (string, error) {
			return g.prompter.Prompt(ctx, text) // answers never echo, private or not
		}
	}
	if o.step {
		runner.Step = func(ctx context.Context, task string) (bool, bool) {
			answer, err := g.prompter.Prompt(ctx, "Perform task: TASK: "+task+" (N)o/(y)es/(c)ontinue: ")
			if err != nil {
				return false, false
			}
			switch strings.ToLower(strings.TrimSpace(answer)) {
			case "y", "yes":
				return true, false
			case "c", "continue":
				return true, true
			}
			return false, false
		}
	}
	opts := playbook.PlayOptions{Inventory: inv, ExtraVars: extra, Limit: o.limit, Check: o.check, Diff: o.diff,
		Tags: o.tags, SkipTags: o.skipTags, Verbosity: g.verbose, ForceHandlers: o.forceHandlers, StartAt: o.startAt}
	if o.listHosts {
		for _, pb := range books {
			if err := runner.ListHosts(g.stdout, pb, opts); err != nil {
				return &playExit{code: 1, err: err}
			}
		}
		return nil
	}
	var total playbook.Stats
	for _, pb := range books {
		stats, err := runner.RunPlaybook(ctx, pb, opts)
		if ctx.Err() != nil {
			return &playExit{code: exitPlayStopped, err: errors.New("interrupted")}
		}
		if err != nil {
			return err
		}
		total = stats
		switch {
		case total.AnyUnreachable():
			return &runExit{exitUnreachable}
		case total.AnyFailed():
			return &runExit{exitFailed}
		}
	}
	return nil
}

// playInventory loads -i, else DROVER_INVENTORY/ANSIBLE_INVENTORY, else
// an empty inventory where only the implicit localhost exists.
func (o *playOptions) playInventory(ctx context.Context, keys *vault.Keyring) (*inventory.Inventory, error) {
	return loadInventory(ctx, keys, o.inventories)
}
