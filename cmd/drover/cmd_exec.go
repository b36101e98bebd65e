package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/connection"
	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook"
	"github.com/drover/drover/playbook/report"
	"github.com/drover/drover/tasks"
	"github.com/drover/drover/vault"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// execOptions are the flags of `drover exec`.
type execOptions struct {
	inventories     []string
	limit           string
	extraVars       []string
	module          string
	args            string
	forks           int
	user            string
	privateKey      string
	askPass         bool
	connection      string
	timeout         int
	become          bool
	becomeMethod    string
	becomeUser      string
	askBecomePass   bool
	oneLine         bool
	check           bool
	diff            bool
	listHosts       bool
	knownHosts      []string
	hostKeyChecking string
	sshConfig       string
	maxSessions     int
	persist         string
	vault           vaultOptions
}

// AddFlags registers the options on fs, with Ansible's names.
func (o *execOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.module, "module-name", "m", "command", "module to run")
	fs.StringVarP(&o.args, "args", "a", "", "module arguments, as k=v pairs or JSON")
	fs.BoolVarP(&o.oneLine, "one-line", "o", false, "print each result on one line")
	fs.BoolVar(&o.listHosts, "list-hosts", false, "list the hosts the pattern selects and stop")
	o.addRunFlags(fs)
}

// addRunFlags registers the flags drover exec and drover play share:
// inventory, variables, connection, become, check and vault.
func (o *execOptions) addRunFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&o.inventories, "inventory", "i", nil, "inventory: file, directory, script or host list such as 'web1,web2,' (repeatable)")
	fs.StringArrayVarP(&o.extraVars, "extra-vars", "e", nil, "extra variables as k=v, JSON, YAML or @file (repeatable; they win over all others)")
	fs.StringVarP(&o.limit, "limit", "l", "", "further limit the selected hosts with a pattern (@file reads one per line)")
	fs.IntVarP(&o.forks, "forks", "f", 50, "hosts worked on at once")
	fs.StringVarP(&o.user, "user", "u", "", "login user (default: ssh_config's User, else your user)")
	fs.StringVar(&o.privateKey, "private-key", "", "private key file to log in with")
	fs.StringVar(&o.privateKey, "key-file", "", "alias of --private-key")
	fs.BoolVarP(&o.askPass, "ask-pass", "k", false, "ask for the SSH login password")
	fs.StringVarP(&o.connection, "connection", "c", "", "connection type: ssh or local")
	fs.IntVarP(&o.timeout, "timeout", "T", 0, "connect timeout in seconds (default: ssh_config's ConnectTimeout, else 10)")
	fs.BoolVarP(&o.become, "become", "b", false, "run as another user (sudo by default)")
	fs.StringVar(&o.becomeMethod, "become-method", "sudo", "privilege escalation method: sudo or su")
	fs.StringVar(&o.becomeUser, "become-user", "root", "user to become")
	fs.BoolVarP(&o.askBecomePass, "ask-become-pass", "K", false, "ask for the become password")
	fs.BoolVarP(&o.check, "check", "C", false, "report what would change without changing it")
	fs.BoolVarP(&o.diff, "diff", "D", false, "show what changes in files")
	fs.StringArrayVar(&o.knownHosts, "known-hosts", nil, "extra known_hosts file (repeatable; also DROVER_KNOWN_HOSTS, colon-separated)")
	fs.StringVar(&o.hostKeyChecking, "host-key-checking", "", "unknown host keys: strict, accept-new or off (default: ssh_config's StrictHostKeyChecking, else strict)")
	fs.StringVar(&o.sshConfig, "ssh-config", "", "ssh_config file (default ~/.ssh/config)")
	fs.IntVar(&o.maxSessions, "max-sessions", 0, "concurrent commands per connection (default 6; sshd allows 10)")
	fs.StringVar(&o.persist, "persist", defaultPersist(), "keep connections open this long for the next run, like ControlPersist (0 turns it off; also DROVER_PERSIST)")
	o.vault.AddFlags(fs)
}

