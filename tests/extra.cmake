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
