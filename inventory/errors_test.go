package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput: each mistake is one line naming the file and line (or the
// script and what it printed) and saying what is wrong.
func TestBadInput(t *testing.T) {
	tests := []struct {
		name, file, text string
		exec             bool
		want             []string
	}{
		{"bad section", "hosts", "[web\nw1\n", false, []string{"hosts:1", "invalid section header"}},
		{"unknown section type", "hosts", "[web:foo]\n", false, []string{"hosts:1", `unknown type "foo"`}},
		{"host var without =", "hosts", "[web]\nw1 novalue\n", false, []string{"hosts:2", `expected key=value host variable, got "novalue"`}},
		{"vars without =", "hosts", "[web]\nw1\n[web:vars]\njunk\n", false, []string{"hosts:4", "expected key=value"}},
		{"bad range", "hosts", "[web]\nweb[01:5]\n", false, []string{"hosts:2", "same length"}},
		{"range letters and numbers", "hosts", "[web]\nweb[a:5]\n", false, []string{"hosts:2", "mixes numbers and letters"}},
		{"bad port", "hosts", "[web]\nw1:http\n", false, []string{"hosts:2", "port number"}},
		{"unclosed quote", "hosts", "[web]\nw1 a=\"x\n", false, []string{"hosts:2", "no closing quotation"}},
		{"unknown child group", "hosts", "[p:children]\nnope\n", false, []string{"hosts:2", `group "nope", which is not defined`}},
		{"vars for unknown group", "hosts", "[ghost:vars]\na=1\n", false, []string{"hosts:1", "[ghost:vars]", "not defined"}},
		{"yaml syntax", "inv.yml", "all:\n  hosts:\n    - [\n", false, []string{"inv.yml", "line"}},
		{"yaml hosts not a mapping", "inv.yml", "all:\n  hosts:\n    - h1\n", false, []string{"inv.yml:3:5", "hosts of group all must be a mapping"}},
		{"yaml vars not a mapping", "inv.yml", "all:\n  vars: [1]\n", false, []string{"inv.yml:2:9", "variables must be a mapping"}},
		{"vault", "inv.yml", "all:\n  vars:\n    pw: !vault |\n      not a vault text\n", false, []string{"inv.yml:3:9", "not a vault text"}},
		{"encrypted file without secret", "inv.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n", false, []string{"inv.yml", "vault"}},
		{"script fails", "inv.sh", "#!/bin/sh\necho 'cloud API said no' >&2\nexit 1\n", true, []string{"inv.sh --list exited with status 1", "cloud API said no"}},
		{"script prints garbage", "inv.sh", "#!/bin/sh\necho hello\n", true, []string{"inv.sh", "did not print a JSON object"}},
		{"script host fails", "inv.sh", "#!/bin/sh\n[ \"$1\" = --list ] && echo '{\"g\": [\"h1\"]}' && exit 0\necho 'no such host' >&2; exit 2\n", true, []string{"--host h1 exited with status 2", "no such host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), tt.file)
			mode := os.FileMode(0o644)
			if tt.exec {
				mode = 0o755
			}
			if err := os.WriteFile(p, []byte(tt.text), mode); err != nil {
				t.Fatal(err)
			}
			_, err := Load(t.Context(), nil, p)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error spans lines: %q", msg)
			}
		})
	}
	if _, err := Load(t.Context(), nil, "/nonexistent/inventory"); err == nil || !strings.Contains(err.Error(), "/nonexistent/inventory") {
		t.Errorf("missing source: %v", err)
	}
}
