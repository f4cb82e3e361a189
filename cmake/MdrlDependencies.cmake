# Third-party dependencies. Each is required unless stated; a missing one stops the configure step
# with a message that says how to install it (tools/setup.sh installs all of them).

set(MDRL_TORCH_VERSION_PIN "2.11.0")
set(_setup_hint "Run tools/setup.sh (installs the Debian packages and the pinned torch wheel), or see README.md.")

# ---- LibTorch, from the PyPI torch wheel -----------------------------------------------------------
# Located through torch.utils.cmake_prefix_path of a Python interpreter: MDRL_PYTHON (cache or
# environment), else the virtual environment tools/setup.sh creates, else python3 on PATH.
if(NOT Torch_DIR)
  set(_py_candidates)
  if(MDRL_PYTHON)
    list(APPEND _py_candidates "${MDRL_PYTHON}")
  endif()
  if(DEFINED ENV{MDRL_PYTHON})
    list(APPEND _py_candidates "$ENV{MDRL_PYTHON}")
  endif()
  if(DEFINED ENV{MDRL_CACHE})
    set(_cache "$ENV{MDRL_CACHE}")
  else()
    set(_cache "$ENV{HOME}/.cache/mdrl")
  endif()
  list(APPEND _py_candidates "${_cache}/venv-torch${MDRL_TORCH_VERSION_PIN}/bin/python")
  find_program(_sys_python NAMES python3 python)
  if(_sys_python)
    list(APPEND _py_candidates "${_sys_python}")
  endif()
  foreach(_py IN LISTS _py_candidates)
    if(NOT EXISTS "${_py}")
      continue()
    endif()
    execute_process(
      COMMAND "${_py}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__)"
      OUTPUT_VARIABLE _out RESULT_VARIABLE _rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(_rc EQUAL 0)
      string(REPLACE "\n" ";" _out "${_out}")
      list(GET _out 0 _prefix)
      list(GET _out 1 _torch_py_version)
      set(MDRL_PYTHON "${_py}" CACHE FILEPATH "Python interpreter whose torch package provides LibTorch")
      set(Torch_DIR "${_prefix}/Torch" CACHE PATH "LibTorch CMake package folder")
      break()
    endif()
  endforeach()
  if(NOT Torch_DIR)
    message(FATAL_ERROR "LibTorch not found: no Python interpreter with the torch package among "
                        "[${_py_candidates}]. Set -DMDRL_PYTHON=/path/to/python (with torch ${MDRL_TORCH_VERSION_PIN}) "
                        "or -DTorch_DIR=/path/to/share/cmake/Torch. ${_setup_hint}")
  endif()
endif()
# For CUDA wheels TorchConfig looks for the CUDA toolkit, and without TORCH_CUDA_ARCH_LIST it runs a
# GPU probe that fails on build machines without a GPU. Default to the data-centre GPUs mdrl targets
# (A100, H100/H200); override with -DTORCH_CUDA_ARCH_LIST or the environment variable.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0" CACHE STRING "CUDA architectures for LibTorch's CUDA flags")
endif()
find_package(Torch REQUIRED CONFIG)
if(NOT Torch_VERSION VERSION_EQUAL MDRL_TORCH_VERSION_PIN)
  message(WARNING "LibTorch ${Torch_VERSION} found at ${Torch_DIR}; mdrl is pinned to ${MDRL_TORCH_VERSION_PIN}. "
                  "It may work, but results and tests are only checked against the pin.")
endif()
# TORCH_CXX_FLAGS carries the C++ ABI define that everything linking LibTorch must share.
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
add_library(mdrl_torch INTERFACE)
target_link_libraries(mdrl_torch INTERFACE ${TORCH_LIBRARIES})
target_compile_options(mdrl_torch INTERFACE ${_torch_flags})
get_filename_component(MDRL_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)
# The torch wheel's libtorch.so and libtorch_cpu.so export their own copy of std::filesystem
# (statically linked from an older libstdc++); our calls to std::filesystem bound there crash.
# Naming libstdc++ before LibTorch puts it first in the executables' DT_NEEDED order, so the dynamic
# linker resolves those symbols to the system libstdc++ (checked by test_core).
target_link_options(mdrl_torch INTERFACE "LINKER:--push-state,--no-as-needed" "-lstdc++" "LINKER:--pop-state")

# ---- MPI ----------------------------------------------------------------------------------------------
find_package(MPI COMPONENTS C)
if(NOT MPI_C_FOUND)
  message(FATAL_ERROR "MPI (C bindings) not found. On Debian: apt-get install libopenmpi-dev openmpi-bin. ${_setup_hint}")
endif()
# mdrl uses the C API only; keep mpi.h from pulling in the deprecated C++ bindings.
add_library(mdrl_mpi INTERFACE)
target_link_libraries(mdrl_mpi INTERFACE MPI::MPI_C)
target_compile_definitions(mdrl_mpi INTERFACE OMPI_SKIP_MPICXX=1 MPICH_SKIP_MPICXX=1)

# ---- HDF5, parallel build required -----------------------------------------------------------------------
# Debian installs the MPI flavour beside the serial one; point FindHDF5 at it.
if(NOT HDF5_ROOT AND EXISTS "/usr/lib/x86_64-linux-gnu/hdf5/openmpi")
  set(HDF5_ROOT "/usr/lib/x86_64-linux-gnu/hdf5/openmpi")
endif()
set(HDF5_PREFER_PARALLEL ON)
find_package(HDF5 COMPONENTS C)
if(NOT HDF5_FOUND)
  message(FATAL_ERROR "HDF5 (C API) not found. On Debian: apt-get install libhdf5-openmpi-dev. ${_setup_hint}")
endif()
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "HDF5 ${HDF5_VERSION} found at ${HDF5_INCLUDE_DIRS} is the serial build; mdrl needs "
                      "parallel HDF5 (MPI-IO) for collective trajectory and checkpoint writes. On Debian: "
                      "apt-get install libhdf5-openmpi-dev, or set -DHDF5_ROOT to a parallel installation.")
