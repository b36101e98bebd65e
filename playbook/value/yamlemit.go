package value

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// emitter writes yamlNodes the way libyaml's emitter does. It keeps the
// same few facts about what it last wrote (the column, whether that was
// whitespace or indentation) because every choice of layout, from where
// a line breaks to whether a sequence is indented, turns on them.
type emitter struct {
	b     strings.Builder
	step  int
	width int
	ascii bool

	// indent is the current indentation, -1 before the first collection.
	indent  int
	indents []int
	flow    int // depth of flow collections

	column int
	// whitespace is set when the last thing written was a space or a
	// line break, so an indicator needs no space before it.
	whitespace bool
	// indention is set while only indentation (and - or ? or :
	// indicators) stands on the line.
	indention bool
	// openEnded is set after a |+ block, whose trailing blank lines
	// would run into whatever follows; the document then ends with ...
	openEnded bool
	// anchored holds the anchored nodes written so far: a node met
	// again is written as an alias.
	anchored map[*yamlNode]bool
}

func newEmitter(s YAMLStyle) *emitter {
	e := &emitter{step: s.Indent, width: s.Width, ascii: s.ASCII, indent: -1, whitespace: true, indention: true, anchored: map[*yamlNode]bool{}}
	if e.step < 2 || e.step > 9 {
		e.step = 2
	}
	if e.width >= 0 && e.width <= 2*e.step {
		e.width = 80
	}
	if e.width < 0 {
		e.width = math.MaxInt
	}
	return e
}

func (e *emitter) document(root *yamlNode, s YAMLStyle) {
	if s.ExplicitStart {
		e.writeIndent()
		e.writeIndicator("---", true, false, false)
	}
	e.node(root, false, false)
	e.writeIndent()
	if s.ExplicitEnd || e.openEnded {
		e.writeIndicator("...", true, false, false)
		e.writeIndent()
	}
}

// node writes n; mapping says n is a key or value of a block or flow
// mapping, simpleKey that it is a key written on the value's line.
func (e *emitter) node(n *yamlNode, mapping, simpleKey bool) {
	if n.anchor != "" {
		if e.anchored[n] {
			e.writeIndicator("*"+n.anchor, true, false, false)
			return
		}
		e.anchored[n] = true
		e.writeIndicator("&"+n.anchor, true, false, false)
	}
	switch {
	case n.kind == yamlScalar:
		e.scalar(n, simpleKey)
	case e.flow > 0 || n.flow || len(n.items) == 0:
		e.flowCollection(n)
	case n.kind == yamlSeq:
		e.blockSeq(n, mapping)
	default:
		e.blockMap(n)
	}
}

func (e *emitter) pushIndent(flow, indentless bool) {
	e.indents = append(e.indents, e.indent)
	switch {
	case e.indent < 0 && flow:
		e.indent = e.step
	case e.indent < 0:
		e.indent = 0
	case !indentless:
		e.indent += e.step
	}
}

func (e *emitter) popIndent() {
	e.indent = e.indents[len(e.indents)-1]
	e.indents = e.indents[:len(e.indents)-1]
}

// flowCollection writes [a, b] or {k: v}, breaking the line before an
// item that would start past the width.
func (e *emitter) flowCollection(n *yamlNode) {
	open, end, step := "[", "]", 1
	if n.kind == yamlMap {
		open, end, step = "{", "}", 2
	}
	e.writeIndicator(open, true, true, false)
	e.pushIndent(true, false)
	e.flow++
	for i := 0; i < len(n.items); i += step {
		if i > 0 {
			e.writeIndicator(",", false, false, false)
		}
		if e.column > e.width {
			e.writeIndent()
		}
		if n.kind == yamlSeq {
			e.node(n.items[i], false, false)
		} else {
			e.flowPair(n.items[i], n.items[i+1])
		}
	}
	e.flow--
	e.popIndent()
	e.writeIndicator(end, false, false, false)
}

func (e *emitter) flowPair(k, v *yamlNode) {
	if isSimpleKey(k) {
		e.node(k, true, true)
		e.writeIndicator(":", false, false, false)
		e.node(v, true, false)
		return
	}
	e.writeIndicator("?", true, false, false)
	e.node(k, true, false)
	if e.column > e.width {
		e.writeIndent()
	}
	e.writeIndicator(":", true, false, false)
	e.node(v, true, false)
}

