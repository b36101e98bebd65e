package template

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestDocument(t *testing.T) {
	vars := Vars{"users": []any{map[string]any{"name": "alice"}, map[string]any{"name": "bob"}}, "port": int64(80), "t": true, "empty": []any{}}
	tests := []struct{ name, src, want string }{
		{"text", "plain text\n", "plain text\n"},
		{"output", "port {{ port + 1 }}\n", "port 81\n"},
		{"if", "{% if port > 10 %}big{% elif port > 5 %}mid{% else %}small{% endif %}", "big"},
		{"elif", "{% if port > 100 %}big{% elif port > 5 %}mid{% else %}small{% endif %}", "mid"},
		{"for with loop", "{% for u in users %}{{ loop.index }}:{{ u.name }}{% if not loop.last %},{% endif %}{% endfor %}", "1:alice,2:bob"},
		{"for else", "{% for x in empty %}x{% else %}none{% endfor %}", "none"},
		{"trim_blocks", "{% for u in users %}\n{{ u.name }}\n{% endfor %}\n", "alice\nbob\n"},
		{"whitespace control", "a  {%- if t -%}  X  {%- endif -%}  b", "aXb"},
		{"set", "{% set x = port * 2 %}{{ x }}", "160"},
		{"set in loop stays local", "{% set x = 1 %}{% for u in users %}{% set x = 2 %}{% endfor %}{{ x }}", "1"},
		{"unpack", "{% for k, v in {'a': 1}.items() %}{{ k }}={{ v }}{% endfor %}", "a=1"},
		{"raw", "{% raw %}{{ not templated }}{% endraw %}", "{{ not templated }}"},
		{"comment", "a{# hidden #}b", "ab"},
		{"nested", "{% for u in users %}{% for c in u.name[:2] %}{{ c }}{% endfor %};{% endfor %}", "al;bo;"},
		{"strings with braces", "{{ '}}' ~ '%}' }}", "}}%}"},
		{"macro", "{% macro tag(name, cls='x') %}<{{ name }} class={{ cls }}>{% endmacro %}{{ tag('a') }}{{ tag('b', cls='y') }}{{ tag('c', 'z') }}", "<a class=x><b class=y><c class=z>"},
		{"block set", "{% set greeting %}hi {{ port }}{% endset %}[{{ greeting | upper }}]", "[HI 80]"},
		{"for if", "{% for u in users if u.name != 'alice' %}{{ u.name }}{{ loop.length }}{% endfor %}", "bob1"},
		{"for if else", "{% for u in users if false %}x{% else %}none{% endfor %}", "none"},
	}
	for _, tt := range tests {
		d, err := ParseDocument("t.j2", tt.src)
		if err != nil {
			t.Errorf("%s: parse: %v", tt.name, err)
			continue
		}
		got, err := d.Render(vars)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

// TestIncludeErrorsNameTheIncludedFile: a mistake inside an included
// template points at that file, not at the {% include %}.
func TestIncludeErrorsNameTheIncludedFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "part.j2"), []byte("ok\n{{ nope | upper }}\n"), 0o644)
	main := filepath.Join(dir, "main.j2")
	d, err := ParseDocument(main, "a\n{% include 'part.j2' %}\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Render(Vars{})
	want := filepath.Join(dir, "part.j2") + ":2:4: undefined variable 'nope'"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	os.WriteFile(filepath.Join(dir, "bad.j2"), []byte("{% if %}"), 0o644)
	d, _ = ParseDocument(main, "{% include 'bad.j2' %}")
	if _, err = d.Render(Vars{}); err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "bad.j2")+":1:") {
		t.Errorf("syntax error in an included file: %v", err)
	}
}

func TestDocumentErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"line1\n  {{ missing }}", "t.j2:2:6: undefined variable 'missing'"},
		{"{% if x %}\n{{ 1 + }}{% endif %}", "t.j2:2:8: expected a value"},
		{"{% for x in [1] %}\n{{ x | nosuch }}{% endfor %}", "t.j2:2:8: no filter named 'nosuch'"},
		{"{{ a", "t.j2:1:1: unclosed {{"},
		{"{% include 'other.j2' %}", "t.j2:1:12: template not found: other.j2"}, {"{% call m() %}x{% endcall %}", "does not support the template tag {% call %}"},
		{"{% macro m(x) %}\n{{ x.nope }}{% endmacro %}{{ m({}) }}", "t.j2:2:6: x.nope is undefined"},
		{"{% for x in 5 %}{% endfor %}", "'int' object is not iterable"},
	}
	for _, tt := range tests {
		d, err := ParseDocument("t.j2", tt.src)
		if err == nil {
			_, err = d.Render(Vars{})
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.src, err, tt.want)
		}
	}
}

// TestDocumentConcurrent renders one parsed document from many goroutines.
func TestDocumentConcurrent(t *testing.T) {
	d, err := ParseDocument("t", "{% for i in range(n) %}{% set s = i * 2 %}{{ s }},{% endfor %}")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for n := range 16 {
		wg.Go(func() {
			got, err := d.Render(Vars{"n": int64(n)})
			if err != nil || strings.Count(got, ",") != n {
				t.Errorf("n=%d: %q %v", n, got, err)
			}
		})
	}
	wg.Wait()
}

// BenchmarkRender1000Hosts renders a 100-line template with loops and
// filters once per host for 1,000 hosts with different variables.
// Goal: well under 200 ms per 1,000 renders.
func BenchmarkRender1000Hosts(b *testing.B) {
	var src strings.Builder
	src.WriteString("# {{ inventory_hostname }}\n")
	for i := range 24 {
		src.WriteString("{% for p in ports %}listen {{ ip }}:{{ p + " + strconvItoa(i) + " }}\n{% endfor %}")
		src.WriteString("name_" + strconvItoa(i) + " = {{ inventory_hostname | upper }}-{{ tags | join(',') }}\n")
	}
	d, err := ParseDocument("bench.j2", src.String())
	if err != nil {
		b.Fatal(err)
	}
	hosts := make([]Vars, 1000)
	for i := range hosts {
		hosts[i] = Vars{"inventory_hostname": "web" + strconvItoa(i), "ip": "10.0.0." + strconvItoa(i%250), "ports": []any{int64(80), int64(443)}, "tags": []any{"a", "b"}}
	}
	for b.Loop() {
		for _, h := range hosts {
			if _, err := d.Render(h); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func strconvItoa(i int) string { return ToString(int64(i)) }

// FuzzDocument: any template parses or fails with a positioned error, and
// rendering never panics.
func FuzzDocument(f *testing.F) {
	for _, s := range []string{"a{{ b }}c", "{% if x %}1{% elif y %}2{% else %}3{% endif %}", "{% for a, b in d.items() if a %}{{ loop.index }}{% endfor %}",
		"{%- raw -%}{{ x }}{% endraw %}", "{# c #}{% set z = [1] %}{{ z }}", "{{ '}}' }}"} {
		f.Add(s)
	}
	vars := Vars{"b": "x", "x": true, "d": map[string]any{"k": int64(1)}}
	f.Fuzz(func(t *testing.T, src string) {
		d, err := ParseDocument("fuzz.j2", src)
		if err != nil {
			return
		}
		_, _ = d.Render(vars)
	})
}