endif()
add_library(mdrl_hdf5 INTERFACE)
target_include_directories(mdrl_hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
target_link_libraries(mdrl_hdf5 INTERFACE ${HDF5_C_LIBRARIES} mdrl_mpi)
target_compile_definitions(mdrl_hdf5 INTERFACE ${HDF5_DEFINITIONS})

# ---- Boost, nlohmann-json -----------------------------------------------------------------------------------
if(POLICY CMP0167)
  cmake_policy(SET CMP0167 NEW)
endif()
find_package(Boost 1.74 COMPONENTS program_options unit_test_framework)
if(NOT Boost_FOUND)
  message(FATAL_ERROR "Boost.Program_options / Boost.Test not found. On Debian: apt-get install "
                      "libboost-program-options-dev libboost-test-dev. ${_setup_hint}")
endif()
find_package(nlohmann_json 3.9 CONFIG)
if(NOT nlohmann_json_FOUND)
  message(FATAL_ERROR "nlohmann-json not found. On Debian: apt-get install nlohmann-json3-dev. ${_setup_hint}")
endif()

# ---- CUDA and NCCL (optional) -----------------------------------------------------------------------------
set(MDRL_HAVE_CUDA OFF)
set(MDRL_HAVE_NCCL OFF)
if(NOT MDRL_CUDA STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  find_package(NCCL QUIET)
  if(NOT TORCH_CUDA_LIBRARIES)
    # A CPU-only LibTorch has no CUDA streams or allocator for the NCCL path to order against.
    set(_torch_cpu_only TRUE)
  endif()
  if(CUDAToolkit_FOUND AND NCCL_FOUND AND NOT _torch_cpu_only)
    set(MDRL_HAVE_CUDA ON)
    set(MDRL_HAVE_NCCL ON)
  elseif(MDRL_CUDA STREQUAL "ON")
    message(FATAL_ERROR "MDRL_CUDA=ON but the CUDA toolkit (found: ${CUDAToolkit_FOUND}) or NCCL "
                        "(found: ${NCCL_FOUND}) is missing, or LibTorch is a CPU-only build (${_torch_cpu_only}). "
                        "Install them, set CUDAToolkit_ROOT / NCCL_ROOT / MDRL_PYTHON, or configure with "
                        "-DMDRL_CUDA=OFF (or AUTO).")
  else()
    message(STATUS "CUDA path disabled: CUDA toolkit found ${CUDAToolkit_FOUND}, NCCL found ${NCCL_FOUND}, "
                   "LibTorch CPU-only ${_torch_cpu_only}")
  endif()
endif()
add_library(mdrl_cuda INTERFACE)
if(MDRL_HAVE_CUDA)
  target_link_libraries(mdrl_cuda INTERFACE CUDA::cudart NCCL::NCCL)
  target_compile_definitions(mdrl_cuda INTERFACE MDRL_HAVE_CUDA=1 MDRL_HAVE_NCCL=1)
endif()

# ---- PCRE2 and utf8proc (the tokenizer's Unicode regex and NFC normalizer) ------------------------------
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
  pkg_check_modules(UTF8PROC QUIET IMPORTED_TARGET libutf8proc)
endif()
add_library(mdrl_pcre2 INTERFACE)
if(TARGET PkgConfig::PCRE2)
  target_link_libraries(mdrl_pcre2 INTERFACE PkgConfig::PCRE2)
else()
  find_path(MDRL_PCRE2_INCLUDE pcre2.h)
  find_library(MDRL_PCRE2_LIBRARY pcre2-8)
  if(NOT MDRL_PCRE2_INCLUDE OR NOT MDRL_PCRE2_LIBRARY)
    message(FATAL_ERROR "PCRE2 (8-bit library, for the tokenizer's Unicode regex) not found. On Debian: "
                        "apt-get install libpcre2-dev. ${_setup_hint}")
  endif()
  target_include_directories(mdrl_pcre2 SYSTEM INTERFACE "${MDRL_PCRE2_INCLUDE}")
  target_link_libraries(mdrl_pcre2 INTERFACE "${MDRL_PCRE2_LIBRARY}")
endif()
add_library(mdrl_utf8proc INTERFACE)
if(TARGET PkgConfig::UTF8PROC)
  target_link_libraries(mdrl_utf8proc INTERFACE PkgConfig::UTF8PROC)
else()
  find_path(MDRL_UTF8PROC_INCLUDE utf8proc.h)
  find_library(MDRL_UTF8PROC_LIBRARY utf8proc)
  if(NOT MDRL_UTF8PROC_INCLUDE OR NOT MDRL_UTF8PROC_LIBRARY)
    message(FATAL_ERROR "utf8proc (Unicode normalization for the tokenizer) not found. On Debian: "
                        "apt-get install libutf8proc-dev. ${_setup_hint}")
  endif()
  target_include_directories(mdrl_utf8proc SYSTEM INTERFACE "${MDRL_UTF8PROC_INCLUDE}")
  target_link_libraries(mdrl_utf8proc INTERFACE "${MDRL_UTF8PROC_LIBRARY}")
endif()
