package main

import (
	"fmt"
	"strings"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/tasks"
	"github.com/drover/drover/vault"
)

// parseExtraVars reads -e values in Ansible's forms: @file (YAML or JSON,
// maybe vault-encrypted), an inline JSON or YAML mapping, or k=v pairs,
// whose values are always strings. Later values win.
func parseExtraVars(values []string, keys *vault.Keyring) (map[string]any, error) {
	out := map[string]any{}
	for _, v := range values {
		var vars map[string]any
		var err error
		switch s := strings.TrimSpace(v); {
		case strings.HasPrefix(s, "@"):
			vars, err = inventory.ReadVarsFile(s[1:], keys)
		case strings.HasPrefix(s, "{") || strings.HasPrefix(s, "---"):
			vars, err = inventory.ParseVars("--extra-vars", []byte(s))
		default:
			var args tasks.Args
			if args, err = tasks.ParseArgs("extra-vars", s); err == nil {
				vars = args
			}
		}
		if err != nil {
			return nil, fmt.Errorf("-e %s: %w", v, err)
		}
		for k, x := range vars {
			out[k] = inventory.Native(x)
		}
	}
	return out, nil
}
