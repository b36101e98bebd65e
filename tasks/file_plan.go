package tasks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/drover/drover/connection"
)

// filePlan decides what to report and which commands change the host, in
// the order Ansible's file module makes its system calls.
type filePlan struct {
	a     fileArgs
	pr    *fileProbe
	check bool

	res     map[string]any            // return values before path info
	diff    map[string]map[string]any // before and after; nil when the result has none
	changed bool
	steps   []fileStep
	report  string // the path whose attributes the result shows (add_path_info)
	failed  bool
	msg     string
}

// fileStep is one command of the change script.
type fileStep struct {
	cmd  string
	src  string // link steps: the link's target
	what string // how a failure is worded: mkdir, chown, chgrp, chmod, rmtree, unlink, touch, link, relink, utime
	path string
}

// extraQueries returns what the first answer left open.
func (p *filePlan) extraQueries() []fileQuery {
	a, pr := p.a, p.pr
	if a.state != "directory" && !(a.state == "" && a.recurse) {
		return nil
	}
	dir := a.path
	if a.follow && pr.lstat[dir].kind == "link" {
		dir = pr.follow[dir].str
	}
	if pr.stat(dir).exists() {
		return nil
	}
	var q []fileQuery
	for _, c := range dirPrefixes(dir) {
		if _, ok := pr.follow[c]; !ok {
			q = append(q, fileQuery{"F", c})
		}
	}
	return q
}

// fail ends the task as AnsibleModuleError does: data are the values the
// error carries, and the path they name is described as for a success.
// Steps already planned still run, as Ansible had made those calls.
func (p *filePlan) fail(msg string, data map[string]any) {
	p.failed, p.msg, p.res = true, msg, data
	p.report, _ = data["path"].(string)
	if p.report == "" {
		p.report, _ = data["dest"].(string)
	}
}

// run is Ansible's additional_parameter_handling and main.
func (p *filePlan) run() {
	a, pr := &p.a, p.pr
	if base := a.srcBase(); base != "" && a.state != "link" && a.state != "absent" && pr.follow[a.path].kind == "directory" {
		a.path = pyJoin(a.path, base)
	}
	prev := pr.stat(a.path).state()
	if a.state == "" {
		switch {
		case prev != "absent":
			a.state = prev
		case a.recurse:
			a.state = "directory"
		default:
			a.state = "file"
		}
	}
	if a.recurse && a.state != "directory" {
		p.fail("recurse option requires state to be 'directory'", map[string]any{"path": a.path})
		return
	}
	if a.src != "" && a.state != "link" && a.state != "hard" {
		p.fail("src option requires state to be 'link' or 'hard'", map[string]any{"path": a.path})
		return
	}
	switch a.state {
	case "file":
		p.ensureFile()
	case "directory":
		p.ensureDirectory()
	case "link":
		p.ensureSymlink()
	case "hard":
		p.ensureHardlink()
	case "touch":
		p.touch()
	case "absent":
		p.ensureAbsent()
	}
}

// initialDiff is Ansible's initial_diff.
func (p *filePlan) initialDiff(pth, state, prev string) {
	p.diff = map[string]map[string]any{"before": {"path": pth}, "after": {"path": pth}}
	if prev != state {
		p.diff["before"]["state"], p.diff["after"]["state"] = prev, state
	}
}

// target is the path attributes go to: a followed link's resolved path.
func (p *filePlan) target(pth string) string {
	if p.a.follow && p.pr.stat(pth).kind == "link" {
		return p.pr.follow[pth].str
	}
	return pth
}

// ensureFile is ensure_file_attributes: the path must be a file already.
func (p *filePlan) ensureFile() {
	pth, pr := p.a.path, p.pr
	prev := pr.stat(pth).state()
	target := p.target(pth)
	if prev != "file" && p.a.follow && prev == "link" {
		pth = target
		prev = pr.stat(pth).state()
	}
	if prev != "file" && prev != "hard" {
		p.fail(fmt.Sprintf("file (%s) is %s, cannot continue", pth, prev), map[string]any{"path": pth, "state": prev})
		return
	}
	p.initialDiff(pth, "file", prev)
	p.res = map[string]any{"path": pth}
	p.report = pth
	p.changed = p.setAttrs(target, pr.stat(target), pr.exists(target), true)
	p.timestamps(target, true)
}

