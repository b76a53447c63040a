/* A virtual monotonic clock for event loops that read time and wait in native code.
 *
 * uvloop (libuv, C) and rloop (mio, Rust) never call back into Python to read the time
 * or to wait, so the asyncio adapter's trick (a selector that advances a Python float)
 * cannot reach them. This library, loaded with LD_PRELOAD, replaces the two system
 * calls every loop rests on:
 *
 *   clock_gettime(CLOCK_MONOTONIC*, ...)  returns the virtual clock;
 *   epoll_wait / epoll_pwait / epoll_pwait2 with a timeout first polls without waiting;
 *     when nothing is ready it advances the virtual clock by the timeout instead of
 *     sleeping, so timers fire in virtual time, exactly where the loop asked to wake.
 *
 * A wait with no timeout and nothing ready is a deadlock; a wait past the horizon is a
 * limit. Either makes the `limit fd` (an eventfd the adapter registered as a reader)
 * readable and returns it, so the loop itself hands the limit to the adapter.
 * Nothing changes until the adapter calls asyncspec_vclock_start(): the interpreter's
 * start-up and the adapter's own I/O see the real clock and real waits.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static int active = 0;
static int64_t now_ns = 0;
static int64_t horizon_ns = INT64_MAX;
static int limit_fd = -1;
static int limit_reason = 0; /* 0 none, 1 deadlock, 2 horizon */

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);
static int (*real_epoll_pwait2)(int, struct epoll_event *, int, const struct timespec *,
                                const sigset_t *);

static void resolve(void) {
    if (!real_clock_gettime) {
        real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
        real_epoll_wait = dlsym(RTLD_NEXT, "epoll_wait");
        real_epoll_pwait = dlsym(RTLD_NEXT, "epoll_pwait");
        real_epoll_pwait2 = dlsym(RTLD_NEXT, "epoll_pwait2");
    }
}

/* Start virtual time at zero for one scenario; events past horizon_s end it. */
void asyncspec_vclock_start(double horizon_s, int fd) {
    resolve();
    active = 1;
    now_ns = 0;
    horizon_ns = (int64_t)(horizon_s * 1e9);
    limit_fd = fd;
    limit_reason = 0;
}

void asyncspec_vclock_stop(void) {
    active = 0;
    limit_fd = -1;
}

/* Blocking work inside a callback: time passes without a wait. */
void asyncspec_vclock_advance(int64_t ns) { now_ns += ns; }

int64_t asyncspec_vclock_now_ns(void) { return now_ns; }

int asyncspec_vclock_limit_reason(void) { return limit_reason; }

static int is_monotonic(clockid_t clk) {
    return clk == CLOCK_MONOTONIC || clk == CLOCK_MONOTONIC_RAW ||
           clk == CLOCK_MONOTONIC_COARSE || clk == CLOCK_BOOTTIME;
}

int clock_gettime(clockid_t clk, struct timespec *ts) {
    resolve();
    if (active && is_monotonic(clk)) {
        ts->tv_sec = now_ns / 1000000000;
        ts->tv_nsec = now_ns % 1000000000;
        return 0;
    }
    return real_clock_gettime(clk, ts);
}

/* The shared rule: poll without waiting; if nothing is ready, move time instead. */
static int virtual_wait(int n, int64_t timeout_ns, int (*poll_now)(void *), void *arg) {
    if (!active || n != 0 || timeout_ns == 0)
        return n;
    if (timeout_ns < 0 || now_ns + timeout_ns > horizon_ns) {
        if (limit_reason == 0 && limit_fd >= 0) {
            uint64_t one = 1;
            limit_reason = timeout_ns < 0 ? 1 : 2;
            if (write(limit_fd, &one, sizeof one) != sizeof one)
                return 0;
        }
        if (timeout_ns > 0)
            now_ns += timeout_ns;
        return poll_now(arg);
    }
    now_ns += timeout_ns;
    return 0;
}

struct call {
    int epfd;
    struct epoll_event *events;
    int maxevents;
    const sigset_t *sigmask;
};

static int poll_wait(void *a) {
    struct call *c = a;
    return real_epoll_wait(c->epfd, c->events, c->maxevents, 0);
}

static int poll_pwait(void *a) {
    struct call *c = a;
    return real_epoll_pwait(c->epfd, c->events, c->maxevents, 0, c->sigmask);
}

int epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout) {
    resolve();
    if (!active)
        return real_epoll_wait(epfd, events, maxevents, timeout);
    struct call c = {epfd, events, maxevents, NULL};
    int n = poll_wait(&c);
    return virtual_wait(n, timeout < 0 ? -1 : (int64_t)timeout * 1000000, poll_wait, &c);
}

int epoll_pwait(int epfd, struct epoll_event *events, int maxevents, int timeout,
                const sigset_t *sigmask) {
    resolve();
    if (!active)
        return real_epoll_pwait(epfd, events, maxevents, timeout, sigmask);
    struct call c = {epfd, events, maxevents, sigmask};
    int n = poll_pwait(&c);
    return virtual_wait(n, timeout < 0 ? -1 : (int64_t)timeout * 1000000, poll_pwait, &c);
}

int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
                 const struct timespec *timeout, const sigset_t *sigmask) {
    resolve();
    if (!active || !real_epoll_pwait2)
        return real_epoll_pwait2 ? real_epoll_pwait2(epfd, events, maxevents, timeout, sigmask)
                                 : -1;
    struct call c = {epfd, events, maxevents, sigmask};
    int n = poll_pwait(&c);
    int64_t t = timeout ? (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec : -1;
    return virtual_wait(n, t, poll_pwait, &c);
}
