// Empty translation unit: carries the LibTorch precompiled header that other targets reuse.