// ensureDirectory is ensure_directory: mkdir -p, each new directory
// getting the attributes, or the attributes on an existing one.
func (p *filePlan) ensureDirectory() {
	pth, pr := p.a.path, p.pr
	prev := pr.stat(pth).state()
	if p.a.follow && prev == "link" {
		pth = pr.follow[pth].str
		prev = pr.stat(pth).state()
	}
	p.initialDiff(pth, "directory", prev)
	p.res = map[string]any{"path": pth}
	p.report = pth
	switch prev {
	case "absent":
		p.changed = true
		if p.check {
			p.report = ""
			return
		}
		parent := fileRec{kind: "directory"}
		for _, c := range dirPrefixes(pth) {
			if r := pr.follow[c]; r.exists() {
				parent = r
				continue
			}
			p.step("mkdir", c, "mkdir -- "+connection.Quote(c))
			// A new directory has the umask's mode and the creator's ids,
			// or the group and setgid bit of a setgid parent.
			made := fileRec{kind: "directory", mode: 0o777 &^ pr.umask, uid: pr.uid, gid: pr.gid}
			if parent.mode&0o2000 != 0 {
				made.mode |= 0o2000
				made.gid = parent.gid
			}
			if !p.setAttrs(c, made, true, true) && p.failed {
				return
			}
			parent = p.afterAttrs(made)
		}
		p.timestamps(pth, true)
	case "directory":
		p.changed = p.setAttrs(pth, pr.stat(pth), true, true)
		if p.failed {
			return
		}
		p.timestamps(pth, true)
		if p.a.recurse {
			p.changed = p.recurse(pth) || p.changed
		}
	default:
		p.fail(fmt.Sprintf("%s already exists as a %s", pth, prev), map[string]any{"path": pth})
	}
}

// ensureSymlink is ensure_symlink: path becomes a symlink to src.
func (p *filePlan) ensureSymlink() {
	a, pr := p.a, p.pr
	pth, src := a.path, a.src
	cur := pr.stat(pth)
	prev := cur.state()
	hasSrc := src != ""
	if !hasSrc && a.follow && pr.exists(pth) {
		if cur.kind != "link" {
			p.fail("src is required for creating new symlinks", map[string]any{})
			return
		}
		src, hasSrc = cur.str, true
	}
	relpath := pyDirname(pth)
	if cur.kind == "directory" {
		relpath = pth
	}
	var srcValue any
	if hasSrc {
		srcValue = src
	}
	// A src read from the link itself exists: follow found the target.
	if !a.force && a.src != "" && !pr.exists(pyJoin(relpath, src)) {
		p.fail(`src file does not exist, use "force=yes" if you really want to create the link: `+pyJoin(relpath, src),
			map[string]any{"path": pth, "src": src})
		return
	}
	switch {
	case prev == "directory" && !a.force, (prev == "file" || prev == "hard") && !a.force:
		p.fail(fmt.Sprintf("refusing to convert from %s to symlink for %s", prev, pth), map[string]any{"path": pth})
		return
	case prev == "directory" && !pr.empty[pth]:
		p.fail(fmt.Sprintf("the directory %s is not empty, refusing to convert it", pth), map[string]any{"path": pth})
		return
	}
	p.initialDiff(pth, "link", prev)
	p.res = map[string]any{"dest": pth, "src": srcValue}
	p.report = pth
	if prev == "link" {
		if hasSrc && cur.str != src {
			p.diff["before"]["src"], p.diff["after"]["src"] = cur.str, src
			p.changed = true
		}
	} else {
		if !hasSrc {
			p.fail("src is required for creating new symlinks", map[string]any{})
			return
		}
		p.changed = true
	}
	if p.changed && !p.check {
		p.link(pth, src, prev, true)
	}
	if p.check && !pr.exists(pth) {
		p.report = ""
		return
	}
	p.symlinkAttrs(cur, src)
}

