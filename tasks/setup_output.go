package tasks

import (
	"errors"
	"strconv"
	"strings"
)

// setupOutput is what setup.sh printed, split into its parts. The host
// wrote all of it, so nothing here trusts its shape: a missing or mangled
// part reads as absent.
type setupOutput struct {
	sections map[string]*setupSection
	// files maps a path to its content, lines joined by "\n".
	files map[string]string
	// exists maps a path to its flags: d directory, f file, l symlink,
	// s not empty; "o" for anything else.
	exists map[string]string
	// links maps a symlink to its target.
	links map[string]string
	// facts are the *.fact files in the order the host listed them.
	facts []localFactOutput
	// host and environ cache uname and env, which several collectors read.
	host    *uname
	environ map[string]any
	// pending are the sections setup.sh left for Go to derive that Go found
	// it cannot: setup_followup.sh gathers them.
	pending []string
}

// setupSection is one section: the words after its name and its body.
type setupSection struct {
	arg  string
	body string
	rc   int // -1 when the script printed no status
}

// localFactOutput is one *.fact file: its content, or the output of
// running it.
type localFactOutput struct {
	path   string
	exec   bool
	out    string
	stderr string
	rc     int
}

// errSetupTruncated means the script's answer lacks its end marker: the
// shell died or the output was cut.
var errSetupTruncated = errors.New("the host's answer to the fact script is incomplete")

// parseSetupOutput splits out at the markers "\n@@NONCE ". Text before the
// first marker (a login banner, shell noise) is ignored.
func parseSetupOutput(out, nonce string) (*setupOutput, error) {
	o := &setupOutput{sections: map[string]*setupSection{}, files: map[string]string{},
		exists: map[string]string{}, links: map[string]string{}}
	sep := "\n@@" + nonce + " "
	records := strings.Split("\n"+out, sep)[1:]
	started, ended := false, false
	var last *setupSection
	for _, rec := range records {
		header, body, _ := strings.Cut(rec, "\n")
		name, arg, _ := strings.Cut(header, " ")
		switch name {
		case "start":
			started = true
		case "end":
			ended = true
		case "rc":
			if last != nil {
				last.rc = atoiDefault(strings.TrimSpace(arg), -1)
			}
			continue
		case "fact", "factx":
			o.facts = append(o.facts, localFactOutput{path: arg, exec: name == "factx", out: body, rc: 0})
		case "facterr":
			if n := len(o.facts); n > 0 && o.facts[n-1].exec {
				o.facts[n-1].rc = atoiDefault(arg, -1)
				o.facts[n-1].stderr = body
			}
		}
		last = &setupSection{arg: arg, body: body, rc: -1}
		o.sections[name] = last
	}
	if !started || !ended {
		return o, errSetupTruncated
	}
	o.parseExists()
	o.parseFiles()
	o.parseLinks()
	o.derive()
	return o, nil
}

// derive fills in the sections setup.sh spared the host a process for, in
// the shape the collectors read, and lists in pending those it cannot.
func (o *setupOutput) derive() {
	o.splitIPBatch()
	for _, d := range []struct {
		section string
		pending func() bool
	}{
		{"lsb_release", o.lsbFromOSRelease},
		{"findmnt", o.findmntFromMountinfo},
		{"chrootino", o.chrootInoFromFdinfo},
		{"getconf", o.longBitFromMaps},
		{"passwd", o.passwdFromFile},
		{"fqdn", o.fqdnFromHosts},
		{"capsh", o.capsFromStatus},
	} {
		if d.pending() {
			o.pending = append(o.pending, d.section)
		}
	}
}

func (o *setupOutput) parseExists() {
	for _, line := range o.lines("exists") {
		if flags, p, ok := strings.Cut(line, " "); ok && p != "" {
			o.exists[p] = flags
		}
	}
}

