# The git revision this tree was configured from, for the version header (`-v`) and the
# package version: SHIM_REVISION (short hash, or "unknown" outside git), SHIM_REVISION_DATE
# (the commit's date, YYYYMMDD in UTC, or empty) and SHIM_RELEASE_TAG (the tag naming
# exactly this commit, or empty).
execute_process(COMMAND git rev-parse --short HEAD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE SHIM_REVISION OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT SHIM_REVISION)
  set(SHIM_REVISION unknown)
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E env TZ=UTC
                        git log -1 --format=%cd --date=format-local:%Y%m%d HEAD
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE SHIM_REVISION_DATE OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git describe --tags --exact-match HEAD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE SHIM_RELEASE_TAG OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
