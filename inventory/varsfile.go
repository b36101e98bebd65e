package inventory

import (
	"bytes"
	"fmt"
	"os"

	"github.com/drover/drover/playbook/source"
	"gopkg.in/yaml.v3"
)

// readVarsFile reads a group_vars or host_vars file: a YAML (or JSON)
// mapping of variables.
func readVarsFile(path string) (map[string]any, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read variables %s: %w", path, err)
	}
	if bytes.HasPrefix(src, []byte("$ANSIBLE_VAULT;")) {
		return nil, fmt.Errorf("%s: %w", path, errVault)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, err := decodeYAML(path, &doc)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	default:
		return nil, source.Errorf(source.Pos{File: path, Line: 1}, "a variables file must hold a mapping of names to values")
	}
}
