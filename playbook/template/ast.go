package template

// node is a parsed expression; pos is its byte offset in the source.
type node interface{ position() int }

type (
	literal struct {
		pos int
		val any
	}
	name struct {
		pos  int
		name string
	}
	attr struct {
		pos  int
		x    node
		name string
	}
	index struct {
		pos  int
		x, i node
	}
	sliceNode struct {
		pos            int
		x, lo, hi, stp node // nil where omitted
	}
	call struct {
		pos    int
		fn     node
		args   []node
		kwargs []kwarg
	}
	filter struct {
		pos    int
		x      node
		name   string
		args   []node
		kwargs []kwarg
	}
	test struct {
		pos    int
		x      node
		name   string
		args   []node
		kwargs []kwarg
		not    bool
	}
	unary struct {
		pos int
		op  string
		x   node
	}
	binary struct {
		pos  int
		op   string
		l, r node
	}
	compare struct {
		pos   int
		first node
		ops   []string
		rest  []node
	}
	condExpr struct {
		pos             int
		cond, then, els node // els may be nil
	}
	listLit struct {
		pos   int
		items []node
		tuple bool
	}
	dictLit struct {
		pos        int
		keys, vals []node
	}
)

type kwarg struct {
	name string
	val  node
}

func (n *literal) position() int   { return n.pos }
func (n *name) position() int      { return n.pos }
func (n *attr) position() int      { return n.pos }
func (n *index) position() int     { return n.pos }
func (n *sliceNode) position() int { return n.pos }
func (n *call) position() int      { return n.pos }
func (n *filter) position() int    { return n.pos }
func (n *test) position() int      { return n.pos }
func (n *unary) position() int     { return n.pos }
func (n *binary) position() int    { return n.pos }
func (n *compare) position() int   { return n.pos }
func (n *condExpr) position() int  { return n.pos }
func (n *listLit) position() int   { return n.pos }
func (n *dictLit) position() int   { return n.pos }
