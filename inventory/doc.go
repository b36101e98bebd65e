// Package inventory holds the hosts and groups a run may target and selects
// them by Ansible's host patterns.
//
// For now an inventory comes from a comma-separated host list
// ([ParseHostList], Ansible's "web1,web2," form); [Inventory.Match] selects
// hosts by pattern, adding the implicit localhost on the local connection.
package inventory
