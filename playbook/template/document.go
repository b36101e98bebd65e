package template

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/drover/drover/playbook/source"
	"github.com/flosch/pongo2/v6"
)

// Document is a parsed template file or string: pongo2 holds its
// structure (text, blocks, nesting) and every expression in it is one of
// ours, so Jinja2 syntax and Python semantics hold throughout. A Document
// is immutable and may render from many goroutines.
type Document struct {
	name    string
	src     string
	sites   []site
	tpl     *pongo2.Template
	escapes bool        // string literals decode backslash escapes (template files)
	inline  bool        // a playbook string: errors keep byte offsets for Locate
	open    []openBlock // while parsing: the blocks not yet closed

	includes sync.Map // path → *Document, the templates it includes
}

// openBlock is a block tag waiting for its end tag.
type openBlock struct {
	word    string // if, for, macro, set
	pos     int
	sawElse bool
}

// nest checks that a tag fits the blocks open around it, so a misplaced
// {% else %} or a missing {% endif %} is reported at its own place in
// Jinja2's terms before pongo2 could name its internal tags.
func (d *Document) nest(word string, pos int) error {
	var top *openBlock
	if n := len(d.open); n > 0 {
		top = &d.open[n-1]
	}
	switch word {
	case "if", "for", "macro", "set":
		d.open = append(d.open, openBlock{word: word, pos: pos})
	case "elif", "else":
		switch {
		case top == nil || (top.word != "if" && (word == "elif" || top.word != "for")):
			return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("{%% %s %%} outside an {%% if %%}%s", word, map[bool]string{true: " or {% for %}"}[word == "else"])}
		case top.sawElse:
			return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("{%% %s %%} after the {%% else %%} of this {%% %s %%}", word, top.word)}
		}
		top.sawElse = word == "else"
	default: // endif, endfor, endmacro, endset
		want := strings.TrimPrefix(word, "end")
		if top == nil {
			return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("{%% %s %%} without an open {%% %s %%}", word, want)}
		}
		if top.word != want {
			return &SyntaxError{Pos: pos, Msg: fmt.Sprintf("{%% %s %%} where the {%% %s %%} at %s needs {%% end%s %%}", word, top.word, d.where(top.pos), top.word)}
		}
		d.open = d.open[:len(d.open)-1]
	}
	return nil
}

// where names an offset of the source for messages: line L, or column C
// for a one-line playbook string.
func (d *Document) where(pos int) string {
	before := d.src[:min(pos, len(d.src))]
	if !strings.Contains(d.src, "\n") {
		return fmt.Sprintf("column %d", pos+1)
	}
	return fmt.Sprintf("line %d", 1+strings.Count(before, "\n"))
}

// site is one place in the template where an expression is evaluated.
type site struct {
	pos     int // byte offset of the tag in src
	kind    string
	expr    *Expr
	targets []string // for: loop variables; set: the name
	filter  *Expr    // for ... if filter
}

// registerOnce installs drover's tags into pongo2's global tag table; the
// names are drover's own, so no pongo2 behaviour changes.
var registerOnce sync.Once

func registerTags() {
	registerOnce.Do(func() {
		for name, fn := range map[string]pongo2.TagParser{
			"dvout": parseOut, "dvinclude": parseInclude, "dvif": parseIf, "dvfor": parseFor, "dvset": parseSet, "dvsetblock": parseSetBlock, "dvmacro": parseMacro,
		} {
			if err := pongo2.RegisterTag(name, fn); err != nil {
				panic("template: register pongo2 tag: " + err.Error()) // programmer error: a name clash
			}
		}
	})
}

// ParseDocument parses a template file. name is used in error messages.
func ParseDocument(name, src string) (*Document, error) {
	return parseDocument(&Document{name: name, src: src, escapes: true})
}

// parseDocument parses d.src; d.escapes selects template-file string
// literals, false gives playbook strings' literal backslashes.
func parseDocument(d *Document) (*Document, error) {
	registerTags()
	doc, err := d.prepare()
	if err != nil {
		return nil, d.positioned(err)
	}
	tpl, perr := pongo2.FromString(doc)
	if perr != nil {
		return nil, d.positioned(&SyntaxError{Msg: pongoMessage(perr)})
	}
	d.tpl = tpl
	return d, nil
}

