package connection

import (
	"bytes"
	"context"
	"fmt"
	"path"
	"strings"
)

// installAsBecome moves the private upload tmp into place as dst with one
// become command: copy into a temporary file beside dst (so the final step
// is an atomic rename on one file system), set mode and owner, rename. On
// any failure the command removes its temporary file, so dst is either the
// old file or the new one, never half of either.
func installAsBecome(ctx context.Context, c Conn, tmp, dst string, opts PutOptions) error {
	b := opts.Become
	if b.User != "" && b.User != becomeRootUser {
		// The upload is private to the login user; let the become user read
		// it without opening it to everyone.
		grant := fmt.Sprintf("setfacl -m %s %s && setfacl -m %s %s",
			Quote("u:"+b.User+":x"), Quote(path.Dir(tmp)), Quote("u:"+b.User+":r"), Quote(tmp))
		var stderr bytes.Buffer
		if err := c.Exec(ctx, &Cmd{Line: grant, Stderr: &stderr}); err != nil {
			return fmt.Errorf("put %s: let become user %s read the upload (setfacl; install the acl package on the target): %w: %s",
				dst, b.User, err, strings.TrimSpace(stderr.String()))
		}
	}
	part := path.Join(path.Dir(dst), ".drover-tmp-"+randomToken()+"-"+path.Base(dst))
	steps := []string{
		"(umask 077 && cp " + Quote(tmp) + " " + Quote(part) + ")",
		"chmod " + fmt.Sprintf("%04o", fileMode(opts.Mode)) + " " + Quote(part),
	}
	if opts.Owner != "" || opts.Group != "" {
		steps = append(steps, chownLine(opts.Owner, opts.Group, part))
	}
	steps = append(steps, "mv -f "+Quote(part)+" "+Quote(dst))
	line := strings.Join(steps, " && ") + " || { rm -f " + Quote(part) + "; exit 1; }"
	var stderr bytes.Buffer
	if err := c.Exec(ctx, &Cmd{Line: line, Become: b, Stderr: &stderr}); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("put %s: %w: %s", dst, err, msg)
		}
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

// chownLine sets owner and/or group of p.
func chownLine(owner, group, p string) string {
	switch {
	case owner != "" && group != "":
		return "chown " + Quote(owner+":"+group) + " " + Quote(p)
	case owner != "":
		return "chown " + Quote(owner) + " " + Quote(p)
	default:
		return "chgrp " + Quote(group) + " " + Quote(p)
	}
}
