# SPDX-License-Identifier: GPL-2.0-or-later
# pinhole_layer(NAME [USES...]): the static library pinhole_NAME from NAME/*.c, linked to
# the libraries of the folders it USES and to nothing else.
#
# What a folder exports is its public headers: every NAME/*.h except *_internal.h. They are
# linked into BUILD/include/NAME/ and that directory, not the source folder, is what users
# of the library get on their include path; the folder's own files find each other (and
# their internal headers) through NAME/ itself, which stays private. So a file that
# includes a header of a folder it may not use, or another folder's internal header, does
# not compile (tests/layers/ proves it, tests/integration/layers.sh checks every include).
set(PINHOLE_LAYERS "" CACHE INTERNAL "the folder libraries, lowest first")
set(PINHOLE_LAYER_DIRS "" CACHE INTERNAL "their source folders, for white-box tests")

function(pinhole_layer name)
  set(src ${CMAKE_SOURCE_DIR}/${name})
  file(GLOB sources CONFIGURE_DEPENDS ${src}/*.c)
  file(GLOB headers CONFIGURE_DEPENDS ${src}/*.h)
  set(exported ${CMAKE_BINARY_DIR}/include/${name})
  file(REMOVE_RECURSE ${exported})
  file(MAKE_DIRECTORY ${exported})
  foreach(h ${headers})
    get_filename_component(base ${h} NAME)
    if(NOT base MATCHES "_internal\\.h$")
      file(CREATE_LINK ${h} ${exported}/${base} SYMBOLIC)
    endif()
  endforeach()
  add_library(pinhole_${name} STATIC ${sources})
  target_include_directories(pinhole_${name} PRIVATE ${src} INTERFACE ${exported})
  foreach(dep ${ARGN})
    target_link_libraries(pinhole_${name} PUBLIC pinhole_${dep})
  endforeach()
  set(PINHOLE_LAYERS ${PINHOLE_LAYERS} pinhole_${name} CACHE INTERNAL "the folder libraries, lowest first")
  set(PINHOLE_LAYER_DIRS ${PINHOLE_LAYER_DIRS} ${src} CACHE INTERNAL "their source folders, for white-box tests")
endfunction()
