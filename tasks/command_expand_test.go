package tasks

import (
	"os"
	"os/exec"
	"regexp"
	"testing"
)

// TestExpandingQuote: command words expand $VAR, ${VAR} and a leading ~
// as Ansible's command module does on the host, and nothing else.
func TestExpandingQuote(t *testing.T) {
	t.Setenv("DROVER_T", "v a l")
	home, _ := os.UserHomeDir()
	tests := []struct{ in, want string }{
		{"$DROVER_T", "v a l"},
		{"${DROVER_T}/x", "v a l/x"},
		{"a$DROVER_T.b", "av a l.b"},
		{"$DROVER_UNSET", "$DROVER_UNSET"},
		{"${DROVER_UNSET}", "${DROVER_UNSET}"},
		{"~", home},
		{"~/d", home + "/d"},
		{"a~b", "a~b"},
		{"it's; $(id) `id` *", "it's; $(id) `id` *"},
		{"$1 $$ x$ ${a b}", "$1 $$ x$ ${a b}"},
		{"", ""},
	}
	for _, tt := range tests {
		out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+expandingQuote(tt.in)).Output()
		if err != nil || string(out) != tt.want {
			t.Errorf("%q: sh gave %q (%v), want %q", tt.in, out, err, tt.want)
		}
	}
}

// FuzzExpandingQuote: whatever the word, the shell sees one word that is
// the word itself once its variable references are expanded (none are
// set here), never a command.
func FuzzExpandingQuote(f *testing.F) {
	for _, s := range []string{"$HOME", "${X}", "a'b", "~x/y", "$(id)", "${a-$(id)}", "\\$X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, w string) {
		if len(w) > 200 || containsNUL(w) || w != "" && w[0] == '~' || shellDefines.MatchString(w) {
			return
		}
		cmd := exec.Command("/bin/sh", "-c", "printf '%s' "+expandingQuote(w))
		cmd.Env = []string{} // no variable is set, so every reference stays as written
		out, err := cmd.Output()
		if err != nil || string(out) != w {
			t.Errorf("%q: sh gave %q (%v)", w, out, err)
		}
	})
}

// shellDefines are the variables sh sets itself.
var shellDefines = regexp.MustCompile(`PWD|PPID|IFS|OPTIND|PS[124]|LINENO|OPTARG|ENV|HOME|PATH|MAIL|TERM|SHELL`)

func containsNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}
