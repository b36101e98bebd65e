package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// lsbMinimalSHA256 are the SHA-256 sums of the lsb_release scripts whose
// output lsbMinimal reproduces: Debian's lsb-release-minimal 12.0-1
// (bookworm). Running one costs the host some ten milliseconds of CPU (a
// shell, getopt, cut, tr): more than the rest of setup.sh together.
var lsbMinimalSHA256 = map[string]bool{
	"484188f4b37b4021998dafd1966cda1c6f8207af9aee3ad51746a5d22acf3e65": true,
}

// lsbFromOSRelease fills the lsb_release section from os-release when
// setup.sh skipped lsb_release (section lsbmin: dpkg says the known script
// is installed there) and this is provably what it would have printed: the
// file is the known script (grep printed it), it is the lsb_release that
// bins found, and the os-release it sources holds only plain assignments,
// all printed (a file grep took for binary prints nothing). It reports
// whether lsb_release still has to run.
func (o *setupOutput) lsbFromOSRelease() (pending bool) {
	s := o.sections["lsbmin"]
	if s == nil || o.sections["lsb_release"] != nil {
		return false
	}
	path := strings.TrimSpace(s.arg)
	script, ok := o.files[path]
	sum := sha256.Sum256([]byte(script + "\n"))
	if !ok || !lsbMinimalSHA256[hex.EncodeToString(sum[:])] || o.bin("lsb_release") != path {
		return true
	}
	// As the script: /etc/os-release if it is a file, else /usr/lib/os-release.
	text := ""
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if strings.Contains(o.exists[p], "f") {
			if text, ok = o.files[p]; !ok || text == "" && o.nonEmpty(p) {
				return true // unreadable (the script fails: set -e) or not printed
			}
			break
		}
	}
	out, ok := lsbMinimal(text)
	if !ok {
		return true
	}
	o.sections["lsb_release"] = &setupSection{body: out, rc: 0}
	return false
}

// lsbMinimal is what lsb-release-minimal's `lsb_release -a` prints after
// sourcing osRelease, or false when osRelease is anything but blank lines,
// comments and plain NAME=VALUE assignments (an unquoted word of safe
// characters, or one quoted string without expansions) to names the
// script, the shell or the tools it runs do not give a meaning: for such a
// file only the shell itself can tell.
func lsbMinimal(osRelease string) (string, bool) {
	vars := map[string]string{}
	for _, line := range strings.Split(osRelease, "\n") {
		if t := strings.TrimLeft(line, " \t"); t == "" || t[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok || !lsbPlainName(name) {
			return "", false
		}
		if value, ok = lsbPlainValue(value); !ok {
			return "", false
		}
		vars[name] = value
	}
	// The script capitalizes ID's first byte (cut -c1 | tr '[:lower:]'
	// '[:upper:]', byte-wise tools) and takes NAME instead when the two
	// differ only in case (tr '[:upper:]' '[:lower:]'): exact for ASCII.
	id := vars["ID"]
	if !isASCII(id) {
		return "", false
	}
	if id != "" && 'a' <= id[0] && id[0] <= 'z' {
		id = string(id[0]-'a'+'A') + id[1:]
	}
	// The script asks "${NAME-x}" != x, so NAME=x counts as unset.
	if name, ok := vars["NAME"]; ok && name != "x" {
		if !isASCII(name) {
			return "", false
		}
		if strings.ToLower(id) == strings.ToLower(name) {
			id = name
		}
	}
	var b strings.Builder
	for _, l := range [][2]string{{"Distributor ID", id}, {"Description", vars["PRETTY_NAME"]}, {"Release", vars["VERSION_ID"]}, {"Codename", vars["VERSION_CODENAME"]}} {
		if l[1] == "" {
			l[1] = "n/a"
		}
		b.WriteString(l[0] + ":\t" + l[1] + "\n")
	}
	return b.String(), true
}

// lsbSpecialNames are upper-case names that mean something to the script
// (it reads LSB_OS_RELEASE), to sh (dash, or bash as sh, where some are
// read-only) or to cut, tr and the C library when exported.
var lsbSpecialNames = map[string]bool{
	"PATH": true, "IFS": true, "ENV": true, "HOME": true, "PWD": true, "OLDPWD": true, "PPID": true, "OPTIND": true,
	"OPTARG": true, "OPTERR": true, "PS1": true, "PS2": true, "PS4": true, "CDPATH": true, "MAIL": true, "MAILCHECK": true,
	"MAILPATH": true, "LINENO": true, "FCEDIT": true, "HISTFILE": true, "HISTSIZE": true, "HISTCMD": true, "TERM": true,
	"TMPDIR": true, "TZ": true, "TZDIR": true, "NLSPATH": true, "POSIXLY_CORRECT": true, "LSB_OS_RELEASE": true,
	"GETOPT_COMPATIBLE": true, "LOCPATH": true, "GCONV_PATH": true, "UID": true, "EUID": true, "GROUPS": true,
	"SHELLOPTS": true, "FUNCNAME": true, "RANDOM": true, "SRANDOM": true, "SECONDS": true, "SHLVL": true,
	"COLUMNS": true, "LINES": true, "EPOCHSECONDS": true, "EPOCHREALTIME": true, "HOSTNAME": true, "HOSTTYPE": true,
}

// lsbPlainName reports whether an os-release line may assign name: an
// upper-case shell name with no meaning of its own (the script's own
// variables are lower-case).
func lsbPlainName(name string) bool {
	if name == "" || name[0] < 'A' || name[0] > 'Z' || lsbSpecialNames[name] {
		return false
	}
	for _, p := range []string{"LC_", "LANG", "LD_", "MALLOC", "GLIBC_", "BASH"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// lsbPlainValue is the value sh gives the right side of an assignment that
// is a single word without expansions: 'text', "text" without \ $ ` ", or
// bare safe characters (no ~, which expands in assignments).
func lsbPlainValue(v string) (string, bool) {
	switch {
	case len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' && !strings.Contains(v[1:len(v)-1], "'"):
		return v[1 : len(v)-1], true
	case len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && !strings.ContainsAny(v[1:len(v)-1], "\"\\$`"):
		return v[1 : len(v)-1], true
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_./,+@%:=-", c) >= 0) {
			return "", false
		}
	}
	return v, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
