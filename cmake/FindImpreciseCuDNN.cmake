# Finds cuDNN (not part of the CUDA toolkit) and makes the imported target imprecise_cudnn::cudnn.
# Used by the build (src/backends/cuda) and, installed next to impreciseConfig.cmake, by consumers,
# so the exported targets name this target and never the build machine's library path.
# Hints: CUDNN_ROOT, the toolkit's folders (find_package(CUDAToolkit) first).
find_library(IMPRECISE_CUDNN_LIBRARY NAMES cudnn
             HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}
             PATH_SUFFIXES lib64 lib)
find_path(IMPRECISE_CUDNN_INCLUDE_DIR cudnn.h
          HINTS ${CUDNN_ROOT} $ENV{CUDNN_ROOT} ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ImpreciseCuDNN REQUIRED_VARS IMPRECISE_CUDNN_LIBRARY IMPRECISE_CUDNN_INCLUDE_DIR)
if(ImpreciseCuDNN_FOUND AND NOT TARGET imprecise_cudnn::cudnn)
  add_library(imprecise_cudnn::cudnn UNKNOWN IMPORTED)
  set_target_properties(imprecise_cudnn::cudnn PROPERTIES
    IMPORTED_LOCATION ${IMPRECISE_CUDNN_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${IMPRECISE_CUDNN_INCLUDE_DIR})
endif()
