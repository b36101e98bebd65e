package tasks

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/drover/drover/connection"
)

// copyModule puts a file on the host from a controller file (src) or from
// text (content). It asks the host once for the file's checksum and
// attributes and uploads only when the content differs, so a second run
// transfers nothing.
//
// Arguments: src or content; dest (required; a directory or a path ending in
// / receives src's base name); mode (octal like 0644, or symbolic like
// u=rw,g=r); owner; group; force (default yes: replace a differing file).
type copyModule struct{}

// copyArgs are the decoded arguments of copy.
type copyArgs struct {
	src, content string
	hasContent   bool
	dest         string
	mode         string
	owner, group string
	force        bool
}

func decodeCopy(args Args) (copyArgs, error) {
	var c copyArgs
	if err := args.check("src", "content", "dest", "mode", "owner", "group", "force", "backup", "decrypt", "remote_src", "validate", "directory_mode", "follow", "local_follow", "checksum", "unsafe_writes", "attributes", "seuser", "serole", "setype", "selevel"); err != nil {
		return c, err
	}
	var err error
	if c.dest, err = args.required("dest"); err != nil {
		return c, err
	}
	if c.src, _, err = args.str("src"); err != nil {
		return c, err
	}
	if c.content, c.hasContent, err = args.str("content"); err != nil {
		return c, err
	}
	switch {
	case c.src != "" && c.hasContent:
		return c, &ArgError{Arg: "content", Err: errors.New("give either src or content, not both")}
	case c.src == "" && !c.hasContent:
		return c, &ArgError{Arg: "src", Err: errors.New("give src (a file on the controller) or content")}
	}
	if n, ok := args["mode"].(float64); ok {
		c.mode = fmt.Sprintf("%o", int(n)) // a number is the mode itself, as YAML's 0644 gives 420
	} else if c.mode, _, err = args.str("mode"); err != nil {
		return c, err
	}
	if c.owner, _, err = args.str("owner"); err != nil {
		return c, err
	}
	if c.group, _, err = args.str("group"); err != nil {
		return c, err
	}
	if remote, err := args.boolean("remote_src", false); err != nil || remote {
		if err != nil {
			return c, err
		}
		return c, &ArgError{Arg: "remote_src", Err: errors.New("not supported yet")}
	}
	c.force, err = args.boolean("force", true)
	return c, err
}

func (copyModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	c, err := decodeCopy(args)
	if err != nil {
		return nil, err
	}
	data, err := c.source(env)
	if err != nil {
		return nil, err
	}
	dest := c.dest
	probe := []string{path.Dir(strings.TrimSuffix(dest, "/")), dest}
	if c.src != "" {
		probe = append(probe, path.Join(dest, path.Base(c.src)))
	}
	states, err := statFiles(ctx, env, probe...)
	if err != nil {
		return nil, err
	}
	parent, st := states[0], states[1]
	if st.kind == "directory" || strings.HasSuffix(dest, "/") {
		if c.src == "" {
			return &Result{Failed: true, Msg: "can not use content with a dir as dest"}, nil
		}
		dest, st = path.Join(dest, path.Base(c.src)), states[2]
		parent = states[1]
	}
	switch {
	case parent.kind == "absent":
		return &Result{Failed: true, Msg: fmt.Sprintf("Destination directory %s does not exist", path.Dir(dest))}, nil
	case st.kind == "directory" || st.kind == "other":
		return &Result{Failed: true, Msg: fmt.Sprintf("Destination %s exists and is not a regular file", dest)}, nil
	}
	return c.apply(ctx, env, dest, st, data)
}

// content is the new file: its checksum, size and a way to read it.
type content struct {
	sum  string
	size int64
	open func() (io.ReadCloser, error)
}

// source checksums the new content without holding a file in memory.
func (c copyArgs) source(env *Env) (content, error) {
	if c.hasContent {
		b := []byte(c.content)
		h := sha1.Sum(b)
		return content{hex.EncodeToString(h[:]), int64(len(b)), func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}}, nil
	}
	open := func() (io.ReadCloser, error) {
		if env.Files != nil && !path.IsAbs(c.src) {
			return env.Files.Open(c.src)
		}
		return os.Open(c.src)
	}
	f, err := open()
	if err != nil {
		return content{}, &ArgError{Arg: "src", Err: fmt.Errorf("cannot read %s on the controller: %w", c.src, unwrapPath(err))}
	}
	defer f.Close()
	h := sha1.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return content{}, &ArgError{Arg: "src", Err: fmt.Errorf("read %s: %w", c.src, unwrapPath(err))}
	}
	return content{hex.EncodeToString(h.Sum(nil)), n, open}, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// apply changes only what differs between st and the wanted file.
