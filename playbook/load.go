package playbook

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/drover/drover/playbook/source"
	"github.com/drover/drover/playbook/template"
	"github.com/drover/drover/playbook/value"
	"github.com/drover/drover/tasks"
	"gopkg.in/yaml.v3"
)

// Playbook is a parsed playbook file: its plays in order, with every
// import_playbook expanded in place. It is immutable once loaded.
type Playbook struct {
	// Path is the file as given; Dir is its directory (playbook_dir).
	Path, Dir string
	Plays     []*Play
}

// Field is one keyword's value as YAML gave it (YAML 1.1 scalars, dicts in
// order), with where it was written so run-time errors can point there.
type Field struct {
	Value any
	Pos   source.Pos
}

// Play is one play of a playbook.
type Play struct {
	Pos  source.Pos
	Name string
	// Keywords holds every play keyword but the task lists, by name.
	Keywords map[string]Field
	// PreTasks, Tasks, PostTasks and Handlers are the play's task lists.
	PreTasks, Tasks, PostTasks, Handlers []*Task
}

// Task is a task, a handler or a block. A block has Block (and maybe
// Rescue and Always) and no module.
type Task struct {
	Pos  source.Pos
	Name string
	// Module is the action's name as written (copy, ansible.builtin.copy);
	// empty for a block.
	Module string
	// Args are the module's arguments: a YAML mapping, or k=v text parsed
	// as Ansible does (free-form text under _raw_params).
	Args    map[string]any
	ArgsPos source.Pos
	// Keywords are the task keywords other than the action, by name.
	Keywords map[string]Field
	// IsBlock marks a block; its children are in Block, Rescue and Always.
	IsBlock               bool
	Block, Rescue, Always []*Task
	// IsHandler marks a task of a play's handlers section.
	IsHandler bool
}

// Keyword returns the keyword's value and whether the task sets it.
func (t *Task) Keyword(name string) (Field, bool) {
	f, ok := t.Keywords[name]
	return f, ok
}

// Label is the task's banner name: its name, or the action as Ansible
// shows an unnamed task.
func (t *Task) Label() string {
	if t.Name != "" {
		return t.Name
	}
	if t.IsBlock {
		return "block"
	}
	return t.Module
}

// Load reads a playbook file and the playbooks it imports.
func Load(path string) (*Playbook, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	l := &loader{seen: map[string]bool{}}
	plays, err := l.file(abs, path)
	if err != nil {
		return nil, err
	}
	return &Playbook{Path: path, Dir: filepath.Dir(abs), Plays: plays}, nil
}

// Parse reads a playbook from src; name is used in error messages and
// import_playbook paths are relative to its directory.
func Parse(name string, src []byte) (*Playbook, error) {
	abs, _ := filepath.Abs(name)
	l := &loader{seen: map[string]bool{abs: true}}
	plays, err := l.parse(name, filepath.Dir(abs), src)
	if err != nil {
		return nil, err
	}
	return &Playbook{Path: name, Dir: filepath.Dir(abs), Plays: plays}, nil
}

// loader holds the state of one Load: the files on the import chain, so
// a playbook importing itself is an error and not a loop.
type loader struct {
	seen map[string]bool
}

func (l *loader) file(abs, shown string) ([]*Play, error) {
	if l.seen[abs] {
		return nil, fmt.Errorf("%s: the playbook imports itself (through import_playbook)", shown)
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("read playbook: %w", unwrapPath(err))
	}
	l.seen[abs] = true
	defer delete(l.seen, abs)
	return l.parse(shown, filepath.Dir(abs), src)
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func (l *loader) parse(name, dir string, src []byte) ([]*Play, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, value.YAMLError(name, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, source.Errorf(source.Pos{File: name, Line: 1}, "the playbook is empty; it must be a list of plays")
	}
	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		return nil, source.Errorf(pos(name, root), "a playbook must be a list of plays, not a %s", kindName(root))
	}
	var plays []*Play
	var errs []error
	for _, n := range root.Content {
		if n.Kind != yaml.MappingNode {
			errs = append(errs, source.Errorf(pos(name, n), "each play must be a mapping of keywords (hosts:, tasks:...), not a %s", kindName(n)))
			continue
		}
		if imp := mappingValue(n, "import_playbook", "ansible.builtin.import_playbook"); imp != nil {
			ps, err := l.importPlaybook(name, dir, n, imp)
			if err != nil {
				errs = append(errs, err)
			}
			plays = append(plays, ps...)
			continue
		}
		p, err := parsePlay(name, n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plays = append(plays, p)
	}
	return plays, errors.Join(errs...)
}

func (l *loader) importPlaybook(name, dir string, n, imp *yaml.Node) ([]*Play, error) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if k != "import_playbook" && k != "ansible.builtin.import_playbook" && k != "name" && k != "vars" && k != "when" && k != "tags" {
			return nil, source.Errorf(pos(name, n.Content[i]), "import_playbook does not take %s", k)
		}
	}
	if imp.Kind != yaml.ScalarNode || imp.Value == "" {
		return nil, source.Errorf(pos(name, imp), "import_playbook needs the path of a playbook file")
	}
	path := imp.Value
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	plays, err := l.file(path, path)
	if err != nil {
		return nil, fmt.Errorf("%s: import_playbook: %w", pos(name, imp), err)
	}
	return plays, nil
}

