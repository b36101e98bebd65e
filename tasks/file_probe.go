package tasks

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/drover/drover/connection"
)

// fileFuncs are the shell functions both scripts use. Each record is 13
// NUL-terminated fields, so any path survives: tag, key, kind, mode, uid, gid,
// user, group, size, links, inode, a string and an extra field.
const fileFuncs = `export LC_ALL=C; set -f
r() { printf '%s\0' "$@"; }
ex() { case $1 in '~') p=$HOME ;; '~/'*) p=$HOME/${1#'~/'} ;; *) p=$1 ;; esac; }
st() {
	ex "$2"
	if [ "$1" = S ]; then
		if [ -L "$p" ]; then k=link; elif [ -d "$p" ]; then k=directory; elif [ -e "$p" ]; then k=file; else r S "$2" absent 0 0 0 '' '' 0 0 0 '' ''; return; fi
		s=; [ $k = link ] && s=$(readlink -- "$p")
		v=$(stat -c '%a %u %g %U %G %s %h %i' -- "$p") || v='0 0 0 ? ? 0 0 0'
	else
		s=$(readlink -m -- "$p")
		if [ -d "$p" ]; then k=directory; elif [ -e "$p" ]; then k=file; else r F "$2" absent 0 0 0 '' '' 0 0 0 "$s" ''; return; fi
		v=$(stat -L -c '%a %u %g %U %G %s %h %i' -- "$p") || v='0 0 0 ? ? 0 0 0'
	fi
	r "$1" "$2" $k $v "$s" ''
}
`

// fileProbeScript answers queries given as pairs of arguments: S path
// (lstat), F path (stat through links, and the resolved path), R path and
// Q path (every entry below path, without and with following links), D path
// (is the directory empty), U name and G name (user and group lookup). It
// starts with the home directory, umask, uid and gid.
const fileProbeScript = fileFuncs + `wk() {
	ex "$2"; case $p in -*) p=./$p ;; esac
	o=-H; [ "$1" = Q ] && o=-L
	find $o "$p" -mindepth 1 -printf "$1"'\0%P\0%y\0%m\0%U\0%G\0%u\0%g\0%s\0%n\0%i\0%l\0%Y\0' 2>/dev/null
}
em() {
	ex "$2"; e=empty; set +f
	for f in "$p"/* "$p"/.[!.]* "$p"/..?*; do if [ -e "$f" ] || [ -L "$f" ]; then e=nonempty; break; fi; done
	set -f; r D "$2" $e 0 0 0 '' '' 0 0 0 '' ''
}
nm() {
	d=passwd; [ "$1" = G ] && d=group
	if l=$(getent $d -- "$2"); then n=${l%%:*}; l=${l#*:}; l=${l#*:}; r "$1" "$2" found 0 "${l%%:*}" 0 "$n" '' 0 0 0 '' ''
	else r "$1" "$2" missing 0 0 0 '' '' 0 0 0 '' ''; fi
}
r H - '' "$(umask)" "$(id -u)" "$(id -g)" '' '' 0 0 0 "$HOME" ''
while [ $# -ge 2 ]; do
	case $1 in S|F) st "$1" "$2" ;; R|Q) wk "$1" "$2" ;; D) em "$1" "$2" ;; U|G) nm "$1" "$2" ;; esac
	shift 2
done
`

// fileQuery asks one question: op is a tag of fileProbeScript.
type fileQuery struct{ op, key string }

// fileProbe is what the host said.
type fileProbe struct {
	home     string
	umask    uint32
	uid, gid int
	lstat    map[string]fileRec // S, by path
	follow   map[string]fileRec // F, by path
	real     map[string]fileRec // F, by resolved path: the lstat of that path
	empty    map[string]bool
	ids      map[string]fileRec // U and G, by tag and name
	tree     []fileRec          // R
	ftree    []fileRec          // Q
}

// queries lists what the host must answer for any way the task may go.
func (a fileArgs) queries() []fileQuery {
	p := a.path
	q := []fileQuery{{"S", p}, {"F", p}}
	if base := a.srcBase(); base != "" && a.state != "link" && a.state != "absent" {
		q = append(q, fileQuery{"S", pyJoin(p, base)}, fileQuery{"F", pyJoin(p, base)})
	}
	if a.src != "" {
		q = append(q, fileQuery{"F", pyJoin(p, a.src)}, fileQuery{"F", pyJoin(pyDirname(p), a.src)},
			fileQuery{"F", a.src}, fileQuery{"D", p})
	}
	if a.state == "touch" || a.state == "" {
		q = append(q, fileQuery{"F", orString(pyDirname(p), ".")}) // a setgid parent gives a new file its group
	}
	if a.state == "directory" || a.state == "" && a.recurse {
		for _, c := range dirPrefixes(p) {
			q = append(q, fileQuery{"F", c})
		}
		if a.recurse {
			q = append(q, fileQuery{"R", p})
			if a.follow {
				q = append(q, fileQuery{"Q", p})
			}
		}
	}
	if a.state == "absent" {
		q = append(q, fileQuery{"R", p}) // Ansible lists what it removes, even without --diff
	}
	if a.owner != "" {
		q = append(q, fileQuery{"U", a.owner})
	}
	if a.group != "" {
		q = append(q, fileQuery{"G", a.group})
	}
	return q
}