func (c copyArgs) apply(ctx context.Context, env *Env, dest string, st fileState, data content) (*Result, error) {
	mode, err := wantMode(c.mode, st)
	if err != nil {
		return nil, err
	}
	r := &Result{Data: map[string]any{"dest": dest, "checksum": data.sum, "size": data.size, "state": "file"}}
	if c.src != "" {
		r.Data["src"] = c.src
	}
	exists := st.kind == "file"
	sameContent := exists && st.sum == data.sum
	if exists && !sameContent && !c.force {
		sameContent = true // force=no never replaces an existing file
	}
	attrsDiffer := exists && (mode != 0 && mode != st.mode || c.owner != "" && c.owner != st.owner && c.owner != st.uid ||
		c.group != "" && c.group != st.group && c.group != st.gid)
	if mode == 0 {
		mode = st.mode
	}
	r.Data["mode"] = fmt.Sprintf("%04o", orMode(mode, 0o644))
	r.Data["owner"], r.Data["group"] = orString(c.owner, st.owner), orString(c.group, st.group)
	if exists && c.owner == "" && c.group == "" {
		r.Data["uid"], r.Data["gid"] = atoiOr(st.uid), atoiOr(st.gid)
	}
	if r.Data["owner"] == "" {
		delete(r.Data, "owner")
	}
	if r.Data["group"] == "" {
		delete(r.Data, "group")
	}
	if sameContent && !attrsDiffer {
		r.Data["path"] = dest
		return r, nil
	}
	r.Changed = true
	if env.Diff && !sameContent {
		r.Diff = []Diff{c.diff(ctx, env, dest, exists, data)}
	}
	if env.Check {
		return r, nil
	}
	if sameContent {
		return r, setAttrs(ctx, env, dest, mode, c.owner, c.group)
	}
	f, err := data.open()
	if err != nil {
		return nil, &ArgError{Arg: "src", Err: err}
	}
	defer f.Close()
	opts := connection.PutOptions{Mode: fs.FileMode(orMode(mode, 0o644)), Owner: c.owner, Group: c.group, Become: env.Become}
	if err := env.Conn.Put(ctx, dest, f, opts); err != nil {
		if errors.Is(err, connection.ErrUnreachable) || errors.Is(err, context.Canceled) {
			return nil, err
		}
		return &Result{Failed: true, Msg: err.Error(), Data: map[string]any{"dest": dest}}, nil
	}
	return r, nil
}

// setAttrs fixes mode and ownership of an up-to-date file in one command.
func setAttrs(ctx context.Context, env *Env, dest string, mode uint32, owner, group string) error {
	var steps []string
	if mode != 0 {
		steps = append(steps, fmt.Sprintf("chmod %04o %s", mode, connection.Quote(dest)))
	}
	if owner != "" || group != "" {
		who := owner
		if group != "" {
			who += ":" + group
		}
		steps = append(steps, "chown "+connection.Quote(who)+" "+connection.Quote(dest))
	}
	out, err := run(ctx, env, strings.Join(steps, " && "), nil)
	if err != nil {
		return err
	}
	if out.rc != 0 {
		return fmt.Errorf("set mode/owner of %s: %s", dest, strings.TrimSpace(out.stderr))
	}
	return nil
}

func (c copyArgs) diff(ctx context.Context, env *Env, dest string, exists bool, data content) Diff {
	d := Diff{BeforeHeader: dest, AfterHeader: dest}
	if c.hasContent {
		d.After = c.content
	} else {
		d.AfterHeader = c.src
		if data.size <= maxDiffSize {
			if f, err := data.open(); err == nil {
				b, _ := io.ReadAll(f)
				f.Close()
				d.After = string(b)
			}
		}
	}
	if exists {
		var before bytes.Buffer
		if err := env.Conn.Get(ctx, dest, &before); err == nil && before.Len() <= maxDiffSize {
			d.Before = before.String()
		}
	}
	return d
}

const maxDiffSize = 64 << 10

func orMode(m, def uint32) uint32 {
	if m == 0 {
		return def
	}
	return m
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func atoiOr(s string) any {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return s
}