// playKeywords are the keywords a play accepts besides its task lists.
var playKeywords = []string{"any_errors_fatal", "become", "become_exe", "become_flags", "become_method", "become_user",
	"check_mode", "collections", "connection", "debugger", "diff", "environment", "fact_path", "force_handlers",
	"gather_facts", "gather_subset", "gather_timeout", "hosts", "ignore_errors", "ignore_unreachable",
	"max_fail_percentage", "module_defaults", "name", "no_log", "order", "port", "remote_user", "roles", "run_once",
	"serial", "strategy", "tags", "throttle", "timeout", "vars", "vars_files", "vars_prompt"}

var playLists = []string{"pre_tasks", "tasks", "post_tasks", "handlers"}

func parsePlay(file string, n *yaml.Node) (*Play, error) {
	p := &Play{Pos: pos(file, n), Keywords: map[string]Field{}}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case slices.Contains(playLists, k.Value):
			list, err := parseTasks(file, v, k.Value == "handlers")
			if err != nil {
				errs = append(errs, err)
			}
			switch k.Value {
			case "pre_tasks":
				p.PreTasks = list
			case "tasks":
				p.Tasks = list
			case "post_tasks":
				p.PostTasks = list
			default:
				p.Handlers = list
			}
		case slices.Contains(playKeywords, k.Value):
			f, err := field(file, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			p.Keywords[k.Value] = f
		default:
			errs = append(errs, unknownKey(file, k, "play", append(slices.Clone(playKeywords), playLists...)))
		}
	}
	if name, ok := p.Keywords["name"]; ok {
		p.Name = template.ToString(name.Value)
	}
	if _, ok := p.Keywords["hosts"]; !ok && len(errs) == 0 {
		errs = append(errs, source.Errorf(p.Pos, "the play has no hosts:; add hosts: all (or a group or pattern)"))
	}
	if f, ok := p.Keywords["roles"]; ok {
		errs = append(errs, source.Errorf(f.Pos, "roles: are not supported yet; use tasks: (roles come with a later release)"))
	}
	return p, errors.Join(errs...)
}

func parseTasks(file string, n *yaml.Node, handlers bool) ([]*Task, error) {
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, source.Errorf(pos(file, n), "a task list must be a list of tasks, not a %s", kindName(n))
	}
	var out []*Task
	var errs []error
	for _, c := range n.Content {
		t, err := parseTask(file, c, handlers)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	return out, errors.Join(errs...)
}

// taskKeywords are the keywords of tasks and blocks (Ansible 2.14's
// fattributes); everything else in a task is its action.
var taskKeywords = []string{"any_errors_fatal", "args", "async", "become", "become_exe", "become_flags", "become_method",
	"become_user", "changed_when", "check_mode", "collections", "connection", "debugger", "delay", "delegate_facts",
	"delegate_to", "diff", "environment", "failed_when", "ignore_errors", "ignore_unreachable", "loop", "loop_control",
	"module_defaults", "name", "no_log", "notify", "poll", "port", "register", "remote_user", "retries", "run_once",
	"tags", "throttle", "timeout", "until", "vars", "when"}

// blockOnly are the keys that make a mapping a block.
var blockOnly = []string{"block", "rescue", "always"}

// blockKeywords are the keywords a block takes besides its lists.
var blockKeywords = []string{"any_errors_fatal", "become", "become_exe", "become_flags", "become_method", "become_user",
	"check_mode", "collections", "connection", "debugger", "delegate_facts", "delegate_to", "diff", "environment",
	"ignore_errors", "ignore_unreachable", "module_defaults", "name", "no_log", "notify", "port", "remote_user",
	"run_once", "tags", "throttle", "timeout", "vars", "when"}

