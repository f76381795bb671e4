#!/usr/bin/python
# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: facts
short_description: Read what pinhole owns in the kernel and the guard's counters as facts
version_added: 1.0.0
description:
  - Sets the fact C(pinhole) with C(show), the JSON of C(pinhole show --format json) (the table,
    every set with its elements and their file:line sources, the chains), and C(guard_stats),
    the JSON of C(pinhole guard --stats --format json), or null when no guard runs.
  - Reading a set's elements costs the kernel about 2 s per 100,000 prefixes.
author: pinhole developers
options:
  table:
    description: The table (family inet); pinhole's default (C(pinhole)) when unset.
    type: str
  sets_only:
    description: With C(table), read only pinhole's sets in that table (sets-only mode).
    type: bool
    default: false
  guard:
    description: Also read the guard's counters.
    type: bool
    default: true
  stats_file:
    description: The guard's counters file, when not where pinhole looks by default.
    type: path
  state_dir:
    description: pinhole's state directory (C(PINHOLE_STATE_DIR)).
    type: path
  run_dir:
    description: pinhole's run directory (C(PINHOLE_RUN_DIR)).
    type: path
  executable:
    description: The pinhole to run; by default C(pinhole) on the PATH or in C(/usr/sbin).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
'''

EXAMPLES = r'''
- name: What pinhole owns on each gateway
  pinhole.gateway.facts:

- name: Show the learnt sets' sizes
  ansible.builtin.debug:
    msg: "{{ ansible_facts.pinhole.show.sets | map(attribute='prefixes') | list }}"
'''

RETURN = r'''
ansible_facts:
  description: C(pinhole.show) and C(pinhole.guard_stats).
  returned: always
  type: dict
'''

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pinhole.gateway.plugins.module_utils.pinhole import COMMON_ARGS, failure_message, run, run_json



# The options, as DOCUMENTATION describes them (tests/fleet/lint.sh compares the two).
ARGUMENT_SPEC = dict(
    table=dict(type='str'),
    sets_only=dict(type='bool', default=False),
    guard=dict(type='bool', default=True),
    stats_file=dict(type='path'),
)
ARGUMENT_SPEC.update(COMMON_ARGS)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    args = ['show', '--format', 'json']
    if p['table']:
        args += ['-t', p['table']] + (['--sets-only'] if p['sets_only'] else [])
    rc, show, err = run_json(module, args)
    if rc != 0:
        module.fail_json(msg=failure_message('pinhole show', err))
    stats = None
    if p['guard']:
        # no guard running is not an error: its counters are null then
        rc, out, err = run(module, ['guard', '--stats', '--format', 'json'] +
                           (['--stats-file', p['stats_file']] if p['stats_file'] else []))
        stats = json.loads(out) if rc == 0 and out.strip() else None
    module.exit_json(changed=False, ansible_facts=dict(pinhole=dict(show=show, guard_stats=stats)))


if __name__ == '__main__':
    main()
