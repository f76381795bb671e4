#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: apply
short_description: Put a pinhole rules file on a gateway and apply it to the kernel
version_added: 1.0.0
description:
  - Writes the rules text to C(path) (when C(content) is given) and runs the installed
    C(pinhole apply --format json) on it, so the kernel's nftables ruleset holds what the rules
    want, in one atomic transaction that carries only the difference.
  - Everything about the plan comes from pinhole itself; this module only writes the file and
    reports what pinhole says.
  - In check mode the new text goes to a scratch file next to C(path) (removed afterwards) and
    C(pinhole apply --dry-run) plans it; the kernel validates the batch and throws it away.
    C(changed) is then whether the file or the kernel would change.
  - In diff mode the result carries the review diff that C(pinhole diff --live) prints, the kernel
    as the old side.
  - With C(confirm), the apply is commit-confirmed; the new text is staged as C(path)C(.pending)
    and becomes C(path) only when M(pinhole.gateway.confirm) confirms it, so a gateway that rolls
    back also boots with the old rules.
  - C(state=absent) runs C(pinhole remove), which deletes exactly what pinhole owns (its table,
    or its sets in sets-only mode); the rules file is left where it is.
author: pinhole developers
requirements:
  - pinhole (the Debian package) on the managed host
options:
  path:
    description: The rules file on the gateway. Written when C(content) is given, else it must exist.
    type: path
    default: /etc/pinhole/pinhole.rules
  content:
    description:
      - The rules text to put at C(path), for example C(lookup('file', 'pinhole.rules')).
        A missing final newline is added.
    type: str
  defines:
    description: Values for the rules file's C(define) and C(param) names, passed as C(-D NAME=VALUE).
    type: dict
    default: {}
  state:
    description: C(present) applies the rules; C(absent) removes what pinhole owns.
    type: str
    choices: [present, absent]
    default: present
  confirm:
    description:
      - Seconds after which pinhole restores the previous rules unless
        M(pinhole.gateway.confirm) runs in time. C(0) applies without a confirmation.
    type: int
    default: 0
  table:
    description:
      - For C(state=absent), the table (family inet) to remove pinhole's objects from, instead of
        the one C(path) names. For C(state=present) the table comes from the rules file
        (C(option table)) and is returned.
    type: str
  mode:
    description: With C(table) and C(state=absent), C(sets-only) removes only pinhole's sets from it.
    type: str
    choices: [table, sets-only]
    default: table
  names:
    description:
      - Also return C(name_sets), the sets that have names for pinhole guard to learn
        (from C(pinhole compile -b json)), for deciding whether the guard must run.
    type: bool
    default: false
  state_dir:
    description: pinhole's state directory (C(PINHOLE_STATE_DIR)); pinhole's default when unset.
    type: path
  run_dir:
    description: pinhole's run directory (C(PINHOLE_RUN_DIR)); pinhole's default when unset.
    type: path
  executable:
    description: The pinhole to run; by default C(pinhole) on the PATH or in C(/usr/sbin).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Needs CAP_NET_ADMIN on the gateway (become root).
seealso:
  - module: pinhole.gateway.confirm
  - module: pinhole.gateway.facts
'''

EXAMPLES = r'''
- name: Apply the reviewed rules, rolling back in 120 s unless confirmed
  pinhole.gateway.apply:
    content: "{{ lookup('file', 'rules/site.rules') }}"
    defines:
      tracking: mkto-a0244.com
    confirm: 120
  register: applied

- name: Remove what pinhole owns
  pinhole.gateway.apply:
    state: absent
'''

RETURN = r'''
pinhole:
  description: The JSON document of C(pinhole apply --format json) (or C(remove)), as pinhole printed it.
  returned: always
  type: dict
counts:
  description: Elements added and removed, sets and chains created, deleted, rewritten, rules added and removed.
  returned: always
  type: dict
  sample: {"elements_added": 1, "elements_removed": 1, "sets_created": 0}
