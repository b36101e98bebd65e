package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/vault"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// inventoryOptions are the flags of `drover inventory`.
type inventoryOptions struct {
	sources []string
	list    bool
	graph   bool
	host    string
	vars    bool
	yaml    bool
	output  string
	vault   vaultOptions
}

// AddFlags registers the options with ansible-inventory's names.
func (o *inventoryOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&o.sources, "inventory", "i", nil, "inventory source: file, directory, script or 'h1,h2,' (repeatable; default $DROVER_INVENTORY or $ANSIBLE_INVENTORY)")
	fs.BoolVar(&o.list, "list", false, "print every group and host as JSON, like ansible-inventory --list")
	fs.BoolVar(&o.graph, "graph", false, "print the group tree (optionally below the group given as argument)")
	fs.StringVar(&o.host, "host", "", "print one host's variables as JSON")
	fs.BoolVar(&o.vars, "vars", false, "with --graph, show variables too")
	fs.BoolVarP(&o.yaml, "yaml", "y", false, "with --list, print YAML instead of JSON")
	fs.StringVar(&o.output, "output", "", "write the output to this file instead of stdout")
	o.vault.AddFlags(fs)
}

func newInventoryCommand(g *globalOptions) *cobra.Command {
	var o inventoryOptions
	cmd := &cobra.Command{
		Use:   "inventory (--list | --graph [GROUP] | --host HOST) [-i SOURCE]...",
		Short: "Show an inventory as Ansible reads it (like ansible-inventory)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInventory(cmd.Context(), &o, g, args)
		},
	}
	o.AddFlags(cmd.Flags())
	return cmd
}

func runInventory(ctx context.Context, o *inventoryOptions, g *globalOptions, args []string) error {
	modes := 0
	for _, on := range []bool{o.list, o.graph, o.host != ""} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return &usageError{errors.New("choose one of --list, --graph or --host")}
	}
	keys, err := o.vault.keyring(ctx, g)
	if err != nil {
		return &usageError{err}
	}
	inv, err := loadInventory(ctx, keys, o.sources)
	if err != nil {
		return &usageError{err}
	}
	for _, w := range inv.Warnings() {
		fmt.Fprintln(g.stderr, "[WARNING]: "+w)
	}
	var text string
	switch {
	case o.list && o.yaml:
		if text, err = inv.ListYAML(); err != nil {
			return err
		}
	case o.list:
		text = inv.ListJSON() + "\n"
	case o.host != "":
		h, ok := inv.Host(o.host)
		if !ok {
			return &usageError{fmt.Errorf("host %s is not in the inventory", o.host)}
		}
		text = inv.HostJSON(h) + "\n"
	default:
		name := "all"
		if len(args) == 1 {
			name = args[0]
		}
		grp, ok := inv.Group(name)
		if !ok {
			return &usageError{fmt.Errorf("group %s is not in the inventory", name)}
		}
		text = inv.Graph(grp, o.vars)
	}
	if o.output != "" {
		return writeFileAtomic(o.output, []byte(text))
	}
	_, err = fmt.Fprint(g.stdout, text)
	return err
}

// loadInventory reads the -i sources, or the default ones from the
// environment.
func loadInventory(ctx context.Context, keys *vault.Keyring, sources []string) (*inventory.Inventory, error) {
	if len(sources) == 0 {
		for _, env := range []string{"DROVER_INVENTORY", "ANSIBLE_INVENTORY"} {
			if v := os.Getenv(env); v != "" {
				sources = strings.Split(v, ",")
				break
			}
		}
	}
	if len(sources) == 0 {
		return inventory.New(), nil
	}
	return inventory.Load(ctx, keys, sources...)
}

// writeFileAtomic writes data to name through a temporary file and rename.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(dirOf(name), ".drover-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

func dirOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i+1]
	}
	return "."
}
