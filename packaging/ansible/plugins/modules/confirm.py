#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: confirm
short_description: Confirm (or cancel) a pending commit-confirmed pinhole apply
version_added: 1.0.0
description:
  - Runs C(pinhole confirm), which keeps the rules that C(pinhole apply --confirm) applied and
    stops their rollback timer; with C(cancel), restores the previous rules now.
  - When confirmed, the rules text that M(pinhole.gateway.apply) staged as C(path)C(.pending)
    becomes C(path); when cancelled, the staged text is deleted.
  - Fails when nothing was pending, which after an apply with a timer means it was too late
    and the gateway is back on its previous rules.
  - In check mode nothing is run; C(changed) says whether a confirmation is pending.
author: pinhole developers
options:
  table:
    description: Only this table (family inet); every table with a pending confirmation when unset.
    type: str
  cancel:
    description: Roll back now instead of confirming.
    type: bool
    default: false
  path:
    description: The rules file whose staged C(.pending) copy is settled with the confirmation.
    type: path
    default: /etc/pinhole/pinhole.rules
  state_dir:
    description: pinhole's state directory (C(PINHOLE_STATE_DIR)).
    type: path
  run_dir:
    description: pinhole's run directory (C(PINHOLE_RUN_DIR)), where pending confirmations are.
    type: path
  executable:
    description: The pinhole to run; by default C(pinhole) on the PATH or in C(/usr/sbin).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: pinhole.gateway.apply
'''

EXAMPLES = r'''
- name: Keep the new rules (the reachability check passed)
  pinhole.gateway.confirm:
    table: pinhole
'''

RETURN = r'''
message:
  description: What pinhole confirm said.
  returned: always
  type: str
pending:
  description: The tables that had a pending confirmation before the module ran.
  returned: always
  type: list
  elements: str
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pinhole.gateway.plugins.module_utils.pinhole import COMMON_ARGS, run



# The options, as DOCUMENTATION describes them (tests/fleet/lint.sh compares the two).
ARGUMENT_SPEC = dict(
    table=dict(type='str'),
    cancel=dict(type='bool', default=False),
    path=dict(type='path', default='/etc/pinhole/pinhole.rules'),
)
ARGUMENT_SPEC.update(COMMON_ARGS)


def pending_tables(run_dir, table):
    """Tables with a pending confirmation: the inet-TABLE.pending files pinhole keeps."""
    try:
        names = os.listdir(run_dir)
    except OSError:
        return []
    found = [n[len('inet-'):-len('.pending')] for n in names if n.startswith('inet-') and n.endswith('.pending')]
    return sorted(t for t in found if table is None or t == table)


def settle_staged(path, cancel):
    """The staged rules become the file (confirmed) or go (cancelled)."""
    staged = path + '.pending'
    if os.path.exists(staged):
        if cancel:
            os.unlink(staged)
        else:
            os.rename(staged, path)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    pending = pending_tables(p['run_dir'] or '/run/pinhole', p['table'])
    if module.check_mode:
        module.exit_json(changed=bool(pending), pending=pending, message='')
    args = ['confirm'] + (['-t', p['table']] if p['table'] else []) + (['--cancel'] if p['cancel'] else [])
    rc, out, err = run(module, args)
    message = (out + err).strip()
    if rc != 0:
        module.fail_json(msg='pinhole confirm failed: %s' % (message or 'no message'), pending=pending, rc=rc)
    settle_staged(p['path'], p['cancel'])
    module.exit_json(changed=True, pending=pending, message=message)


if __name__ == '__main__':
    main()
