package template

import (
	"github.com/drover/drover/playbook/value"
	"regexp"
	"strings"
	"sync"
)

// Cache parses each distinct expression once; safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	exprs map[string]*Expr
	errs  map[string]error
	docs  map[string]*Document
}

// Expr returns the parsed expression for src, parsing it on first use.
func (c *Cache) Expr(src string) (*Expr, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.exprs[src]; ok {
		return e, nil
	}
	if err, ok := c.errs[src]; ok {
		return nil, err
	}
	e, err := ParseExpr(src)
	if c.exprs == nil {
		c.exprs, c.errs = map[string]*Expr{}, map[string]error{}
	}
	if err != nil {
		c.errs[src] = err
		return nil, err
	}
	c.exprs[src] = e
	return e, nil
}

// IsTemplate reports whether s holds Jinja2 markup.
func IsTemplate(s string) bool {
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 || i == len(s)-1 {
			return false
		}
		if c := s[i+1]; c == '{' || c == '%' || c == '#' {
			return true
		}
		s = s[i+1:]
	}
}

// singleVar is Ansible's SINGLE_VAR: a template that is one bare name.
var singleVar = regexp.MustCompile(`^\{\{\s*(\w*)\s*\}\}$`)

// RenderString renders a playbook string as Ansible does with
// jinja2_native off: the {{ }} parts are evaluated and joined into text,
// and a result that looks like a list, a dict or a boolean becomes one.
// A string that is only one {{ expr }} keeps a list, dict or bool value;
// other values become text ({{ 'abc' | length }} is "3").
//
// Strings with block tags ({% if %}, {% for %}...) render as documents.
// Errors carry the byte offset of the failing part within s. Tuples in
// the value come back as lists, as Ansible hands them on.
func (c *Cache) RenderString(s string, scope Scope) (any, error) {
	v, err := c.render(s, scope)
	return native(v), err
}

// render is RenderString keeping tuples, for variables that templates go
// on using: Ansible reads "{{ d.items() | list }}" back as a list of
// tuples.
func (c *Cache) render(s string, scope Scope) (any, error) {
	if !IsTemplate(s) {
		return s, nil
	}
	// Jinja2 drops a template's last newline, and Ansible puts back as many
	// as the template ended with on a text result: "{{ x | to_json }}\n" is
	// the filter's text alone, then the newline.
	if trimmed, ok := strings.CutSuffix(s, "\n"); ok {
		v, err := c.renderTrimmed(trimmed, scope)
		if err != nil {
			return nil, err
		}
		if text, ok := v.(string); ok {
			want := len(s) - len(strings.TrimRight(s, "\n"))
			have := len(text) - len(strings.TrimRight(text, "\n"))
			if want > have {
				text += strings.Repeat("\n", want-have)
			}
			return text, nil
		}
		return v, nil
	}
	return c.renderTrimmed(s, scope)
}

// renderTrimmed is render of a template whose last newline, if it had
// one, is gone.
func (c *Cache) renderTrimmed(s string, scope Scope) (any, error) {
	if m := singleVar.FindStringSubmatch(s); m != nil {
		// Ansible hands back a bare variable's number or boolean as it
		// is, before Jinja2 would make text of it.
		if v, ok := scope.Lookup(m[1]); ok {
			switch v.(type) {
			case bool, int64, float64, nil:
				return v, nil
			}
		}
	}
	var b strings.Builder
	var single any
	expr := false   // single is an expression's value
	native := false // and text a string filter made, which stays text
	parts := 0
	for i := 0; i < len(s); {
		open := strings.Index(s[i:], "{")
		if open < 0 || open+1 >= len(s[i:]) {
			b.WriteString(s[i:])
			parts++
			break
		}
		open += i
		switch s[open+1] {
		case '{':
		case '%':
			return c.renderBlocks(s, scope)
		case '#':
			end := strings.Index(s[open:], "#}")
			if end < 0 {
				return nil, &SyntaxError{Pos: open, Msg: "unclosed comment {#"}
			}
			b.WriteString(s[i:open])
			i = open + end + 2
			continue
		default:
			b.WriteString(s[i : open+1])
			i = open + 1
			continue
		}
		if open > i {
			b.WriteString(s[i:open])
			parts++
		}
		end := findClose(s, open+2)
		if end < 0 {
			return nil, &SyntaxError{Pos: open, Msg: "unclosed {{; add }}"}
		}
		src := s[open+2 : end]
		e, err := c.Expr(src)
		if err != nil {
			return nil, shift(err, open+2)
		}
		v, err := e.eval(scope)
		if err != nil {
			return nil, shift(err, open+2)
		}
		single, expr, native = v, true, e.stringTyped()
		parts++
		b.WriteString(finalize(v))
		i = end + 2
	}
	out := b.String()
	if parts == 1 && expr && native {
		return out, nil
	}
	if parts == 1 && expr {
		switch single := unroll(single).(type) {
		case nil:
			return nil, nil
		case []any, *value.Dict, map[string]any, Mapping, bool:
			if v, ok := reread(single); ok {
				return v, nil
			}
		}
	}
	return literalLooking(out), nil
}

// renderBlocks renders a string holding block tags as a document, cached
// like expressions.
func (c *Cache) renderBlocks(s string, scope Scope) (any, error) {
	c.mu.Lock()
	d, ok := c.docs[s]
	c.mu.Unlock()
	if !ok {
		var err error
		if d, err = parseDocument(&Document{name: "template", src: s, inline: true}); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.docs == nil {
			c.docs = map[string]*Document{}
		}
		c.docs[s] = d
		c.mu.Unlock()
	}
	out, err := d.Render(scope)
	if err != nil {
		return nil, err
	}
	return literalLooking(out), nil
}

// findClose finds the }} that ends an expression, skipping quoted strings.
func findClose(s string, from int) int {
	var quote byte
	for i := from; i+1 < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '}' && s[i+1] == '}':
			return i
		}
	}
	return -1
}

// shift moves an error's position from the expression into the string.
func shift(err error, by int) error {
	switch e := err.(type) {
	case *SyntaxError:
		return &SyntaxError{Pos: e.Pos + by, Msg: e.Msg}
	case *EvalError:
		return &EvalError{Pos: e.Pos + by, Msg: e.Msg}
	}
	return err
}

// stringTypeFilters are Ansible's STRING_TYPE_FILTERS: text they make is
// kept as text, not read back as a list or dict, when it is all a
// template gives.
var stringTypeFilters = map[string]bool{"string": true, "to_json": true, "to_nice_json": true,
	"to_yaml": true, "to_nice_yaml": true, "ppretty": true, "json": true}

// stringTyped reports whether the expression's last step is one of the
// stringTypeFilters.
func (e *Expr) stringTyped() bool {
	f, ok := e.root.(*filter)
	return ok && stringTypeFilters[shortName(f.name)]
}

// literalLooking converts rendered text that Ansible would read back as a
// Python literal: lists, dicts, True and False.
func literalLooking(s string) any {
	switch s {
	case "True":
		return true
	case "False":
		return false
	}
	if !strings.HasPrefix(s, "[") && !strings.HasPrefix(s, "{") {
		return s
	}
	e, err := ParseExpr(s) // the parser reads Python's list and dict literals

	if err != nil {
		return s
	}
	v, err := e.eval(Vars{})
	if err != nil {
		return s
	}
	switch v.(type) {
	case []any, *value.Dict:
		return v
	}
	return s
}