plan:
  description: The objects that change (null when pinhole answered from its unchanged-file shortcut).
  returned: state is present
  type: dict
table:
  description: The table pinhole applied to or removed from.
  returned: always
  type: str
path:
  description: The rules file (C(path)).
  returned: always
  type: str
rules_changed:
  description: Whether the rules file at C(path) was (or, in check mode, would be) written.
  returned: state is present
  type: bool
staged:
  description: With C(confirm), the path the new rules wait at until confirmed; null otherwise.
  returned: state is present
  type: str
confirm:
  description: Seconds and ISO-8601 deadline of the rollback timer, or null.
  returned: state is present
  type: dict
name_sets:
  description: With C(names), the names of the sets that have names for the guard.
  returned: when names is true
  type: list
  elements: str
'''

import json
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.pinhole.gateway.plugins.module_utils.pinhole import (
    COMMON_ARGS, define_args, failure_message, pinhole_bin, run, run_json)



# The options, as DOCUMENTATION describes them (tests/fleet/lint.sh compares the two).
ARGUMENT_SPEC = dict(
    path=dict(type='path', default='/etc/pinhole/pinhole.rules'),
    content=dict(type='str'),
    defines=dict(type='dict', default={}),
    state=dict(type='str', choices=['present', 'absent'], default='present'),
    confirm=dict(type='int', default=0),
    table=dict(type='str'),
    mode=dict(type='str', choices=['table', 'sets-only'], default='table'),
    names=dict(type='bool', default=False),
)
ARGUMENT_SPEC.update(COMMON_ARGS)


def read_file(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, 'rb') as f:
            return f.read().decode('utf-8', 'surrogateescape')
    except (IOError, OSError):
        return None


def write_next_to(module, dest, text):
    """Writes text to dest atomically: a file in dest's directory, renamed over it."""
    directory = os.path.dirname(dest) or '.'
    fd, tmp = tempfile.mkstemp(prefix='.pinhole-', dir=directory)
    with os.fdopen(fd, 'wb') as f:
        f.write(to_bytes(text, errors='surrogate_or_strict'))
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, dest)


def review_diff(module, rules):
    """What pinhole diff --live prints for rules: the kernel's side against the file. A
    scratch or staged copy is named as the file it stands for."""
    rc, out, err = run(module, ['diff', '--live', '--format', 'text'] + define_args(module.params['defines']) + [rules])
    if rc not in (0, 1):
        module.fail_json(msg=failure_message('pinhole diff --live', err))
    return {'prepared': out.replace(rules, module.params['path'])}


def name_sets(module, rules):
    """The sets of rules that have names (wildcards, names for the guard to learn)."""
    rc, out, err = run(module, ['compile', '-b', 'json'] + define_args(module.params['defines']) + [rules])
    if rc != 0:
        module.fail_json(msg=failure_message('pinhole compile', err))
    return [s['name'] for s in json.loads(out).get('sets', []) if s.get('names')]


def result_of(doc, **extra):
    """What the module returns for pinhole's document."""
    res = dict(pinhole=doc, counts=doc.get('counts'), table=doc.get('table'), path=extra.pop('path'))
    if doc.get('command') == 'apply':
        res.update(plan=doc.get('plan'), confirm=doc.get('confirm'))
    res.update(extra)
    return res


def check_present(module, text_changed):
    """Check mode: plan the proposed text with apply --dry-run; nothing is written for good."""
    p = module.params
    target = p['path']
    if text_changed:
        target = os.path.join(os.path.dirname(p['path']), '.%s.proposed' % os.path.basename(p['path']))
        write_next_to(module, target, p['content'])
    try:
        rc, doc, err = run_json(module, ['apply', '--dry-run', '--format', 'json'] + define_args(p['defines']) + [target])
        if rc not in (0, 1) or doc is None:
            module.fail_json(msg=failure_message('pinhole apply --dry-run', err, doc), pinhole=doc, stderr=err)
        extra = dict(rules_changed=text_changed, staged=None)
        if module._diff:
            extra['diff'] = review_diff(module, target)
        if p['names']:
            extra['name_sets'] = name_sets(module, target)
    finally:
        if target != p['path']:
            os.unlink(target)
    module.exit_json(changed=bool(doc['changed'] or text_changed), **result_of(doc, path=p['path'], **extra))


def restore(path, old):
    """Puts the rules file back as it was before a failed apply."""
    if old is None:
        os.unlink(path)
    else:
        with open(path, 'wb') as f:
            f.write(to_bytes(old, errors='surrogate_or_strict'))


def apply_present(module, old, text_changed):
    """Writes the text (staged when confirmed), applies it, and puts the file back on failure."""
    p = module.params
    target = p['path']
    if text_changed:
        target = p['path'] + '.pending' if p['confirm'] else p['path']
        write_next_to(module, target, p['content'])
    if target == p['path'] and os.path.exists(p['path'] + '.pending'):
        # left by a rollout that rolled back: confirming this apply must not make it the file
        os.unlink(p['path'] + '.pending')
    extra = dict(rules_changed=text_changed, staged=target if target != p['path'] else None)
    if module._diff:
        extra['diff'] = review_diff(module, target)
    if p['names']:
        extra['name_sets'] = name_sets(module, target)
    args = ['apply', '--format', 'json'] + (['--confirm', str(p['confirm'])] if p['confirm'] else [])
    rc, doc, err = run_json(module, args + define_args(p['defines']) + [target])
    if rc != 0 or doc is None:
        if text_changed:
            restore(target, old if target == p['path'] else None)
        module.fail_json(msg=failure_message('pinhole apply', err, doc), pinhole=doc, stderr=err)
    module.exit_json(changed=bool(doc['changed'] or doc['committed'] or text_changed), **result_of(doc, path=p['path'], **extra))


def absent(module):
    """pinhole remove (--dry-run in check mode) of the table named, or of the rules file's."""
    p = module.params
    args = ['remove', '--format', 'json'] + (['--dry-run'] if module.check_mode else [])
    if p['table']:
        args += ['-t', p['table']] + (['--sets-only'] if p['mode'] == 'sets-only' else [])
    elif os.path.exists(p['path']):
        args += define_args(p['defines']) + [p['path']]
    rc, doc, err = run_json(module, args)
    if rc != 0 or doc is None:
        module.fail_json(msg=failure_message('pinhole remove', err, doc), pinhole=doc, stderr=err)
    module.exit_json(changed=bool(doc['changed']), **result_of(doc, path=p['path']))


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    if p['confirm'] < 0 or p['confirm'] > 86400:
        module.fail_json(msg='confirm wants seconds from 0 to 86400, got %d' % p['confirm'])
    if module.check_mode and pinhole_bin(module, required=False) is None:
        # a check run before the role's install: what it would do is install, then apply
        module.exit_json(changed=p['state'] == 'present', msg='pinhole is not installed (yet)', pinhole=None,
                         counts=None, table=None, path=p['path'])
    if p['state'] == 'absent':
        absent(module)
    old = read_file(p['path'])
    if p['content'] is None and old is None:
        module.fail_json(msg='%s does not exist and no content was given' % p['path'])
    if p['content'] is not None and not p['content'].endswith('\n'):
        p['content'] += '\n'  # lookup('file') strips the last newline; a rules file ends in one
    text_changed = p['content'] is not None and p['content'] != old
    try:
        if module.check_mode:
            check_present(module, text_changed)
        apply_present(module, old, text_changed)
    except (IOError, OSError) as e:
        module.fail_json(msg='cannot write the rules next to %s: %s' % (p['path'], to_native(e)))


if __name__ == '__main__':
    main()
