# The Debian package `containerd-shim-runsc`, built by CPack (`cpack -G DEB` in the build
# dir; scripts/package.sh does that into <build>/packages). It holds the static shim, where
# containerd finds it on PATH, its documentation and an example configuration: only the
# `shim` install component, so whatever else may install itself one day stays out.

set(SHIM_PACKAGE_NAME containerd-shim-runsc)
set(SHIM_PACKAGE_DOC_DIR share/doc/${SHIM_PACKAGE_NAME})

# The Maintainer field: -DSHIM_PACKAGE_MAINTAINER="Name <mail>", else Debian's way of naming
# who builds a package (DEBFULLNAME and DEBEMAIL, as dch reads them), else the git identity
# of this checkout.
if(NOT SHIM_PACKAGE_MAINTAINER)
  if(DEFINED ENV{DEBFULLNAME} AND DEFINED ENV{DEBEMAIL})
    set(SHIM_PACKAGE_MAINTAINER "$ENV{DEBFULLNAME} <$ENV{DEBEMAIL}>")
  else()
    execute_process(COMMAND git config user.name WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                    OUTPUT_VARIABLE _name OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    execute_process(COMMAND git config user.email WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                    OUTPUT_VARIABLE _email OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_name AND _email)
      set(SHIM_PACKAGE_MAINTAINER "${_name} <${_email}>")
    else()
      set(SHIM_PACKAGE_MAINTAINER "containerd-shim-runsc-v1 maintainers <root@localhost>")
    endif()
  endif()
endif()

# The package version: the project's version alone for a commit tagged with it (v0.1.0 or
# 0.1.0); any other commit is a snapshot on the way to that release, 0.1.0~git<date>.<rev>,
# which sorts after older snapshots and before the release (Debian's snapshot convention).
# Native package: no Debian revision. `containerd-shim-runsc-v1 -v` prints the same version
# and revision.
if(SHIM_RELEASE_TAG STREQUAL "v${PROJECT_VERSION}" OR SHIM_RELEASE_TAG STREQUAL PROJECT_VERSION
   OR SHIM_REVISION STREQUAL "unknown")
  set(SHIM_PACKAGE_VERSION ${PROJECT_VERSION})
else()
  set(SHIM_PACKAGE_VERSION "${PROJECT_VERSION}~git${SHIM_REVISION_DATE}.${SHIM_REVISION}")
endif()

# Documentation, gzip -9n as Debian policy asks of docs over 4 kB (reproducibly: no name,
# no time stamp in the header).
file(GLOB _docs RELATIVE ${CMAKE_SOURCE_DIR} CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
list(PREPEND _docs README.md)
set(_doc_outputs)
foreach(_doc IN LISTS _docs)
  get_filename_component(_name ${_doc} NAME)
  set(_out ${CMAKE_BINARY_DIR}/packaging/doc/${_name})
  add_custom_command(OUTPUT ${_out}.gz
                     COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/${_doc} ${_out}
                     COMMAND gzip -9nf ${_out}
                     DEPENDS ${CMAKE_SOURCE_DIR}/${_doc}
                     COMMENT "Compressing ${_doc} for the package" VERBATIM)
  list(APPEND _doc_outputs ${_out}.gz)
endforeach()
add_custom_target(package_docs ALL DEPENDS ${_doc_outputs})
install(FILES ${_doc_outputs} DESTINATION ${SHIM_PACKAGE_DOC_DIR} COMPONENT shim)

# The shim's TOML ships as an example, not as /etc/containerd/runsc.toml. The shim needs no
# file (it runs with its defaults), and what the file says is the administrator's choice:
# as a conffile, merely installing the package would set network = "none" for every
# container that gets no config of its own. The path is not free either: users write it by
# hand (gVisor's setup guides say so), so a package owning it would question them at install
# and remove their file at purge, and gVisor's own runsc package ships it as its conffile
# (a file conflict). Debian puts such samples in /usr/share/doc/<package>/examples.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/runsc.toml
        DESTINATION ${SHIM_PACKAGE_DOC_DIR}/examples COMPONENT shim)

set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGE_NAME ${SHIM_PACKAGE_NAME})
set(CPACK_PACKAGE_VERSION ${SHIM_PACKAGE_VERSION})
set(CPACK_PACKAGE_CONTACT "${SHIM_PACKAGE_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};shim;/")
# The binary as built (static, non-PIE, RelWithDebInfo) less its debug sections.
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "containerd shim that runs containers in gVisor (runsc)")
set(CPACK_PACKAGE_DESCRIPTION
    "containerd-shim-runsc-v1 is the shim containerd starts for the runtime
io.containerd.runsc.v1. It serves containerd's Task API over ttrpc and runs
each container in a gVisor sandbox by driving the runsc command: create,
start, exec, kill, pause, resume, checkpoint and restore, stats, terminals
and events back to containerd.

One static binary with a single thread; no helper process per container or
per exec. An example configuration is in
/usr/share/doc/containerd-shim-runsc/examples/runsc.toml.")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SHIM_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The oldest containerd and runsc the tests run on (README, "Stacks": bookworm's). runsc's
# Debian versions are 0.0~<release date>. (gVisor's own runsc package, versioned
# <release date>.N, ships its Go containerd-shim-runsc-v1 in /usr/bin: dpkg refuses to put
# this package over that file, as it should.)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "containerd (>= 1.6.20~), runsc (>= 0.0~20221219)")
# Static: no shared libraries to depend on.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

include(CPack)
