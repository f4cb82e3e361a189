# mdrl_add_module(<name> SOURCES ... [DEPS ...] [TORCH])
# Builds the static library mdrl_<name> from src/<name>/. DEPS are other modules (by short name) or
# targets; DESIGN.md fixes which modules may depend on which, and the graph must stay acyclic.
# TORCH links LibTorch and reuses the shared LibTorch precompiled header.

# One precompiled header for LibTorch, built once and reused by every module that includes it.
if(MDRL_PCH)
  add_library(mdrl_torch_pch OBJECT "${CMAKE_SOURCE_DIR}/cmake/pch/torch_pch.cpp")
  target_link_libraries(mdrl_torch_pch PRIVATE mdrl_torch mdrl_warnings mdrl_mpi mdrl_cuda)
  target_precompile_headers(mdrl_torch_pch PRIVATE "${CMAKE_SOURCE_DIR}/cmake/pch/torch_pch.hpp")
  set_target_properties(mdrl_torch_pch PROPERTIES POSITION_INDEPENDENT_CODE OFF)
endif()

# Gives a target that uses LibTorch the shared PCH (its compile flags must match mdrl_torch_pch's).
function(mdrl_use_torch target)
  target_link_libraries(${target} PRIVATE mdrl_torch)
  if(MDRL_PCH)
    target_precompile_headers(${target} REUSE_FROM mdrl_torch_pch)
  endif()
endfunction()

function(mdrl_add_module name)
  cmake_parse_arguments(ARG "TORCH" "" "SOURCES;DEPS" ${ARGN})
  set(target mdrl_${name})
  add_library(${target} STATIC ${ARG_SOURCES})
  target_include_directories(${target} PUBLIC "${CMAKE_SOURCE_DIR}/src")
  target_link_libraries(${target} PRIVATE mdrl_warnings)
  foreach(dep IN LISTS ARG_DEPS)
    if(TARGET mdrl_${dep})
      target_link_libraries(${target} PUBLIC mdrl_${dep})
    else()
      target_link_libraries(${target} PUBLIC ${dep})
    endif()
  endforeach()
  if(ARG_TORCH)
    mdrl_use_torch(${target})
    # Consumers of a LibTorch-using module link LibTorch too (static libraries).
    target_link_libraries(${target} INTERFACE mdrl_torch)
  endif()
endfunction()
