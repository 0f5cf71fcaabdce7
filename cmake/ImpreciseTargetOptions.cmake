# The CMake helpers (marl style): every target we own gets its warnings and sanitizers from here.
#   imprecise_target_options(<target>)  warnings (+ -Werror with IMPRECISE_WARNINGS_AS_ERRORS) and IMPRECISE_SANITIZE
#   imprecise_add_library(<name> EXPORT_NAME <n> [INTERFACE] [SOURCES ...] [PUBLIC ...] [PRIVATE ...])
#       a library with C++20, PIC, the options above, the alias imprecise::<n>, and (IMPRECISE_INSTALL) its
#       install rule in the impreciseTargets export set
#   imprecise_add_test(<source> LABELS <area>... [LINK <target>...])  (tests/CMakeLists.txt)
#       one GoogleTest program, discovered by ctest with the area's label (ctest -L <area>)
function(imprecise_target_options target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE
      $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
        -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual>)
    if(IMPRECISE_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
    endif()
  endif()
  if(IMPRECISE_SANITIZE)
    list(JOIN IMPRECISE_SANITIZE "," _san)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${_san} -fno-omit-frame-pointer -fno-sanitize-recover=all>)
    target_link_options(${target} PRIVATE -fsanitize=${_san})
  endif()
endfunction()

function(imprecise_add_library name)
  cmake_parse_arguments(ARG "INTERFACE" "EXPORT_NAME" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  if(NOT ARG_EXPORT_NAME)
    message(FATAL_ERROR "imprecise_add_library(${name}): EXPORT_NAME is required")
  endif()
  if(ARG_INTERFACE)
    add_library(${name} INTERFACE)
    target_link_libraries(${name} INTERFACE ${ARG_PUBLIC})
  else()
    add_library(${name} ${ARG_SOURCES})
    target_compile_features(${name} PUBLIC cxx_std_20)
    target_link_libraries(${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE})
    set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
    imprecise_target_options(${name})
  endif()
  set_target_properties(${name} PROPERTIES EXPORT_NAME ${ARG_EXPORT_NAME})
  add_library(imprecise::${ARG_EXPORT_NAME} ALIAS ${name})
  if(IMPRECISE_INSTALL)
    # OPTIONAL: `cmake --install` installs what was built (e.g. after `--target edge_server`) instead of failing.
    install(TARGETS ${name} EXPORT impreciseTargets
            ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} OPTIONAL
            LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} OPTIONAL)
  endif()
endfunction()

# One GoogleTest program from <source>, discovered by ctest with the LABELS of its area (ctest -L <area>).
# Tests see src/ on their include path, for the private headers they check directly.
function(imprecise_add_test source)
  cmake_parse_arguments(ARG "" "" "LABELS;LINK" ${ARGN})
  get_filename_component(name ${source} NAME_WE)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE ${ARG_LINK} GTest::gtest GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${name} PRIVATE
    IMPRECISE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    IMPRECISE_CLI_PATH="$<$<TARGET_EXISTS:imprecise_cli>:$<TARGET_FILE:imprecise_cli>>")
  imprecise_target_options(${name})
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300 LABELS "${ARG_LABELS}")
endfunction()