// blockSeq writes "- item" lines. Inside a mapping, a sequence that
// starts on a line of its own is not indented further than its key.
func (e *emitter) blockSeq(n *yamlNode, mapping bool) {
	e.pushIndent(false, mapping && !e.indention)
	for _, item := range n.items {
		e.writeIndent()
		e.writeIndicator("-", true, false, true)
		e.node(item, false, false)
	}
	e.popIndent()
}

// blockMap writes "key: value" lines, or "? key" and ": value" for a key
// too long or multi-line to stand in front of its value.
func (e *emitter) blockMap(n *yamlNode) {
	e.pushIndent(false, false)
	for i := 0; i < len(n.items); i += 2 {
		k, v := n.items[i], n.items[i+1]
		e.writeIndent()
		if isSimpleKey(k) {
			e.node(k, true, true)
			e.writeIndicator(":", false, false, false)
		} else {
			e.writeIndicator("?", true, false, true)
			e.node(k, true, false)
			e.writeIndent()
			e.writeIndicator(":", true, false, true)
		}
		e.node(v, true, false)
	}
	e.popIndent()
}

// isSimpleKey reports whether k may be written as "k: v": a scalar of
// one line and at most 128 bytes, or an empty collection.
func isSimpleKey(k *yamlNode) bool {
	if k.kind != yamlScalar {
		return len(k.items) == 0
	}
	return len(k.tag)+len(k.text) <= 128 && !strings.ContainsFunc(k.text, isBreak)
}

type scalarStyle uint8

const (
	stylePlain scalarStyle = iota
	styleSingle
	styleDouble
	styleLiteral
)

func (e *emitter) scalar(n *yamlNode, simpleKey bool) {
	style := e.scalarStyle(n, analyzeScalar(n.text, e.ascii), simpleKey)
	if n.tag != "" {
		if !e.whitespace {
			e.put(" ")
		}
		e.put(n.tag)
		e.whitespace, e.indention = false, false
	}
	e.pushIndent(true, false)
	switch style {
	case stylePlain:
		e.writePlain(n.text, !simpleKey)
	case styleSingle:
		e.writeSingle(n.text, !simpleKey)
	case styleDouble:
		e.writeDouble(n.text, !simpleKey)
	case styleLiteral:
		e.writeLiteral(n.text)
	}
	e.popIndent()
}

// scalarStyle picks the first style that can carry the text where it
// stands: plain, then single quotes, then double quotes, which carry
// anything. A literal block is only tried when asked for.
func (e *emitter) scalarStyle(n *yamlNode, a scalarAnalysis, simpleKey bool) scalarStyle {
	if simpleKey && a.multiline {
		return styleDouble
	}
	if n.literal {
		if !a.block || e.flow > 0 || simpleKey {
			return styleDouble
		}
		return styleLiteral
	}
	plainOK := a.blockPlain
	if e.flow > 0 {
		plainOK = a.flowPlain
	}
	if plainOK && n.plain && (n.text != "" || (e.flow == 0 && !simpleKey)) {
		return stylePlain
	}
	if a.single {
		return styleSingle
	}
	return styleDouble
}

// scalarAnalysis says which styles can carry a text unchanged.
type scalarAnalysis struct {
	multiline  bool
	flowPlain  bool // plain inside [ ] or { }
	blockPlain bool // plain elsewhere
	single     bool
	block      bool // a | block
}

// scalarFlags are the facts about a text that rule styles out.
type scalarFlags struct {
	flowIndicators, blockIndicators, special, lineBreaks     bool
	leadingSpace, leadingBreak, trailingSpace, trailingBreak bool
	breakSpace, spaceBreak                                   bool
}

