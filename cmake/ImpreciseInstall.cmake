# Install + exported package (fmt style) so consumers can find_package(imprecise).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS imprecise EXPORT impreciseTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/imprecise DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT impreciseTargets NAMESPACE imprecise::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/imprecise)
configure_package_config_file(cmake/impreciseConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/impreciseConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/imprecise)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/impreciseConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/impreciseConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/impreciseConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/imprecise)
