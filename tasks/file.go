package tasks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// fileModule sets a path's type and attributes, as ansible.builtin.file
// does: state file (the default for an existing path), directory (mkdir -p),
// touch, absent (recursive remove), link (symlink src at path) or hard.
// It asks the host once, with one script that describes every path it may
// need, and then changes what differs with one more command. Both are POSIX
// sh over GNU coreutils and findutils (stat -c, readlink -m, find -printf,
// mv -T) and getent, as on Debian, Ubuntu, RHEL and their kin.
//
// Arguments: path (aliases dest, name; required); state; mode (octal as text
// or number, or symbolic like u=rw,g=r,o=); owner; group; recurse (directories
// only); src (link and hard); force; follow (default yes);
// modification_time and access_time (now or preserve).
type fileModule struct{}

// fileStates are the values of state, in Ansible's order for its message.
var fileStates = []string{"absent", "directory", "file", "hard", "link", "touch"}

var fileArgNames = []string{"path", "dest", "name", "state", "src", "mode", "owner", "group", "recurse", "force", "follow",
	"_original_basename", "modification_time", "modification_time_format", "access_time", "access_time_format",
	"attributes", "attr", "seuser", "serole", "setype", "selevel", "unsafe_writes"}

// fileArgs are the decoded arguments of file.
type fileArgs struct {
	path, state  string
	src          string // empty when not given: Ansible treats src="" as absent
	origBase     string
	mode         fileMode
	owner, group string
	recurse      bool
	force        bool
	follow       bool
	mtime, atime string // "now", "preserve" or "" for the state's default
}

// fileMode is the mode argument as given: a number is the mode itself (YAML
// reads 0644 as 420), text is octal or symbolic.
type fileMode struct {
	set   bool
	isNum bool
	num   uint32
	text  string
}

// decodeFile checks the arguments as Ansible's argument spec does.
func decodeFile(args Args) (fileArgs, error) {
	a := fileArgs{}
	if err := args.check(fileArgNames...); err != nil {
		return a, err
	}
	for _, k := range []string{"path", "dest", "name"} {
		s, _, err := args.str(k)
		if err != nil {
			return a, err
		}
		if s != "" {
			a.path = s
			break
		}
	}
	if a.path == "" {
		return a, &ArgError{Arg: "path", Err: errors.New("missing required argument")}
	}
	var err error
	if a.state, _, err = args.str("state"); err != nil {
		return a, err
	}
	if a.state != "" && !slices.Contains(fileStates, a.state) {
		return a, &ArgError{Arg: "state", Err: fmt.Errorf("value of state must be one of: %s, got: %s", strings.Join(fileStates, ", "), a.state)}
	}
	for _, s := range []struct {
		name string
		dst  *string
	}{{"src", &a.src}, {"_original_basename", &a.origBase}, {"owner", &a.owner}, {"group", &a.group},
		{"modification_time", &a.mtime}, {"access_time", &a.atime}} {
		if *s.dst, _, err = args.str(s.name); err != nil {
			return a, err
		}
	}
	for _, t := range []struct{ name, v string }{{"modification_time", a.mtime}, {"access_time", a.atime}} {
		if t.v != "" && t.v != "now" && t.v != "preserve" {
			return a, &ArgError{Arg: t.name, Err: fmt.Errorf("only now and preserve are supported, got %q", t.v)}
		}
	}
	for _, k := range []string{"attributes", "attr"} {
		if s, _, _ := args.str(k); s != "" {
			return a, &ArgError{Arg: k, Err: errors.New("file attributes (chattr) are not supported yet")}
		}
	}
	if a.mode, err = decodeFileMode(args["mode"]); err != nil {
		return a, err
	}
	if a.recurse, err = args.boolean("recurse", false); err != nil {
		return a, err
	}
	if a.force, err = args.boolean("force", false); err != nil {
		return a, err
	}
	a.follow, err = args.boolean("follow", true)
	return a, err
}

// decodeFileMode keeps a number as the mode itself and text for later:
// symbolic text depends on the path's current mode.
func decodeFileMode(v any) (fileMode, error) {
	num := func(f float64) (fileMode, error) {
		if f < 0 || f != math.Trunc(f) || f > math.MaxUint32 {
			return fileMode{}, &ArgError{Arg: "mode", Err: fmt.Errorf("%v is not a file mode", f)}
		}
		return fileMode{set: true, isNum: true, num: uint32(f)}, nil
	}
	switch x := v.(type) {
	case nil:
		return fileMode{}, nil
	case string:
		return fileMode{set: true, text: x}, nil
	case float64:
		return num(x)
	case int:
		return num(float64(x))
	case int64:
		return num(float64(x))
	case uint64:
		return num(float64(x))
	}
	return fileMode{}, &ArgError{Arg: "mode", Err: fmt.Errorf("want an octal or symbolic mode, got %T", v)}
}

