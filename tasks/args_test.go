package tasks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		module, text string
		want         Args
		wantErr      string
	}{
		{"command", "uptime", Args{"_raw_params": "uptime"}, ""},
		{"command", "ls -l /tmp chdir=/etc", Args{"_raw_params": "ls -l /tmp", "chdir": "/etc"}, ""},
		{"shell", "echo a=b | tee x creates=/x", Args{"_raw_params": "echo a=b | tee x", "creates": "/x"}, ""},
		{"shell", `echo "a  b" 'c d'`, Args{"_raw_params": `echo "a  b" 'c d'`}, ""},
		{"copy", `content="hi\n" dest=/tmp/hi mode=0644`, Args{"content": "hi\n", "dest": "/tmp/hi", "mode": "0644"}, ""},
		{"copy", `content='it''s' dest=/x`, Args{"content": "it''s", "dest": "/x"}, ""},
		{"copy", `content="say \"hi\"" dest=/x`, Args{"content": `say "hi"`, "dest": "/x"}, ""},
		{"ansible.builtin.copy", "dest=/x content={{ a }}", Args{"dest": "/x", "content": "{{ a }}"}, ""},
		{"copy", `dest=/x content="{{ a }} b"`, Args{"dest": "/x", "content": "{{ a }} b"}, ""},
		{"ping", "", Args{}, ""},
		{"copy", `{"dest": "/x", "content": "a"}`, Args{"dest": "/x", "content": "a"}, ""},
		{"copy", "dest=/x stray", nil, "unexpected free-form text"},
		{"copy", `content="open dest=/x`, nil, "unclosed \" quote"},
		{"copy", `{"dest": `, nil, "not valid JSON"},
	}
	for _, tt := range tests {
		got, err := ParseArgs(tt.module, tt.text)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseArgs(%q, %q) error = %v, want %q", tt.module, tt.text, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseArgs(%q, %q): %v", tt.module, tt.text, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseArgs(%q, %q) (-want +got):\n%s", tt.module, tt.text, diff)
		}
	}
}

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`echo 'a b' "$HOME" c\ d`, []string{"echo", "a b", "$HOME", "c d"}},
		{`printf "%s\n" x`, []string{"printf", `%s\n`, "x"}},
		{`a "b\"c"`, []string{"a", `b"c`}},
		{"", nil},
	}
	for _, tt := range tests {
		got, err := shlexSplit(tt.in)
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseArgs: parsing never panics, and k=v arguments written back in
// quoted form parse to the same values.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"uptime", `content="hi\n" dest=/tmp/hi`, `a='b c' d="e\"f"`, `{"a": 1}`, "x={{ y }}", `"unclosed`, `\`, "k==v"} {
		f.Add("copy", s)
		f.Add("shell", s)
	}
	f.Fuzz(func(t *testing.T, module, text string) {
		args, err := ParseArgs(module, text)
		if err != nil || strings.HasPrefix(strings.TrimSpace(text), "{") {
			return
		}
		var b strings.Builder
		for k, v := range args {
			s, ok := v.(string)
			if !ok || k == "_raw_params" {
				return
			}
			b.WriteString(k + `="` + escapeForArgs(s) + `" `)
		}
		again, err := ParseArgs("copy", b.String())
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", b.String(), text, err)
		}
		if diff := cmp.Diff(args, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", text, b.String(), diff)
		}
	})
}

func escapeForArgs(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "\r", `\r`, "\x00", `\x00`)
	return r.Replace(s)
}
