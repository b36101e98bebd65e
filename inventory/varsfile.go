package inventory

import (
	"fmt"
	"os"

	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/vault"
	"gopkg.in/yaml.v3"
)

// readVarsFile reads a group_vars or host_vars file: a YAML (or JSON)
// mapping of variables.
func readVarsFile(path string, keys *vault.Keyring) (map[string]any, error) {
	src, err := readMaybeEncrypted(path, keys)
	if err != nil {
		return nil, err
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

// readMaybeEncrypted reads a file, decrypting it when it is a vault file.
func readMaybeEncrypted(path string, keys *vault.Keyring) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !vault.IsEncrypted(src) {
		return src, nil
	}
	plain, err := keys.Decrypt(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return plain, nil
}
