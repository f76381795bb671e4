# SPDX-License-Identifier: GPL-2.0-or-later
# packaging/install.cmake — install rules for what packaging/ adds to the binary, man pages
# and shipped rules: the example configuration, the systemd units and the bash completion.
# Included by CMakeLists.txt. Paths follow GNUInstallDirs; with the prefix /usr that is the
# Debian layout (/usr/sbin, /etc, /usr/share).

# /etc/pinhole/pinhole.rules (SYSCONFDIR): the Marketo policy under a header telling the
# administrator to edit it. Generated at build time so that it cannot drift from
# rules/marketo.rules.
set(PINHOLE_EXAMPLE_RULES ${CMAKE_BINARY_DIR}/pinhole.rules)
add_custom_command(OUTPUT ${PINHOLE_EXAMPLE_RULES}
  COMMAND ${CMAKE_COMMAND} -DOUT=${PINHOLE_EXAMPLE_RULES}
    -DHEADER=${CMAKE_SOURCE_DIR}/packaging/pinhole.rules.header
    -DBODY=${CMAKE_SOURCE_DIR}/rules/marketo.rules
    -P ${CMAKE_SOURCE_DIR}/packaging/example-rules.cmake
  DEPENDS ${CMAKE_SOURCE_DIR}/packaging/pinhole.rules.header ${CMAKE_SOURCE_DIR}/rules/marketo.rules
    ${CMAKE_SOURCE_DIR}/packaging/example-rules.cmake
  VERBATIM)
add_custom_target(pinhole_example_rules ALL DEPENDS ${PINHOLE_EXAMPLE_RULES})
# Relative destinations follow `cmake --install --prefix`; the prefix /usr is the exception
# GNUInstallDirs makes too: its configuration lives in /etc, not /usr/etc. (debhelper passes
# -DCMAKE_INSTALL_SYSCONFDIR=/etc anyway.)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir ${CMAKE_INSTALL_FULL_SYSCONFDIR})
else()
  set(sysconfdir ${CMAKE_INSTALL_SYSCONFDIR})
endif()
install(FILES ${PINHOLE_EXAMPLE_RULES} DESTINATION ${sysconfdir}/pinhole)

# systemd units. With the prefix /usr they go where systemd.pc says (Debian 12:
# /lib/systemd/system); with any other prefix, or without systemd.pc, to PREFIX/lib/systemd/system
# (systemd also reads /usr/local/lib/systemd/system). -DPINHOLE_SYSTEMD_UNITDIR=DIR overrides.
set(PINHOLE_SYSTEMD_UNITDIR "" CACHE PATH "directory for the systemd units (empty: automatic)")
set(unitdir "${PINHOLE_SYSTEMD_UNITDIR}")
if(NOT unitdir AND CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(unitdir systemd systemdsystemunitdir)
endif()
if(NOT unitdir)
  set(unitdir lib/systemd/system)
endif()
# The units name /usr/sbin/pinhole and /etc/pinhole; other prefixes get their own paths
# (those of the configured prefix: `cmake --install --prefix` does not rewrite them).
foreach(unit pinhole.service pinhole-guard.service)
  set(src ${CMAKE_SOURCE_DIR}/packaging/systemd/${unit})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
  file(READ ${src} text)
  string(REPLACE "/usr/sbin/pinhole" "${CMAKE_INSTALL_FULL_SBINDIR}/pinhole" text "${text}")
  string(REPLACE "/etc/pinhole/" "${CMAKE_INSTALL_FULL_SYSCONFDIR}/pinhole/" text "${text}")
  file(WRITE ${CMAKE_BINARY_DIR}/systemd/${unit} "${text}")
  install(FILES ${CMAKE_BINARY_DIR}/systemd/${unit} DESTINATION ${unitdir})
endforeach()

install(FILES packaging/completion/pinhole.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME pinhole)
