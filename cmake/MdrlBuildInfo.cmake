# Build provenance: the git commit is written at build time (not configure time) so that a rebuild
# after a commit reports the right one; the file is only rewritten when its content changes, so an
# unchanged commit does not trigger a relink.
set(MDRL_BUILD_INFO_CPP "${CMAKE_BINARY_DIR}/generated/build_info_git.cpp")
add_custom_target(mdrl_git_info
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${MDRL_BUILD_INFO_CPP}
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteGitInfo.cmake
  BYPRODUCTS ${MDRL_BUILD_INFO_CPP}
  COMMENT "Recording git commit"
  VERBATIM)
