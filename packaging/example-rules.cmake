# SPDX-License-Identifier: GPL-2.0-or-later
# Writes OUT: HEADER followed by BODY. Run with cmake -P by packaging/install.cmake, so that
# the example /etc/pinhole/pinhole.rules is always the shipped policy under its header.
file(READ "${HEADER}" header)
file(READ "${BODY}" body)
file(WRITE "${OUT}" "${header}${body}")