// symlinkAttrs sets the attributes ensure_symlink sets once the link is in
// place: on its target when following, else on the link itself.
func (p *filePlan) symlinkAttrs(cur fileRec, src string) {
	a, pr := p.a, p.pr
	pth := a.path
	// After a change the target is src seen from the link's directory,
	// which the probe looked at too.
	tgt, info, exists := pth, cur, pr.exists(pth)
	if p.changed && !p.check {
		newTarget := pyJoin(pyDirname(pth), src)
		info, exists = fileRec{kind: "link", mode: 0o777, uid: pr.uid, gid: pr.gid}, pr.exists(newTarget)
		if a.follow {
			tgt, info = pr.follow[newTarget].str, pr.follow[newTarget]
		}
	} else if a.follow && cur.kind == "link" {
		tgt, info = pr.follow[pth].str, pr.follow[pth]
	}
	if a.follow && (info.kind == "absent" || p.changed && !p.check && !exists) {
		return // Ansible warns that a missing target cannot take attributes
	}
	p.changed = p.setAttrs(tgt, info, exists, true) || p.changed
	p.timestamps(tgt, exists)
}

// ensureHardlink is ensure_hardlink: path becomes another name of src.
func (p *filePlan) ensureHardlink() {
	a, pr := p.a, p.pr
	pth, src := a.path, a.src
	cur := pr.stat(pth)
	prev := cur.state()
	target := p.target(pth)
	if prev != "hard" && src == "" {
		p.fail("src is required for creating new hardlinks", map[string]any{})
		return
	}
	var srcValue any
	if src != "" {
		srcValue = src
		if !pr.exists(src) {
			p.fail("src does not exist", map[string]any{"dest": pth, "src": src})
			return
		}
	}
	p.initialDiff(pth, "hard", prev)
	if !p.hardlinkNeeded(cur, prev) {
		return
	}
	p.res = map[string]any{"dest": pth, "src": srcValue}
	p.report = pth
	if p.changed && !p.check {
		p.link(pth, src, prev, false)
	}
	if p.check && !pr.exists(pth) {
		p.report = ""
		return
	}
	// Ansible chose the attribute target before linking: the new file
	// (which is src's inode) or a followed link's old target.
	info, exists := pr.stat(target), pr.exists(target)
	if target == pth && p.changed && !p.check {
		info, exists = pr.follow[src], true
	}
	p.changed = p.setAttrs(target, info, exists, true) || p.changed
	p.timestamps(target, true)
}

// hardlinkNeeded sets changed as ensure_hardlink decides it from the
// path's current state; false means the task ends here, failed or done.
func (p *filePlan) hardlinkNeeded(cur fileRec, prev string) bool {
	a, pr := p.a, p.pr
	pth, src := a.path, a.src
	switch prev {
	case "absent":
		p.changed = true
	case "link":
		if cur.str != src {
			p.diff["before"]["src"], p.diff["after"]["src"] = cur.str, src
			p.changed = true
		}
	case "hard":
		if src != "" && pr.follow[pth].ino != pr.follow[src].ino {
			p.changed = true
			if !a.force {
				p.fail("Cannot link, different hard link exists at destination", map[string]any{"dest": pth, "src": src})
				return false
			}
		}
	case "file":
		p.changed = true
		if !a.force {
			p.fail("Cannot link, file exists at destination", map[string]any{"dest": pth, "src": src})
			return false
		}
	case "directory":
		p.changed = true
		if pr.follow[pth].ino == pr.follow[src].ino {
			p.res, p.changed, p.diff, p.report = map[string]any{"path": pth}, false, nil, pth
			return false
		}
		if !a.force {
			p.fail("Cannot link: different hard link exists at destination", map[string]any{"dest": pth, "src": src})
			return false
		}
	}
	return true
}

// touch is execute_touch: create if missing, set attributes and times.
func (p *filePlan) touch() {
	pth, pr := p.a.path, p.pr
	cur := pr.stat(pth)
	prev := cur.state()
	p.res = map[string]any{"dest": pth}
	p.report = pth
	if prev == "absent" {
		p.changed = true
		if p.check {
			p.report = ""
			return
		}
		p.step("touch", pth, "touch -- "+connection.Quote(pth))
	}
	p.initialDiff(pth, "touch", prev)
	target, info, exists := p.target(pth), cur, pr.exists(pth)
	if prev == "absent" {
		info = fileRec{kind: "file", mode: 0o666 &^ p.pr.umask, uid: pr.uid, gid: pr.gid, nlink: 1}
		if parent := pr.follow[orString(pyDirname(pth), ".")]; parent.mode&0o2000 != 0 {
			info.gid = parent.gid
		}
	} else if target != pth {
		info, exists = pr.stat(target), pr.exists(target)
	}
	changed := p.setAttrs(target, info, exists, true)
	if p.failed {
		if prev == "absent" {
			p.steps = append(p.steps, fileStep{cmd: "rm -f -- " + connection.Quote(pth), what: "unlink", path: pth})
		}
		return
	}
	p.changed = changed || p.changed
	p.timestamps(target, exists || prev == "absent")
}

