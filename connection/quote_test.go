package connection

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"abc", "abc"},
		{"/etc/hosts", "/etc/hosts"},
		{"a b", "'a b'"},
		{"it's", `'it'"'"'s'`},
		{"$HOME", "'$HOME'"},
		{"a\nb", "'a\nb'"},
		{"~", "'~'"},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// shellEcho runs printf through /bin/sh and returns what the shell passed as
// the argument.
func shellEcho(t testing.TB, quoted string) []byte {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "printf '%s' "+quoted).Output()
	if err != nil {
		t.Fatalf("sh -c printf %s: %v", quoted, err)
	}
	return out
}

func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a", "a b", "'", `"`, `\`, "$(id)", "`id`", "*", "\n", "\xff\xfe", "a'b'c", "-n", "!", "%s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.IndexByte(s, 0) >= 0 {
			t.Skip("argv cannot hold NUL bytes")
		}
		if got := shellEcho(t, Quote(s)); !bytes.Equal(got, []byte(s)) {
			t.Fatalf("sh gave back %q for %q (quoted %q)", got, s, Quote(s))
		}
	})
}
