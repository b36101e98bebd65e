package connection

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
