package inventory

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

const asciiLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

// maxRangeHosts bounds one pattern's expansion, so a typo such as
// [1:999999999] fails instead of eating the controller's memory.
const maxRangeHosts = 1_000_000

// expandHostPattern splits off a :port and expands [a:b] and [a:b:step]
// ranges: web[01:03].example.com gives web01, web02, web03.
func expandHostPattern(p string) ([]string, int, error) {
	name, port := p, 0
	if i := strings.LastIndexByte(p, ':'); i >= 0 && i > strings.LastIndexByte(p, ']') && strings.Count(p[strings.LastIndexByte(p, ']')+1:], ":") == 1 {
		n, err := strconv.Atoi(p[i+1:])
		if err != nil || n <= 0 || n > 65535 {
			return nil, 0, fmt.Errorf("host %q: the part after ':' must be a port number", p)
		}
		name, port = p[:i], n
	}
	if name == "" {
		return nil, 0, fmt.Errorf("host %q has no name", p)
	}
	if !hasRange(name) {
		return []string{name}, port, nil
	}
	out, err := expandRanges(name, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("host range %q: %w", name, err)
	}
	return out, port, nil
}

func hasRange(s string) bool {
	i := strings.IndexByte(s, '[')
	return i >= 0 && strings.Contains(s[i:], ":") && strings.Contains(s[i:], "]")
}

func expandRanges(s string, out []string) ([]string, error) {
	open := strings.IndexByte(s, '[')
	close := strings.IndexByte(s, ']')
	if open < 0 || close < open {
		return nil, errors.New("brackets do not pair up")
	}
	head, spec, tail := s[:open], s[open+1:close], s[close+1:]
	seq, err := rangeItems(spec)
	if err != nil {
		return nil, err
	}
	for _, item := range seq {
		name := head + item + tail
		if hasRange(name) {
			if out, err = expandRanges(name, out); err != nil {
				return nil, err
			}
		} else {
			out = append(out, name)
		}
		if len(out) > maxRangeHosts {
			return nil, fmt.Errorf("expands to more than %d hosts", maxRangeHosts)
		}
	}
	return out, nil
}

// rangeItems lists the values of begin:end[:step], numeric or alphabetic.
func rangeItems(spec string) ([]string, error) {
	bounds := strings.Split(spec, ":")
	if len(bounds) != 2 && len(bounds) != 3 {
		return nil, errors.New("must be [begin:end] or [begin:end:step]")
	}
	beg, end, step := bounds[0], bounds[1], 1
	if len(bounds) == 3 {
		n, err := strconv.Atoi(bounds[2])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("step %q must be a positive number", bounds[2])
		}
		step = n
	}
	if beg == "" {
		beg = "0"
	}
	if end == "" {
		return nil, errors.New("must give an end value")
	}
	width := 0
	if beg[0] == '0' && len(beg) > 1 {
		if len(beg) != len(end) {
			return nil, errors.New("zero-padded begin and end must have the same length, like [01:20]")
		}
		width = len(beg)
	}
	if i, j := strings.Index(asciiLetters, beg), strings.Index(asciiLetters, end); len(beg) == 1 && len(end) == 1 && i >= 0 && j >= 0 {
		if i > j {
			return nil, errors.New("begin must not come after end")
		}
		var out []string
		for k := i; k <= j; k += step {
			out = append(out, asciiLetters[k:k+1])
		}
		return out, nil
	}
	b, err1 := strconv.Atoi(beg)
	e, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("[%s] mixes numbers and letters or is not a range", spec)
	}
	if e-b > maxRangeHosts*step {
		return nil, fmt.Errorf("expands to more than %d hosts", maxRangeHosts)
	}
	var out []string
	for k := b; k <= e; k += step {
		s := strconv.Itoa(k)
		if width > len(s) {
			s = strings.Repeat("0", width-len(s)) + s
		}
		out = append(out, s)
	}
	return out, nil
}
