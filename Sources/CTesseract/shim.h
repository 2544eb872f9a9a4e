#ifndef ASSAY_CTESSERACT_SHIM_H
#define ASSAY_CTESSERACT_SHIM_H
// Tesseract's C API and the part of Leptonica it takes images in (Debian's libtesseract-dev,
// libleptonica-dev).
#include <tesseract/capi.h>
#include <leptonica/allheaders.h>

// Debian's libtesseract is built with OpenMP (libgomp). Tesseract then spreads one page over
// every core, which on small images costs far more than it gains. libgomp keeps the
// max-active-levels setting per thread, so a thread that sets it to 0 runs every OpenMP
// region of the calls it makes on itself alone, while other threads (e5) keep theirs.
// Declared here because omp.h belongs to the C compiler, not to a system include path.
extern void omp_set_max_active_levels(int max_levels);
static inline void assay_tesseract_run_single_threaded(void) { omp_set_max_active_levels(0); }

#endif
