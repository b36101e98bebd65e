package inventory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/drover/drover/playbook/value"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// scriptTimeout bounds one run of an inventory script.
const scriptTimeout = 60 * time.Second

// runScript runs an executable inventory with --list (and --host for each
// host when the output has no _meta.hostvars), Ansible's script contract.
func (inv *Inventory) runScript(ctx context.Context, path string) error {
	out, err := runInventoryScript(ctx, path, "--list")
	if err != nil {
		return err
	}
	groups, err := orderedObject(out)
	if err != nil {
		return fmt.Errorf("inventory script %s: --list did not print a JSON object: %w", path, err)
	}
	var meta any
	hostVars := map[string]map[string]any{}
	var hostOrder []string
	for _, kv := range groups {
		if kv.key == "_meta" {
			if err := decodeJSON(kv.raw, &meta); err != nil {
				return fmt.Errorf("inventory script %s: _meta: %w", path, err)
			}
			continue
		}
		names, err := inv.scriptGroup(path, kv.key, kv.raw)
		if err != nil {
			return err
		}
		hostOrder = append(hostOrder, names...)
	}
	metaMap, _ := jsonObject(meta)
	if hv, ok := jsonObject(metaMap["hostvars"]); ok {
		for name, v := range hv {
			if m, ok := jsonObject(v); ok {
				hostVars[name] = m
			}
		}
	} else if err := inv.scriptHostVars(ctx, path, hostOrder, hostVars); err != nil {
		return err
	}
	for name, vars := range hostVars {
		if h, ok := inv.byName[name]; ok {
			for k, v := range vars {
				h.own[k] = v
			}
		}
	}
	return nil
}

// scriptGroup adds one group of --list output and returns its hosts.
func (inv *Inventory) scriptGroup(path, name string, raw json.RawMessage) ([]string, error) {
	var data any
	if err := decodeJSON(raw, &data); err != nil {
		return nil, fmt.Errorf("inventory script %s: group %s: %w", path, name, err)
	}
	g := inv.group(name)
	var hosts []any
	if d, ok := jsonObject(data); ok {
		data = d
	}
	switch d := data.(type) {
	case []any:
		hosts = d
	case map[string]any:
		_, hasHosts := d["hosts"]
		_, hasVars := d["vars"]
		_, hasChildren := d["children"]
		if !hasHosts && !hasVars && !hasChildren {
			// Ansible's quirk: a mapping without those keys is a host
			// of that name in the group, and the mapping the group's vars.
			g.addHost(inv.host(name))
			for k, v := range d {
				g.Vars[k] = v
			}
			return []string{name}, nil
		}
		hosts, _ = d["hosts"].([]any)
		if vars, ok := jsonObject(d["vars"]); ok {
			for k, v := range vars {
				g.Vars[k] = v
			}
		}
		children, _ := d["children"].([]any)
		for _, c := range children {
			child := inv.group(fmt.Sprint(c))
			if child.ancestorOf(g) {
				return nil, fmt.Errorf("inventory script %s: group %s cannot be a child of %s: that makes a cycle", path, child.Name, name)
			}
			g.addChild(child)
		}
	default:
		return nil, fmt.Errorf("inventory script %s: group %s must be a list of hosts or an object with hosts, vars and children", path, name)
	}
	var names []string
	for _, h := range hosts {
		n := fmt.Sprint(h)
		g.addHost(inv.host(n))
		names = append(names, n)
	}
	return names, nil
}

// scriptHostVars asks the script for each host's variables, a few at once.
func (inv *Inventory) scriptHostVars(ctx context.Context, path string, hosts []string, into map[string]map[string]any) error {
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(8)
	seen := map[string]bool{}
	for _, h := range hosts {
		if seen[h] {
			continue
		}
		seen[h] = true
		g.Go(func() error {
			out, err := runInventoryScript(ctx, path, "--host", h)
			if err != nil {
				return err
			}
			vars := map[string]any{}
			if len(bytes.TrimSpace(out)) > 0 {
				var v any
				err := decodeJSON(out, &v)
				m, ok := jsonObject(v)
				if err != nil || !ok {
					return fmt.Errorf("inventory script %s: --host %s did not print a JSON object", path, h)
				}
				vars = m
			}
			mu.Lock()
			into[h] = vars
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

func runInventoryScript(ctx context.Context, path string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, scriptTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("inventory script %s %s: no answer within %s", path, strings.Join(args, " "), scriptTimeout)
	}
	if err != nil {
		msg := strings.Join(strings.Fields(stderr.String()), " ")
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("inventory script %s %s exited with status %d: %s", path, strings.Join(args, " "), exit.ExitCode(), msg)
		}
		return nil, fmt.Errorf("inventory script %s: %w", path, err)
	}
	return stdout.Bytes(), nil
}

// member is one key of a JSON object, in document order.
type member struct {
	key string
	raw json.RawMessage
}

// orderedObject reads a JSON object keeping its keys' order, which sets the
// order of groups as Ansible sees them.
func orderedObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not an object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		out = append(out, member{key: tok.(string), raw: raw})
	}
	return out, nil
}

// decodeJSON reads JSON keeping integers exact: 1 stays an integer and
// 1.0 a float, as Python reads them.
func decodeJSON(data []byte, into *any) error {
	v, err := value.ParseJSON(data)
	if err != nil {
		return err
	}
	*into = v
	return nil
}

// jsonObject is a decoded JSON object as a map, for the parts of a
// script's output whose order does not matter (groups, hostvars); the
// variables' own values stay ordered.
func jsonObject(v any) (map[string]any, bool) {
	d, ok := v.(*value.Dict)
	return d.Map(), ok
}
