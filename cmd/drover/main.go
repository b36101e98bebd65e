// Command drover runs Ansible playbooks and ad hoc modules over SSH, with no
// Python and no agent on the targets.
package main

import "os"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