// ensureAbsent is ensure_absent: remove the path, a directory with all
// it holds.
func (p *filePlan) ensureAbsent() {
	pth, pr := p.a.path, p.pr
	prev := pr.stat(pth).state()
	p.res = map[string]any{"path": pth, "state": "absent"}
	p.report = pth
	if prev == "absent" {
		return
	}
	p.initialDiff(pth, "absent", prev)
	if prev == "directory" {
		p.diff["before"]["path_content"] = p.walkList(pth)
		p.step("rmtree", pth, "rm -rf -- "+connection.Quote(pth))
	} else {
		p.step("unlink", pth, "rm -f -- "+connection.Quote(pth))
	}
	p.changed = true
}

// walkList is the path_content Ansible reports before removing a
// directory: os.walk's order, directories and files apart.
func (p *filePlan) walkList(root string) map[string]any {
	children := map[string][]fileRec{}
	for _, r := range p.pr.tree {
		dir := path.Dir(r.key)
		if dir == "." {
			dir = ""
		}
		children[dir] = append(children[dir], r)
	}
	dirs, files := []string{}, []string{}
	var walk func(rel, abs string)
	walk = func(rel, abs string) {
		var sub []fileRec
		for _, c := range children[rel] {
			full := pyJoin(abs, path.Base(c.key))
			if c.kind == "directory" || c.kind == "link" && c.extra == "d" {
				dirs = append(dirs, full)
				if c.kind == "directory" {
					sub = append(sub, c)
				}
			} else {
				files = append(files, full)
			}
		}
		for _, c := range sub {
			walk(c.key, pyJoin(abs, path.Base(c.key)))
		}
	}
	walk("", root)
	return map[string]any{"directories": dirs, "files": files}
}

// link replaces path with a symbolic or hard link to src, through a
// temporary name and a rename as Ansible does.
func (p *filePlan) link(pth, src, prev string, symbolic bool) {
	ln := "ln -- "
	if symbolic {
		ln = "ln -s -- "
	}
	dst, qsrc := connection.Quote(pth), connection.Quote(src)
	if prev == "absent" {
		p.step("link", pth, ln+qsrc+" "+dst)
		p.steps[len(p.steps)-1].src = src
		return
	}
	var cmd string
	switch {
	case prev == "directory" && symbolic:
		cmd = "rmdir -- " + dst + " && "
	case prev == "directory":
		cmd = "rm -f -- " + dst + " && "
	}
	tmp := connection.Quote(orString(pyDirname(pth), ".")) + "/.drover.$$.tmp"
	cmd += "t=" + tmp + " && " + ln + qsrc + ` "$t" && { mv -fT -- "$t" ` + dst + ` || { rm -f -- "$t"; false; }; }`
	p.step("relink", pth, cmd)
}

// step adds a command to the change script.
func (p *filePlan) step(what, pth, cmd string) {
	p.steps = append(p.steps, fileStep{cmd: cmd, what: what, path: pth})
}

