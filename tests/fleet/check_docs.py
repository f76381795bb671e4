# SPDX-License-Identifier: GPL-2.0-or-later
"""What ansible-test's validate-modules checks first, for pinhole.gateway's modules: every
option of ARGUMENT_SPEC is documented with the same type, default and choices (and nothing
else is documented), and DOCUMENTATION, EXAMPLES and RETURN are YAML. Run with the Python
that has Ansible: python3 check_docs.py COLLECTIONS_DIR (holding ansible_collections/pinhole/
gateway). Prints PASS/FAIL lines."""
import importlib.util
import sys

import yaml
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

root = sys.argv[1]
_AnsibleCollectionFinder(paths=[root])._install()
modules = root + '/ansible_collections/pinhole/gateway/plugins/modules/'


def compare(name, spec, doc):
    """The differences between one module's argument_spec and its documented options."""
    problems = []
    for opt in sorted(set(spec) | set(doc)):
        if opt not in doc or opt not in spec:
            problems.append('%s: %s only' % (opt, 'in the code' if opt in spec else 'documented'))
            continue
        s, d = spec[opt], doc[opt]
        for key, default in (('type', 'str'), ('default', None), ('choices', None)):
            if s.get(key, default) != d.get(key, default):
                problems.append('%s: %s %r in the code, %r documented' % (opt, key, s.get(key), d.get(key)))
    return problems


failed = 0
for name in ('apply', 'confirm', 'facts'):
    spec_ = importlib.util.spec_from_file_location(name, modules + name + '.py')
    mod = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(mod)
    doc = yaml.safe_load(mod.DOCUMENTATION)
    yaml.safe_load(mod.EXAMPLES)
    yaml.safe_load(mod.RETURN)
    problems = compare(name, mod.ARGUMENT_SPEC, doc.get('options', {}))
    if doc.get('module') != name:
        problems.append('DOCUMENTATION says module %r' % doc.get('module'))
    for p in problems:
        print('FAIL: %s: %s' % (name, p))
    if not problems:
        print('PASS: %s: options documented as the code takes them' % name)
    failed += bool(problems)
sys.exit(1 if failed else 0)
