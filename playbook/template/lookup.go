package template

import (
	"bytes"
	"errors"
	"fmt"
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
	"file": func(ev *evaluator, terms []any, kw map[string]any) ([]any, error) {
		var out []any
		for _, t := range terms {
			data, err := os.ReadFile(ev.findFile(ToString(t), "files"))
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
	"template":    lookupTemplate,
	"fileglob":    lookupFileglob,
	"first_found": lookupFirstFound,
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
		name := ev.findFile(ToString(t), "templates")
		src, err := os.ReadFile(name)
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

// searchPath is where a lookup looks for a relative file: subdir of the
// playbook's directory, then the directory itself, as Ansible's search
// path for a play; outside a play, the working directory and its subdir.
func (ev *evaluator) searchPath(subdir string) []string {
	if pd, ok := ev.scope.Lookup("playbook_dir"); ok {
		if dir := ToString(pd); dir != "" && dir != "None" {
			return []string{filepath.Join(dir, subdir), dir}
		}
	}
	return []string{".", subdir}
}

// findFile is the first of the search path's files called name, or name
// itself (absolute, or where nothing matched, for the error to name).
func (ev *evaluator) findFile(name, subdir string) string {
	name = expandUser(name)
	if filepath.IsAbs(name) {
		return name
	}
	for _, dir := range ev.searchPath(subdir) {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return name
}

// lookupFileglob lists the files matching each pattern, its directory
// found on the search path as Ansible's fileglob does.
func lookupFileglob(ev *evaluator, terms []any, _ map[string]any) ([]any, error) {
	out := []any{}
	for _, t := range terms {
		pattern := expandUser(ToString(t))
		dir, base := filepath.Split(pattern)
		dirs := []string{dir}
		if !filepath.IsAbs(pattern) {
			dirs = nil
			for _, d := range ev.searchPath("files") {
				dirs = append(dirs, filepath.Join(d, dir))
			}
		}
		for _, d := range dirs {
			if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
				continue
			}
			matches, err := filepath.Glob(filepath.Join(d, base))
			if err != nil {
				return nil, fmt.Errorf("fileglob %q: %v", pattern, err)
			}
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
					out = append(out, m)
				}
			}
			break
		}
	}
	return out, nil
}

// lookupFirstFound is the first file that exists of those the terms name,
// as Ansible 2.14's first_found reads them: a name (with the keywords
// files, paths and skip applying to it), a list of terms, or a dict of
// those keywords; paths joined with each file; relative names looked for
// on the search path.
func lookupFirstFound(ev *evaluator, terms []any, kw map[string]any) ([]any, error) {
	search, skip, err := firstFoundTerms(terms, kw)
	if err != nil {
		return nil, err
	}
	for _, name := range search {
		p := ev.findFile(name, "files")
		if _, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			return []any{abs}, nil
		}
	}
	if skip {
		return []any{}, nil
	}
	if len(search) == 0 {
		return nil, errors.New("No file was found when using first_found: no file names were given")
	}
	return nil, fmt.Errorf("No file was found when using first_found: looked for %s in %s; add skip=True to allow none",
		strings.Join(search, ", "), strings.Join(ev.searchPath("files"), ", "))
}

func firstFoundTerms(terms []any, kw map[string]any) (search []string, skip bool, err error) {
	for _, term := range terms {
		var opts map[string]any
		switch t := term.(type) {
		case string:
			opts = kw
		case []any:
			partial, s, err := firstFoundTerms(t, kw)
			if err != nil {
				return nil, false, err
			}
			search, skip = append(search, partial...), s
			continue
		default:
			d, ok := asDict(t)
			if !ok {
				return nil, false, fmt.Errorf("Invalid term supplied, can handle string, mapping or list of strings but got: %s", typeName(t))
			}
			opts = d.Map()
		}
		files, paths := splitOn(opts["files"], ",;"), splitOn(opts["paths"], ",:;")
		skip = truthy(opts["skip"])
		switch {
		case len(paths) > 0:
			for _, p := range paths {
				for _, f := range files {
					search = append(search, filepath.Join(p, f))
				}
			}
		case len(files) > 0:
			search = files // as Ansible: the files option replaces what came before
		default:
			search = append(search, ToString(term))
		}
	}
	return search, skip, nil
}

// splitOn is first_found's splitting of an option: a list's items and a
// string's parts between any of seps.
func splitOn(v any, seps string) []string {
	var out []string
	switch x := v.(type) {
	case nil:
	case []any:
		for _, e := range x {
			out = append(out, splitOn(e, seps)...)
		}
	default:
		out = strings.FieldsFunc(ToString(x), func(r rune) bool { return strings.ContainsRune(seps, r) })
	}
	return out
}
