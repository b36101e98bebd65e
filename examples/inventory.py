#!/usr/bin/env python3
"""A dynamic inventory: Ansible's --list / --host contract, as drover reads it.

    drover inventory -i examples/inventory.py --graph
"""
import json
import sys

INVENTORY = {
    "web": {"hosts": ["web1", "web2"], "vars": {"http_port": 8080}},
    "db": {"hosts": ["db1"]},
    "prod": {"children": ["web", "db"]},
    "_meta": {"hostvars": {
        "web1": {"ansible_host": "10.0.0.11"},
        "web2": {"ansible_host": "10.0.0.12"},
        "db1": {"ansible_host": "10.0.0.21", "ansible_port": 2222},
    }},
}

if len(sys.argv) > 1 and sys.argv[1] == "--host":
    print(json.dumps(INVENTORY["_meta"]["hostvars"].get(sys.argv[2], {})))
else:
    print(json.dumps(INVENTORY))