// bits returns the mode for a path whose current permissions are cur, as
// Ansible computes it: numbers as they are, text as octal, else symbolic
// relative to cur with the host's umask.
func (m fileMode) bits(cur uint32, isDir bool, umask uint32) (uint32, error) {
	if m.isNum {
		return m.num, nil
	}
	s := strings.TrimSpace(m.text)
	if t := strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O"); t != "" {
		if n, err := strconv.ParseUint(t, 8, 32); err == nil {
			return uint32(n), nil
		}
	}
	return ansibleSymbolicMode(m.text, cur&0o7777, isDir, umask)
}

// ansibleSymbolicMode applies chmod-style clauses the way Ansible's
// _symbolic_mode_to_octal does, which differs from chmod(1) in small ways:
// X and the u/g/o copies look at the original mode, not the running one.
func ansibleSymbolicMode(s string, prev uint32, isDir bool, umask uint32) (uint32, error) {
	bad := fmt.Errorf("mode must be in octal or symbolic form: bad symbolic permission for mode: %s", s)
	mode := prev
	for _, clause := range strings.Split(s, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			i = len(clause)
		}
		users := clause[:i]
		useUmask := users == ""
		if users == "" || users == "a" {
			users = "ugo"
		}
		if strings.Trim(users, "ugo") != "" {
			return 0, bad
		}
		for rest := clause[i:]; rest != ""; {
			op := rest[0]
			j := strings.IndexAny(rest[1:], "+-=") + 1
			if j == 0 {
				j = len(rest)
			}
			perms := rest[1:j]
			rest = rest[j:]
			if strings.Trim(perms, "rwxXstugo") != "" {
				return 0, bad
			}
			for _, u := range users {
				bits := symbolicBits(u, perms, prev, isDir, useUmask, umask)
				switch op {
				case '=':
					mask := map[rune]uint32{'u': 0o4700, 'g': 0o2070, 'o': 0o1007}[u]
					mode = mode&(mask^0o7777) | bits
				case '+':
					mode |= bits
				case '-':
					mode &^= bits
				}
			}
		}
	}
	return mode, nil
}

// symbolicBits are the bits perms stand for in class u (u, g or o).
func symbolicBits(u rune, perms string, prev uint32, isDir, useUmask bool, umask uint32) uint32 {
	shift := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[u]
	keep := uint32(0o7777)
	if useUmask {
		keep = ^umask & 0o7777
	}
	var bits uint32
	for _, p := range perms {
		switch p {
		case 'r':
			bits |= 4 << shift & keep
		case 'w':
			bits |= 2 << shift & keep
		case 'x':
			bits |= 1 << shift & keep
		case 'X':
			if isDir || prev&0o111 != 0 {
				bits |= 1 << shift
			}
		case 's':
			bits |= map[rune]uint32{'u': 0o4000, 'g': 0o2000}[u]
		case 't':
			if u == 'o' {
				bits |= 0o1000
			}
		case 'u', 'g', 'o':
			from := map[rune]uint{'u': 6, 'g': 3, 'o': 0}[p]
			bits |= (prev >> from & 7) << shift
		}
	}
	return bits
}

// Run asks, decides as Ansible would, and changes what differs.
func (fileModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	a, err := decodeFile(args)
	if err != nil {
		return nil, err
	}
	pr, err := probeFile(ctx, env, a.queries())
	if err != nil {
		return nil, err
	}
	// From here on every path is as the host sees it, ~ expanded.
	a.path, a.src = pr.expand(a.path), pr.expand(a.src)
	p := &filePlan{a: a, pr: pr, check: env.Check}
	if again := p.extraQueries(); len(again) > 0 {
		// Only a directory under ~ or behind a dangling link needs a second
		// look, for the parents mkdir -p would create.
		if err := pr.add(ctx, env, again); err != nil {
			return nil, err
		}
	}
	p.run()
	return p.finish(ctx, env)
}

// fileRec is one record of the host's answer: a path's type and attributes.
// kind is "absent", "link", "directory" or "file"; Ansible's "hard" is a
// file with more than one link.
type fileRec struct {
	tag, key, kind string
	mode           uint32
	uid, gid       int
	user, group    string
	size           int64
	nlink          int
	ino            uint64
	str            string // S: the link's target; F: the resolved path; R, Q: the link's target
	extra          string // R, Q: the type a link points to (d, f, N...)
}

// exists reports whether the record is of a path that exists.
func (r fileRec) exists() bool { return r.kind != "absent" && r.kind != "" }

// state is Ansible's get_state of the path.
func (r fileRec) state() string {
	switch {
	case r.kind == "" || r.kind == "absent":
		return "absent"
	case r.kind == "file" && r.nlink > 1:
		return "hard"
	}
	return r.kind
}
