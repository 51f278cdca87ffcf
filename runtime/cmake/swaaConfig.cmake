# find_package(swaa): the swaa runtime (swaa::runtime, C API in
# <swaa/runtime.h>) for applications that run models compiled by
# swaa-compile.
include("${CMAKE_CURRENT_LIST_DIR}/swaaTargets.cmake")
