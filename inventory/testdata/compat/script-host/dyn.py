#!/usr/bin/env python3
import json, sys
if sys.argv[1] == "--list":
    print(json.dumps({"web": {"hosts": ["w1", "w2"]}, "all": {"vars": {"region": "eu"}}}))
elif sys.argv[1] == "--host":
    print(json.dumps({"w1": {"id": 1}, "w2": {"id": 2, "name": sys.argv[2]}}[sys.argv[2]]))
