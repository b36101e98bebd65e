// Package template evaluates Ansible's Jinja2: expressions with Python's
// semantics (true division, chained comparisons, None, list, tuple and
// dict literals, filters with positional and keyword arguments, `is`
// tests, inline if, `~`), evaluated to native values for when:, loop: and
// "{{ var }}" arguments. Tuples and dict views are values of the template
// layer only: what leaves it holds lists, as in Ansible.
//
// [ParseExpr] parses once into an immutable [Expr] that many goroutines may
// evaluate; [Expr.Eval] runs it against a [Scope] of variables. Errors
// carry the column of the offending part of the expression.
package template
