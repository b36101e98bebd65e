package value

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/vault"
	"gopkg.in/yaml.v3"
)

// YAML 1.1 plain scalars as PyYAML, and so Ansible, resolves them; yaml.v3
// follows YAML 1.2 and would read yes as a string and 1e3 as a number.
var (
	yaml11Bool  = map[string]bool{"yes": true, "Yes": true, "YES": true, "no": false, "No": false, "NO": false, "true": true, "True": true, "TRUE": true, "false": false, "False": false, "FALSE": false, "on": true, "On": true, "ON": true, "off": false, "Off": false, "OFF": false}
	yaml11Null  = map[string]bool{"": true, "~": true, "null": true, "Null": true, "NULL": true}
	yaml11Int   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yaml11Float = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yaml11Date  = regexp.MustCompile(`^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$`)
)

// ParseYAML parses one YAML document into values; file names it in errors.
// An empty document is nil.
func ParseYAML(file string, src []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, YAMLError(file, err)
	}
	return DecodeYAML(file, &doc)
}

// ParseYAMLAll parses every document of a YAML stream, as
// yaml.safe_load_all does.
func ParseYAMLAll(file string, src []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	out := []any{}
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, YAMLError(file, err)
		}
		v, err := DecodeYAML(file, &doc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// YAMLError gives yaml.v3's message the file name in front of its line,
// the one form every drover input error takes.
func YAMLError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	pos := source.Pos{File: file}
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if line, convErr := strconv.Atoi(n); convErr == nil {
				pos.Line, msg = line, tail
			}
		}
	}
	for cause, hint := range yamlHints {
		if strings.Contains(msg, cause) {
			msg += " (" + hint + ")"
			break
		}
	}
	// The message is the parser's own, so it is not repeated as the cause.
	return &source.Error{Pos: pos, Msg: msg}
}

// yamlHints say what the YAML parser's commonest complaints usually mean
// in a playbook.
var yamlHints = map[string]string{
	"did not find expected node content":             "a value is missing, or a quote or bracket before it is not closed",
	"mapping values are not allowed in this context": "a value holds ': ' unquoted; quote the whole value",
	"found character that cannot start any token":    "a value starts with a tab or a reserved character such as @ or `; indent with spaces and quote the value",
	"did not find expected key":                      "the indentation is off: the keys of one mapping must line up",
	"could not find expected ':'":                    "a key lacks its ':', or a multi-line value is not indented",
	"found undefined alias":                          "an *alias names no &anchor defined before it",
	"found unexpected end of stream":                 "a quote or bracket is not closed",
	"did not find expected ',' or ']'":               "a bracket is not closed",
	"did not find expected ',' or '}'":               "a brace is not closed",
}

// DecodeYAML turns a node into values as PyYAML, and so Ansible, reads
// them: YAML 1.1 scalars (yes is true, 0644 is 420, 1e3 a string), merge
// keys and anchors resolved, mappings as [Dict] in document order, !unsafe
// as [Unsafe] and !vault as a vault.String. An alias inside the node it
// names, and aliases that expand to more than a few million values, are
// errors rather than a crash or a hang.
func DecodeYAML(file string, n *yaml.Node) (any, error) {
	d := &yamlDecoder{file: file, active: map[*yaml.Node]bool{}, budget: maxYAMLValues}
	return d.decode(n)
}

// maxYAMLValues bounds the values a document's aliases may expand to
// ("billion laughs").
const maxYAMLValues = 5_000_000

type yamlDecoder struct {
	file   string
	active map[*yaml.Node]bool // the collections being decoded, for aliases to them
	budget int                 // values left to decode
}

func (d *yamlDecoder) pos(n *yaml.Node) source.Pos {
	return source.Pos{File: d.file, Line: n.Line, Col: n.Column}
}

// enter marks a collection as being decoded; an alias met inside it that
// leads back to it is a recursive structure.
func (d *yamlDecoder) enter(n *yaml.Node) error {
	if d.active[n] {
		return source.Errorf(d.pos(n), "an alias refers to a collection it is inside of; YAML like this nests without end, and Ansible cannot use it either")
	}
	d.budget--
	if d.budget < 0 {
		return source.Errorf(d.pos(n), "the aliases expand to more than %d values; use fewer nested aliases", maxYAMLValues)
	}
	d.active[n] = true
	return nil
}

