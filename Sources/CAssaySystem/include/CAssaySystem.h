#ifndef ASSAY_CASSAYSYSTEM_H
#define ASSAY_CASSAYSYSTEM_H
// Linux interfaces that Swift's Glibc module does not bring in: epoll, eventfd, accept4, gettid.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// accept4(2) needs _GNU_SOURCE, which a Swift import cannot set; this wrapper can.
int assay_accept4(int fd, int flags);

/// Sets the calling thread's nice value (Linux: setpriority on its thread id); 0 or -1 with errno.
int assay_set_thread_niceness(int niceness);
#endif
