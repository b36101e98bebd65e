package tasks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/drover/drover/connection"
)

// Map returns the result in the shape Ansible prints and registers:
// changed, failed, msg, rc, stdout/stdout_lines, stderr/stderr_lines and the
// module's own values.
func (r *Result) Map() map[string]any {
	m := map[string]any{"changed": r.Changed}
	for k, v := range r.Data {
		m[k] = v
	}
	if r.Failed {
		m["failed"] = true
	}
	if r.Skipped {
		m["skipped"] = true
	}
	if r.Msg != "" {
		m["msg"] = r.Msg
	}
	if r.RC != nil {
		m["rc"] = *r.RC
		m["stdout"], m["stdout_lines"] = r.Stdout, lines(r.Stdout)
		m["stderr"], m["stderr_lines"] = r.Stderr, lines(r.Stderr)
	}
	if len(r.Diff) > 0 {
		diffs := make([]map[string]any, len(r.Diff))
		for i, d := range r.Diff {
			diffs[i] = map[string]any{"before": d.Before, "after": d.After, "before_header": d.BeforeHeader, "after_header": d.AfterHeader}
		}
		m["diff"] = diffs
	}
	return m
}

// lines splits output as Python's str.splitlines does.
func lines(s string) []string {
	out := []string{}
	if s == "" {
		return out
	}
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		out = append(out, l)
	}
	if strings.HasSuffix(s, "\n") {
		out = out[:len(out)-1]
	}
	return out
}

// output is what one command printed and how it ended.
type output struct {
	stdout, stderr string
	rc             int
	start, end     time.Time
}

// run runs line on the host. A command that ran and failed is not an error:
// its status is in rc. Errors mean it could not run (unreachable, become).
func run(ctx context.Context, env *Env, line string, stdin io.Reader) (output, error) {
	var stdout, stderr bytes.Buffer
	o := output{start: time.Now()}
	err := env.Conn.Exec(ctx, &connection.Cmd{Line: line, Stdin: stdin, Stdout: &stdout, Stderr: &stderr, Become: env.Become, Env: env.Environment})
	o.end = time.Now()
	o.stdout, o.stderr = stdout.String(), stderr.String()
	var exit *connection.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		o.rc = exit.Status
	default:
		return o, err
	}
	return o, nil
}

// intp returns a pointer to n, for Result.RC.
func intp(n int) *int { return &n }

// ansibleTime formats t as Ansible's command module does.
func ansibleTime(t time.Time) string { return t.Format("2006-01-02 15:04:05.000000") }

// ansibleDelta formats d as Python's timedelta.
func ansibleDelta(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d:%02d:%02d.%06d", us/3_600_000_000, us/60_000_000%60, us/1_000_000%60, us%1_000_000)
}
