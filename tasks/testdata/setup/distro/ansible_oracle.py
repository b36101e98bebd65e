#!/usr/bin/python3
"""Writes want.json in each fixture directory here: the distribution and lsb
facts that Ansible's own code (ansible-core 2.14 with the system's distro
1.8 library, as Debian 12 ships them) computes for the fixture's root/ tree.

Run it with the Python that has ansible-core to regenerate the goldens:

    /usr/bin/python3 tasks/testdata/setup/distro/ansible_oracle.py

Nothing runs a command: there is no lsb_release and no dpkg in a fixture.
"""
import json
import os
import sys
import types

import distro
from ansible.module_utils.facts import utils
from ansible.module_utils.facts.system import distribution as D
from ansible.module_utils.facts.system import lsb as L

HERE = os.path.dirname(os.path.abspath(__file__))


class Module:
    def get_bin_path(self, *args, **kwargs):
        return None

    def run_command(self, *args, **kwargs):
        return 1, "", ""

    def debug(self, msg):
        pass


def facts_for(root):
    remap = lambda p: os.path.join(root, p.lstrip("/"))
    # The modules' own names are redirected; os itself stays untouched.
    fake_path = types.SimpleNamespace(exists=lambda p: os.path.exists(remap(p)), islink=lambda p: os.path.islink(remap(p)),
                                      realpath=lambda p: os.path.realpath(remap(p)))
    D.os = L.os = types.SimpleNamespace(path=fake_path)
    D._file_exists = lambda p, allow_empty=False: os.path.exists(remap(p)) and (allow_empty or os.path.getsize(remap(p)) > 0)
    D.get_file_content = lambda p, default=None, strip=True: utils.get_file_content(remap(p), default, strip)
    D.get_file_lines = lambda p, *a, **k: utils.get_file_lines(remap(p), *a, **k)
    L.get_file_lines = lambda p, *a, **k: utils.get_file_lines(remap(p), *a, **k)
    sys.modules[distro.id.__module__]._distro = distro.LinuxDistribution(root_dir=root, include_lsb=False, include_uname=False, include_oslevel=False)
    D.platform.system = lambda: "Linux"
    D.platform.release = lambda: "6.1.0"
    D.platform.version = lambda: "#1 SMP"
    facts = D.Distribution(module=Module()).get_distribution_facts()
    facts.update(L.LSBFactCollector().collect(module=Module()))
    return facts


for name in sorted(os.listdir(HERE)):
    root = os.path.join(HERE, name, "root")
    if os.path.isdir(root):
        with open(os.path.join(HERE, name, "want.json"), "w") as f:
            json.dump(facts_for(root), f, indent=1, sort_keys=True)
            f.write("\n")
        print(name, file=sys.stderr)