// setAttrs is Ansible's set_fs_attributes_if_different for one path whose
// current state is cur: owner, group, then mode, each noted in the diff.
func (p *filePlan) setAttrs(pth string, cur fileRec, exists, withDiff bool) bool {
	a, pr := p.a, p.pr
	changed := false
	note := func(key string, before, after any) {
		if withDiff && p.diff != nil {
			p.diff["before"][key], p.diff["after"][key] = before, after
		}
	}
	for _, id := range []struct {
		arg, tag, what, verb string
		cur                  int
	}{{a.owner, "U", "user", "chown", cur.uid}, {a.group, "G", "group", "chgrp", cur.gid}} {
		if id.arg == "" {
			continue
		}
		if p.check && !exists {
			changed = true
			continue
		}
		want, err := strconv.Atoi(id.arg)
		if err != nil {
			r := pr.ids[id.tag+id.arg]
			if r.kind != "found" {
				p.fail(fmt.Sprintf("%s failed: failed to look up %s %s", id.verb, id.what, id.arg), map[string]any{"path": pth})
				return false
			}
			want = r.uid
		}
		if want != id.cur {
			note(map[string]string{"U": "owner", "G": "group"}[id.tag], id.cur, want)
			changed = true
			if !p.check {
				p.step(id.verb, pth, id.verb+" -h -- "+strconv.Itoa(want)+" "+connection.Quote(pth))
			}
		}
	}
	if !a.mode.set {
		return changed
	}
	if p.check && !exists {
		return true
	}
	mode, err := a.mode.bits(cur.mode, cur.kind == "directory", pr.umask)
	if err != nil {
		p.fail("mode must be in octal or symbolic form", map[string]any{"path": pth})
		return false
	}
	if mode != cur.mode {
		note("mode", fmt.Sprintf("0%03o", cur.mode), fmt.Sprintf("0%03o", mode))
		switch {
		case p.check:
			changed = true
		case cur.kind == "link":
			// Linux has no lchmod: Ansible's chmod through the link is
			// undone, and the link's own mode never changes.
		default:
			// Five digits: GNU chmod keeps a directory's setgid bit for
			// a four-digit mode, and Ansible's chmod(2) does not.
			p.step("chmod", pth, fmt.Sprintf("chmod -- %05o %s", mode&0o7777, connection.Quote(pth)))
			changed = true
		}
	}
	return changed
}

// afterAttrs is r once setAttrs has run: the parent the next mkdir sees.
func (p *filePlan) afterAttrs(r fileRec) fileRec {
	if m, err := p.a.mode.bits(r.mode, r.kind == "directory", p.pr.umask); p.a.mode.set && err == nil {
		r.mode = m
	}
	if p.a.group != "" {
		if gid := p.wantID(p.a.group, "G"); gid >= 0 {
			r.gid = gid
		}
	}
	return r
}

// timestamps applies modification_time and access_time "now" to a path
// that exists once the earlier steps ran: Ansible then always reports a
// change.
func (p *filePlan) timestamps(pth string, exists bool) {
	m, at := p.a.mtime, p.a.atime
	if p.a.state == "touch" {
		m, at = orString(m, "now"), orString(at, "now")
	}
	var flag string
	switch {
	case m == "now" && at == "now":
	case m == "now":
		flag = "-m "
	case at == "now":
		flag = "-a "
	default:
		return
	}
	if !exists {
		p.fail("Error while updating modification or access time: [Errno 2] No such file or directory: "+pyBytes(pth), map[string]any{"path": pth})
		return
	}
	p.changed = true
	if !p.check {
		p.step("utime", pth, "touch -c "+flag+"-- "+connection.Quote(pth))
	}
}

// recurse is Ansible's recursive_set_attributes: every entry below root
// gets the attributes; links themselves are chowned (lchown) and, with
// follow, so are their targets, and the contents of linked directories.
func (p *filePlan) recurse(root string) bool {
	a := p.a
	w := treeWork{owner: -1, group: -1, modes: map[modeGroup]uint32{}}
	if a.owner != "" {
		w.owner = p.wantID(a.owner, "U")
	}
	if a.group != "" {
		w.group = p.wantID(a.group, "G")
	}
	for _, r := range p.pr.tree {
		if r.kind == "link" || !a.follow {
			p.consider(&w, r, false)
		}
	}
	if a.follow {
		for _, r := range p.pr.ftree {
			if r.kind != "link" { // a dangling link has nothing to follow
				p.consider(&w, r, true)
			}
		}
	}
	if w.changed && !p.check {
		p.treeSteps(root, w)
	}
	return w.changed
}

// treeWork is what a recursive run must change below a directory.
type treeWork struct {
	owner, group  int // -1 when not given
	changed       bool
	lchown, chown bool // entries (links themselves) or followed targets need chown
	modes         map[modeGroup]uint32
}

// modeGroup is the entries one chmod covers: same type, same mode.
type modeGroup struct {
	dir  bool
	from uint32
}

// consider notes what entry r (followed or not) needs.
func (p *filePlan) consider(w *treeWork, r fileRec, followed bool) {
	if w.owner >= 0 && r.uid != w.owner || w.group >= 0 && r.gid != w.group {
		w.changed = true
		if followed {
			w.chown = true
		} else {
			w.lchown = true
		}
	}
	if !p.a.mode.set {
		return
	}
	want, err := p.a.mode.bits(r.mode, r.kind == "directory", p.pr.umask)
	if err != nil || want == r.mode {
		return
	}
	if r.kind == "link" {
		w.changed = w.changed || p.check // see setAttrs: links keep their mode
		return
	}
	w.changed = true
	w.modes[modeGroup{r.kind == "directory", r.mode}] = want
}

