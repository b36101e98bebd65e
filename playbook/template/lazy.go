package template

import (
	"fmt"
	"strings"
	"sync"

	"github.com/drover/drover/playbook/value"
	"github.com/drover/drover/vault"
)

// Omit is the value of the omit variable; a module argument rendered to it
// is dropped, as Ansible does with "{{ x | default(omit) }}".
const Omit = "__omit_place_holder__drover"

// Thunk is a value computed only when a template reads it: for values that
// cost more to build than most tasks ever look at, such as the lists of a
// play's hosts every host's scope holds.
type Thunk func() any

// Lazy is a Scope whose values may themselves be templates: a string with
// {{ }} is rendered when first looked up, against the same scope, and the
// result remembered. A variable whose template needs itself fails with the
// chain of names instead of looping. Use one Lazy from one goroutine at a
// time: cycle detection follows that goroutine's chain of lookups.
type Lazy struct {
	vars  Scope // the raw values
	cache *Cache
	keys  *vault.Keyring // opens !vault values; nil means none can be

	mu       sync.Mutex
	resolved map[string]any
	active   []string // names being rendered, for cycle detection
}

// NewLazy returns a lazy scope over vars, parsing expressions with cache.
func NewLazy(vars Vars, cache *Cache) *Lazy { return NewLazyScope(vars, cache) }

// NewLazyScope is [NewLazy] over any scope of raw values, such as layers
// of variables searched from the highest precedence down.
func NewLazyScope(vars Scope, cache *Cache) *Lazy {
	if cache == nil {
		cache = &Cache{}
	}
	return &Lazy{vars: vars, cache: cache, resolved: map[string]any{}}
}

// WithVault makes !vault values readable: they are decrypted with keys
// when looked up. It returns l.
func (l *Lazy) WithVault(keys *vault.Keyring) *Lazy {
	l.keys = keys
	return l
}

// Lookup returns the rendered value of name, as templates see it: a
// variable such as "{{ d.items() | list }}" keeps its tuples, as it does
// in Ansible. What leaves the template layer goes through
// [Cache.RenderString] or [Expr.Eval], which make them lists.
func (l *Lazy) Lookup(name string) (any, bool) {
	l.mu.Lock()
	if v, ok := l.resolved[name]; ok {
		l.mu.Unlock()
		return v, true
	}
	raw, ok := l.vars.Lookup(name)
	if !ok {
		l.mu.Unlock()
		return nil, false
	}
	for _, a := range l.active {
		if a == name {
			chain := strings.Join(append(append([]string{}, l.active...), name), " -> ")
			l.mu.Unlock()
			return &Undefined{Path: name, Hint: "recursive loop in its template: " + chain}, true
		}
	}
	l.active = append(l.active, name)
	l.mu.Unlock()

	v, err := l.render(raw)

	l.mu.Lock()
	defer l.mu.Unlock()
	l.active = l.active[:len(l.active)-1]
	if err != nil {
		return &Undefined{Path: name, Hint: "its template failed: " + err.Error()}, true
	}
	l.resolved[name] = v
	return v, true
}

func (l *Lazy) render(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return l.cache.render(x, l)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			if plainText(e) {
				out[i] = e // as it is, not boxed again
				continue
			}
			r, err := l.render(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if plainText(e) {
				out[k] = e
				continue
			}
			r, err := l.render(e)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case *value.Dict:
		out := value.NewDict(x.Len())
		for k, e := range x.All() {
			if plainText(e) {
				out.Set(k, e)
				continue
			}
			r, err := l.render(e)
			if err != nil {
				return nil, err
			}
			out.Set(k, r)
		}
		return out, nil
	case Thunk:
		return l.render(x())
	case value.Unsafe:
		return string(x), nil // text, never a template
	case vault.String:
		if l.keys == nil {
			return nil, fmt.Errorf("it is vault-encrypted and no vault password was given; pass --vault-password-file or --ask-vault-pass")
		}
		plain, err := x.Decrypt(l.keys)
		if err != nil {
			return nil, err
		}
		return l.cache.render(plain, l)
	}
	return v, nil
}

// plainText reports whether v is a string without template syntax, which
// renders to itself.
func plainText(v any) bool {
	s, ok := v.(string)
	return ok && !IsTemplate(s)
}