func analyzeScalar(s string, ascii bool) scalarAnalysis {
	if s == "" {
		return scalarAnalysis{blockPlain: true, single: true}
	}
	f := scanScalar([]rune(s), ascii)
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		f.flowIndicators, f.blockIndicators = true, true
	}
	a := scalarAnalysis{multiline: f.lineBreaks, flowPlain: true, blockPlain: true, single: true, block: true}
	if f.leadingSpace || f.leadingBreak || f.trailingSpace || f.trailingBreak || f.lineBreaks {
		a.flowPlain, a.blockPlain = false, false
	}
	if f.trailingSpace {
		a.block = false
	}
	if f.breakSpace {
		a.flowPlain, a.blockPlain, a.single = false, false, false
	}
	if f.spaceBreak || f.special {
		a = scalarAnalysis{multiline: a.multiline}
	}
	a.flowPlain = a.flowPlain && !f.flowIndicators
	a.blockPlain = a.blockPlain && !f.blockIndicators
	return a
}

func scanScalar(rs []rune, ascii bool) scalarFlags {
	var f scalarFlags
	preceded, prevSpace, prevBreak := true, false, false
	for i, r := range rs {
		followed := i+1 == len(rs) || isBlankZ(rs[i+1])
		f.indicators(r, i == 0, preceded, followed)
		if !isPrintable(r) || (ascii && r > 0x7F) {
			f.special = true
		}
		last := i == len(rs)-1
		switch {
		case r == ' ':
			f.leadingSpace = f.leadingSpace || i == 0
			f.trailingSpace = f.trailingSpace || last
			f.breakSpace = f.breakSpace || prevBreak
			prevSpace, prevBreak = true, false
		case isBreak(r):
			f.lineBreaks = true
			f.leadingBreak = f.leadingBreak || i == 0
			f.trailingBreak = f.trailingBreak || last
			f.spaceBreak = f.spaceBreak || prevSpace
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		preceded = isBlankZ(r)
	}
	return f
}

// indicators notes the characters that YAML would read as syntax: most
// only at the start, "- ", "? " and ": " before a space, " #" after one,
// and the flow punctuation anywhere inside [ ] or { }.
func (f *scalarFlags) indicators(r rune, first, preceded, followed bool) {
	both := false
	switch {
	case first && strings.ContainsRune("#,[]{}&*!|>'\"%@`", r):
		both = true
	case first && (r == '?' || r == ':'):
		f.flowIndicators = true
		both = followed
	case first && r == '-':
		both = followed
	case first:
	case strings.ContainsRune(",?[]{}", r):
		f.flowIndicators = true
	case r == ':':
		f.flowIndicators = true
		both = followed
	case r == '#':
		both = preceded
	}
	if both {
		f.flowIndicators, f.blockIndicators = true, true
	}
}

func isBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

func isBlankZ(r rune) bool {
	return r == ' ' || r == '\t' || r == 0 || isBreak(r)
}

// isPrintable is libyaml's set of characters written as themselves:
// it leaves out tabs, NEL, the byte order mark and everything past the
// Basic Multilingual Plane, which are escaped even with allow_unicode.
func isPrintable(r rune) bool {
	switch {
	case r == '\n', r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return r != 0xFEFF
	}
	return false
}

func (e *emitter) put(s string) {
	e.b.WriteString(s)
	e.column += utf8.RuneCountInString(s)
}

func (e *emitter) putRune(r rune) {
	e.b.WriteRune(r)
	e.column++
}

func (e *emitter) putBreak() {
	e.b.WriteByte('\n')
	e.column = 0
}

// writeBreak writes a line break from the text: \n as itself, and the
// other breaks (only \u2028 and \u2029 reach here) as themselves too.
func (e *emitter) writeBreak(r rune) {
	e.b.WriteRune(r)
	e.column = 0
}

func (e *emitter) writeIndicator(s string, needSpace, isWhitespace, isIndention bool) {
	if needSpace && !e.whitespace {
		e.put(" ")
	}
	e.put(s)
	e.whitespace = isWhitespace
	e.indention = e.indention && isIndention
}

// writeIndent moves to the current indentation, starting a new line
// unless the line holds nothing but indentation short of it.
func (e *emitter) writeIndent() {
	indent := max(e.indent, 0)
	if !e.indention || e.column > indent || (e.column == indent && !e.whitespace) {
		e.putBreak()
	}
	for e.column < indent {
		e.put(" ")
	}
	e.whitespace, e.indention = true, true
}

// writePlain writes s unquoted, breaking long lines at single spaces.
func (e *emitter) writePlain(s string, breaks bool) {
	if !e.whitespace {
		e.put(" ")
	}
	rs := []rune(s)
	spaces := false
	for i, r := range rs {
		if r == ' ' {
			if breaks && !spaces && e.column > e.width && (i+1 == len(rs) || rs[i+1] != ' ') {
				e.writeIndent()
			} else {
				e.put(" ")
			}
			spaces = true
			continue
		}
		e.putRune(r)
		e.indention, spaces = false, false
	}
	e.whitespace, e.indention = false, false
}

// writeSingle writes s in single quotes. A line break in the text is
// written twice, since one alone would read back as a space.
func (e *emitter) writeSingle(s string, breaks bool) {
	e.writeIndicator("'", true, false, false)
	rs := []rune(s)
	spaces, inBreak := false, false
	for i, r := range rs {
		switch {
		case r == ' ':
			if breaks && !spaces && e.column > e.width && i != 0 && i != len(rs)-1 && rs[i+1] != ' ' {
				e.writeIndent()
			} else {
				e.put(" ")
			}
			spaces = true
		case isBreak(r):
			if !inBreak && r == '\n' {
				e.putBreak()
			}
			e.writeBreak(r)
			e.indention, inBreak = true, true
		default:
			if inBreak {
				e.writeIndent()
			}
			if r == '\'' {
				e.put("''")
			} else {
				e.putRune(r)
			}
			e.indention, spaces, inBreak = false, false, false
		}
	}
	if inBreak {
		e.writeIndent()
	}
	e.writeIndicator("'", false, false, false)
	e.whitespace, e.indention = false, false
}

// writeDouble writes s in double quotes with escapes. A line broken at a
// space escapes a space that starts the next line, which would be lost.
func (e *emitter) writeDouble(s string, breaks bool) {
	e.writeIndicator(`"`, true, false, false)
	rs := []rune(s)
	spaces := false
	for i, r := range rs {
		switch {
		case !isPrintable(r) || (e.ascii && r > 0x7F) || isBreak(r) || r == '"' || r == '\\':
			e.put(yamlEscape(r))
			spaces = false
		case r == ' ':
			if breaks && !spaces && e.column > e.width && i != 0 && i != len(rs)-1 {
				e.writeIndent()
				if rs[i+1] == ' ' {
					e.put(`\`)
				}
			} else {
				e.put(" ")
			}
			spaces = true
		default:
			e.putRune(r)
			spaces = false
		}
	}
	e.writeIndicator(`"`, false, false, false)
	e.whitespace, e.indention = false, false
}

var yamlEscapes = map[rune]string{
	0: `\0`, '\a': `\a`, '\b': `\b`, '\t': `\t`, '\n': `\n`, '\v': `\v`, '\f': `\f`, '\r': `\r`,
	0x1B: `\e`, '"': `\"`, '\\': `\\`, 0x85: `\N`, 0xA0: `\_`, 0x2028: `\L`, 0x2029: `\P`,
}

func yamlEscape(r rune) string {
	if s, ok := yamlEscapes[r]; ok {
		return s
	}
	switch {
	case r <= 0xFF:
		return fmt.Sprintf(`\x%02X`, r)
	case r <= 0xFFFF:
		return fmt.Sprintf(`\u%04X`, r)
	}
	return fmt.Sprintf(`\U%08X`, r)
}

// writeLiteral writes s as a | block. The header says how much the text
// is indented when it starts with a space, and whether its final line
// breaks are kept (+) or there are none (-).
func (e *emitter) writeLiteral(s string) {
	e.writeIndicator("|", true, false, false)
	rs := []rune(s)
	if r := rs[0]; r == ' ' || isBreak(r) {
		e.writeIndicator(strconv.Itoa(e.step), false, false, false)
	}
	e.openEnded = false
	n := len(rs)
	switch {
	case !isBreak(rs[n-1]):
		e.writeIndicator("-", false, false, false)
	case n == 1 || isBreak(rs[n-2]):
		e.writeIndicator("+", false, false, false)
		e.openEnded = true
	}
	e.putBreak()
	e.indention, e.whitespace = true, true
	inBreak := true
	for _, r := range rs {
		if isBreak(r) {
			e.writeBreak(r)
			e.indention, inBreak = true, true
			continue
		}
		if inBreak {
			e.writeIndent()
		}
		e.putRune(r)
		e.indention, inBreak = false, false
	}
}