// treeSteps are a few find commands whatever the tree's size, so the
// command line stays short: chown by uid and gid, chmod by exact mode.
func (p *filePlan) treeSteps(root string, w treeWork) {
	start := root
	if strings.HasPrefix(start, "-") {
		start = "./" + start
	}
	walk := "find -H " + connection.Quote(start) + " -mindepth 1 "
	if p.a.follow {
		walk = "find -L " + connection.Quote(start) + " -mindepth 1 "
	}
	if w.lchown || w.chown {
		var cond []string
		spec := ""
		if w.owner >= 0 {
			cond, spec = append(cond, "! -uid "+strconv.Itoa(w.owner)), strconv.Itoa(w.owner)
		}
		if w.group >= 0 {
			cond, spec = append(cond, "! -gid "+strconv.Itoa(w.group)), spec+":"+strconv.Itoa(w.group)
		}
		match := `\( ` + strings.Join(cond, " -o ") + ` \)`
		if w.lchown {
			p.step("chown", root, "find -H "+connection.Quote(start)+" -mindepth 1 "+match+" -exec chown -h "+spec+" {} +")
		}
		if w.chown {
			p.step("chown", root, walk+"! -type l "+match+" -exec chown "+spec+" {} +")
		}
	}
	if len(w.modes) > 0 {
		var alts []string
		for g, want := range w.modes {
			t := "! -type d"
			if g.dir {
				t = "-type d"
			}
			alts = append(alts, fmt.Sprintf("%s -perm %04o -exec chmod %05o {} +", t, g.from, want&0o7777))
		}
		slices.Sort(alts) // the same command for the same tree
		p.step("chmod", root, walk+`! -type l \( `+strings.Join(alts, " -o ")+` \)`)
	}
}

// wantID is the uid or gid an owner or group argument names; the top
// directory's setAttrs has already failed for a name that does not exist.
func (p *filePlan) wantID(arg, tag string) int {
	if n, err := strconv.Atoi(arg); err == nil {
		return n
	}
	if r := p.pr.ids[tag+arg]; r.kind == "found" {
		return r.uid
	}
	return -1
}

// finish runs the change script, unless in check mode, and builds the
// result with the path information Ansible's add_path_info adds.
func (p *filePlan) finish(ctx context.Context, env *Env) (*Result, error) {
	final, hasFinal := fileRec{}, false
	var exists bool
	if len(p.steps) > 0 && !p.check {
		recs, failed, err := p.apply(ctx, env)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			switch r.tag {
			case "S":
				final, hasFinal = r, true
			case "F":
				exists = r.exists()
			}
		}
		if failed != nil {
			p.failed, p.msg = true, failed.msg
			p.res = map[string]any{"path": failed.path}
			if failed.requested {
				p.res["path"] = p.report
			}
		}
	}
	r := &Result{Changed: p.changed && !p.failed, Failed: p.failed, Msg: p.msg, Data: map[string]any{}}
	for k, v := range p.res {
		r.Data[k] = v
	}
	if p.diff != nil && !p.failed {
		d := map[string]any{"before": p.diff["before"], "after": p.diff["after"]}
		r.Data["diff"] = d
		if env.Diff && r.Changed {
			r.Diff = []Diff{{Before: pyJSON(p.diff["before"]), After: pyJSON(p.diff["after"])}}
		}
	}
	if p.report == "" {
		return r, nil
	}
	if !hasFinal {
		final, exists = p.pr.stat(p.report), p.pr.exists(p.report)
	}
	if exists {
		r.Data["uid"], r.Data["gid"] = final.uid, final.gid
		r.Data["owner"], r.Data["group"] = final.user, final.group
		r.Data["mode"] = fmt.Sprintf("0%03o", final.mode)
		r.Data["state"] = final.state()
		r.Data["size"] = final.size
	}
	return r, nil
}

// stepFailure is a change step that failed, worded as Ansible words it.
type stepFailure struct {
	msg, path string
	requested bool // Ansible names the task's path, not the step's
}

