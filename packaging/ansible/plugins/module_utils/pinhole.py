# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the pinhole.gateway modules share: finding the installed pinhole, running it with the
state and run directories asked for, and reading the JSON document it prints. The modules
never decide what pinhole would do; they ask it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# Arguments every module takes, merged into its own argument_spec.
COMMON_ARGS = dict(
    executable=dict(type='path'),
    state_dir=dict(type='path'),
    run_dir=dict(type='path'),
)


def pinhole_bin(module, required=True):
    """The pinhole to run: executable, else pinhole on PATH or in /usr/sbin; when there is none
    (the package is not installed), fails the module, or returns None if not required."""
    if module.params.get('executable'):
        return module.params['executable']
    return module.get_bin_path('pinhole', required=required, opt_dirs=['/usr/sbin'])


def pinhole_env(module):
    """PINHOLE_STATE_DIR and PINHOLE_RUN_DIR for the child, from state_dir and run_dir."""
    env = {}
    if module.params.get('state_dir'):
        env['PINHOLE_STATE_DIR'] = module.params['state_dir']
    if module.params.get('run_dir'):
        env['PINHOLE_RUN_DIR'] = module.params['run_dir']
    return env


def define_args(defines):
    """-D NAME=VALUE for each define, in a stable order."""
    args = []
    for name in sorted(defines or {}):
        args += ['-D', '%s=%s' % (name, defines[name])]
    return args


def run(module, args, data=None):
    """Runs pinhole ARGS; returns (rc, stdout, stderr). Never raises for a non-zero exit."""
    return module.run_command([pinhole_bin(module)] + args, data=data, binary_data=data is None,
                              environ_update=pinhole_env(module))


def run_json(module, args):
    """Runs pinhole ARGS (a --format json command); returns (rc, document or None, stderr).
    Fails the module when stdout holds something that is not one JSON document."""
    rc, out, err = run(module, args)
    if not out.strip():
        return rc, None, err
    try:
        return rc, json.loads(out), err
    except ValueError as e:
        module.fail_json(msg='pinhole %s printed no JSON document: %s' % (args[0], e), rc=rc, stdout=out,
                         stderr=err)
    return rc, None, err


def failure_message(what, err, doc=None):
    """The message of a failed run: the first error of the document, else pinhole's stderr."""
    errors = (doc or {}).get('errors') or []
    if errors:
        e = errors[0]
        where = '%s:%s: ' % (e['file'], e['line']) if e.get('file') else ''
        return '%s failed: %s%s: %s' % (what, where, e.get('what'), e.get('reason'))
    return '%s failed: %s' % (what, err.strip() or 'no message')
