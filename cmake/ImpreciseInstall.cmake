# Install + exported package (fmt style) so consumers can find_package(imprecise), from an install prefix
# or (build-tree export) straight from this build folder. Each library's install(TARGETS) rule comes from
# imprecise_add_library; this adds the headers, the generated config.hpp and the package files.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(IMPRECISE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/imprecise)
install(DIRECTORY include/imprecise DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/imprecise/config.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/imprecise)
install(EXPORT impreciseTargets NAMESPACE imprecise:: DESTINATION ${IMPRECISE_CMAKE_DIR})
configure_package_config_file(cmake/impreciseConfig.cmake.in
  ${PROJECT_BINARY_DIR}/impreciseConfig.cmake
  INSTALL_DESTINATION ${IMPRECISE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/impreciseConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/impreciseConfig.cmake
              ${PROJECT_BINARY_DIR}/impreciseConfigVersion.cmake
              cmake/FindImpreciseCuDNN.cmake  # the config creates imprecise_cudnn::cudnn with it
        DESTINATION ${IMPRECISE_CMAKE_DIR})

# Build-tree package: find_package(imprecise PATHS <this build folder>) uses the same config file, next to
# these targets (which point into the source and build trees).
export(EXPORT impreciseTargets NAMESPACE imprecise:: FILE ${PROJECT_BINARY_DIR}/impreciseTargets.cmake)
configure_file(cmake/FindImpreciseCuDNN.cmake ${PROJECT_BINARY_DIR}/FindImpreciseCuDNN.cmake COPYONLY)
