# Compiler launcher (ccache), warning flags for mdrl's own targets, sanitizers.

find_program(MDRL_CCACHE_PROGRAM ccache)
if(MDRL_CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  # Precompiled headers are only cacheable with these sloppiness settings (ccache manual, "Precompiled headers").
  # CCACHE_BASEDIR makes paths inside the checkout relative in the hash, so a fresh clone elsewhere
  # (CI, a second worktree) reuses the objects of this one.
  set(_launcher ${CMAKE_COMMAND} -E env
      "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
      "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}" "CCACHE_NOHASHDIR=true"
      ${MDRL_CCACHE_PROGRAM})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${_launcher})
  set(CMAKE_C_COMPILER_LAUNCHER ${_launcher})
  set(MDRL_CCACHE ON)
else()
  set(MDRL_CCACHE OFF)
endif()

# Flags applied to mdrl's own targets only (dependencies come in as SYSTEM includes).
add_library(mdrl_warnings INTERFACE)
target_compile_options(mdrl_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
                            -Wimplicit-fallthrough -Wno-unused-parameter -Winvalid-pch>)
# GCC 12 reports false -Wrestrict / -Wstringop-overflow / -Warray-bounds in std::string's
# operator+, insert and move inlined at -O2/-O3 (GCC bugs 105329, 105651, 107138); fixed in GCC 13.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(mdrl_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict -Wno-stringop-overflow -Wno-array-bounds>)
endif()
if(MDRL_WERROR)
  target_compile_options(mdrl_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
endif()

if(MDRL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer harnesses (tests/fuzz/, clang only): every library instrumented for coverage with ASan
# and UBSan (undefined behaviour aborts, so the fuzzer reports it); the harnesses link -fsanitize=fuzzer.
option(MDRL_FUZZ "Build the libFuzzer harnesses of tests/fuzz (clang; preset fuzz)" OFF)
if(MDRL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MDRL_FUZZ=ON needs clang (libFuzzer); configure with the preset 'fuzz'.")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
