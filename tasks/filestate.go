package tasks

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/drover/drover/connection"
)

// fileState is what the host said about one path.
type fileState struct {
	kind         string // "file", "directory", "other" or "absent"
	sum          string // sha1 of a file
	mode         uint32
	owner, group string
	uid, gid     string
	size         int64
}

// statScript describes each argument on one line: its kind, and for a
// regular file its sha1, mode, owner, group, uid, gid and size.
const statScript = `for p do if [ -d "$p" ]; then echo directory; ` +
	`elif [ -f "$p" ]; then s=$(sha1sum < "$p") || exit 1; printf 'file %.40s ' "$s"; stat -c '%a %U %G %u %g %s' -- "$p" || exit 1; ` +
	`elif [ -e "$p" ] || [ -L "$p" ]; then echo other; else echo absent; fi; done`

// statFiles asks the host about every path in one command.
func statFiles(ctx context.Context, env *Env, paths ...string) ([]fileState, error) {
	line := "sh -c " + connection.Quote(statScript) + " sh " + connection.QuoteAll(paths...)
	out, err := run(ctx, env, line, nil)
	if err != nil {
		return nil, err
	}
	if out.rc != 0 {
		return nil, fmt.Errorf("inspect %s on the host: %s", strings.Join(paths[1:], ", "), strings.TrimSpace(out.stderr))
	}
	rows := strings.Split(strings.TrimRight(out.stdout, "\n"), "\n")
	if len(rows) != len(paths) {
		return nil, fmt.Errorf("inspect %s: unexpected answer %q", strings.Join(paths, ", "), out.stdout)
	}
	states := make([]fileState, len(paths))
	for i, row := range rows {
		f := strings.Fields(row)
		if len(f) == 0 {
			return nil, fmt.Errorf("inspect %s: empty answer", paths[i])
		}
		states[i].kind = f[0]
		if f[0] != "file" || len(f) != 8 {
			continue
		}
		mode, _ := strconv.ParseUint(f[2], 8, 32)
		size, _ := strconv.ParseInt(f[7], 10, 64)
		states[i] = fileState{kind: "file", sum: f[1], mode: uint32(mode), owner: f[3], group: f[4], uid: f[5], gid: f[6], size: size}
	}
	return states, nil
}
