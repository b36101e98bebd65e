package tasks

import (
	"fmt"
	"strconv"
	"strings"
)

// wantMode turns a mode argument into permission bits: octal ("0644",
// "644", "0o644") or symbolic ("u=rw,g=r,o=", "a+x"), applied to the
// current mode of the file. Zero means "not given".
func wantMode(s string, st fileState) (uint32, error) {
	if s == "" {
		return 0, nil
	}
	if m, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0"), 8, 32); err == nil && m <= 0o7777 {
		return uint32(m), nil
	}
	if s == "0" || s == "0000" {
		return 0, &ArgError{Arg: "mode", Err: fmt.Errorf("mode 0 leaves the file unusable; give the bits you want, like 0644")}
	}
	m, err := symbolicMode(s, st.mode)
	if err != nil {
		return 0, &ArgError{Arg: "mode", Err: err}
	}
	return m, nil
}

// symbolicMode applies chmod-style clauses to base.
func symbolicMode(s string, base uint32) (uint32, error) {
	mode := base
	for _, clause := range strings.Split(s, ",") {
		i := strings.IndexAny(clause, "+-=")
		if i < 0 {
			return 0, fmt.Errorf("%q is neither an octal mode (0644) nor symbolic (u=rw,g=r,o=r)", s)
		}
		who, op, perms := clause[:i], clause[i], clause[i+1:]
		var mask uint32
		for _, w := range who {
			switch w {
			case 'u':
				mask |= 0o4700
			case 'g':
				mask |= 0o2070
			case 'o':
				mask |= 0o1007
			case 'a':
				mask |= 0o7777
			default:
				return 0, fmt.Errorf("%q: unknown class %q in mode", s, w)
			}
		}
		if who == "" {
			mask = 0o7777
		}
		var bits uint32
		for _, p := range perms {
			switch p {
			case 'r':
				bits |= 0o444
			case 'w':
				bits |= 0o222
			case 'x':
				bits |= 0o111
			case 'X':
				if mode&0o111 != 0 {
					bits |= 0o111
				}
			case 's':
				bits |= 0o6000
			case 't':
				bits |= 0o1000
			default:
				return 0, fmt.Errorf("%q: unknown permission %q in mode", s, p)
			}
		}
		bits &= mask
		switch op {
		case '+':
			mode |= bits
		case '-':
			mode &^= bits
		case '=':
			mode = mode&^(mask&0o7777) | bits
		}
	}
	return mode, nil
}
