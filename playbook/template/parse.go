package template

import (
	"errors"
	"fmt"
	"strconv"
)

// Expr is a parsed expression. It is immutable: one Expr may be evaluated
// from many goroutines.
type Expr struct {
	src  string
	root node
}

// String returns the expression's source.
func (e *Expr) String() string { return e.src }

// ParseExpr parses a Jinja2 expression such as `x | default('y') ~ z`, as
// it appears in a playbook: backslashes in string literals are literal,
// because Ansible doubles them before Jinja2 reads the expression.
func ParseExpr(src string) (*Expr, error) { return parseExpr(src, false) }

// parseExpr parses src; escapes selects template-file string literals.
func parseExpr(src string, escapes bool) (*Expr, error) {
	toks, err := lex(src, escapes)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	root, err := p.tuple()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, p.errAt(t, "unexpected %s after the end of the expression", describe(t))
	}
	return &Expr{src: src, root: root}, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) isOp(v string) bool   { t := p.peek(); return t.kind == tokOp && t.val == v }
func (p *parser) isName(v string) bool { t := p.peek(); return t.kind == tokName && t.val == v }

func (p *parser) expect(v string) (token, error) {
	t := p.next()
	if t.kind != tokOp || t.val != v {
		return t, p.errAt(t, "expected %q, found %s", v, describe(t))
	}
	return t, nil
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &SyntaxError{Pos: t.pos, Msg: fmt.Sprintf(format, args...)}
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "the end of the expression"
	case tokString:
		return strconv.Quote(t.val)
	default:
		return fmt.Sprintf("%q", t.val)
	}
}

// tuple parses a whole expression, where Jinja2 reads a tuple without
// parentheses: {{ 1, 2 }} and {% set a = 1, 2 %} make (1, 2).
func (p *parser) tuple() (node, error) {
	x, err := p.expr()
	if err != nil || !p.isOp(",") {
		return x, err
	}
	t := &listLit{pos: x.position(), items: []node{x}, tuple: true}
	for p.isOp(",") {
		p.next()
		if p.peek().kind == tokEOF {
			break // a trailing comma: {{ 1, }} is (1,)
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		t.items = append(t.items, x)
	}
	return t, nil
}

// expr parses an inline if: a if cond else b.
func (p *parser) expr() (node, error) {
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		t := p.next()
		cond, err := p.or()
		if err != nil {
			return nil, err
		}
		var els node
		if p.isName("else") {
			p.next()
			if els, err = p.expr(); err != nil {
				return nil, err
			}
		}
		x = &condExpr{pos: t.pos, cond: cond, then: x, els: els}
	}
	return x, nil
}

func (p *parser) or() (node, error) {
	x, err := p.and()
	for err == nil && p.isName("or") {
		t := p.next()
		var r node
		if r, err = p.and(); err == nil {
			x = &binary{pos: t.pos, op: "or", l: x, r: r}
		}
	}
	return x, err
}

func (p *parser) and() (node, error) {
	x, err := p.not()
	for err == nil && p.isName("and") {
		t := p.next()
		var r node
		if r, err = p.not(); err == nil {
			x = &binary{pos: t.pos, op: "and", l: x, r: r}
		}
	}
	return x, err
}

func (p *parser) not() (node, error) {
	if p.isName("not") {
		t := p.next()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &unary{pos: t.pos, op: "not", x: x}, nil
	}
	return p.compare()
}

var compareOps = map[string]bool{"==": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func (p *parser) compare() (node, error) {
	first, err := p.math1()
	if err != nil {
		return nil, err
	}
	c := &compare{pos: first.position(), first: first}
	for {
		t := p.peek()
		var op string
		switch {
		case t.kind == tokOp && compareOps[t.val]:
			op = t.val
			p.next()
		case p.isName("in"):
			op = "in"
			p.next()
		case p.isName("not") && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tokName && p.toks[p.i+1].val == "in":
			op = "not in"
			p.next()
			p.next()
		default:
			if len(c.ops) == 0 {
				return first, nil
			}
			return c, nil
		}
		r, err := p.math1()
		if err != nil {
			return nil, err
		}
		c.ops, c.rest = append(c.ops, op), append(c.rest, r)
	}
}

// binaryLevel parses left-associative operators ops over sub.
func (p *parser) binaryLevel(sub func() (node, error), ops ...string) (node, error) {
	x, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		matched := false
		for _, o := range ops {
			if t.kind == tokOp && t.val == o {
				matched = true
			}
		}
		if !matched {
			return x, nil
		}
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		x = &binary{pos: t.pos, op: t.val, l: x, r: r}
	}
}

