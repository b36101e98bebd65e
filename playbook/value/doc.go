// Package value holds the values that variables take, as Ansible sees them:
// Python's types, with a [Dict] that keeps insertion order (Python dicts
// do, and templates iterate them in that order), an [Unsafe] string that
// is never templated (YAML's !unsafe), and the YAML 1.1 decoder that turns
// vars files, inventories and playbooks into these values ([DecodeYAML]).
//
// It is a leaf: inventory, playbook and playbook/template all decode and
// pass around the same values, and none of them may import the others.
package value
