package template

import (
	"fmt"
	"github.com/drover/drover/playbook/value"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// testFunc is one test: value is name(args).
type testFunc func(v any, args []any) (bool, error)

// tests maps Jinja2's and Ansible's test names to their code.
var tests = map[string]testFunc{
	"defined":   func(v any, _ []any) (bool, error) { _, u := v.(*Undefined); return !u, nil },
	"undefined": func(v any, _ []any) (bool, error) { _, u := v.(*Undefined); return u, nil },
	"none":      func(v any, _ []any) (bool, error) { return v == nil, nil },
	"string":    isType[string],
	"mapping":   func(v any, _ []any) (bool, error) { return isDict(v), nil },
	"boolean":   isType[bool],
	"float":     isType[float64],
	"integer":   isType[int64],
	"number": func(v any, _ []any) (bool, error) {
		switch v.(type) {
		case int64, float64, bool: // Python's bool is a number
			return true, nil
		}
		return false, nil
	},
	// A sequence has a length and items by index (a dict passes: Jinja2
	// asks for __getitem__); a dict view only iterates.
	"sequence": func(v any, _ []any) (bool, error) {
		return isAny[string, []any, value.Unsafe, tuple](v) || isDict(v), nil
	},
	"iterable": func(v any, _ []any) (bool, error) {
		_, isView := v.(*view)
		return isView || isAny[string, []any, value.Unsafe, tuple](v) || isDict(v), nil
	},
	"true":   func(v any, _ []any) (bool, error) { return v == true, nil },
	"false":  func(v any, _ []any) (bool, error) { return v == false, nil },
	"truthy": func(v any, _ []any) (bool, error) { return truthy(v), nil },
	"falsy":  func(v any, _ []any) (bool, error) { return !truthy(v), nil },
	"even":   intTest(func(n int64) bool { return n%2 == 0 }),
	"odd":    intTest(func(n int64) bool { return n%2 != 0 }),
	"divisibleby": func(v any, args []any) (bool, error) {
		n, ok1 := toInt(v)
		d, ok2 := toInt(firstOr(args, nil))
		if !ok1 || !ok2 || d == 0 {
			return false, fmt.Errorf("divisibleby needs integers and a non-zero divisor")
		}
		return n%d == 0, nil
	},
	"eq": cmpTest("=="), "equalto": cmpTest("=="), "==": cmpTest("=="), "sameas": cmpTest("=="),
	"ne": cmpTest("!="), "!=": cmpTest("!="),
	"lt": cmpTest("<"), "<": cmpTest("<"), "lessthan": cmpTest("<"),
	"gt": cmpTest(">"), ">": cmpTest(">"), "greaterthan": cmpTest(">"),
	"le": cmpTest("<="), "<=": cmpTest("<="),
	"ge": cmpTest(">="), ">=": cmpTest(">="),
	"in":       func(v any, args []any) (bool, error) { return contains(firstOr(args, nil), v) },
	"contains": func(v any, args []any) (bool, error) { return contains(v, firstOr(args, nil)) },
	"match":    reTest(true), "search": reTest(false),
	"regex": func(v any, args []any) (bool, error) {
		if len(args) > 3 && args[3] != nil && ToString(args[3]) == "match" {
			return reTest(true)(v, args[:3])
		}
		return reTest(false)(v, args[:min(len(args), 3)])
	},
	"version": versionTest, "version_compare": versionTest,
	"succeeded":   resultTest(func(r func(string) any) bool { return !truthy(r("failed")) }),
	"success":     resultTest(func(r func(string) any) bool { return !truthy(r("failed")) }),
	"successful":  resultTest(func(r func(string) any) bool { return !truthy(r("failed")) }),
	"failed":      resultTest(func(r func(string) any) bool { return truthy(r("failed")) }),
	"failure":     resultTest(func(r func(string) any) bool { return truthy(r("failed")) }),
	"changed":     resultTest(func(r func(string) any) bool { return truthy(r("changed")) }),
	"change":      resultTest(func(r func(string) any) bool { return truthy(r("changed")) }),
	"skipped":     resultTest(func(r func(string) any) bool { return truthy(r("skipped")) }),
	"skip":        resultTest(func(r func(string) any) bool { return truthy(r("skipped")) }),
	"reachable":   resultTest(func(r func(string) any) bool { return !truthy(r("unreachable")) }),
	"unreachable": resultTest(func(r func(string) any) bool { return truthy(r("unreachable")) }),
	"subset":      setTest(true), "superset": setTest(false),
	"any": func(v any, _ []any) (bool, error) {
		items, err := iterate(v)
		return slices.ContainsFunc(items, truthy), err
	},
	"all": func(v any, _ []any) (bool, error) {
		items, err := iterate(v)
		return !slices.ContainsFunc(items, func(x any) bool { return !truthy(x) }), err
	},
	"lower": func(v any, _ []any) (bool, error) { s, ok := v.(string); return ok && strings.ToLower(s) == s, nil },
	"upper": func(v any, _ []any) (bool, error) { s, ok := v.(string); return ok && strings.ToUpper(s) == s, nil },
}

func isType[T any](v any, _ []any) (bool, error) {
	_, ok := v.(T)
	return ok, nil
}

func isAny[A, B, C, D any](v any) bool {
	switch v.(type) {
	case A, B, C, D:
		return true
	}
	return false
}

func intTest(f func(int64) bool) testFunc {
	return func(v any, _ []any) (bool, error) {
		n, ok := toInt(v)
		if !ok {
			return false, fmt.Errorf("expected an integer, got %s", typeName(v))
		}
		return f(n), nil
	}
}

func cmpTest(op string) testFunc {
	return func(v any, args []any) (bool, error) {
		if len(args) != 1 {
			return false, fmt.Errorf("test %s needs one argument", op)
		}
		return compareOp(op, v, args[0])
	}
}

func reTest(anchored bool) testFunc {
	return func(v any, args []any) (bool, error) {
		pattern := ToString(firstOr(args, ""))
		if len(args) > 2 && truthy(args[2]) {
			pattern = "(?m)" + pattern
		}
		if len(args) > 1 && truthy(args[1]) {
			pattern = "(?i)" + pattern
		}
		re, err := compileRe(pattern)
		if err != nil {
			return false, err
		}
		loc := re.FindStringIndex(ToString(v))
		return loc != nil && (!anchored || loc[0] == 0), nil
	}
}

func resultTest(f func(result func(string) any) bool) testFunc {
	return func(v any, _ []any) (bool, error) {
		if !isDict(v) {
			return false, fmt.Errorf("this test works on a task result (a dict), got %s", typeName(v))
		}
		return f(func(k string) any { e, _ := dictGet(v, k); return e }), nil
	}
}

func setTest(subset bool) testFunc {
	return func(v any, args []any) (bool, error) {
		a, err := iterate(v)
		if err != nil {
			return false, err
		}
		b, err := iterate(firstOr(args, nil))
		if err != nil {
			return false, err
		}
		if !subset {
			a, b = b, a
		}
		for _, x := range a {
			if !slices.ContainsFunc(b, func(y any) bool { return equal(x, y) }) {
				return false, nil
			}
		}
		return true, nil
	}
}

// versionTest compares versions as Ansible's loose version does: numbers
// numerically, letters alphabetically.
func versionTest(v any, args []any) (bool, error) {
	if len(args) == 0 {
		return false, fmt.Errorf("version needs a version to compare with")
	}
	op := "=="
	if len(args) > 1 && args[1] != nil {
		op = ToString(args[1])
	}
	a, b := ToString(v), ToString(args[0])
	if len(args) > 2 && truthy(args[2]) {
		// StrictVersion reads 1.0 as 1.0.0.
		a, b = padVersion(a), padVersion(b)
	}
	c := compareVersions(a, b)
	switch op {
	case "==", "=", "eq":
		return c == 0, nil
	case "!=", "<>", "ne":
		return c != 0, nil
	case "<", "lt":
		return c < 0, nil
	case "<=", "le":
		return c <= 0, nil
	case ">", "gt":
		return c > 0, nil
	case ">=", "ge":
		return c >= 0, nil
	}
	return false, fmt.Errorf("invalid version operator %q", op)
}

var versionPart = regexp.MustCompile(`\d+|[a-zA-Z]+`)

// padVersion gives a strict version of two numbers its third, 0.
func padVersion(v string) string {
	if strictTwo.MatchString(v) {
		head, tail := v, ""
		if i := strings.IndexAny(v, "ab"); i >= 0 {
			head, tail = v[:i], v[i:]
		}
		return head + ".0" + tail
	}
	return v
}

var strictTwo = regexp.MustCompile(`^\d+\.\d+([ab]\d+)?$`)

func compareVersions(a, b string) int {
	pa, pb := versionPart.FindAllString(a, -1), versionPart.FindAllString(b, -1)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.Atoi(pa[i])
		nb, errB := strconv.Atoi(pb[i])
		switch {
		case errA == nil && errB == nil:
			if na != nb {
				return cmpInt(na, nb)
			}
		case errA == nil:
			return 1 // numbers sort after letters in LooseVersion's Python 3 port
		case errB == nil:
			return -1
		default:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return cmpInt(len(pa), len(pb))
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
