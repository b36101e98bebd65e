// Package tasks holds drover's modules: the code that makes one task happen on
// one host. Modules run on the controller and drive the target with shell
// commands and file transfers through a [connection.Conn], so the target needs
// no Python.
//
// [Lookup] finds a [Module] by its short or ansible.builtin. name; [ParseArgs]
// reads arguments in Ansible's k=v or JSON form.
package tasks
