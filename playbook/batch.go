package playbook

import (
	"context"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/drover/drover/inventory"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/playbook/value"
)

// batches splits the play's hosts by serial: a number, a percentage, or a
// list of them whose last entry repeats.
func (pr *playRun) batches() ([][]*hostState, error) {
	f, ok := pr.play.Keywords["serial"]
	if !ok || f.Value == nil {
		return [][]*hostState{pr.all}, nil
	}
	sizes, ok := f.Value.([]any)
	if !ok {
		sizes = []any{f.Value}
	}
	var out [][]*hostState
	rest := pr.all
	for i := 0; len(rest) > 0; i++ {
		spec := sizes[min(i, len(sizes)-1)]
		n, err := batchSize(spec, len(pr.all))
		if err != nil {
			return nil, fmt.Errorf("%s: serial: %w", f.Pos, err)
		}
		n = min(max(n, 1), len(rest))
		out = append(out, rest[:n])
		rest = rest[n:]
	}
	return out, nil
}

// batchSize reads one serial entry: N or "N%" of the play's hosts.
func batchSize(spec any, total int) (int, error) {
	s := strings.TrimSpace(template.ToString(spec))
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		p, err := strconv.ParseFloat(pct, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a percentage", s)
		}
		return int(math.Floor(float64(total) * p / 100)), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number of hosts or a percentage", s)
	}
	if n <= 0 {
		return total, nil
	}
	return n, nil
}

// loadVarsFiles reads vars_files over the play's vars: each entry a file,
// or a list of files of which the first that exists is read.
func (pr *playRun) loadVarsFiles() error {
	f, ok := pr.play.Keywords["vars_files"]
	if !ok || f.Value == nil {
		return nil
	}
	entries, ok := f.Value.([]any)
	if !ok {
		entries = []any{f.Value}
	}
	scope := layers{pr.playVars, pr.run.opts.ExtraVars}
	for _, e := range entries {
		cands, ok := e.([]any)
		if !ok {
			cands = []any{e}
		}
		var found string
		var tried []string
		for _, c := range cands {
			r, err := pr.run.cache.RenderString(template.ToString(c), template.NewLazyScope(scope, pr.run.cache))
			if err != nil {
				return template.Locate(err, template.ToString(c), f.Pos)
			}
			path := template.ToString(r)
			if !filepath.IsAbs(path) {
				path = filepath.Join(pr.run.pb.Dir, path)
			}
			tried = append(tried, path)
			if fileExists(path) {
				found = path
				break
			}
		}
		if found == "" {
			return fmt.Errorf("%s: vars_files: no such file: %s", f.Pos, strings.Join(tried, ", "))
		}
		vars, err := inventory.ReadVarsFile(found, pr.run.r.Vault)
		if err != nil {
			return fmt.Errorf("%s: vars_files: %w", f.Pos, err)
		}
		maps.Copy(pr.playVars, vars)
	}
	return nil
}

// promptVars asks for the play's vars_prompt values, unless extra vars
// give them; without a terminal a prompt's default answers.
func (pr *playRun) promptVars(ctx context.Context) error {
	f, ok := pr.play.Keywords["vars_prompt"]
	if !ok || f.Value == nil {
		return nil
	}
	list, ok := f.Value.([]any)
	if !ok {
		return fmt.Errorf("%s: vars_prompt must be a list of {name, prompt, private, default}", f.Pos)
	}
	for _, e := range list {
		d, ok := e.(*value.Dict)
		if !ok {
			return fmt.Errorf("%s: each vars_prompt entry is a mapping with name: and prompt:", f.Pos)
		}
		get := func(k string) (any, bool) { return d.Get(k) }
		nameV, ok := get("name")
		if !ok {
			return fmt.Errorf("%s: a vars_prompt entry has no name:", f.Pos)
		}
		name := template.ToString(nameV)
		if _, given := pr.run.opts.ExtraVars[name]; given {
			continue
		}
		text := name
		if p, ok := get("prompt"); ok {
			text = template.ToString(p)
		}
		def, hasDef := get("default")
		private := true
		if p, ok := get("private"); ok {
			private = truthy(p)
		}
		if hasDef {
			text += " [" + template.ToString(def) + "]"
		}
		if pr.run.r.Prompt == nil {
			if !hasDef {
				return fmt.Errorf("%s: vars_prompt %s needs a terminal to ask on; give it with -e %s=...", f.Pos, name, name)
			}
			pr.playVars[name] = template.ToString(def)
			continue
		}
		answer, err := pr.run.r.Prompt(ctx, text+": ", private)
		if err != nil {
			return fmt.Errorf("vars_prompt %s: %w", name, err)
		}
		if answer == "" && hasDef {
			answer = template.ToString(def)
		}
		pr.playVars[name] = answer
	}
	return nil
}