func parseTask(file string, n *yaml.Node, handler bool) (*Task, error) {
	if n.Kind != yaml.MappingNode {
		return nil, source.Errorf(pos(file, n), "a task must be a mapping (name:, a module and its arguments), not a %s", kindName(n))
	}
	t := &Task{Pos: pos(file, n), Keywords: map[string]Field{}, IsHandler: handler}
	if mappingValue(n, blockOnly...) != nil {
		return parseBlock(file, n, t)
	}
	var errs []error
	var actions []*yaml.Node // keys that name the action
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := k.Value
		switch {
		case slices.Contains(taskKeywords, key) || (handler && key == "listen") || strings.HasPrefix(key, "with_"):
			f, err := field(file, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			t.Keywords[key] = f
		case key == "action" || key == "local_action":
			actions = append(actions, k)
		default:
			actions = append(actions, k)
		}
	}
	if name, ok := t.Keywords["name"]; ok {
		t.Name = template.ToString(name.Value)
	}
	if err := t.action(file, n, actions); err != nil {
		errs = append(errs, err)
	}
	return t, errors.Join(errs...)
}

// action finds the task's module among the keys that are not keywords.
func (t *Task) action(file string, n *yaml.Node, keys []*yaml.Node) error {
	var known, unknown []*yaml.Node
	for _, k := range keys {
		if k.Value == "action" || k.Value == "local_action" || isAction(k.Value) {
			known = append(known, k)
		} else {
			unknown = append(unknown, k)
		}
	}
	switch {
	case len(known) > 1:
		names := make([]string, len(known))
		for i, k := range known {
			names[i] = k.Value
		}
		return source.Errorf(pos(file, known[1]), "conflicting action statements: %s; a task runs one module", strings.Join(names, ", "))
	case len(unknown) > 0:
		k := unknown[0]
		if len(known) == 0 {
			return source.Errorf(pos(file, k), "unknown module or task keyword %q%s", k.Value, suggestAction(k.Value))
		}
		return source.Errorf(pos(file, k), "unknown task keyword %q%s", k.Value, suggestion(k.Value, taskKeywords))
	case len(known) == 0:
		return source.Errorf(t.Pos, "the task has no module; add one, like debug: msg=hello")
	}
	k := known[0]
	v := mappingValue(n, k.Value)
	t.ArgsPos = pos(file, v)
	module, args, err := actionArgs(file, k.Value, v)
	if err != nil {
		return err
	}
	if k.Value == "local_action" {
		t.Keywords["delegate_to"] = Field{Value: "localhost", Pos: pos(file, k)}
	}
	if !isAction(module) {
		return source.Errorf(pos(file, v), "unknown module %q%s", module, suggestAction(module))
	}
	if extra, ok := t.Keywords["args"]; ok {
		d, ok := extra.Value.(*value.Dict)
		if !ok {
			return source.Errorf(extra.Pos, "args: must be a mapping of argument names to values")
		}
		for key, val := range d.All() {
			if _, set := args[key]; !set {
				args[key] = val
			}
		}
		delete(t.Keywords, "args")
	}
	t.Module, t.Args = module, args
	if shortModule(module) == "meta" {
		what := template.ToString(args["_raw_params"])
		if !slices.Contains(metaActions, what) {
			hint := suggestion(what, metaActions)
			if hint == "" {
				hint = "; use one of " + strings.Join(metaActions, ", ")
			}
			return source.Errorf(t.ArgsPos, "unknown meta action %q%s", what, hint)
		}
		if what == "flush_handlers" && t.IsHandler {
			return source.Errorf(t.ArgsPos, "flush_handlers cannot be used as a handler; handlers run when they are flushed")
		}
	}
	return nil
}

// metaActions are the meta: actions drover runs (runMeta).
var metaActions = []string{"flush_handlers", "noop", "end_play", "end_host", "end_batch", "clear_host_errors", "clear_facts",
	"refresh_inventory", "reset_connection", "role_complete"}