// apply runs the steps as one script that stops at the first failure and
// then, failed or not, describes the reported path.
func (p *filePlan) apply(ctx context.Context, env *Env) ([]fileRec, *stepFailure, error) {
	var b strings.Builder
	b.WriteString(fileFuncs)
	b.WriteString("rp=" + connection.Quote(p.report) + "\n")
	b.WriteString(`f() { r X "$1" '' 0 0 0 '' '' 0 0 0 '' ''; if [ -n "$rp" ]; then st S "$rp"; st F "$rp"; fi; exit 1; }` + "\n")
	for i, s := range p.steps {
		fmt.Fprintf(&b, "%s || f %d\n", s.cmd, i)
	}
	b.WriteString(`if [ -n "$rp" ]; then st S "$rp"; st F "$rp"; fi` + "\n")
	out, err := run(ctx, env, "sh -c "+connection.Quote(b.String()), nil)
	if err != nil {
		return nil, nil, err
	}
	recs, perr := parseFileRecs(out.stdout)
	if perr != nil {
		return nil, nil, fmt.Errorf("change %s: %w: %s", p.report, perr, strings.TrimSpace(out.stderr))
	}
	for _, r := range recs {
		if r.tag != "X" {
			continue
		}
		i, _ := strconv.Atoi(r.key)
		if i < 0 || i >= len(p.steps) {
			break
		}
		return recs, p.steps[i].failure(p.steps[i].path, out.stderr), nil
	}
	if out.rc != 0 {
		return nil, nil, fmt.Errorf("change %s: exit status %d: %s", p.report, out.rc, strings.TrimSpace(out.stderr))
	}
	return recs, nil, nil
}

// failure words a failed step as the Python call it stands for would fail.
func (s fileStep) failure(target, stderr string) *stepFailure {
	e := pyOSError(stderr, target)
	switch s.what {
	case "link": // os.symlink names both ends
		if i := strings.LastIndex(e, ": b"); i >= 0 {
			e = e[:i+2] + pyBytes(s.src) + " -> " + pyBytes(target)
		}
	case "rmtree":
		// shutil.rmtree names the entry it could not remove, as text.
		if i := strings.LastIndex(e, ": b"); i >= 0 {
			name := strings.TrimSuffix(strings.TrimPrefix(e[i+3:], "'"), "'")
			e = e[:i+2] + "'" + path.Base(name) + "'"
		}
	}
	msg := map[string]string{
		"mkdir":  "There was an issue creating " + target + " as requested: " + e,
		"chown":  "chown failed: " + e,
		"chgrp":  "chgrp failed",
		"chmod":  "chmod failed",
		"rmtree": "rmtree failed: " + e,
		"unlink": "unlinking failed: " + e + " ",
		"touch":  "Error, could not touch target: " + e,
		"link":   "Error while linking: " + e,
		"relink": "Error while replacing: " + e,
		"utime":  "Error while updating modification or access time: " + e,
	}[s.what]
	return &stepFailure{msg: msg, path: target, requested: s.what == "mkdir"}
}

// errnos maps strerror texts to errno numbers, to word shell failures as
// Python's OSError does.
var errnos = map[string]int{
	"Operation not permitted": 1, "No such file or directory": 2, "Permission denied": 13,
	"Device or resource busy": 16, "File exists": 17, "Not a directory": 20, "Is a directory": 21,
	"Invalid argument": 22, "No space left on device": 28, "Read-only file system": 30,
	"File name too long": 36, "Directory not empty": 39, "Too many levels of symbolic links": 40,
	"Disk quota exceeded": 122,
}

// pyOSError turns a coreutils message ("mkdir: cannot create directory
// '/x': Permission denied") into Python's "[Errno 13] Permission denied:
// b'/x'", naming the path the tool complained about.
func pyOSError(stderr, path string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	i := strings.LastIndex(last, ": ")
	if i < 0 {
		return last
	}
	reason := last[i+2:]
	n, ok := errnos[reason]
	if !ok {
		return last
	}
	if j := strings.Index(last, " '"); j >= 0 {
		if k := strings.LastIndex(last[:i], "'"); k > j+1 {
			path = last[j+2 : k]
		}
	}
	return fmt.Sprintf("[Errno %d] %s: %s", n, reason, pyBytes(path))
}

// pyBytes is Python's repr of a bytes path.
func pyBytes(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' || c == q:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyJSON renders a diff side as Ansible's callbacks do: sorted keys, four
// spaces, a final newline.
func pyJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return b.String()
}