func (d *yamlDecoder) decode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case 0: // an empty stream
		return nil, nil
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.decode(n.Content[0])
	case yaml.AliasNode:
		return d.decode(n.Alias)
	case yaml.SequenceNode:
		if err := d.enter(n); err != nil {
			return nil, err
		}
		defer delete(d.active, n)
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.decode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		if err := d.enter(n); err != nil {
			return nil, err
		}
		defer delete(d.active, n)
		out := NewDict(len(n.Content) / 2)
		if err := d.mapping(n, out); err != nil {
			return nil, err
		}
		return out, nil
	case yaml.ScalarNode:
		d.budget--
		if d.budget < 0 {
			return nil, source.Errorf(d.pos(n), "the aliases expand to more than %d values; use fewer nested aliases", maxYAMLValues)
		}
		if n.Tag == "!vault" || n.Tag == "!vault-encrypted" {
			if !vault.IsEncrypted([]byte(n.Value)) {
				return nil, source.Errorf(d.pos(n), "!vault value is not a vault text; create it with drover vault encrypt-string")
			}
			return vault.String{Text: n.Value}, nil
		}
		if n.Tag == "!unsafe" {
			return Unsafe(n.Value), nil
		}
		return scalar11(n), nil
	}
	return nil, source.Errorf(d.pos(n), "unsupported YAML node")
}

// mapping fills out from n, applying << merge keys first so explicit keys
// win, as PyYAML does.
func (d *yamlDecoder) mapping(n *yaml.Node, out *Dict) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag != "!!merge" {
			continue
		}
		sources := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			sources = v.Content
		}
		for _, s := range sources {
			for s.Kind == yaml.AliasNode {
				s = s.Alias
			}
			if s.Kind != yaml.MappingNode {
				return source.Errorf(d.pos(s), "merge key << needs a mapping")
			}
			if err := d.enter(s); err != nil {
				return err
			}
			err := d.mapping(s, out)
			delete(d.active, s)
			if err != nil {
				return err
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		key, err := d.decode(k)
		if err != nil {
			return err
		}
		val, err := d.decode(v)
		if err != nil {
			return err
		}
		out.Set(KeyString(key), val)
	}
	return nil
}

// scalar11 resolves a scalar node with YAML 1.1 rules.
func scalar11(n *yaml.Node) any {
	s := n.Value
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return s
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return s // local tags keep the text
	}
	return Plain11(s)
}

// Plain11 is what a plain (unquoted) YAML scalar means under YAML 1.1:
// nil, a bool, an int64 (or *big.Int), a float64, a date string
// normalised as PyYAML prints it, or the text itself. Writers use it to
// decide when a string needs quotes.
func Plain11(s string) any {
	if yaml11Null[s] {
		return nil
	}
	if b, ok := yaml11Bool[s]; ok {
		return b
	}
	if yaml11Int.MatchString(s) {
		if v, ok := yaml11Integer(s); ok {
			return v
		}
	}
	if yaml11Float.MatchString(s) {
		return yaml11Floating(s)
	}
	if yaml11Date.MatchString(s) {
		parts := strings.Split(s, "-")
		m, _ := strconv.Atoi(parts[1])
		d, _ := strconv.Atoi(parts[2])
		return fmt.Sprintf("%s-%02d-%02d", parts[0], m, d)
	}
	return s
}

func yaml11Integer(s string) (any, bool) {
	s = strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	n := new(big.Int)
	var ok bool
	switch {
	case strings.HasPrefix(s, "0b"):
		_, ok = n.SetString(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		_, ok = n.SetString(s[2:], 16)
	case strings.Contains(s, ":"):
		ok = true
		for _, part := range strings.Split(s, ":") {
			d, err := strconv.Atoi(part)
			if err != nil {
				return nil, false
			}
			n.Mul(n, big.NewInt(60)).Add(n, big.NewInt(int64(d)))
		}
	case len(s) > 1 && s[0] == '0':
		_, ok = n.SetString(s[1:], 8)
	default:
		_, ok = n.SetString(s, 10)
	}
	if !ok {
		return nil, false
	}
	if neg {
		n.Neg(n)
	}
	if n.IsInt64() {
		return n.Int64(), true
	}
	return n, true
}

func yaml11Floating(s string) float64 {
	s = strings.ReplaceAll(s, "_", "")
	lower := strings.ToLower(s)
	switch {
	case strings.HasSuffix(lower, ".inf"):
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1)
		}
		return math.Inf(1)
	case strings.HasSuffix(lower, ".nan"):
		return math.NaN()
	case strings.Contains(s, ":"):
		neg := strings.HasPrefix(s, "-")
		var f float64
		for _, part := range strings.Split(strings.TrimLeft(s, "+-"), ":") {
			v, _ := strconv.ParseFloat(part, 64)
			f = f*60 + v
		}
		if neg {
			f = -f
		}
		return f
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// KeyString turns a mapping key into the string drover keys dicts by: the
// text json.dumps would give it, so {1: a} and {yes: b} look up as "1"
// and "true".
func KeyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return "null"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return JSONFloat(x)
	}
	return fmt.Sprint(k) // *big.Int and the rest print as Python does
}
