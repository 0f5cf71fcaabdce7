# Fuzz smoke-test driver (cmake -P): configure + build a clang++ fuzzer project, then fuzz for a fixed
# number of runs from a fixed seed and a corpus of seed files. Inputs come as -D variables; FUZZER (the
# program, default onnx_loader_fuzz) and SEED_GLOB (default *.onnx) pick the target. The seeds are
# collected after the build, so a project may make them (tests/fuzz/grpc encodes its text seeds).
foreach(var FUZZ_SOURCE_DIR FIXTURES_DIR WORK_DIR GENERATOR CLANGXX SEED RUNS MAX_TIME)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_fuzz_smoke.cmake: -D${var}=... is required")
  endif()
endforeach()

if(NOT FUZZER)
  set(FUZZER onnx_loader_fuzz)
endif()
if(NOT SEED_GLOB)
  set(SEED_GLOB *.onnx)
endif()
set(dict_arg)  # DICT (optional): a libFuzzer dictionary
if(DICT)
  set(dict_arg -dict=${DICT})
endif()
set(build ${WORK_DIR}/build)
set(corpus ${WORK_DIR}/corpus)
set(artifacts ${WORK_DIR}/artifacts/)
# The build folder is kept (an incremental rebuild keeps the test short); the corpus and artifacts
# start fresh so every run fuzzes from the committed seeds and a stale crash file cannot linger.
file(REMOVE_RECURSE ${corpus} ${artifacts})
file(MAKE_DIRECTORY ${corpus} ${artifacts})

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FUZZER}_smoke: ${what} failed (${rc})\n${out}\n${err}")
  endif()
  message(STATUS "${FUZZER}_smoke: ${what}: ok")
endfunction()

set(configure_args -S ${FUZZ_SOURCE_DIR} -B ${build} -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CLANGXX})
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
run_step("configure" ${CMAKE_COMMAND} ${configure_args})
run_step("build" ${CMAKE_COMMAND} --build ${build})
file(GLOB seeds ${FIXTURES_DIR}/${SEED_GLOB})
file(COPY ${seeds} DESTINATION ${corpus})

# -rss_limit_mb: a model claiming absurd tensor sizes must be refused with an Error, not exhaust memory.
execute_process(
  # A fixed seed and a fixed number of runs make the test repeatable (a time bound alone would let a
  # faster machine explore further and fail where a slower one passed); MAX_TIME is only a safety cap.
  COMMAND ${build}/${FUZZER} -seed=${SEED} -runs=${RUNS} -max_total_time=${MAX_TIME} -rss_limit_mb=2048
          -print_final_stats=1 ${dict_arg}
          -artifact_prefix=${artifacts} ${corpus}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
string(REGEX MATCH "stat::average_exec_per_sec: *[0-9]+" speed "${err}")
if(NOT rc EQUAL 0)
  file(GLOB crashes ${artifacts}*)
  # Show the report itself (sanitizer or libFuzzer), not the progress lines before it.
  string(FIND "${err}" "runtime error" from)
  if(from LESS 0)
    string(FIND "${err}" "==ERROR" from)
  endif()
  if(from LESS 0)
    string(LENGTH "${err}" len)
    math(EXPR from "${len} - 6000")
  endif()
  if(from LESS 0)
    set(from 0)
  endif()
  string(SUBSTRING "${err}" ${from} 8000 tail)
  message(FATAL_ERROR "${FUZZER}_smoke: the fuzzer failed (${rc}); inputs kept: ${crashes}\n${tail}")
endif()
message(STATUS "${FUZZER}_smoke: no crash (${runs}, ${speed})")
