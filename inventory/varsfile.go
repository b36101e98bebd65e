package inventory

import (
	"fmt"
	"github.com/drover/drover/playbook/value"
	"os"

	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/vault"
	"gopkg.in/yaml.v3"
)

// ReadVarsFile reads a variables file (group_vars, host_vars, -e @file):
// a YAML or JSON mapping, vault-encrypted or not, with YAML 1.1 scalars.
func ReadVarsFile(path string, keys *vault.Keyring) (map[string]any, error) {
	src, err := readMaybeEncrypted(path, keys)
	if err != nil {
		return nil, err
	}
	return ParseVars(path, src)
}

// ParseVars reads a YAML or JSON mapping of variables; name is used in
// error messages.
func ParseVars(path string, src []byte) (map[string]any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	v, err := value.DecodeYAML(path, &doc)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case *value.Dict:
		return m.Map(), nil
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
