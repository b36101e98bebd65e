package value

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/drover/drover/vault"
)

// YAMLStyle is how [DumpYAML] lays a value out: the keyword arguments
// users give Ansible's to_yaml and to_nice_yaml. The zero value is
// to_yaml's own layout; [NiceYAML] gives to_nice_yaml's.
type YAMLStyle struct {
	// Indent is the indentation step (indent=). 0, or anything outside
	// 2 to 9, means 2, as libyaml does.
	Indent int

	// Width is the column past which lines are broken (width=). 0, or a
	// width no greater than twice the indentation step, means 80; a
	// negative width never breaks. Columns count characters.
	Width int

	// FlowStyle is default_flow_style. nil writes a collection in flow
	// style ([a, b], {k: v}) when it holds only scalars and as a block
	// otherwise; true writes every collection in flow style; false writes
	// every non-empty collection as a block.
	FlowStyle *bool

	// KeepOrder is sort_keys=False: mappings keep the order of their
	// keys instead of being sorted. A Go map's keys are always sorted,
	// since it has no order of its own.
	KeepOrder bool

	// ExplicitStart (explicit_start=True) starts the document with ---.
	ExplicitStart bool

	// ExplicitEnd (explicit_end=True) ends the document with "...".
	ExplicitEnd bool

	// ASCII is allow_unicode=False: every non-ASCII character is escaped
	// in a double-quoted string. Both filters pass allow_unicode=True
	// themselves, so in Ansible 2.14 a user's allow_unicode (like a
	// default_flow_style given to to_nice_yaml) fails with "got multiple
	// values for keyword argument".
	ASCII bool
}

// NiceYAML returns to_nice_yaml's style: every collection as a block,
// indented by indent (Ansible's default is 4).
func NiceYAML(indent int) YAMLStyle {
	block := false
	return YAMLStyle{Indent: indent, FlowStyle: &block}
}

// ErrDumpYAML is the class of every [DumpYAML] failure: the value holds
// something YAML cannot carry (a Go type outside this package's values,
// text that is not UTF-8, a container that holds itself). Retrying with
// the same value cannot help.
var ErrDumpYAML = errors.New("value cannot be written as YAML")

// DumpYAML writes v as Ansible's to_yaml and to_nice_yaml do: the output
// of yaml.dump with Ansible's dumper, which is libyaml's emitter wherever
// PyYAML has its C extension (as Debian's and PyPI's builds do). That
// emitter differs from PyYAML's pure-Python one in two ways users see: a
// plain scalar document gets no "..." line after it, and characters past
// U+FFFF are escaped ("\U0001F600") even with allow_unicode. A Dict keeps
// its order only with KeepOrder. The result ends in a newline.
//
// A list or mapping found twice in v is written once with an anchor and
// then as an alias (&id001 ... *id001), as PyYAML does for one Python
// object found twice: the same *Dict, Go map or non-empty slice (same
// start and length), or vault values with the same text, which only
// copies of one encryption share.
func DumpYAML(v any, s YAMLStyle) (string, error) {
	r := representer{style: s, active: map[containerID]bool{}, done: map[containerID]*yamlNode{}, vaults: map[string]*yamlNode{}}
	root, err := r.node(v, "value")
	if err != nil {
		return "", err
	}
	nameAnchors(root)
	e := newEmitter(s)
	e.document(root, s)
	return e.b.String(), nil
}

// A yamlNode is a value made ready to write, as PyYAML's representer
// hands it to the emitter: collections know their style and mappings the
// order of their keys.
type yamlNode struct {
	kind yamlKind
	// text is a scalar's text.
	text string
	// tag is written before the scalar: "!vault", or "" for none.
	tag string
	// plain says the text reads back as itself when written unquoted.
	plain bool
	// literal asks for a | block, as Ansible asks for vault text.
	literal bool
	// flow writes a collection in flow style.
	flow bool
	// items are a sequence's items, or a mapping's keys and values in
	// turn.
	items []*yamlNode
	// anchor names a node that appears more than once.
	anchor string
}

type yamlKind uint8

const (
	yamlScalar yamlKind = iota
	yamlSeq
	yamlMap
)

// containerID names a container by where its contents live: Go's
// nearest thing to Python's object identity, which decides what PyYAML
// writes as an alias.
type containerID struct {
	p uintptr
	n int // a slice's length; -1 for mappings
}

// representer turns values into yamlNodes, as PyYAML's SafeRepresenter
// with Ansible's additions does. A container met again becomes the same
// node.
type representer struct {
	style YAMLStyle
	// active holds the containers being represented, so one found
	// inside itself is refused rather than followed forever.
	active map[containerID]bool
	done   map[containerID]*yamlNode
	vaults map[string]*yamlNode
}

func (r *representer) node(v any, path string) (*yamlNode, error) {
	switch x := v.(type) {
	case nil:
		return scalarNode("null"), nil
	case bool:
		return scalarNode(strconv.FormatBool(x)), nil
	case int64:
		return scalarNode(strconv.FormatInt(x, 10)), nil
	case *big.Int:
		if x == nil {
			return nil, fmt.Errorf("%w: %s: nil *big.Int", ErrDumpYAML, path)
		}
		return scalarNode(x.String()), nil
	case float64:
		return scalarNode(yamlFloat(x)), nil
	case string:
		return stringNode(x, path)
	case Unsafe:
		return stringNode(string(x), path)
	case vault.String:
		return r.vault(x, path)
	case []any:
		return r.shared(x, len(x), path, func() (*yamlNode, error) { return r.seq(x, path) })
	case *Dict:
		keys := x.Keys()
		if !r.style.KeepOrder {
			keys = slices.Sorted(slices.Values(keys))
		}
		return r.shared(x, -1, path, func() (*yamlNode, error) { return r.mapping(keys, x.Map(), path) })
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return r.shared(x, -1, path, func() (*yamlNode, error) { return r.mapping(keys, x, path) })
	}
	return nil, fmt.Errorf("%w: %s: unsupported type %T", ErrDumpYAML, path, v)
}

