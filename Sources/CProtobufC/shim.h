#ifndef ASSAY_CPROTOBUFC_SHIM_H
#define ASSAY_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
