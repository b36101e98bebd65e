package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/drover/drover/vault"
)

// ignoredSuffixes are the files Ansible skips in an inventory directory
// (INVENTORY_IGNORE_EXTS), .ini among them.
var ignoredSuffixes = []string{"~", ".orig", ".bak", ".ini", ".cfg", ".retry", ".pyc", ".pyo", ".swp", ".rpm", ".md", ".txt", ".rst"}

// Load reads inventory sources: files (INI or YAML), directories of them,
// executable scripts, and comma-separated host lists. group_vars/ and
// host_vars/ beside each source are read too. keys opens vault-encrypted
// files; !vault values stay encrypted until used. keys may be nil.
func Load(ctx context.Context, keys *vault.Keyring, sources ...string) (*Inventory, error) {
	inv := New()
	inv.keys = keys
	var dirs []string
	for _, src := range sources {
		if strings.Contains(src, ",") && !fileExists(src) {
			if err := inv.addHostList(src); err != nil {
				return nil, err
			}
			continue
		}
		fi, err := os.Stat(src)
		if err != nil {
			return nil, fmt.Errorf("inventory %s: %w", src, errors.Unwrap(err))
		}
		if fi.IsDir() {
			if err := inv.loadDir(ctx, src); err != nil {
				return nil, err
			}
			dirs = append(dirs, src)
			continue
		}
		if err := inv.loadFile(ctx, src, true); err != nil {
			return nil, err
		}
		dirs = append(dirs, filepath.Dir(src))
	}
	for _, d := range dirs {
		if err := inv.loadVarsDirs(d); err != nil {
			return nil, err
		}
	}
	inv.finish()
	return inv, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadDir reads every inventory file of dir in name order, skipping what
// Ansible skips.
func (inv *Inventory) loadDir(ctx context.Context, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("inventory %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || name == "group_vars" || name == "host_vars" || hasIgnoredSuffix(name) {
			continue
		}
		p := filepath.Join(dir, name)
		if e.IsDir() {
			if err := inv.loadDir(ctx, p); err != nil {
				return err
			}
			continue
		}
		if err := inv.loadFile(ctx, p, false); err != nil {
			return err
		}
	}
	return nil
}

func hasIgnoredSuffix(name string) bool {
	for _, s := range ignoredSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// loadFile reads one source: a script when executable or starting with
// #!, YAML when it has a YAML extension or parses as one, INI otherwise.
func (inv *Inventory) loadFile(ctx context.Context, path string, named bool) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&0o111 != 0 {
		return inv.runScript(ctx, path)
	}
	src, err := readMaybeEncrypted(path, inv.keys)
	if err != nil {
		return fmt.Errorf("inventory %w", err)
	}
	fi, err = os.Stat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&0o111 != 0 || bytes.HasPrefix(src, []byte("#!")) {
		return inv.runScript(ctx, path)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yml", ".yaml", ".json":
		return inv.parseYAML(path, src)
	case "":
		if looksLikeYAMLInventory(src) {
			return inv.parseYAML(path, src)
		}
	}
	return inv.parseINI(path, src)
}

// loadVarsDirs reads group_vars/ and host_vars/ in dir.
func (inv *Inventory) loadVarsDirs(dir string) error {
	for _, g := range inv.order {
		vars, err := loadVarsEntry(filepath.Join(dir, "group_vars"), g.Name, inv.keys)
		if err != nil {
			return err
		}
		if len(vars) > 0 {
			g.dirVars = append(g.dirVars, vars)
		}
	}
	for _, h := range inv.hosts {
		vars, err := loadVarsEntry(filepath.Join(dir, "host_vars"), h.Name, inv.keys)
		if err != nil {
			return err
		}
		if len(vars) > 0 {
			h.dirVars = append(h.dirVars, vars)
		}
	}
	return nil
}

// loadVarsEntry reads NAME, NAME.yml, NAME.yaml, NAME.json or the files of
// directory NAME/ in base, merged in that order.
func loadVarsEntry(base, name string, keys *vault.Keyring) (map[string]any, error) {
	var files []string
	for _, ext := range []string{"", ".yml", ".yaml", ".json"} {
		p := filepath.Join(base, name+ext)
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case fi.IsDir():
			if ext != "" {
				continue
			}
			err := filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.IsDir() || strings.HasPrefix(d.Name(), ".") || strings.HasSuffix(d.Name(), "~") {
					return nil
				}
				switch strings.ToLower(filepath.Ext(q)) {
				case "", ".yml", ".yaml", ".json":
					files = append(files, q)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", p, err)
			}
		default:
			files = append(files, p)
		}
	}
	vars := map[string]any{}
	for _, f := range files {
		m, err := ReadVarsFile(f, keys)
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			vars[k] = v
		}
	}
	return vars, nil
}

// AddVarsDir reads the group_vars/ and host_vars/ beside a playbook and
// merges them into every host's variables where Ansible ranks them: a
// playbook's group_vars/all over the inventory's, its group_vars/<group>
// over the inventory's for that group, its host_vars over the
// inventory's. Like AddHost, it changes a loaded inventory, before a run.
func (inv *Inventory) AddVarsDir(dir string, keys *vault.Keyring) error {
	if keys != nil {
		inv.keys = keys
	}
	if err := inv.loadVarsDirs(dir); err != nil {
		return err
	}
	for _, h := range inv.hosts {
		h.Vars = inv.merge(h)
	}
	return nil
}
