package connection

import (
	"maps"
	"slices"
	"strings"
)

// commandLine builds the line a shell runs for cmd: the exported variables,
// then the command, all wrapped for become when asked. The returned wrapped
// is nil without become.
func commandLine(cmd *Cmd) (string, *wrapped, error) {
	line := envPrefix(cmd.Env) + cmd.Line
	if cmd.Become == nil {
		return line, nil, nil
	}
	if err := cmd.Become.validate(); err != nil {
		return "", nil, err
	}
	w := cmd.Become.wrap(line)
	return w.line, &w, nil
}

// envPrefix exports env for the whole command line, in a stable order.
func envPrefix(env map[string]string) string {
	if len(env) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("export")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		b.WriteString(" " + k + "=" + Quote(env[k]))
	}
	b.WriteString("; ")
	return b.String()
}