// positioned turns an offset error into a file:line:col one; a playbook
// string keeps the offset for its caller to place.
func (d *Document) positioned(err error) error {
	if d.inline {
		return err
	}
	return Locate(err, d.src, source.Pos{File: d.name, Line: 1, Col: 1})
}

// Locate turns an error from [Cache.RenderString], [ParseExpr] or
// [Expr.Eval], which knows only a byte offset in src, into a
// [source.Error] at the file, line and column it stands for, given where
// src starts (for a playbook value: its YAML scalar's position). A column
// past the first line counts from the start of that line of src.
func Locate(err error, src string, at source.Pos) error {
	if _, placed := errors.AsType[*source.Error](err); placed {
		return err // from an included template, already in its own file
	}
	var pos int
	var msg string
	var se *SyntaxError
	var ee *EvalError
	switch {
	case errors.As(err, &se):
		pos, msg = se.Pos, se.Msg
	case errors.As(err, &ee):
		pos, msg = ee.Pos, ee.Msg
	default:
		return &source.Error{Pos: at, Msg: err.Error(), Err: err}
	}
	before := src[:min(pos, len(src))]
	nl := strings.Count(before, "\n")
	p := at
	if nl == 0 {
		p.Col = max(at.Col, 1) + pos
	} else {
		p.Line += nl
		p.Col = len(before) - strings.LastIndexByte(before, '\n')
	}
	return &source.Error{Pos: p, Msg: msg}
}

// prepare rewrites the template for pongo2: each {{ }} and each block tag
// becomes a drover tag naming its site; text is kept as it is, with
// Jinja2's whitespace control and Ansible's trim_blocks applied.
func (d *Document) prepare() (string, error) {
	var out strings.Builder
	// Jinja2 drops the source's last newline before reading it; Render
	// then pads the output to the source's count of trailing newlines.
	src := strings.TrimSuffix(d.src, "\n")
	text := func(s string) { out.WriteString(s) }
	i := 0
	for i < len(src) {
		open := indexDelim(src, i)
		if open < 0 {
			text(src[i:])
			break
		}
		chunk := src[i:open]
		kind := src[open+1]
		inner := open + 2
		if inner < len(src) && (src[inner] == '-' || src[inner] == '+') {
			if src[inner] == '-' {
				chunk = strings.TrimRight(chunk, " \t\r\n")
			}
			inner++
		}
		text(chunk)
		closer := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[kind]
		end := findCloser(src, inner, closer, d.escapes)
		if end < 0 {
			return "", &SyntaxError{Pos: open, Msg: "unclosed " + src[open:open+2] + "; add " + closer}
		}
		body := src[inner:end]
		trimAfter := strings.HasSuffix(body, "-")
		if trimAfter {
			body = body[:len(body)-1]
		}
		next := end + 2
		switch kind {
		case '{':
			e, err := parseExpr(body, d.escapes)
			if err != nil {
				return "", shift(err, inner)
			}
			fmt.Fprintf(&out, "{%% dvout %d %%}", d.add(site{pos: inner, kind: "out", expr: e}))
		case '%':
			raw, err := d.statement(&out, body, inner)
			if err != nil {
				return "", err
			}
			if raw {
				stop := strings.Index(src[next:], "{% endraw %}")
				if stop < 0 {
					return "", &SyntaxError{Pos: open, Msg: "{% raw %} without {% endraw %}"}
				}
				if strings.Contains(src[next:next+stop], "endverbatim") {
					return "", &SyntaxError{Pos: open, Msg: "{% raw %} blocks may not contain the word endverbatim"}
				}
				text("{% verbatim %}" + src[next:next+stop] + "{% endverbatim %}") // pongo2 must not read it
				next += stop + len("{% endraw %}")
			}
			if !trimAfter && strings.HasPrefix(src[next:], "\n") { // Ansible's trim_blocks
				next++
			}
		case '#':
			if !trimAfter && strings.HasPrefix(src[next:], "\n") { // trim_blocks ends comments too
				next++
			}
		}
		if trimAfter {
			for next < len(src) && strings.IndexByte(" \t\r\n", src[next]) >= 0 {
				next++
			}
		}
		i = next
	}
	if n := len(d.open); n > 0 {
		b := d.open[n-1]
		d.open = nil
		return "", &SyntaxError{Pos: b.pos, Msg: fmt.Sprintf("{%% %s %%} is never closed; add {%% end%s %%}", b.word, b.word)}
	}
	return out.String(), nil
}