func newExecCommand(g *globalOptions) *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec PATTERN [-m MODULE] [-a ARGS]",
		Short: "Run one module on the hosts a pattern selects (like the ansible command)",
		Example: `  drover exec 'web1,web2,' -u deploy --private-key ~/.ssh/id_ed25519 -m command -a uptime
  drover exec 'web1,' -b -m shell -a 'id -u; cat /etc/shadow | wc -l'
  drover exec localhost -m copy -a 'content="hi\n" dest=/tmp/hi mode=0644'`,
		Long: "Run one module on the hosts a pattern selects (like the ansible command).\n\n" + exitCodesHelp,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &usageError{errors.New("exec takes one host pattern, such as 'web1,web2,' or localhost")}
			}
			return nil
		},
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExec(cmd.Context(), &o, g, args[0])
		},
	}
	o.AddFlags(cmd.Flags())
	_ = cmd.RegisterFlagCompletionFunc("module-name", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return tasks.Names(), cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("host-key-checking", cobra.FixedCompletions([]string{"strict", "accept-new", "off"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("connection", cobra.FixedCompletions([]string{"ssh", "local"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("become-method", cobra.FixedCompletions([]string{"sudo", "su"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runExec(ctx context.Context, o *execOptions, g *globalOptions, pattern string) error {
	keys, err := o.vault.keyring(ctx, g)
	if err != nil {
		return &usageError{err}
	}
	inv, err := o.inventory(ctx, keys, pattern)
	if err != nil {
		return &usageError{err}
	}
	if len(o.inventories) == 0 && os.Getenv("DROVER_INVENTORY") == "" && os.Getenv("ANSIBLE_INVENTORY") == "" {
		// The pattern is the host list: select its hosts by name, without ports.
		pattern = hostNames(pattern)
	}
	hosts, err := inv.Match(pattern)
	if errors.Is(err, inventory.ErrNoHosts) {
		fmt.Fprintln(g.stderr, "[WARNING]: No hosts matched, nothing to do")
		return nil
	}
	if err == nil && o.limit != "" {
		hosts, err = inv.Limit(hosts, o.limit)
		if err == nil && len(hosts) == 0 {
			err = inventory.ErrNoHosts
		}
	}
	if errors.Is(err, inventory.ErrNoHosts) {
		fmt.Fprintln(g.stderr, "[WARNING]: No hosts matched, nothing to do")
		return nil
	}
	if err != nil {
		return &usageError{err}
	}
	if o.listHosts {
		fmt.Fprintf(g.stdout, "  hosts (%d):\n", len(hosts))
		for _, h := range hosts {
			fmt.Fprintf(g.stdout, "    %s\n", h.Name)
		}
		return nil
	}
	if _, ok := tasks.Lookup(o.module); !ok {
		return &usageError{&playbook.UnknownModuleError{Name: o.module}}
	}
	args, err := tasks.ParseArgs(o.module, o.args)
	if err != nil {
		return &usageError{fmt.Errorf("module %s: %w", o.module, err)}
	}
	if slices.Contains([]string{"command", "shell", "raw"}, strings.TrimPrefix(o.module, "ansible.builtin.")) && len(args) == 0 {
		return &usageError{fmt.Errorf("no argument passed to %s module; give the command with -a", o.module)}
	}
	log := g.logger()
	connOpts, err := o.credentials(ctx, g)
	if err != nil {
		return err
	}
	cfg, err := o.poolConfig()
	if err != nil {
		return &usageError{err}
	}
	cfg.Logger, cfg.Prompter = log, g.prompter
	pool, err := connection.NewPool(cfg)
	if err != nil {
		return &usageError{err}
	}
	defer pool.Close()
	runner := &playbook.Runner{
		Pool:     pool,
		Reporter: &report.AdHoc{W: g.stdout, OneLine: o.oneLine, Color: isTerminal(g.stdout)},
		Forks:    o.forks,
		Conn:     connOpts,
		Vault:    keys,
		Log:      log,
	}
	extra, err := parseExtraVars(o.extraVars, keys)
	if err != nil {
		return &usageError{err}
	}
	stats, err := runner.RunAdHoc(ctx, playbook.AdHoc{Hosts: hosts, Module: o.module, Args: args, Check: o.check, Diff: o.diff,
		Inventory: inv, ExtraVars: extra, Verbosity: g.verbose})
	switch {
	case err != nil:
		return err
	case stats.AnyUnreachable():
		return &runExit{exitUnreachable}
	case stats.AnyFailed():
		return &runExit{exitFailed}
	}
	return nil
}

// inventory loads the -i sources; without them the pattern itself is read
// as a host list (web1,web2), with localhost the implicit local host.
func (o *execOptions) inventory(ctx context.Context, keys *vault.Keyring, pattern string) (*inventory.Inventory, error) {
	if len(o.inventories) > 0 {
		return inventory.Load(ctx, keys, o.inventories...)
	}
	if env, err := loadInventory(ctx, keys, nil); err != nil || len(env.Hosts()) > 0 {
		return env, err
	}
	if strings.ContainsAny(pattern, "*?[!&~") {
		return nil, fmt.Errorf("pattern %q needs an inventory: pass -i FILE or list hosts like 'web1,web2,'", pattern)
	}
	var names []string
	for _, n := range strings.Split(pattern, ",") {
		if n = strings.TrimSpace(n); n != "" && n != "localhost" && n != "all" { // localhost stays the implicit local host
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return inventory.New(), nil
	}
	return inventory.ParseHostList(strings.Join(names, ",") + ",")
}

// hostNames turns a host list into a pattern of its host names.
func hostNames(list string) string {
	inv, err := inventory.ParseHostList(strings.Trim(list, ",") + ",")
	if err != nil {
		return list
	}
	var names []string
	for _, h := range inv.Hosts() {
		names = append(names, h.Name)
	}
	return strings.Join(names, ",")
}

// credentials asks for the passwords requested with -k and -K.
func (o *execOptions) credentials(ctx context.Context, g *globalOptions) (playbook.ConnOptions, error) {
	c := playbook.ConnOptions{
		User: o.user, PrivateKeyFile: o.privateKey, Connection: o.connection,
		Become: o.become, BecomeMethod: o.becomeMethod, BecomeUser: o.becomeUser,
	}
	var err error
	if o.askPass {
		if c.Password, err = g.prompter.Prompt(ctx, "SSH password: "); err != nil {
			return c, err
		}
	}
	if o.askBecomePass {
		if c.BecomePassword, err = g.prompter.Prompt(ctx, "BECOME password[defaults to SSH password]: "); err != nil {
			return c, err
		}
		if c.BecomePassword == "" {
			c.BecomePassword = c.Password
		}
	}
	return c, nil
}

func (o *execOptions) poolConfig() (connection.Config, error) {
	cfg := connection.Config{
		KnownHostsFiles: o.knownHosts,
		SSHConfigFile:   o.sshConfig,
		MaxSessions:     o.maxSessions,
		ConnectTimeout:  time.Duration(o.timeout) * time.Second,
	}
	if env := os.Getenv("DROVER_KNOWN_HOSTS"); env != "" {
		cfg.KnownHostsFiles = append(cfg.KnownHostsFiles, strings.Split(env, ":")...)
	}
	switch o.hostKeyChecking {
	case "":
	case "strict", "yes":
		cfg.HostKeyPolicy = connection.HostKeyStrict
	case "accept-new":
		cfg.HostKeyPolicy = connection.HostKeyAcceptNew
	case "off", "no":
		cfg.HostKeyPolicy = connection.HostKeyOff
	default:
		return cfg, fmt.Errorf("--host-key-checking %q: use strict, accept-new or off", o.hostKeyChecking)
	}
	if o.connection != "" && o.connection != "ssh" && o.connection != "local" {
		return cfg, fmt.Errorf("--connection %q: use ssh or local", o.connection)
	}
	keep, err := parsePersist(o.persist)
	if err != nil {
		return cfg, err
	}
	if keep > 0 {
		home, err := os.UserHomeDir()
		if err != nil {
			return cfg, fmt.Errorf("--persist: %w", err)
		}
		cfg.Persist = &connection.Persist{Dir: connection.DefaultPersistDir(home), Idle: keep, Start: startPersistDaemon}
	}
	return cfg, nil
}

// parsePersist reads --persist: a duration such as 60s or 5m, or seconds as
// ControlPersist takes them.
func parsePersist(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("--persist %q: give a duration such as 60s or 10m, or 0 to turn it off", v)
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == ""
}
