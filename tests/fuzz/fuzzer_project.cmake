# What every standalone fuzzer project here needs (included right after project()): clang++, since
# libFuzzer needs it and the main build uses g++; an optimised build with symbols for the crash reports;
# and imprecise_fuzzer(target), which builds a target as C++20 with libFuzzer, ASan and UBSan.
if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "the fuzzer needs clang++ (libFuzzer), not ${CMAKE_CXX_COMPILER_ID}")
endif()
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE RelWithDebInfo)
endif()

function(imprecise_fuzzer target)
  set(sanitizers -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_compile_options(${target} PRIVATE ${sanitizers} -fno-omit-frame-pointer)
  target_link_options(${target} PRIVATE ${sanitizers})
endfunction()