func (p *parser) math1() (node, error)  { return p.binaryLevel(p.concat, "+", "-") }
func (p *parser) concat() (node, error) { return p.binaryLevel(p.math2, "~") }
func (p *parser) math2() (node, error)  { return p.binaryLevel(p.pow, "*", "/", "//", "%") }

func (p *parser) pow() (node, error) {
	x, err := p.unary(true)
	if err != nil {
		return nil, err
	}
	for p.isOp("**") {
		t := p.next()
		r, err := p.unary(true)
		if err != nil {
			return nil, err
		}
		x = &binary{pos: t.pos, op: "**", l: x, r: r}
	}
	return x, nil
}

func (p *parser) unary(withFilter bool) (node, error) {
	var x node
	if p.isOp("-") || p.isOp("+") {
		t := p.next()
		inner, err := p.unary(false)
		if err != nil {
			return nil, err
		}
		x = &unary{pos: t.pos, op: t.val, x: inner}
	} else {
		prim, err := p.primary()
		if err != nil {
			return nil, err
		}
		if x, err = p.postfix(prim); err != nil {
			return nil, err
		}
	}
	if withFilter {
		return p.filterExpr(x)
	}
	return x, nil
}

func (p *parser) primary() (node, error) {
	t := p.next()
	switch t.kind {
	case tokName:
		switch t.val {
		case "true", "True":
			return &literal{t.pos, true}, nil
		case "false", "False":
			return &literal{t.pos, false}, nil
		case "none", "None":
			return &literal{t.pos, nil}, nil
		}
		return &name{t.pos, t.val}, nil
	case tokString:
		s := t.val
		for p.peek().kind == tokString { // adjacent strings concatenate
			s += p.next().val
		}
		return &literal{t.pos, s}, nil
	case tokInt:
		base := 10
		if len(t.val) > 1 && t.val[0] == '0' {
			base = 0 // a 0b, 0o or 0x prefix says
		}
		n, err := strconv.ParseInt(t.val, base, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, p.errAt(t, "integer %s is too large", t.val)
		} else if err != nil {
			return nil, p.errAt(t, "bad integer %s", t.val)
		}
		return &literal{t.pos, n}, nil
	case tokFloat:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.errAt(t, "bad number %s", t.val)
		}
		return &literal{t.pos, f}, nil
	case tokOp:
		switch t.val {
		case "(":
			return p.paren(t)
		case "[":
			items, err := p.list("]")
			return &listLit{pos: t.pos, items: items}, err
		case "{":
			return p.dict(t)
		}
	}
	return nil, p.errAt(t, "expected a value, found %s", describe(t))
}

// paren parses (x) or a tuple (x, y).
func (p *parser) paren(open token) (node, error) {
	if p.isOp(")") {
		p.next()
		return &listLit{pos: open.pos, tuple: true}, nil
	}
	x, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.isOp(")") {
		p.next()
		return x, nil
	}
	if _, err := p.expect(","); err != nil {
		return nil, err
	}
	rest, err := p.list(")")
	return &listLit{pos: open.pos, items: append([]node{x}, rest...), tuple: true}, err
}

