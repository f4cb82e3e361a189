// Precompiled header shared by every mdrl target that uses LibTorch (see cmake/MdrlModule.cmake).
// Parsing torch/torch.h costs ~20 s per translation unit on two cores; through the PCH it costs ~1 s.
#pragma once
#include <torch/torch.h>
