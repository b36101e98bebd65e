package connection

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// Become runs a command as another user through sudo or su.
type Become struct {
	// Method is "sudo" (default) or "su".
	Method string
	// User is the user to become; default root.
	User string
	// Password answers sudo's or su's password prompt. It is written to the
	// session's stdin only when the prompt appears, never placed in argv or
	// the environment.
	Password string
	// Exe overrides the sudo or su executable (ansible_become_exe).
	Exe string
	// Flags are extra flags for sudo or su (ansible_become_flags); default
	// "-H -S -n" for sudo as Ansible uses, "" for su.
	Flags string
}

// becomeRootUser is the user sudo and su become when Become.User is empty.
const becomeRootUser = "root"

// wrapped is a command line prepared for become, with the markers that tell
// the output watcher where sudo/su end and the command begins.
type wrapped struct {
	line    string // the full command line to run
	prompt  string // sudo's password prompt; empty for su, whose prompt is localised
	success string // printed by the command's shell once privileges are gained
	pty     bool   // su reads passwords only from a terminal
}

// wrap builds the command line that runs line as b.User. The password never
// appears in it: sudo prints our unique prompt and reads the password from
// stdin (-S); su asks on the terminal.
func (b *Become) wrap(line string) wrapped {
	nonce := randomToken()
	w := wrapped{success: "DROVER-BECOME-SUCCESS-" + nonce}
	inner := "echo " + w.success + "; " + line
	user := b.User
	if user == "" {
		user = becomeRootUser
	}
	switch b.method() {
	case "su":
		exe := orDefault(b.Exe, "su")
		w.pty = true
		w.line = joinNonEmpty(exe, b.Flags, Quote(user), "-c", Quote("/bin/sh -c "+Quote(inner)))
	default:
		exe := orDefault(b.Exe, "sudo")
		flags := b.Flags
		if flags == "" {
			flags = "-H -S -n"
		}
		if b.Password != "" {
			// -n forbids prompting, and sudo must prompt to read the password.
			flags = strings.Join(strings.Fields(strings.ReplaceAll(" "+flags+" ", " -n ", " ")), " ")
			w.prompt = "[sudo via drover, key=" + nonce + "] password:"
			flags += " -p " + Quote(w.prompt)
		}
		w.line = joinNonEmpty(exe, flags, "-u", Quote(user), "/bin/sh", "-c", Quote(inner))
	}
	return w
}

func (b *Become) method() string {
	if b.Method == "" {
		return "sudo"
	}
	return b.Method
}

// validate reports a Become that cannot work.
func (b *Become) validate() error {
	switch b.method() {
	case "sudo", "su":
		return nil
	default:
		return fmt.Errorf("%w: become method %q is not supported; use sudo or su", ErrBecome, b.Method)
	}
}

func randomToken() string {
	var buf [12]byte
	if _, err := rand.Read(buf[:]); err != nil {
		panic("connection: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	return hex.EncodeToString(buf[:])
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func joinNonEmpty(parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}
