/* LD_PRELOAD shim for the sanitizer trees (tests/sanitizers/README.md): dlclose does nothing, so
 * the Open MPI plugins (mca_*.so) that MPI_Finalize unloads stay mapped and LeakSanitizer can name
 * them in its stacks; their process-lifetime allocations are then matched by lsan.supp instead of
 * showing up as leaks from unknown code. */
int dlclose(void* handle) {
  (void)handle;
  return 0;
}
