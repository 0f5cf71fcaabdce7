# Packaging test driver (cmake -P): install the built project into a fresh prefix, configure and build
# the consumer project against that prefix only, then run it. Inputs come as -D variables from ctest.
foreach(var IMPRECISE_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR GENERATOR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer_build ${WORK_DIR}/build)
# Start clean so a stale install or cache cannot make the test pass.
file(REMOVE_RECURSE ${prefix} ${consumer_build})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${what} failed (${rc})\n${out}\n${err}")
  endif()
  message(STATUS "install_consumer: ${what}: ok ${out}")
endfunction()

set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()

run_step("install" ${CMAKE_COMMAND} --install ${IMPRECISE_BUILD_DIR} --prefix ${prefix} ${config_args})

# The installed package must find CUDA/cuDNN (and everything else) on the consumer's machine: no
# absolute path of the build machine's libraries, source or build tree in its CMake files.
file(GLOB package_files ${prefix}/lib*/cmake/imprecise/*.cmake)
foreach(file IN LISTS package_files)
  file(READ ${file} text)
  foreach(bad "/usr/local/cuda" "libcudnn.so" "${IMPRECISE_BUILD_DIR}")
    string(FIND "${text}" "${bad}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "install_consumer: ${file} holds the build machine's path '${bad}'")
    endif()
  endforeach()
endforeach()

set(configure_args -S ${CONSUMER_SOURCE_DIR} -B ${consumer_build} -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix}
    # Only the fresh prefix may satisfy find_package(imprecise), never a registry entry.
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(CONFIG)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${CONFIG})
endif()
run_step("configure consumer" ${CMAKE_COMMAND} ${configure_args})

# Make sure the package really came from the install prefix.
file(STRINGS ${consumer_build}/CMakeCache.txt found_dir REGEX "^imprecise_DIR:")
string(REGEX REPLACE "^imprecise_DIR:[A-Z]+=" "" found_dir "${found_dir}")
string(FIND "${found_dir}" "${prefix}" at)
if(NOT at EQUAL 0)
  message(FATAL_ERROR "install_consumer: imprecise was found at '${found_dir}', not under '${prefix}'")
endif()

run_step("build consumer" ${CMAKE_COMMAND} --build ${consumer_build} ${config_args})

# Single-config generators put it at the top; multi-config ones in a per-config folder.
set(exe ${consumer_build}/imprecise_consumer)
if(CONFIG AND NOT EXISTS ${exe} AND EXISTS ${consumer_build}/${CONFIG}/imprecise_consumer)
  set(exe ${consumer_build}/${CONFIG}/imprecise_consumer)
endif()
run_step("run consumer" ${exe})
