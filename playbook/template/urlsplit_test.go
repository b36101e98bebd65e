package template

import (
	"testing"
)

// TestURLSplitAnsible: urlsplit as Ansible gives it: Python's
// urllib.parse.urlsplit of 3.11 (with Debian's fix for bracketed hosts),
// every field or one, and Python's ValueErrors as errors. Ansible reads
// every field, so a bad port fails even a query for the path.
func TestURLSplitAnsible(t *testing.T) {
	runCryptCases(t, []cryptCase{
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit`, `{"fragment": "frag", "hostname": "www.example.com", "netloc": "user:pass@www.Example.COM:8080", "password": "pass", "path": "/dir/index.html", "port": 8080, "query": "query=term", "scheme": "http", "username": "user"}`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('fragment')`, `"frag"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('hostname')`, `"www.example.com"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('netloc')`, `"user:pass@www.Example.COM:8080"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('password')`, `"pass"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('path')`, `"/dir/index.html"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('port')`, `8080`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('query')`, `"query=term"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('scheme')`, `"http"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('username')`, `"user"`, ``},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit('nope')`, ``, `unknown URL component 'nope'`},
		{`'http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag' | urlsplit(query='port')`, `8080`, ``},
		{`'https://[2001:DB8::1]:443/path' | urlsplit`, `{"fragment": "", "hostname": "2001:db8::1", "netloc": "[2001:DB8::1]:443", "password": null, "path": "/path", "port": 443, "query": "", "scheme": "https", "username": null}`, ``},
		{`'https://[fe80::1%25eth0]/' | urlsplit`, `{"fragment": "", "hostname": "fe80::1%25eth0", "netloc": "[fe80::1%25eth0]", "password": null, "path": "/", "port": null, "query": "", "scheme": "https", "username": null}`, ``},
		{`'www.example.com/path?x=1' | urlsplit`, `{"fragment": "", "hostname": null, "netloc": "", "password": null, "path": "www.example.com/path", "port": null, "query": "x=1", "scheme": "", "username": null}`, ``},
		{`'//host.example:21/file' | urlsplit`, `{"fragment": "", "hostname": "host.example", "netloc": "host.example:21", "password": null, "path": "/file", "port": 21, "query": "", "scheme": "", "username": null}`, ``},
		{`'ftp://anonymous@ftp.example.org/pub' | urlsplit`, `{"fragment": "", "hostname": "ftp.example.org", "netloc": "anonymous@ftp.example.org", "password": null, "path": "/pub", "port": null, "query": "", "scheme": "ftp", "username": "anonymous"}`, ``},
		{`'mailto:someone@example.com' | urlsplit`, `{"fragment": "", "hostname": null, "netloc": "", "password": null, "path": "someone@example.com", "port": null, "query": "", "scheme": "mailto", "username": null}`, ``},
		{`'HTTP://Host/a?b#c?d' | urlsplit`, `{"fragment": "c?d", "hostname": "host", "netloc": "Host", "password": null, "path": "/a", "port": null, "query": "b", "scheme": "http", "username": null}`, ``},
		{`'http://user:@host:/' | urlsplit`, `{"fragment": "", "hostname": "host", "netloc": "user:@host:", "password": "", "path": "/", "port": null, "query": "", "scheme": "http", "username": "user"}`, ``},
		{`'file:///etc/hosts' | urlsplit`, `{"fragment": "", "hostname": null, "netloc": "", "password": null, "path": "/etc/hosts", "port": null, "query": "", "scheme": "file", "username": null}`, ``},
		{`'  http://h/p' | urlsplit`, `{"fragment": "", "hostname": "h", "netloc": "h", "password": null, "path": "/p", "port": null, "query": "", "scheme": "http", "username": null}`, ``},
		{`'http://[::1]:8080' | urlsplit('port')`, `8080`, ``},
		{`'http://[v1.fe]/' | urlsplit('hostname')`, `"v1.fe"`, ``},
		{`'http://ÉXAMPLE.com/' | urlsplit('hostname')`, `"\u00e9xample.com"`, ``},
		{`'' | urlsplit`, `{"fragment": "", "hostname": null, "netloc": "", "password": null, "path": "", "port": null, "query": "", "scheme": "", "username": null}`, ``},
		{`'http://host:abc/' | urlsplit`, ``, `port could not be cast to integer value as 'abc'`},
		{`'http://host:abc/' | urlsplit('path')`, ``, `port could not be cast to integer value as 'abc'`},
		{`'http://[::1/' | urlsplit`, ``, `invalid IPv6 URL`},
		{`'http://host:99999/' | urlsplit`, ``, `port out of range 0-65535`},
		{`'http://[1.2.3.4]/' | urlsplit`, ``, `an IPv4 address cannot be in brackets`},
		{`'http://a:b:c/' | urlsplit`, ``, `port could not be cast to integer value as 'b:c'`},
		{`'http://a／b.com/' | urlsplit`, ``, `contains invalid characters under NFKC normalization`},
		{`7 | urlsplit`, ``, `urlsplit expects a string, got int`},
	})
}

// TestURLSplitLower: hostnames are lowered as Python lowers them.
func TestURLSplitLower(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Example.COM", "example.com"},
		{"\u0130stanbul", "i\u0307stanbul"},
		{"\u039f\u0394\u039f\u03a3", "\u03bf\u03b4\u03bf\u03c2"},
		{"\u039f\u0394\u039f\u03a3.gr", "\u03bf\u03b4\u03bf\u03c3.gr"},
		{"A\u03a3\u0301", "a\u03c2\u0301"},
		{"\u03a3\u039f", "\u03c3\u03bf"},
		{"A\u03a3'\u00e9", "a\u03c3'\u00e9"},
	}
	for _, tt := range tests {
		if got := pyLower(tt.in); got != tt.want {
			t.Errorf("pyLower(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzURLSplit: no input makes urlsplit panic, and the parts it finds
// come from the URL.
func FuzzURLSplit(f *testing.F) {
	for _, s := range []string{"http://user:pass@www.Example.COM:8080/dir/index.html?query=term#frag",
		"https://[fe80::1%25eth0]/", "http://[v1.fe]/", "//h:0080", "http://a／b.com/", "\x01 ht\ttp://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		parts, err := splitURL(raw)
		if err != nil {
			return
		}
		for _, k := range urlFields {
			if _, ok := parts[k]; !ok {
				t.Fatalf("%q: no %s", raw, k)
			}
		}
		if p, ok := parts["port"].(int64); ok && (p < 0 || p > 65535) {
			t.Errorf("%q: port %d", raw, p)
		}
	})
}
