package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/drover/drover/playbook"
)

// ANSI colours as Ansible uses them.
const (
	colorOK          = "\x1b[0;32m"
	colorChanged     = "\x1b[0;33m"
	colorError       = "\x1b[0;31m"
	colorUnreachable = "\x1b[1;31m"
	colorSkip        = "\x1b[0;36m"
	colorWarn        = "\x1b[1;35m"
	colorWarnRetry   = "\x1b[0;31m"
	colorReset       = "\x1b[0m"
)

// AdHoc prints ad hoc results as `ansible` does:
//
//	web1 | CHANGED | rc=0 >>
//	web2 | SUCCESS => {
//	web3 | UNREACHABLE! => {
type AdHoc struct {
	W io.Writer
	// OneLine prints each result on one line (-o).
	OneLine bool
	// Color adds ANSI colours.
	Color bool
}

var _ playbook.Reporter = (*AdHoc)(nil)

// noJSON are the modules whose results print as command output.
var noJSON = map[string]bool{"command": true, "shell": true, "raw": true}

// Report prints one event.
func (a *AdHoc) Report(e playbook.Event) {
	text, color := a.format(e)
	if a.Color {
		text = color + text + colorReset
	}
	fmt.Fprintln(a.W, text)
}

func (a *AdHoc) format(e playbook.Event) (string, string) {
	res := e.Result.Map()
	delete(res, "failed") // Ansible's callbacks show failure in the caption, not the JSON
	if moduleName(e.Module) == "debug" && !a.OneLine {
		delete(res, "changed") // the minimal callback drops it for debug
	}
	command := noJSON[moduleName(e.Module)]
	switch e.Status {
	case playbook.StatusUnreachable:
		m := map[string]any{"changed": false, "msg": e.Result.Msg, "unreachable": true}
		if a.OneLine {
			return fmt.Sprintf("%s | UNREACHABLE!: %s", e.Host, e.Result.Msg), colorUnreachable
		}
		return fmt.Sprintf("%s | UNREACHABLE! => %s", e.Host, dump(m, a.OneLine)), colorUnreachable
	case playbook.StatusSkipped:
		return e.Host + " | SKIPPED", colorSkip
	case playbook.StatusFailed:
		if command && e.Result.RC != nil && !a.OneLine {
			return a.commandMsg(e.Host, "FAILED", res), colorError
		}
		return fmt.Sprintf("%s | FAILED! => %s", e.Host, dump(res, a.OneLine)), colorError
	}
	state, color := "SUCCESS", colorOK
	if e.Status == playbook.StatusChanged {
		state, color = "CHANGED", colorChanged
	}
	if command && e.Result.RC != nil {
		return a.commandMsg(e.Host, state, res), color
	}
	return fmt.Sprintf("%s | %s => %s", e.Host, state, dump(res, a.OneLine)), color
}

// commandMsg prints a command's output as Ansible's minimal and oneline
// callbacks do.
func (a *AdHoc) commandMsg(host, caption string, res map[string]any) string {
	stdout, _ := res["stdout"].(string)
	stderr, _ := res["stderr"].(string)
	msg, _ := res["msg"].(string)
	if a.OneLine {
		esc := strings.NewReplacer("\n", `\n`, "\r", `\r`)
		s := fmt.Sprintf("%s | %s | rc=%v | (stdout) %s", host, caption, res["rc"], esc.Replace(stdout))
		if stderr != "" {
			s += " (stderr) " + esc.Replace(stderr)
		}
		return s
	}
	return fmt.Sprintf("%s | %s | rc=%v >>\n%s%s%s", host, caption, res["rc"], stdout, stderr, msg)
}

// dump renders a result as Python's json.dumps(sort_keys=True) does: with
// indent 4, or with indent 0 and the newlines removed for one-line output
// (items joined by ",").
func dump(m map[string]any, oneLine bool) string {
	return dumpJSON(m, oneLine, ",")
}

// compactJSON is json.dumps with no indent at all: items joined by ", ",
// as ansible-playbook prints a failed result.
func compactJSON(m map[string]any) string { return dumpJSON(m, true, ", ") }

func dumpJSON(m map[string]any, oneLine bool, itemSep string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if oneLine {
		enc.SetIndent("", "")
	} else {
		enc.SetIndent("", "    ")
	}
	if err := enc.Encode(m); err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(m))
	}
	out := strings.TrimSuffix(buf.String(), "\n")
	if oneLine {
		compact := new(bytes.Buffer)
		_ = json.Compact(compact, []byte(out))
		return pythonSeparators(compact.String(), itemSep)
	}
	return out
}

// pythonSeparators turns Go's compact JSON into Python's separators:
// ": " between key and value, itemSep between items.
func pythonSeparators(s, itemSep string) string {
	var b strings.Builder
	inString := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		switch {
		case inString && c == '\\':
			i++
			if i < len(s) {
				b.WriteByte(s[i])
			}
		case c == '"':
			inString = !inString
		case !inString && c == ':':
			b.WriteByte(' ')
		case !inString && c == ',':
			b.WriteString(itemSep[1:])
		}
	}
	return b.String()
}

func moduleName(name string) string {
	for _, p := range []string{"ansible.builtin.", "ansible.legacy."} {
		name = strings.TrimPrefix(name, p)
	}
	return name
}
