package tasks

import (
	"context"
	"crypto/rand"
	_ "embed" // setup.sh
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover/drover/connection"
)

// setupScript is the one command setup runs on the host.
//
//go:embed setup.sh
var setupScript string

// setupFollowUpScript runs what setup.sh left out for Go to derive, on the
// rare host where Go finds it cannot.
//
//go:embed setup_followup.sh
var setupFollowUpScript string

// setupModule gathers facts as Ansible's setup module (gather_facts) does,
// under the same names and types, in one round trip: setup.sh prints the
// raw files and command outputs the chosen collectors need, and Go turns
// them into facts. The host needs only a POSIX shell; tools such as ip,
// getent or lsb_release are used when present. Where Go can compute a
// command's answer from what the script prints anyway, the script does not
// run it (each process costs the host about a millisecond of CPU); on the
// rare host where Go then finds it cannot, a second round trip
// (setup_followup.sh) runs those commands.
//
// Arguments: gather_subset (a list or comma-separated text; default all;
// collector names such as min, hardware, network, virtual, or fact names,
// with ! to exclude, as Ansible resolves them; facter and ohai are accepted
// and gather nothing); filter (fnmatch patterns on fact names; default
// all); gather_timeout (seconds, default 10: the limit on each helper that
// could hang, such as statfs on a dead NFS mount); fact_path (default
// /etc/ansible/facts.d: *.fact files, JSON or INI, executable ones run).
type setupModule struct{}

// setupArgs are the decoded arguments of setup.
type setupArgs struct {
	subset   []string
	filter   []string
	timeout  int
	factPath string
}

func decodeSetup(args Args) (setupArgs, error) {
	a := setupArgs{subset: []string{"all"}, timeout: 10, factPath: "/etc/ansible/facts.d"}
	if err := args.check("gather_subset", "filter", "gather_timeout", "fact_path"); err != nil {
		return a, err
	}
	var err error
	if s, ok, err := stringList(args, "gather_subset"); err != nil {
		return a, err
	} else if ok {
		a.subset = s
	}
	if a.filter, _, err = stringList(args, "filter"); err != nil {
		return a, err
	}
	if s, ok, err := args.str("gather_timeout"); err != nil {
		return a, err
	} else if ok {
		if a.timeout, err = strconv.Atoi(strings.TrimSpace(s)); err != nil {
			return a, &ArgError{Arg: "gather_timeout", Err: fmt.Errorf("%q is not a whole number of seconds", s)}
		}
	}
	if a.timeout <= 0 {
		a.timeout = 10 // Ansible's "gather_timeout or DEFAULT_GATHER_TIMEOUT"
	}
	if s, ok, err := args.str("fact_path"); err != nil {
		return a, err
	} else if ok && s != "" {
		a.factPath = s
	}
	return a, nil
}

// stringList reads a list argument given as a list or as comma-separated
// text, as Ansible's type=list does.
func stringList(args Args, name string) ([]string, bool, error) {
	if _, isList := args[name].([]any); isList {
		return args.list(name)
	}
	s, ok, err := args.str(name)
	if err != nil || !ok {
		return nil, ok, err
	}
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out, true, nil
}

func (setupModule) Run(ctx context.Context, env *Env, args Args) (*Result, error) {
	a, err := decodeSetup(args)
	if err != nil {
		return nil, err
	}
	chosen, err := chooseCollectors(a.subset)
	if err != nil {
		return nil, err
	}
	nonce := newNonce()
	out, err := run(ctx, env, setupCommand(nonce, a, chosen, time.Now()), strings.NewReader(setupScript))
	if err != nil {
		return nil, err
	}
	o, err := parseSetupOutput(out.stdout, nonce)
	err = checkSetupAnswer(err, out)
	if err == nil && len(o.pending) > 0 {
		err = o.followUp(ctx, env)
	}
	if err != nil {
		var fail *setupFailure
		if !errors.As(err, &fail) {
			return nil, err
		}
		return &Result{Failed: true, Msg: fail.Error()}, nil
	}
	return &Result{Data: map[string]any{"ansible_facts": gatherFacts(o, chosen, a)}}, nil
}

// setupFailure is a fact script whose answer does not parse: setup fails
// (Result.Failed) with this message rather than erroring.
type setupFailure struct{ msg string }

func (e *setupFailure) Error() string { return e.msg }

// checkSetupAnswer turns a parse error of a script's answer into a
// setupFailure that shows the exit status and stderr.
func checkSetupAnswer(err error, out output) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("%v (rc=%d)", err, out.rc)
	if s := strings.TrimSpace(out.stderr); s != "" {
		msg += ": " + s
	}
	return &setupFailure{msg}
}