func (d *Document) add(s site) int {
	d.sites = append(d.sites, s)
	return len(d.sites) - 1
}

func indexDelim(s string, from int) int {
	for i := from; i+1 < len(s); i++ {
		if s[i] == '{' && (s[i+1] == '{' || s[i+1] == '%' || s[i+1] == '#') {
			return i
		}
	}
	return -1
}

// findCloser finds the closing delimiter, skipping quoted strings and
// the escapes inside them.
func findCloser(s string, from int, closer string, escapes bool) int {
	var quote byte
	for i := from; i+1 < len(s); i++ {
		c := s[i]
		switch {
		case closer == "#}":
			if strings.HasPrefix(s[i:], closer) {
				return i
			}
		case quote != 0:
			if c == '\\' && escapes {
				i++ // template files escape quotes inside strings
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case strings.HasPrefix(s[i:], closer):
			return i
		}
	}
	return -1
}

// statement translates one {% %} tag; it reports a {% raw %}.
func (d *Document) statement(out *strings.Builder, body string, pos int) (bool, error) {
	trimmed := strings.TrimSpace(body)
	word, rest, _ := strings.Cut(trimmed, " ")
	rest = strings.TrimSpace(rest)
	restPos := pos + strings.Index(body, rest)
	switch word {
	case "if", "elif", "else", "endif", "for", "endfor", "macro", "endmacro", "endset":
		if err := d.nest(word, pos); err != nil {
			return false, err
		}
	case "set":
		if !strings.Contains(rest, "=") {
			if err := d.nest(word, pos); err != nil {
				return false, err
			}
		}
	}
	switch word {
	case "raw":
		return true, nil
	case "if", "elif":
		e, err := parseExpr(rest, d.escapes)
		if err != nil {
			return false, shift(err, restPos)
		}
		fmt.Fprintf(out, "{%% %s %d %%}", map[string]string{"if": "dvif", "elif": "dvelif"}[word], d.add(site{pos: restPos, kind: word, expr: e}))
	case "else", "endif", "endfor":
		fmt.Fprintf(out, "{%% dv%s %%}", word)
	case "for":
		targets, iter, ok := strings.Cut(rest, " in ")
		if !ok {
			return false, &SyntaxError{Pos: pos, Msg: "a for loop reads {% for x in items %}"}
		}
		var names []string
		for _, n := range strings.Split(targets, ",") {
			names = append(names, strings.TrimSpace(n))
		}
		iterPos := restPos + strings.Index(rest, " in ") + 4
		var filter *Expr
		if cond, ok := splitLoopFilter(iter); ok {
			f, err := parseExpr(cond, d.escapes)
			if err != nil {
				return false, shift(err, iterPos+len(iter)-len(cond))
			}
			iter, filter = iter[:len(iter)-len(cond)-len(" if ")], f
		}
		e, err := parseExpr(iter, d.escapes)
		if err != nil {
			return false, shift(err, iterPos)
		}
		fmt.Fprintf(out, "{%% dvfor %d %%}", d.add(site{pos: iterPos, kind: "for", expr: e, targets: names, filter: filter}))
	case "endset", "endmacro":
		fmt.Fprintf(out, "{%% dv%s %%}", word)
	case "macro":
		open, close := strings.IndexByte(rest, '('), strings.LastIndexByte(rest, ')')
		if open <= 0 || close < open {
			return false, &SyntaxError{Pos: pos, Msg: "a macro reads {% macro name(arg, other='default') %}"}
		}
		name := strings.TrimSpace(rest[:open])
		// Parse the parameter list as a call so defaults are expressions.
		e, err := parseExpr("__macro__("+rest[open+1:close]+")", d.escapes)
		if err != nil {
			return false, shift(err, restPos+open-len("__macro__"))
		}
		fmt.Fprintf(out, "{%% dvmacro %d %%}", d.add(site{pos: restPos, kind: "macro", expr: e, targets: []string{name}}))
	case "set":
		name, value, ok := strings.Cut(rest, "=")
		if !ok {
			fmt.Fprintf(out, "{%% dvsetblock %d %%}", d.add(site{pos: restPos, kind: "setblock", targets: []string{strings.TrimSpace(rest)}}))
			return false, nil
		}
		valPos := restPos + strings.Index(rest, "=") + 1
		e, err := parseExpr(value, d.escapes)
		if err != nil {
			return false, shift(err, valPos)
		}
		var targets []string // {% set a, b = 1, 2 %} unpacks
		for _, t := range strings.Split(name, ",") {
			if t = strings.TrimSpace(t); t != "" {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			return false, &SyntaxError{Pos: restPos, Msg: "{% set %} needs a name before ="}
		}
		fmt.Fprintf(out, "{%% dvset %d %%}", d.add(site{pos: valPos, kind: "set", expr: e, targets: targets}))
	case "endraw":
		return false, &SyntaxError{Pos: pos, Msg: "{% endraw %} without an open {% raw %}"}
	case "include":
		target, ignoreMissing := strings.CutSuffix(rest, " ignore missing")
		target = strings.TrimSuffix(strings.TrimSuffix(target, " with context"), " without context")
		e, err := parseExpr(target, d.escapes)
		if err != nil {
			return false, shift(err, restPos)
		}
		kind := "include"
		if ignoreMissing {
			kind = "include?"
		}
		fmt.Fprintf(out, "{%% dvinclude %d %%}", d.add(site{pos: restPos, kind: kind, expr: e}))
	default:
		if jinjaTags[word] {
			return false, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("drover does not support the template tag {%% %s %%} yet", word)}
		}
		return false, &SyntaxError{Pos: pos, Msg: fmt.Sprintf("unknown template tag {%% %s %%}%s", word, didYouMean(word, slices.Clone(statementWords)))}
	}
	return false, nil
}

// jinjaTags are Jinja2's tags that drover does not render.
var jinjaTags = map[string]bool{"block": true, "endblock": true, "extends": true, "import": true, "from": true, "call": true, "endcall": true,
	"filter": true, "endfilter": true, "with": true, "endwith": true, "autoescape": true, "endautoescape": true, "do": true, "break": true, "continue": true, "trans": true}

// statementWords are the tags drover knows, for "did you mean".
var statementWords = []string{"if", "elif", "else", "endif", "for", "endfor", "set", "endset", "macro", "endmacro", "raw", "endraw", "include"}

// splitLoopFilter finds the condition of "for x in items if cond": the
// text after the last " if " outside quotes and brackets that parses
// without an else.
func splitLoopFilter(iter string) (string, bool) {
	depth := 0
	var quote byte
	last := -1
	for i := 0; i < len(iter); i++ {
		c := iter[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case strings.IndexByte("([{", c) >= 0:
			depth++
		case strings.IndexByte(")]}", c) >= 0:
			depth--
		case depth == 0 && strings.HasPrefix(iter[i:], " if "):
			last = i
		}
	}
	if last < 0 || strings.Contains(iter[last:], " else ") {
		return "", false
	}
	return iter[last+len(" if "):], true
}

// Render renders the document with scope's variables. As Ansible's
// template module does, the output ends in as many newlines as the source
// when block tags have eaten them.
func (d *Document) Render(scope Scope) (string, error) {
	return d.render(scope, true)
}

// render renders d; keepNewlines restores the source's trailing newlines,
// which Ansible does for the template it renders but Jinja2 does not for
// the templates that one includes.
func (d *Document) render(scope Scope, keepNewlines bool) (string, error) {
	st := &renderState{doc: d}
	out, err := d.tpl.Execute(pongo2.Context{stateKey: st, frameKey: &frame{vars: Vars{}, parent: scope}})
	if err != nil {
		if st.err != nil {
			return "", d.positioned(st.err)
		}
		return "", d.positioned(&SyntaxError{Msg: pongoMessage(err)})
	}
	if want, got := trailingNewlines(d.src), trailingNewlines(out); keepNewlines && want > got {
		out += strings.Repeat("\n", want-got)
	}
	return out, nil
}

func trailingNewlines(s string) int {
	return len(s) - len(strings.TrimRight(s, "\n"))
}

const (
	stateKey = "__drover_state"
	frameKey = "__drover_frame"
)

// renderState is one rendering's state, kept apart from the Document.
type renderState struct {
	doc *Document
	err error // our error, with its position; pongo2 gets a generic one
}

// frame is a variable scope: set and loop variables over a parent scope.
type frame struct {
	vars   Vars
	parent Scope
}

func (f *frame) Lookup(name string) (any, bool) {
	if v, ok := f.vars[name]; ok {
		return v, true
	}
	return f.parent.Lookup(name)
}

func stateOf(ctx *pongo2.ExecutionContext) (*renderState, *frame) {
	st := ctx.Public[stateKey].(*renderState)
	if f, ok := ctx.Private[frameKey].(*frame); ok {
		return st, f
	}
	return st, ctx.Public[frameKey].(*frame)
}

// eval evaluates site n, recording a positioned error for Render.
func eval(ctx *pongo2.ExecutionContext, n int) (any, *frame, *pongo2.Error) {
	st, f := stateOf(ctx)
	s := st.doc.sites[n]
	v, err := s.expr.eval(f)
	if err != nil {
		var placed *placedError
		if errors.As(err, &placed) {
			st.err = placed.err
		} else {
			st.err = shift(err, s.pos)
		}
		return nil, nil, ctx.Error("evaluation failed", nil)
	}
	return v, f, nil
}

func siteArg(args *pongo2.Parser) (int, *pongo2.Error) {
	t := args.MatchType(pongo2.TokenNumber)
	if t == nil {
		return 0, args.Error("drover tag without a site", nil)
	}
	n, _ := strconv.Atoi(t.Val)
	return n, nil
}

type outNode struct{ site int }

func (n *outNode) Execute(ctx *pongo2.ExecutionContext, w pongo2.TemplateWriter) *pongo2.Error {
	v, _, err := eval(ctx, n.site)
	if err != nil {
		return err
	}
	_, werr := w.WriteString(finalize(v))
	if werr != nil {
		return ctx.OrigError(werr, nil)
	}
	return nil
}

func parseOut(_ *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	n, err := siteArg(args)
	return &outNode{site: n}, err
}

type ifNode struct {
	sites    []int // -1 for else
	wrappers []*pongo2.NodeWrapper
}

func (n *ifNode) Execute(ctx *pongo2.ExecutionContext, w pongo2.TemplateWriter) *pongo2.Error {
	for i, s := range n.sites {
		if s < 0 {
			return n.wrappers[i].Execute(ctx, w)
		}
		v, _, err := eval(ctx, s)
		if err != nil {
			return err
		}
		if truthy(v) {
			return n.wrappers[i].Execute(ctx, w)
		}
	}
	return nil
}

func parseIf(doc *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	first, err := siteArg(args)
	if err != nil {
		return nil, err
	}
	node := &ifNode{sites: []int{first}}
	for {
		wrapper, tagArgs, err := doc.WrapUntilTag("dvelif", "dvelse", "dvendif")
		if err != nil {
			return nil, err
		}
		node.wrappers = append(node.wrappers, wrapper)
		switch wrapper.Endtag {
		case "dvelif":
			s, err := siteArg(tagArgs)
			if err != nil {
				return nil, err
			}
			node.sites = append(node.sites, s)
		case "dvelse":
			node.sites = append(node.sites, -1)
		default:
			return node, nil
		}
	}
}

type forNode struct {
	site      int
	body, els *pongo2.NodeWrapper
}

func (n *forNode) Execute(ctx *pongo2.ExecutionContext, w pongo2.TemplateWriter) *pongo2.Error {
	v, f, err := eval(ctx, n.site)
	if err != nil {
		return err
	}
	st, _ := stateOf(ctx)
	s := st.doc.sites[n.site]
	items, ierr := iterate(v)
	if ierr != nil {
		st.err = &EvalError{Pos: s.pos, Msg: ierr.Error()}
		return ctx.Error("evaluation failed", nil)
	}
	if s.filter != nil {
		var kept []any
		for _, item := range items {
			fr := &frame{vars: Vars{}, parent: f}
			bind(fr, s.targets, item)
			ok, err := s.filter.eval(fr)
			if err != nil {
				st.err = shift(err, s.pos)
				return ctx.Error("evaluation failed", nil)
			}
			if truthy(ok) {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		if n.els != nil {
			return n.els.Execute(ctx, w)
		}
		return nil
	}
	for i, item := range items {
		child := pongo2.NewChildExecutionContext(ctx)
		fr := &frame{vars: Vars{"loop": LoopVars(items, i)}, parent: f}
		if !bind(fr, s.targets, item) {
			st.err = &EvalError{Pos: s.pos, Msg: fmt.Sprintf("cannot unpack %s into %d loop variables", typeName(item), len(s.targets))}
			return ctx.Error("evaluation failed", nil)
		}
		child.Private[frameKey] = fr
		if err := n.body.Execute(child, w); err != nil {
			return err
		}
	}
	return nil
}

// bind sets the loop variables for one item, unpacking it when there are
// several; it reports whether the item fits.
func bind(fr *frame, targets []string, item any) bool {
	if len(targets) == 1 {
		fr.vars[targets[0]] = item
		return true
	}
	parts, ok := seqItems(item)
	if !ok || len(parts) != len(targets) {
		return false
	}
	for j, t := range targets {
		fr.vars[t] = parts[j]
	}
	return true
}

// LoopVars are the variables of item i of a loop over items: Jinja2's
// loop.* (index, index0, revindex, revindex0, first, last, length,
// previtem, nextitem), which Ansible's loop_control: extended also gives
// as ansible_loop.
func LoopVars(items []any, i int) map[string]any {
	n := len(items)
	l := map[string]any{
		"index": int64(i + 1), "index0": int64(i), "revindex": int64(n - i), "revindex0": int64(n - i - 1),
		"first": i == 0, "last": i == n-1, "length": int64(n),
	}
	if i > 0 {
		l["previtem"] = items[i-1]
	}
	if i < n-1 {
		l["nextitem"] = items[i+1]
	}
	return l
}

func parseFor(doc *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	s, err := siteArg(args)
	if err != nil {
		return nil, err
	}
	node := &forNode{site: s}
	wrapper, _, err := doc.WrapUntilTag("dvelse", "dvendfor")
	if err != nil {
		return nil, err
	}
	node.body = wrapper
	if wrapper.Endtag == "dvelse" {
		if node.els, _, err = doc.WrapUntilTag("dvendfor"); err != nil {
			return nil, err
		}
	}
	return node, nil
}

type setNode struct{ site int }

func (n *setNode) Execute(ctx *pongo2.ExecutionContext, _ pongo2.TemplateWriter) *pongo2.Error {
	v, f, err := eval(ctx, n.site)
	if err != nil {
		return err
	}
	st, _ := stateOf(ctx)
	s := st.doc.sites[n.site]
	if !bind(f, s.targets, v) {
		st.err = &EvalError{Pos: s.pos, Msg: fmt.Sprintf("cannot unpack %s into %d names", typeName(v), len(s.targets))}
		return ctx.Error("evaluation failed", nil)
	}
	return nil
}

func parseSet(_ *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	n, err := siteArg(args)
	return &setNode{site: n}, err
}

// setBlockNode is {% set x %}...{% endset %}: the rendered body becomes x.
type setBlockNode struct {
	site int
	body *pongo2.NodeWrapper
}

func (n *setBlockNode) Execute(ctx *pongo2.ExecutionContext, _ pongo2.TemplateWriter) *pongo2.Error {
	var b strings.Builder
	if err := n.body.Execute(ctx, &b); err != nil {
		return err
	}
	st, f := stateOf(ctx)
	f.vars[st.doc.sites[n.site].targets[0]] = b.String()
	return nil
}

func parseSetBlock(doc *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	n, err := siteArg(args)
	if err != nil {
		return nil, err
	}
	body, _, err := doc.WrapUntilTag("dvendset")
	if err != nil {
		return nil, err
	}
	return &setBlockNode{site: n, body: body}, nil
}

// includeNode is {% include name %}: another template file rendered in
// the current scope, found beside the including file as Jinja2's loader
// finds it in Ansible's search path.
type includeNode struct{ site int }

func (n *includeNode) Execute(ctx *pongo2.ExecutionContext, w pongo2.TemplateWriter) *pongo2.Error {
	v, f, perr := eval(ctx, n.site)
	if perr != nil {
		return perr
	}
	st, _ := stateOf(ctx)
	s := st.doc.sites[n.site]
	names := []any{v}
	if l, ok := seqItems(v); ok {
		names = l // the first that exists, as Jinja2 does
	}
	for _, name := range names {
		sub, err := st.doc.include(ToString(name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			var out string
			if out, err = sub.render(f, false); err == nil {
				_, err = w.WriteString(out)
			}
		}
		if err != nil {
			st.err = &placedError{err}
			return ctx.Error("include failed", nil)
		}
		return nil
	}
	if s.kind == "include?" {
		return nil
	}
	st.err = &EvalError{Pos: s.pos, Msg: fmt.Sprintf("template not found: %s (looked in %s)", ToString(v), filepath.Dir(st.doc.name))}
	return ctx.Error("include failed", nil)
}

func parseInclude(_ *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	n, err := siteArg(args)
	return &includeNode{site: n}, err
}

// include parses the template name relative to d's directory, once.
func (d *Document) include(name string) (*Document, error) {
	path := name
	if !filepath.IsAbs(path) {
		path = filepath.Join(filepath.Dir(d.name), name)
	}
	if sub, ok := d.includes.Load(path); ok {
		return sub.(*Document), nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sub, err := ParseDocument(path, string(src))
	if err != nil {
		return nil, err
	}
	actual, _ := d.includes.LoadOrStore(path, sub)
	return actual.(*Document), nil
}

// placedError is an error whose position is already absolute in the
// template, so callers do not shift it again.
type placedError struct{ err error }

func (e *placedError) Error() string { return e.err.Error() }
func (e *placedError) Unwrap() error { return e.err }

// macroNode defines a macro when executed.
type macroNode struct {
	site int
	body *pongo2.NodeWrapper
}

// macro is a defined macro: a callable value in expressions.
type macro struct {
	name     string
	params   []string
	defaults map[string]node
	body     *pongo2.NodeWrapper
	ctx      *pongo2.ExecutionContext
	def      *frame
}

func (n *macroNode) Execute(ctx *pongo2.ExecutionContext, _ pongo2.TemplateWriter) *pongo2.Error {
	st, f := stateOf(ctx)
	s := st.doc.sites[n.site]
	c := s.expr.root.(*call)
	m := &macro{name: s.targets[0], defaults: map[string]node{}, body: n.body, ctx: ctx, def: f}
	for _, a := range c.args {
		nm, ok := a.(*name)
		if !ok {
			st.err = &EvalError{Pos: s.pos, Msg: "macro parameters are names, optionally with =default"}
			return ctx.Error("evaluation failed", nil)
		}
		m.params = append(m.params, nm.name)
	}
	for _, k := range c.kwargs {
		m.params = append(m.params, k.name)
		m.defaults[k.name] = k.val
	}
	f.vars[m.name] = m
	return nil
}

// invoke renders the macro body with the arguments bound.
func (m *macro) invoke(args []any, kw map[string]any) (any, error) {
	if len(args) > len(m.params) {
		return nil, fmt.Errorf("macro %s takes %d arguments, got %d", m.name, len(m.params), len(args))
	}
	fr := &frame{vars: Vars{}, parent: m.def}
	for i, p := range m.params {
		switch v, ok := kw[p]; {
		case i < len(args):
			fr.vars[p] = args[i]
		case ok:
			fr.vars[p] = v
		case m.defaults[p] != nil:
			d, err := (&evaluator{scope: fr, filters: allFilters()}).evalDefined(m.defaults[p])
			if err != nil {
				return nil, err
			}
			fr.vars[p] = d
		default:
			fr.vars[p] = &Undefined{Path: p, Hint: "macro " + m.name + " was called without it"}
		}
	}
	child := pongo2.NewChildExecutionContext(m.ctx)
	child.Private[frameKey] = fr
	var b strings.Builder
	if err := m.body.Execute(child, &b); err != nil {
		st, _ := stateOf(m.ctx)
		if st.err != nil {
			return nil, &placedError{st.err} // its position is already in the file
		}
		return nil, fmt.Errorf("macro %s: %v", m.name, err)
	}
	return b.String(), nil
}

func parseMacro(doc *pongo2.Parser, _ *pongo2.Token, args *pongo2.Parser) (pongo2.INodeTag, *pongo2.Error) {
	n, err := siteArg(args)
	if err != nil {
		return nil, err
	}
	body, _, err := doc.WrapUntilTag("dvendmacro")
	if err != nil {
		return nil, err
	}
	return &macroNode{site: n, body: body}, nil
}

// pongoMessage is pongo2's complaint in Jinja2's words: its messages name
// drover's internal tags (dvif, dvfor...), which mean nothing to a user.
func pongoMessage(err error) string {
	msg := err.Error()
	var pe *pongo2.Error
	if errors.As(err, &pe) && pe.OrigError != nil {
		msg = pe.OrigError.Error()
	}
	r := strings.NewReplacer("'dvsetblock'", "'set'", "'dvmacro'", "'macro'", "'dvfor'", "'for'", "'dvif'", "'if'", "'dvset'", "'set'", "'dvout'", "'{{ }}'",
		"dvsetblock", "set", "dvmacro", "macro", "dvfor", "for", "dvif", "if", "dvset", "set", "dvout", "{{ }}")
	return r.Replace(msg)
}