// actionArgs reads `module: args`, `action: module args` and
// `action: {module: name, ...}` into a module name and its arguments.
func actionArgs(file, key string, v *yaml.Node) (string, map[string]any, error) {
	val, err := value.DecodeYAML(file, v)
	if err != nil {
		return "", nil, err
	}
	module := key
	if key == "action" || key == "local_action" {
		switch x := val.(type) {
		case string:
			name, rest, _ := strings.Cut(strings.TrimSpace(x), " ")
			module, val = name, strings.TrimSpace(rest)
		case *value.Dict:
			m, ok := x.Get("module")
			if !ok {
				return "", nil, source.Errorf(pos(file, v), "%s: needs module: name", key)
			}
			module = template.ToString(m)
			rest := x.Clone()
			rest.Delete("module")
			val = rest
		default:
			return "", nil, source.Errorf(pos(file, v), "%s: must be text (copy src=a dest=b) or a mapping with module:", key)
		}
	}
	switch x := val.(type) {
	case nil:
		return module, map[string]any{}, nil
	case string:
		if freeFormAction(module, x) {
			return module, map[string]any{"_raw_params": strings.TrimSpace(x)}, nil
		}
		args, err := tasks.ParseArgs(module, x)
		if err != nil {
			return "", nil, source.Errorf(pos(file, v), "%s: %v", module, err)
		}
		return module, args, nil
	case *value.Dict:
		args := make(map[string]any, x.Len())
		for k, e := range x.All() {
			args[k] = e
		}
		return module, args, nil
	case value.Unsafe:
		return module, map[string]any{"_raw_params": string(x)}, nil
	}
	return "", nil, source.Errorf(pos(file, v), "%s: arguments must be k=v text or a mapping, not %s", module, kindName(v))
}

func parseBlock(file string, n *yaml.Node, t *Task) (*Task, error) {
	t.IsBlock = true
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case slices.Contains(blockOnly, k.Value):
			list, err := parseTasks(file, v, t.IsHandler)
			if err != nil {
				errs = append(errs, err)
			}
			switch k.Value {
			case "block":
				t.Block = list
			case "rescue":
				t.Rescue = list
			default:
				t.Always = list
			}
		case slices.Contains(blockKeywords, k.Value):
			f, err := field(file, v)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			t.Keywords[k.Value] = f
		default:
			errs = append(errs, unknownKey(file, k, "block", append(slices.Clone(blockKeywords), blockOnly...)))
		}
	}
	if name, ok := t.Keywords["name"]; ok {
		t.Name = template.ToString(name.Value)
	}
	return t, errors.Join(errs...)
}

// controllerActions run on the controller: the playbook implements them.
var controllerActions = []string{"set_fact", "assert", "fail", "meta", "pause", "include_vars", "group_by", "add_host",
	"wait_for_connection", "import_tasks", "include_tasks"}

// freeFormAction reports the controller actions whose text is one value
// (meta: flush_handlers, include_vars: file.yml) rather than k=v pairs.
func freeFormAction(module, text string) bool {
	switch strings.TrimPrefix(strings.TrimPrefix(module, "ansible.builtin."), "ansible.legacy.") {
	case "meta", "import_tasks", "include_tasks":
		return true
	case "include_vars":
		return !strings.Contains(text, "=")
	}
	return false
}

func isAction(name string) bool {
	short := strings.TrimPrefix(strings.TrimPrefix(name, "ansible.builtin."), "ansible.legacy.")
	if slices.Contains(controllerActions, short) {
		return true
	}
	_, ok := tasks.Lookup(name)
	return ok
}

func suggestAction(name string) string {
	known := append(tasks.Names(), controllerActions...)
	return suggestion(name, append(known, taskKeywords...))
}

func suggestion(name string, known []string) string {
	if s := tasks.Suggest(strings.TrimPrefix(name, "ansible.builtin."), known); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}

func unknownKey(file string, k *yaml.Node, what string, known []string) error {
	return source.Errorf(pos(file, k), "unknown %s keyword %q%s", what, k.Value, suggestion(k.Value, known))
}

// field decodes a keyword's value with YAML 1.1 rules.
func field(file string, v *yaml.Node) (Field, error) {
	val, err := value.DecodeYAML(file, v)
	return Field{Value: val, Pos: pos(file, v)}, err
}

func mappingValue(n *yaml.Node, keys ...string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if slices.Contains(keys, n.Content[i].Value) {
			return n.Content[i+1]
		}
	}
	return nil
}

func pos(file string, n *yaml.Node) source.Pos {
	return source.Pos{File: file, Line: n.Line, Col: n.Column}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		if isNull(n) {
			return "null"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "scalar (" + strconv.Quote(v) + ")"
	case yaml.AliasNode:
		return kindName(n.Alias)
	}
	return "document"
}
