#ifndef ASSAY_CSQLITE3_SHIM_H
#define ASSAY_CSQLITE3_SHIM_H
#include <sqlite3.h>
// SQLITE_TRANSIENT is a macro Swift cannot import: a destructor value of -1.
static inline void (*assay_sqlite_transient(void))(void *) { return (void (*)(void *))-1; }
#endif
