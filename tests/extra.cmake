# Extra ctest cases beyond the GoogleTest programs: the packaging test (fmt style) that installs the
# built project and builds a small consumer against it with find_package(imprecise).
# Not under sanitizers: the installed library would then need the consumer to link the sanitizer
# runtime too, which tests the sanitizer set-up, not our packaging.
if(IMPRECISE_INSTALL AND NOT IMPRECISE_SANITIZE)
  add_test(NAME install_consumer
    COMMAND ${CMAKE_COMMAND}
      -DIMPRECISE_BUILD_DIR=${PROJECT_BINARY_DIR}
      -DCONSUMER_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/consumer
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/install_consumer
      -DCONFIG=$<CONFIG>
      -DGENERATOR=${CMAKE_GENERATOR}
      -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DCXX_COMPILER=${CMAKE_CXX_COMPILER}
      -P ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run_consumer_test.cmake)
  # It installs into a prefix under the build dir and runs a nested configure + build: give it time,
  # and keep two copies from racing on the same folder.
  set_tests_properties(install_consumer PROPERTIES TIMEOUT 600 LABELS packaging RUN_SERIAL TRUE)
endif()

# ONNX-loader fuzz smoke test: builds tests/fuzz (a separate clang++ project, libFuzzer + ASan + UBSan)
# and fuzzes for a bounded time. Registered only when clang++ and libFuzzer's runtime are installed
# (Debian: clang-14 + libclang-rt-14-dev), so a machine without them skips it instead of failing.
find_program(IMPRECISE_CLANGXX NAMES clang++ clang++-14)
file(GLOB IMPRECISE_LIBFUZZER_RUNTIME
  /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
  /usr/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a)
if(TARGET imprecise_nn)
  if(IMPRECISE_CLANGXX AND IMPRECISE_LIBFUZZER_RUNTIME)
    add_test(NAME onnx_loader_fuzz_smoke
      COMMAND ${CMAKE_COMMAND}
        -DFUZZ_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fuzz
        -DFIXTURES_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fixtures/nn
        -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/onnx_loader_fuzz
        -DGENERATOR=${CMAKE_GENERATOR}
        -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
        -DCLANGXX=${IMPRECISE_CLANGXX}
        -DSEED=20261123
        -DRUNS=150000
        -DMAX_TIME=240
        -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz_smoke.cmake)
    # A cold build of the sanitized engine takes about a minute on two cores, then ~15 s of fuzzing.
    set_tests_properties(onnx_loader_fuzz_smoke PROPERTIES TIMEOUT 600 LABELS "fuzz;nn" RUN_SERIAL TRUE)
    # The gRPC request decoder (tests/fuzz/grpc): ModelInferRequest bytes -> the codec. Its seeds are
    # text-format requests encoded by that project; 50,000 runs take a few seconds after a ~1 min build.
    if(TARGET imprecise_serve_grpc)
      add_test(NAME grpc_request_fuzz_smoke
        COMMAND ${CMAKE_COMMAND}
          -DFUZZ_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/grpc
          -DFIXTURES_DIR=${CMAKE_CURRENT_BINARY_DIR}/grpc_request_fuzz/build/seeds
          -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/grpc_request_fuzz
          -DGENERATOR=${CMAKE_GENERATOR}
          -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
          -DCLANGXX=${IMPRECISE_CLANGXX}
          -DFUZZER=grpc_request_fuzz
          -DSEED_GLOB=*.bin
          -DSEED=20261127
          -DRUNS=50000
          -DMAX_TIME=50
          -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz_smoke.cmake)
      set_tests_properties(grpc_request_fuzz_smoke PROPERTIES TIMEOUT 600 LABELS "fuzz;serve" RUN_SERIAL TRUE)
    endif()
  else()
    message(STATUS "imprecise: clang++ or libFuzzer (libclang-rt-14-dev) not found, onnx_loader_fuzz_smoke not registered")
  endif()
endif()

# HTTP request-decoding fuzz smoke test: tests/fuzz/http (the v2 JSON decoder alone, libFuzzer + ASan +
# UBSan), registered when the HTTP front end is built and clang++ with libFuzzer is installed.
if(TARGET imprecise_serve_http AND IMPRECISE_CLANGXX AND IMPRECISE_LIBFUZZER_RUNTIME)
  add_test(NAME http_codec_fuzz_smoke
    COMMAND ${CMAKE_COMMAND}
      -DFUZZ_SOURCE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/http
      -DFIXTURES_DIR=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/http/seeds
      -DSEED_GLOB=*.json
      -DDICT=${CMAKE_CURRENT_SOURCE_DIR}/fuzz/http/json.dict
      -DFUZZER=http_codec_fuzz
      -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/http_codec_fuzz
      -DGENERATOR=${CMAKE_GENERATOR}
      -DMAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
      -DCLANGXX=${IMPRECISE_CLANGXX}
      -DSEED=20261127
      -DRUNS=40000
      -DMAX_TIME=45
      -P ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/run_fuzz_smoke.cmake)
  # The decoder builds in well under a minute; the run is bounded by RUNS, with MAX_TIME as a cap.
  set_tests_properties(http_codec_fuzz_smoke PROPERTIES TIMEOUT 300 LABELS "fuzz;serve" RUN_SERIAL TRUE)
endif()

# The cpu backend's convolution exists in a portable and an AVX2+FMA build, picked at run time: on a
# CPU with AVX2 the runs above check the AVX2 one; these re-run the op and model tests on the portable one.
foreach(_t nn_ops_test nn_model_test)
  if(TARGET ${_t})
    add_test(NAME ${_t}_generic_isa COMMAND ${_t})
    set_tests_properties(${_t}_generic_isa PROPERTIES ENVIRONMENT IMPRECISE_CPU_ISA=generic TIMEOUT 300 LABELS nn)
  endif()
endforeach()
