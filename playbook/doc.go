// Package playbook loads and runs Ansible playbooks and ad hoc modules.
//
// [Load] reads a playbook file (its plays, blocks, tasks and handlers,
// each with its source position) into an immutable [Playbook];
// [Runner.RunPlaybook] runs it against an inventory with Ansible's linear
// strategy, variables and precedence, and [Runner.RunAdHoc] runs one
// module across a host pattern. Every host result becomes an [Event]
// delivered to a [Reporter] from a single goroutine, so reporters need no
// locks; playbook/report holds the text and JSON reporters.
package playbook