// srcBase is the name a path that is a directory gets extended with.
func (a fileArgs) srcBase() string {
	if a.origBase != "" {
		return a.origBase
	}
	return a.src[strings.LastIndex(a.src, "/")+1:] // os.path.basename: "" for a trailing /
}

// dirPrefixes lists the directories mkdir -p creates, as Ansible walks them.
func dirPrefixes(p string) []string {
	var out []string
	cur := ""
	for _, name := range strings.Split(strings.Trim(p, "/"), "/") {
		cur = cur + "/" + name
		if !strings.HasPrefix(p, "/") {
			cur = strings.TrimLeft(cur, "/")
		}
		out = append(out, cur)
	}
	return out
}

// pyDirname is Python's os.path.dirname, which keeps a relative path's
// empty head ("f" gives "") where path.Dir gives ".".
func pyDirname(p string) string {
	head := p[:strings.LastIndex(p, "/")+1]
	if strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head
}

// pyJoin is Python's os.path.join of two parts: an absolute b wins.
func pyJoin(a, b string) string {
	switch {
	case strings.HasPrefix(b, "/") || a == "":
		return b
	case strings.HasSuffix(a, "/"):
		return a + b
	}
	return a + "/" + b
}

// probeFile asks the host the first round of queries.
func probeFile(ctx context.Context, env *Env, queries []fileQuery) (*fileProbe, error) {
	pr := &fileProbe{lstat: map[string]fileRec{}, follow: map[string]fileRec{}, real: map[string]fileRec{},
		empty: map[string]bool{}, ids: map[string]fileRec{}}
	return pr, pr.add(ctx, env, queries)
}

// add asks the host queries and merges the answers.
func (pr *fileProbe) add(ctx context.Context, env *Env, queries []fileQuery) error {
	words := []string{"sh"}
	for _, q := range queries {
		words = append(words, q.op, q.key)
	}
	out, err := run(ctx, env, "sh -c "+connection.Quote(fileProbeScript)+" "+connection.QuoteAll(words...), nil)
	if err != nil {
		return err
	}
	if out.rc != 0 {
		return fmt.Errorf("inspect %s on the host: %s", queries[0].key, strings.TrimSpace(out.stderr))
	}
	recs, err := parseFileRecs(out.stdout)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", queries[0].key, err)
	}
	for _, r := range recs {
		if r.tag == "H" {
			pr.merge(r)
		}
	}
	for _, r := range recs {
		if r.tag == "S" || r.tag == "F" || r.tag == "D" {
			r.key = pr.expand(r.key)
		}
		pr.merge(r)
	}
	return nil
}

// merge files one record under its tag.
func (pr *fileProbe) merge(r fileRec) {
	switch r.tag {
	case "H":
		pr.umask, pr.uid, pr.gid, pr.home = r.mode, r.uid, r.gid, r.str
	case "S":
		pr.lstat[r.key] = r
	case "F":
		pr.follow[r.key] = r
		if r.exists() {
			pr.real[r.str] = r
		}
	case "D":
		pr.empty[r.key] = r.kind == "empty"
	case "U", "G":
		pr.ids[r.tag+r.key] = r
	case "R":
		pr.tree = append(pr.tree, r)
	case "Q":
		pr.ftree = append(pr.ftree, r)
	}
}

// parseFileRecs splits the NUL-separated answer into records.
func parseFileRecs(out string) ([]fileRec, error) {
	f := strings.Split(out, "\x00")
	if len(f)%13 != 1 || f[len(f)-1] != "" {
		return nil, fmt.Errorf("unexpected answer %q", out)
	}
	var recs []fileRec
	for i := 0; i+13 <= len(f); i += 13 {
		x := f[i : i+13]
		mode, err := strconv.ParseUint(x[3], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("unexpected mode %q for %s", x[3], x[1])
		}
		r := fileRec{tag: x[0], key: x[1], kind: x[2], mode: uint32(mode), user: x[6], group: x[7], str: x[11], extra: x[12]}
		r.uid, _ = strconv.Atoi(x[4])
		r.gid, _ = strconv.Atoi(x[5])
		r.size, _ = strconv.ParseInt(x[8], 10, 64)
		r.nlink, _ = strconv.Atoi(x[9])
		r.ino, _ = strconv.ParseUint(x[10], 10, 64)
		if r.tag == "R" || r.tag == "Q" {
			r.kind = map[string]string{"d": "directory", "l": "link"}[r.kind]
			if r.kind == "" {
				r.kind = "file"
			}
		}
		if r.user == "UNKNOWN" || r.user == "" {
			r.user = x[4]
		}
		if r.group == "UNKNOWN" || r.group == "" {
			r.group = x[5]
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// expand does Python's expanduser for ~ and ~/, with the host's HOME.
func (pr *fileProbe) expand(p string) string {
	switch {
	case p == "~":
		return pr.home
	case strings.HasPrefix(p, "~/"):
		return strings.TrimSuffix(pr.home, "/") + p[1:]
	}
	return p
}

// stat returns the lstat of a path the probe covered, directly or as the
// resolved path of a link.
func (pr *fileProbe) stat(p string) fileRec {
	if r, ok := pr.lstat[p]; ok {
		return r
	}
	if r, ok := pr.real[p]; ok {
		return r
	}
	return fileRec{kind: "absent"}
}

// exists is os.path.exists: through links.
func (pr *fileProbe) exists(p string) bool {
	if r, ok := pr.follow[p]; ok {
		return r.exists()
	}
	r := pr.stat(p)
	return r.exists() && r.kind != "link"
}
