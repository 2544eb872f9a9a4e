#define _GNU_SOURCE
#include <stddef.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "CAssaySystem.h"

int assay_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }

int assay_set_thread_niceness(int niceness) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), niceness);
}
