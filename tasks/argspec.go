package tasks

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// check rejects arguments the module does not know, suggesting the closest
// known name.
func (a Args) check(known ...string) error {
	var unknown []string
	for k := range a {
		if !contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	k := unknown[0]
	if s := suggest(k, known); s != "" {
		return &ArgError{Arg: k, Err: fmt.Errorf("unsupported argument; did you mean %s?", s)}
	}
	return &ArgError{Arg: k, Err: fmt.Errorf("unsupported argument; supported: %s", strings.Join(publicNames(known), ", "))}
}

func publicNames(names []string) []string {
	var out []string
	for _, n := range names {
		if !strings.HasPrefix(n, "_") {
			out = append(out, n)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str returns a string argument; numbers and booleans are rendered as text.
func (a Args) str(name string) (string, bool, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return "", false, nil
	}
	switch x := v.(type) {
	case string:
		return x, true, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true, nil
	case int:
		return strconv.Itoa(x), true, nil
	case bool:
		if x {
			return "True", true, nil
		}
		return "False", true, nil
	default:
		return "", false, &ArgError{Arg: name, Err: fmt.Errorf("want a string, got %T", v)}
	}
}

// boolean returns a boolean argument in any of Ansible's spellings.
func (a Args) boolean(name string, def bool) (bool, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return def, nil
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	s, _, err := a.str(name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "y", "true", "t", "on", "1", "1.0":
		return true, nil
	case "no", "n", "false", "f", "off", "0", "0.0", "":
		return false, nil
	}
	return false, &ArgError{Arg: name, Err: fmt.Errorf("%q is not a boolean; use yes or no", s)}
}

// list returns a list-of-strings argument.
func (a Args) list(name string) ([]string, bool, error) {
	v, ok := a[name]
	if !ok || v == nil {
		return nil, false, nil
	}
	items, ok := v.([]any)
	if !ok {
		return nil, false, &ArgError{Arg: name, Err: fmt.Errorf("want a list, got %T", v)}
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			s = fmt.Sprint(it)
		}
		out[i] = s
	}
	return out, true, nil
}

// required returns a string argument that must be present and non-empty.
func (a Args) required(name string) (string, error) {
	s, ok, err := a.str(name)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		return "", &ArgError{Arg: name, Err: errors.New("missing required argument")}
	}
	return s, nil
}

// suggest returns the known name closest to s, if it is close enough.
func suggest(s string, known []string) string {
	best, bestDist := "", 3
	for _, k := range known {
		if strings.HasPrefix(k, "_") {
			continue
		}
		if d := editDistance(s, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// Suggest returns the name in names closest to s, or "" when none is close;
// for "did you mean" hints.
func Suggest(s string, names []string) string { return suggest(s, names) }

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