// followUp runs setup_followup.sh for the sections setup.sh left to Go
// that Go could not derive, and adds them to o.
func (o *setupOutput) followUp(ctx context.Context, env *Env) error {
	nonce := newNonce()
	line := "sh -s " + connection.QuoteAll(append([]string{nonce}, o.pending...)...)
	out, err := run(ctx, env, line, strings.NewReader(setupFollowUpScript))
	if err != nil {
		return err
	}
	more, err := parseSetupOutput(out.stdout, nonce)
	if err := checkSetupAnswer(err, out); err != nil {
		return err
	}
	for _, name := range o.pending {
		if s := more.sections[name]; s != nil {
			o.sections[name] = s
		}
	}
	o.pending = nil
	return nil
}

// GatherCommand is what gather_facts sends a host with the default
// arguments: the command line, and the script to give it on standard input.
// The benchmark's floor sends the same over bare SSH, so that it measures
// drover's cost beside the same work on the host.
func GatherCommand() (line, stdin string, err error) {
	chosen, err := chooseCollectors([]string{"all"})
	if err != nil {
		return "", "", err
	}
	a := setupArgs{subset: []string{"all"}, timeout: 10, factPath: "/etc/ansible/facts.d"}
	return setupCommand("bench", a, chosen, time.Now()), setupScript, nil
}

// setupCommand is the command line that runs setup.sh, given on standard
// input, with its arguments. A shell that is dash, as sh is, reads the
// script itself, which spares the host starting a second dash, the costliest
// part of a small command; any other (bash, zsh, csh, fish) starts sh, as
// does dash where standard input cannot be opened again.
func setupCommand(nonce string, a setupArgs, chosen []*setupCollector, now time.Time) string {
	args := connection.QuoteAll(setupScriptArgs(nonce, a, chosen, now)...)
	return "[ /proc/self/exe -ef /bin/dash ] && [ /bin/sh -ef /bin/dash ] && true </dev/stdin 2>/dev/null && set -- " + args +
		" && . /dev/stdin; exec sh -s " + args
}

// setupScriptArgs are setup.sh's arguments. T_JAN and T_JUL are the
// instants CPython reads time.tzname from: the start of the (365.25-day)
// year and half a year later.
func setupScriptArgs(nonce string, a setupArgs, chosen []*setupCollector, now time.Time) []string {
	const year = (365*24 + 6) * 3600
	jan := now.Unix() / year * year
	words := []string{nonce, a.factPath, strconv.Itoa(a.timeout), strconv.FormatInt(jan, 10), strconv.FormatInt(jan+year/2, 10)}
	for _, c := range chosen {
		words = append(words, c.name)
	}
	return words
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// gatherFacts runs the chosen collectors over the script's output. Each
// sees the facts of those before it (pkg_mgr needs os_family), and, as in
// Ansible, the filter applies to each collector's facts under their
// ansible_ names, and to gather_subset and module_setup.
func gatherFacts(o *setupOutput, chosen []*setupCollector, a setupArgs) map[string]any {
	got := make(map[string]any, 160) // a full run has some 130 facts
	facts := make(map[string]any, 160)
	keep := factFilter(a.filter)
	for _, c := range chosen {
		for k, v := range c.gather(o, got) {
			got[k] = v
			if keep("ansible_" + k) {
				facts["ansible_"+k] = v
			}
		}
	}
	subset := make([]any, len(a.subset))
	for i, s := range a.subset {
		subset[i] = s
	}
	for k, v := range map[string]any{"gather_subset": subset, "module_setup": true} {
		if keep(k) {
			facts[k] = v
		}
	}
	return facts
}

// factFilter returns Ansible's filter test: a fact is kept when a pattern
// matches its name, or, for patterns not starting with ansible_, facter or
// ohai, its name with ansible_ put before the pattern.
func factFilter(patterns []string) func(string) bool {
	if len(patterns) == 0 {
		return func(string) bool { return true }
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		if p == "" {
			return func(string) bool { return true }
		}
		res = append(res, fnmatchRegexp(p))
		if !strings.HasPrefix(p, "ansible_") && !strings.HasPrefix(p, "facter") && !strings.HasPrefix(p, "ohai") {
			res = append(res, fnmatchRegexp("ansible_"+p))
		}
	}
	return func(name string) bool {
		return slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(name) })
	}
}

// fnmatchRegexp translates a shell pattern as Python's fnmatch.translate
// does: * and ? match anything (slashes too), [...] is a set, [!...] its
// complement, and a [ without its ] is literal.
func fnmatchRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)\A`)
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			set := pat[i+1 : j]
			neg := strings.HasPrefix(set, "!")
			set = strings.TrimPrefix(set, "!")
			b.WriteByte('[')
			if neg {
				b.WriteByte('^')
			}
			for _, r := range set {
				if r == '\\' || r == '[' || r == ']' || r == '^' {
					b.WriteByte('\\')
				}
				b.WriteRune(r)
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`\z`)
	re, err := regexp.Compile(b.String())
	if err != nil { // an empty set such as [!] matches nothing, as in Python
		return regexp.MustCompile(`[^\s\S]`)
	}
	return re
}