func scalarNode(text string) *yamlNode {
	return &yamlNode{kind: yamlScalar, text: text, plain: true}
}

func stringNode(s, path string) (*yamlNode, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("%w: %s: string is not UTF-8: %q", ErrDumpYAML, path, s)
	}
	return &yamlNode{kind: yamlScalar, text: s, plain: readsAsString(s)}, nil
}

// shared returns the node built for container c, of n items (-1 for a
// mapping), building it the first time. Nil containers, and empty slices,
// which Go may give one address whatever their source, never count as
// met again; PyYAML would alias one empty list met twice.
func (r *representer) shared(c any, n int, path string, build func() (*yamlNode, error)) (*yamlNode, error) {
	id := containerID{reflect.ValueOf(c).Pointer(), n}
	if id.p == 0 || n == 0 {
		return build()
	}
	if node, ok := r.done[id]; ok {
		return node, nil
	}
	if r.active[id] {
		return nil, fmt.Errorf("%w: %s: the value contains itself", ErrDumpYAML, path)
	}
	r.active[id] = true
	node, err := build()
	delete(r.active, id)
	if err != nil {
		return nil, err
	}
	r.done[id] = node
	return node, nil
}

// vault writes vault text as Ansible does: a !vault tag on a | block.
func (r *representer) vault(v vault.String, path string) (*yamlNode, error) {
	if !utf8.ValidString(v.Text) {
		return nil, fmt.Errorf("%w: %s: vault text is not UTF-8", ErrDumpYAML, path)
	}
	if n, ok := r.vaults[v.Text]; ok {
		return n, nil
	}
	n := &yamlNode{kind: yamlScalar, text: v.Text, tag: "!vault", literal: true}
	r.vaults[v.Text] = n
	return n, nil
}

func (r *representer) seq(s []any, path string) (*yamlNode, error) {
	n := &yamlNode{kind: yamlSeq, items: make([]*yamlNode, 0, len(s))}
	for i, e := range s {
		item, err := r.node(e, path+"["+strconv.Itoa(i)+"]")
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, item)
	}
	n.flow = r.flow(n.items)
	return n, nil
}

func (r *representer) mapping(keys []string, m map[string]any, path string) (*yamlNode, error) {
	n := &yamlNode{kind: yamlMap, items: make([]*yamlNode, 0, 2*len(keys))}
	for _, k := range keys {
		kn, err := stringNode(k, path)
		if err != nil {
			return nil, err
		}
		vn, err := r.node(m[k], path+"."+k)
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, kn, vn)
	}
	n.flow = r.flow(n.items)
	return n, nil
}

// flow is PyYAML's choice of style for a collection: default_flow_style
// when given, otherwise flow exactly when every item is a scalar left to
// the emitter's choice of style (vault text asks for a block).
func (r *representer) flow(items []*yamlNode) bool {
	if r.style.FlowStyle != nil {
		return *r.style.FlowStyle
	}
	return !slices.ContainsFunc(items, func(n *yamlNode) bool { return n.kind != yamlScalar || n.literal })
}

// nameAnchors names each node met more than once, id001 upwards in the
// order a depth-first walk meets them the second time, as PyYAML does.
func nameAnchors(root *yamlNode) {
	seen := map[*yamlNode]bool{}
	serial := 0
	var walk func(n *yamlNode)
	walk = func(n *yamlNode) {
		if seen[n] {
			if n.anchor == "" {
				serial++
				n.anchor = fmt.Sprintf("id%03d", serial)
			}
			return
		}
		seen[n] = true
		for _, c := range n.items {
			walk(c)
		}
	}
	walk(root)
}

// yamlFloat is PyYAML's text for a float: Python's repr, with .inf and
// .nan, and a ".0" before a bare exponent so YAML 1.1 reads a float.
func yamlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return ".nan"
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	}
	s := FloatRepr(f)
	if !strings.Contains(s, ".") {
		s = strings.Replace(s, "e", ".0e", 1)
	}
	return s
}

// PyYAML's YAML 1.1 implicit types, as its resolver reads a plain scalar
// when the dumper decides whether a string may go unquoted. They differ
// from yaml.go's reading in a few corners (._1 and 2024-1-2 are strings
// here), and the dumper must follow PyYAML, not drover's reader.
var (
	resolveInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	resolveFloat = regexp.MustCompile(`^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	resolveTime  = regexp.MustCompile(`^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$`)
)

// readsAsString reports whether s, written plain, reads back as the
// string s and not as null, a bool, a number, a date, or the << and =
// keys.
func readsAsString(s string) bool {
	if _, ok := yaml11Bool[s]; ok || yaml11Null[s] || s == "<<" || s == "=" {
		return false
	}
	return !resolveInt.MatchString(s) && !resolveFloat.MatchString(s) && !resolveTime.MatchString(s)
}