// list parses comma-separated expressions up to end, allowing a trailing
// comma.
func (p *parser) list(end string) ([]node, error) {
	var items []node
	for !p.isOp(end) {
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		items = append(items, x)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	_, err := p.expect(end)
	return items, err
}

func (p *parser) dict(open token) (node, error) {
	d := &dictLit{pos: open.pos}
	for !p.isOp("}") {
		k, err := p.expr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(":"); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		d.keys, d.vals = append(d.keys, k), append(d.vals, v)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	_, err := p.expect("}")
	return d, err
}

// postfix parses .name, [index], [a:b] and calls.
func (p *parser) postfix(x node) (node, error) {
	for {
		t := p.peek()
		switch {
		case t.kind == tokOp && t.val == ".":
			p.next()
			n := p.next()
			switch n.kind {
			case tokName:
				x = &attr{pos: n.pos, x: x, name: n.val}
			case tokInt:
				x = &index{pos: n.pos, x: x, i: &literal{n.pos, mustInt(n.val)}}
			default:
				return nil, p.errAt(n, "expected an attribute name after '.', found %s", describe(n))
			}
		case t.kind == tokOp && t.val == "[":
			p.next()
			sub, err := p.subscript(t, x)
			if err != nil {
				return nil, err
			}
			x = sub
		case t.kind == tokOp && t.val == "(":
			p.next()
			args, kwargs, err := p.callArgs()
			if err != nil {
				return nil, err
			}
			x = &call{pos: t.pos, fn: x, args: args, kwargs: kwargs}
		default:
			return x, nil
		}
	}
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func (p *parser) subscript(open token, x node) (node, error) {
	var parts [3]node
	colons := 0
	for {
		if p.isOp("]") {
			p.next()
			break
		}
		if p.isOp(":") {
			p.next()
			colons++
			if colons > 2 {
				return nil, p.errAt(open, "too many ':' in a slice")
			}
			continue
		}
		if parts[colons] != nil {
			return nil, p.errAt(p.peek(), "expected ']' or ':', found %s", describe(p.peek()))
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		parts[colons] = v
	}
	if colons == 0 {
		if parts[0] == nil {
			return nil, p.errAt(open, "empty subscript []")
		}
		return &index{pos: open.pos, x: x, i: parts[0]}, nil
	}
	return &sliceNode{pos: open.pos, x: x, lo: parts[0], hi: parts[1], stp: parts[2]}, nil
}

// callArgs parses (a, b, k=v) after the open parenthesis.
func (p *parser) callArgs() ([]node, []kwarg, error) {
	var args []node
	var kwargs []kwarg
	for !p.isOp(")") {
		if t := p.peek(); t.kind == tokName && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == tokOp && p.toks[p.i+1].val == "=" {
			p.next()
			p.next()
			v, err := p.expr()
			if err != nil {
				return nil, nil, err
			}
			kwargs = append(kwargs, kwarg{t.val, v})
		} else {
			if len(kwargs) > 0 {
				return nil, nil, p.errAt(t, "positional argument after keyword arguments")
			}
			v, err := p.expr()
			if err != nil {
				return nil, nil, err
			}
			args = append(args, v)
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	_, err := p.expect(")")
	return args, kwargs, err
}

// filterExpr parses | filter(args) and `is [not] test args` chains.
func (p *parser) filterExpr(x node) (node, error) {
	for {
		switch {
		case p.isOp("|"):
			p.next()
			n := p.next()
			if n.kind != tokName {
				return nil, p.errAt(n, "expected a filter name after '|', found %s", describe(n))
			}
			fname := n.val
			for p.isOp(".") { // dotted names: ansible.builtin.to_json
				p.next()
				part := p.next()
				fname += "." + part.val
			}
			f := &filter{pos: n.pos, x: x, name: fname}
			if p.isOp("(") {
				p.next()
				var err error
				if f.args, f.kwargs, err = p.callArgs(); err != nil {
					return nil, err
				}
			}
			x = f
		case p.isName("is"):
			p.next()
			t := &test{pos: p.peek().pos, x: x}
			if p.isName("not") {
				p.next()
				t.not = true
			}
			n := p.next()
			if n.kind != tokName {
				return nil, p.errAt(n, "expected a test name after 'is', found %s", describe(n))
			}
			t.name, t.pos = n.val, n.pos
			for p.isOp(".") {
				p.next()
				t.name += "." + p.next().val
			}
			switch nt := p.peek(); {
			case p.isOp("("):
				p.next()
				args, kwargs, err := p.callArgs()
				if err != nil {
					return nil, err
				}
				t.args, t.kwargs = args, kwargs
			case nt.kind == tokString || nt.kind == tokInt || nt.kind == tokFloat ||
				nt.kind == tokName && !isKeyword(nt.val) || nt.kind == tokOp && (nt.val == "[" || nt.val == "{"):
				arg, err := p.unary(false)
				if err != nil {
					return nil, err
				}
				t.args = []node{arg}
			}
			x = t
		default:
			return x, nil
		}
	}
}

func isKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "is", "if", "else":
		return true
	}
	return false
}
