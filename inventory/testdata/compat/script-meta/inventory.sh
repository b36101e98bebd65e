#!/bin/sh
if [ "$1" = "--list" ]; then
cat <<'JSON'
{
  "web": {"hosts": ["w1", "w2"], "vars": {"http_port": 80, "ratio": 1.0}},
  "db": ["d1"],
  "prod": {"children": ["web", "db"], "vars": {"env": "prod"}},
  "solo": {"ansible_host": "10.9.9.9"},
  "_meta": {"hostvars": {"w1": {"ansible_host": "10.0.0.1", "big": 12345678901234567890}, "d1": {"nested": {"a": [1, 2]}}}}
}
JSON
else
  echo '{}'
fi
