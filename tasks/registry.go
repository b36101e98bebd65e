package tasks

import (
	"maps"
	"slices"
)

// modules maps each short module name to its implementation. A read-only
// table: modules are stateless.
var modules = map[string]Module{
	"command": commandModule{},
	"shell":   commandModule{shell: true},
	"raw":     rawModule{},
	"ping":    pingModule{},
	"copy":    copyModule{},
	"debug":   debugModule{},
	"file":    fileModule{},
	"script":  scriptModule{},
	"setup":   setupModule{},
}

// Lookup finds a module by its short name or its ansible.builtin. or
// ansible.legacy. name.
func Lookup(name string) (Module, bool) {
	m, ok := modules[moduleName(name)]
	return m, ok
}

// Names lists the short names of all modules, sorted.
func Names() []string { return slices.Sorted(maps.Keys(modules)) }

// NeedsConnection reports whether a module works on the host; debug runs
// on the controller alone, so an unreachable host does not stop it.
func NeedsConnection(name string) bool {
	return moduleName(name) != "debug"
}