// parseFiles matches grep's "PATH:LINE" output against the file list in
// order. A line always carries its own file's name, so the current file
// changes only when a line does not start with it. A name listed again
// (setup.sh lists none twice) keeps its first content.
func (o *setupOutput) parseFiles() {
	names := o.lines("files")
	first := make(map[string]int, len(names))
	for i := len(names) - 1; i >= 0; i-- {
		first[names[i]] = i
	}
	cur := 0
	content := map[string]*strings.Builder{}
	for _, line := range o.lines("grep") {
		i := cur
		for i < len(names) && !strings.HasPrefix(line, names[i]+":") {
			i++
		}
		if i == len(names) {
			continue // not a line of a listed file
		}
		cur = i
		if first[names[i]] != i {
			continue
		}
		b := content[names[i]]
		if b == nil {
			b = &strings.Builder{}
			content[names[i]] = b
		} else {
			b.WriteByte('\n')
		}
		b.WriteString(line[len(names[i])+1:])
	}
	for _, n := range names {
		if b := content[n]; b != nil {
			o.files[n] = b.String()
		} else {
			o.files[n] = ""
		}
	}
}

// parseLinks reads `ls -ld` lines, "lrwxrwxrwx ... PATH -> TARGET", for
// the paths the symlinks section lists, and the linkdirs section's "PATH
// NAME" lines: for a sysfs link, the name of the directory it leads to,
// which is all Go reads of such a target (its last part).
func (o *setupOutput) parseLinks() {
	for _, line := range o.lines("linkdirs") {
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			o.links[line[:i]] = line[i+1:]
		}
	}
	names := o.lines("symlinks")
	for _, line := range o.lines("links") {
		for _, p := range names {
			if _, target, ok := strings.Cut(line, " "+p+" -> "); ok {
				o.links[p] = target
				break
			}
		}
	}
}

// section returns a section's body and whether it ran and succeeded (a
// section without a status counts as successful).
func (o *setupOutput) section(name string) (string, bool) {
	s := o.sections[name]
	if s == nil {
		return "", false
	}
	return s.body, s.rc <= 0
}

// lines returns a section's lines, none when it is missing.
func (o *setupOutput) lines(name string) []string {
	s := o.sections[name]
	if s == nil || s.body == "" {
		return nil
	}
	return strings.Split(s.body, "\n")
}

// file returns a file's content stripped as Ansible's get_file_content
// does; ok is false when the file was missing, unreadable or empty.
func (o *setupOutput) file(path string) (string, bool) {
	s, ok := o.files[path]
	s = strings.TrimSpace(s)
	return s, ok && s != ""
}

// fileLines returns a file's lines, none when it is missing.
func (o *setupOutput) fileLines(path string) []string {
	s, ok := o.file(path)
	if !ok {
		return nil
	}
	return strings.Split(s, "\n")
}

// has reports whether path exists on the host.
func (o *setupOutput) has(path string) bool {
	_, ok := o.exists[path]
	return ok
}

// isDir reports whether path is a directory on the host.
func (o *setupOutput) isDir(path string) bool {
	return strings.Contains(o.exists[path], "d")
}

// nonEmpty reports whether path is a file that is not empty.
func (o *setupOutput) nonEmpty(path string) bool {
	return strings.Contains(o.exists[path], "s")
}

// bin returns the path of a helper command the host has, or "".
func (o *setupOutput) bin(name string) string {
	for _, line := range o.lines("bins") {
		if strings.HasSuffix(line, "/"+name) {
			return line
		}
	}
	return ""
}

// under lists the paths below dir that the host reported, sorted as the
// shell's glob sorted them.
func (o *setupOutput) under(dir string) []string {
	var out []string
	seen := map[string]bool{}
	for _, line := range o.lines("exists") {
		_, p, ok := strings.Cut(line, " ")
		if !ok || !strings.HasPrefix(p, dir) || len(p) == len(dir) || strings.Contains(p[len(dir):], "/") || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
	}
	return out
}

func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}
