package template

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// lookups are Ansible's lookup plugins that run on the controller.
var lookups = map[string]func(ev *evaluator, terms []any, kw map[string]any) ([]any, error){
	"env": func(_ *evaluator, terms []any, kw map[string]any) ([]any, error) {
		def, hasDef := kw["default"]
		var out []any
		for _, t := range terms {
			v, ok := os.LookupEnv(ToString(t))
			switch {
			case ok:
				out = append(out, v)
			case hasDef:
				out = append(out, def)
			default:
				out = append(out, "")
			}
		}
		return out, nil
	},
	"file": func(_ *evaluator, terms []any, kw map[string]any) ([]any, error) {
		var out []any
		for _, t := range terms {
			data, err := os.ReadFile(expandUser(ToString(t)))
			if err != nil {
				return nil, fmt.Errorf("could not read file %s: %v", ToString(t), unwrapPathErr(err))
			}
			s := string(data)
			if kw["rstrip"] == nil || truthy(kw["rstrip"]) {
				s = strings.TrimRight(s, " \t\r\n")
			}
			out = append(out, s)
		}
		return out, nil
	},
	"pipe": func(_ *evaluator, terms []any, _ map[string]any) ([]any, error) {
		var out []any
		for _, t := range terms {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command("/bin/sh", "-c", ToString(t))
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("pipe %q: %v: %s", ToString(t), err, strings.TrimSpace(stderr.String()))
			}
			out = append(out, strings.TrimRight(stdout.String(), "\n"))
		}
		return out, nil
	},
	"template": lookupTemplate,
	"vars": func(ev *evaluator, terms []any, kw map[string]any) ([]any, error) {
		def, hasDef := kw["default"]
		var out []any
		for _, t := range terms {
			v, ok := ev.scope.Lookup(ToString(t))
			switch {
			case ok:
				out = append(out, v)
			case hasDef:
				out = append(out, def)
			default:
				return nil, fmt.Errorf("no variable found with this name: %s", ToString(t))
			}
		}
		return out, nil
	},
}

// callLookup runs lookup(name, ...) (a comma-joined string, or the single
// value) or query(name, ...) (always a list).
func (ev *evaluator) callLookup(asList bool, args []any, kw map[string]any) (any, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("needs the name of a lookup plugin")
	}
	name := shortName(ToString(args[0]))
	fn, ok := lookups[name]
	if list, isList := listLookups[name]; isList {
		fn, ok = func(_ *evaluator, terms []any, _ map[string]any) ([]any, error) { return list(terms) }, true
	}
	if !ok {
		known := make([]string, 0, len(lookups)+len(listLookups))
		for k := range lookups {
			known = append(known, k)
		}
		for k := range listLookups {
			known = append(known, k)
		}
		return nil, fmt.Errorf("lookup plugin '%s' not found%s", name, didYouMean(name, known))
	}
	wantList := asList || truthy(kw["wantlist"])
	delete(kw, "wantlist")
	out, err := fn(ev, args[1:], kw)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []any{}
	}
	if wantList || len(out) == 0 {
		return out, nil
	}
	// As Ansible: strings joined with commas, else one value as it is, else
	// the list.
	parts := make([]string, len(out))
	for i, v := range out {
		s, ok := v.(string)
		if !ok {
			if len(out) == 1 {
				return out[0], nil
			}
			return out, nil
		}
		parts[i] = s
	}
	return strings.Join(parts, ","), nil
}

func expandUser(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// lookupTemplate renders template files with the current variables, plus
// template_vars, keeping their trailing newlines as Ansible's lookup does.
// A relative name is tried as given, then under templates/.
func lookupTemplate(ev *evaluator, terms []any, kw map[string]any) ([]any, error) {
	scope := ev.scope
	if tv, ok := asDict(kw["template_vars"]); ok {
		scope = &frame{vars: Vars(tv.Map()), parent: scope}
	}
	var out []any
	for _, t := range terms {
		name := expandUser(ToString(t))
		src, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(name) {
			if alt, altErr := os.ReadFile(filepath.Join("templates", name)); altErr == nil {
				src, err, name = alt, nil, filepath.Join("templates", name)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("could not read template %s: %v", ToString(t), unwrapPathErr(err))
		}
		d, err := ParseDocument(name, string(src))
		if err != nil {
			return nil, &placedError{err}
		}
		r, err := d.Render(scope)
		if err != nil {
			return nil, &placedError{err}
		}
		out = append(out, r)
	}
	return out, nil
}
