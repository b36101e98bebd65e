package template

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// urlFields are the keys of urlsplit's dict: the public attributes of
// Python's SplitResult, which Ansible collects in dir() order.
var urlFields = []string{"fragment", "hostname", "netloc", "password", "path", "port", "query", "scheme", "username"}

// fURLSplit is Ansible's urlsplit(query=”): every part of the URL as a
// dict, or the one part query names. alias only renames the filter in
// Ansible's messages, which the evaluator already prefixes.
func fURLSplit(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	p, err := bindArgs("urlsplit", []string{"query", "alias"}, args, kw)
	if err != nil {
		return nil, err
	}
	if typeName(in) != "str" {
		return nil, fmt.Errorf("urlsplit expects a string, got %s", typeName(in))
	}
	parts, err := splitURL(ToString(in))
	if err != nil {
		return nil, err
	}
	q := p["query"]
	if !truthy(q) {
		return parts, nil
	}
	if v, ok := parts[ToString(q)]; ok && typeName(q) == "str" {
		return v, nil
	}
	return nil, fmt.Errorf("unknown URL component %s; want one of %s", repr(q), strings.Join(urlFields, ", "))
}

// unsafeURLBytes are removed anywhere in a URL, and c0OrSpace stripped
// from its start, as Python does since the WHATWG URL standard asked for
// it (a newline must not smuggle a second header into a request).
var unsafeURLBytes = strings.NewReplacer("\t", "", "\r", "", "\n", "")

const c0OrSpace = "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f" +
	"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "

const schemeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."

// splitURL is Python 3.11's urllib.parse.urlsplit with the attributes
// Ansible reads. It fails where Python raises ValueError, including for a
// bad port: Ansible reads every attribute, so a bad port fails any query.
func splitURL(raw string) (map[string]any, error) {
	u := unsafeURLBytes.Replace(strings.TrimLeft(raw, c0OrSpace))
	var scheme, netloc, query, fragment string
	if i := strings.IndexByte(u, ':'); i > 0 && isASCIILetter(u[0]) && strings.Trim(u[:i], schemeChars) == "" {
		scheme, u = strings.ToLower(u[:i]), u[i+1:]
	}
	if strings.HasPrefix(u, "//") {
		end := len(u)
		if j := strings.IndexAny(u[2:], "/?#"); j >= 0 {
			end = j + 2
		}
		netloc, u = u[2:end], u[end:]
		if err := checkBrackets(netloc); err != nil {
			return nil, err
		}
	}
	u, fragment, _ = strings.Cut(u, "#")
	u, query, _ = strings.Cut(u, "?")
	if err := checkNFKC(netloc); err != nil {
		return nil, err
	}
	parts := map[string]any{
		"scheme": scheme, "netloc": netloc, "path": u, "query": query, "fragment": fragment,
		"username": nil, "password": nil, "hostname": nil, "port": nil,
	}
	userinfo, hostinfo := "", netloc
	if i := strings.LastIndexByte(netloc, '@'); i >= 0 {
		userinfo, hostinfo = netloc[:i], netloc[i+1:]
		user, pass, ok := strings.Cut(userinfo, ":")
		parts["username"] = user
		if ok {
			parts["password"] = pass
		}
	}
	host, port := splitHostPort(hostinfo)
	if host != "" {
		name, zone, ok := strings.Cut(host, "%")
		if ok {
			zone = "%" + zone
		}
		parts["hostname"] = pyLower(name) + zone
	}
	if port != "" {
		n, err := urlPort(port)
		if err != nil {
			return nil, err
		}
		parts["port"] = n
	}
	return parts, nil
}

// splitHostPort splits what follows the userinfo as Python's _hostinfo
// does: a bracketed host runs to ']', otherwise to the first ':'.
func splitHostPort(hostinfo string) (host, port string) {
	if _, bracketed, ok := strings.Cut(hostinfo, "["); ok {
		host, rest, _ := strings.Cut(bracketed, "]")
		_, port, _ = strings.Cut(rest, ":")
		return host, port
	}
	host, port, _ = strings.Cut(hostinfo, ":")
	return host, port
}

// urlPort is Python's SplitResult.port for a non-empty port.
func urlPort(port string) (int64, error) {
	if strings.Trim(port, "0123456789") != "" {
		return 0, fmt.Errorf("port could not be cast to integer value as %s", repr(port))
	}
	digits := strings.TrimLeft(port, "0")
	if len(digits) > 5 {
		return 0, fmt.Errorf("port out of range 0-65535")
	}
	n, _ := strconv.ParseInt("0"+digits, 10, 64)
	if n > 65535 {
		return 0, fmt.Errorf("port out of range 0-65535")
	}
	return n, nil
}

// checkBrackets rejects a netloc whose brackets do not hold an IPv6 or
// IPvFuture address, as Python does since it stopped accepting anything
// in brackets (CVE-2024-11168).
func checkBrackets(netloc string) error {
	open, closed := strings.Contains(netloc, "["), strings.Contains(netloc, "]")
	if !open && !closed {
		return nil
	}
	if open != closed {
		return fmt.Errorf("invalid IPv6 URL")
	}
	hostport := netloc[strings.LastIndexByte(netloc, '@')+1:]
	before, bracketed, ok := strings.Cut(hostport, "[")
	var host string
	if ok {
		var rest string
		host, rest, _ = strings.Cut(bracketed, "]")
		if before != "" || rest != "" && !strings.HasPrefix(rest, ":") {
			return fmt.Errorf("invalid IPv6 URL")
		}
	} else {
		// Python checks the host here too, so brackets only in the
		// userinfo still demand an address.
		host, _, _ = strings.Cut(hostport, ":")
	}
	return checkBracketedHost(host)
}

var ipvFuture = regexp.MustCompile(`^v[a-fA-F0-9]+\..+$`)

func checkBracketedHost(host string) error {
	if strings.HasPrefix(host, "v") {
		if !ipvFuture.MatchString(host) {
			return fmt.Errorf("IPvFuture address is invalid")
		}
		return nil
	}
	ip, err := netip.ParseAddr(host)
	// Python's ipaddress allows no '%' inside a zone; netip does.
	if err != nil || strings.Contains(ip.Zone(), "%") {
		return fmt.Errorf("%s does not appear to be an IPv4 or IPv6 address", repr(host))
	}
	if ip.Is4() {
		return fmt.Errorf("an IPv4 address cannot be in brackets")
	}
	return nil
}

// nfkcDelimiters are the characters whose NFKC form holds one of "/?#@:"
// (listed from Unicode 14, Python 3.11's). Python rejects them in a netloc
// because an IDNA encoder would turn them into URL delimiters.
var nfkcDelimiters = []rune{
	0x2047, 0x2048, 0x2049, 0x2100, 0x2101, 0x2105, 0x2106, 0x2a74, 0xfe13, 0xfe16,
	0xfe55, 0xfe56, 0xfe5f, 0xfe6b, 0xff03, 0xff0f, 0xff1a, 0xff1f, 0xff20,
}

func checkNFKC(netloc string) error {
	if strings.ContainsFunc(netloc, func(r rune) bool { return slices.Contains(nfkcDelimiters, r) }) {
		return fmt.Errorf("netloc %s contains invalid characters under NFKC normalization", repr(netloc))
	}
	return nil
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// pyLower is Python's str.lower(). It differs from strings.ToLower in two
// places: İ lowers to i and a combining dot, and Σ lowers to ς at the end
// of a word (Unicode's Final_Sigma rule).
func pyLower(s string) string {
	if !strings.ContainsAny(s, "\u0130\u03a3") {
		return strings.ToLower(s)
	}
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		switch {
		case c == 0x130:
			b.WriteString("i\u0307")
		case c == 0x3a3 && finalSigma(r, i):
			b.WriteRune(0x3c2)
		default:
			b.WriteRune(unicode.ToLower(c))
		}
	}
	return b.String()
}

// finalSigma reports whether r[i] follows a cased letter and precedes
// none, looking past case-ignorable characters such as accents.
func finalSigma(r []rune, i int) bool {
	j := i - 1
	for j >= 0 && caseIgnorable(r[j]) {
		j--
	}
	if j < 0 || !cased(r[j]) {
		return false
	}
	j = i + 1
	for j < len(r) && caseIgnorable(r[j]) {
		j++
	}
	return j == len(r) || !cased(r[j])
}

func cased(c rune) bool {
	return unicode.In(c, unicode.Lu, unicode.Ll, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's Case_Ignorable: marks, format characters,
// modifiers, and the apostrophes and dots that may sit inside a word.
func caseIgnorable(c rune) bool {
	return unicode.In(c, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk) ||
		strings.ContainsRune("'.:\u00b7\u0387\u055f\u05f4\u2018\u2019\u2024\u2027\ufe13\ufe52\ufe55\uff07\uff0e\uff1a", c)
}
