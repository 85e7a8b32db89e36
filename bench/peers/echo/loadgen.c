/* Copied unchanged from the project's shared bench harness (bench_peers/src/loadgen.c), 2026-12-04. */
/* loadgen.c - closed-loop request/response TCP load generator.
 *
 * Single thread, epoll (level-triggered). N connections; each sends a
 * message of S bytes, waits until all S bytes have been echoed back, records
 * the round-trip latency, then sends the next message. After a warm-up of W
 * seconds (not recorded) it measures for D seconds. Only requests that were
 * *started* after the warm-up and *completed* before the deadline count.
 *
 * Output (one line, key=value):
 *   conns= size= dur_s= completed= rps= p50_us= p99_us= p999_us= max_us= errors= stalled=
 *
 * usage: loadgen -p PORT [-H 127.0.0.1] [-c CONNS] [-s SIZE] [-d SECONDS] [-w WARMUP]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    size_t sent, rcvd;
    uint64_t t0;
    int want_out, done;
} conn_t;

static size_t msg_size = 64;
static char *wbuf;
static int ep;

static uint64_t *samples;
static size_t nsamples, capsamples;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void record(uint64_t v) {
    if (nsamples == capsamples) {
        capsamples = capsamples ? capsamples * 2 : (1u << 20);
        samples = realloc(samples, capsamples * sizeof *samples);
        if (!samples) { perror("realloc"); exit(2); }
    }
    samples[nsamples++] = v;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p) {
    if (!nsamples) return 0;
    size_t i = (size_t)(p * (double)(nsamples - 1) + 0.5);
    return samples[i] / 1000.0;
}

static void set_events(conn_t *c, int out) {
    if (c->want_out == out) return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

/* returns -1 on error */
static int flush_send(conn_t *c) {
    while (c->sent < msg_size) {
        ssize_t w = write(c->fd, wbuf + c->sent, msg_size - c->sent);
        if (w > 0) { c->sent += (size_t)w; continue; }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) { set_events(c, 1); return 0; }
        if (w < 0 && errno == EINTR) continue;
        return -1;
    }
    set_events(c, 0);
    return 0;
}

static int start_req(conn_t *c, uint64_t t) {
    c->sent = 0;
    c->rcvd = 0;
    c->t0 = t;
    return flush_send(c);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    int port = 0, nconns = 1, opt;
    double dur = 3.0, warm = 0.5;
    while ((opt = getopt(argc, argv, "H:p:c:s:d:w:")) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'c': nconns = atoi(optarg); break;
        case 's': msg_size = (size_t)atol(optarg); break;
        case 'd': dur = atof(optarg); break;
        case 'w': warm = atof(optarg); break;
        default:
            fprintf(stderr, "usage: %s -p PORT [-H host] [-c conns] [-s size] [-d secs] [-w warmup]\n", argv[0]);
            return 2;
        }
    }
    if (!port || nconns < 1 || msg_size < 1 || dur <= 0 || dur > 60) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    wbuf = malloc(msg_size);
    for (size_t i = 0; i < msg_size; i++) wbuf[i] = (char)('a' + i % 26);
    static char rbuf[65536];

    ep = epoll_create1(0);
    conn_t *conns = calloc((size_t)nconns, sizeof *conns);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    for (int i = 0; i < nconns; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            fprintf(stderr, "connect #%d: %s\n", i, strerror(errno));
            return 1;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }

    uint64_t t_begin = now_ns();
    uint64_t t_meas = t_begin + (uint64_t)(warm * 1e9);
    uint64_t t_end = t_meas + (uint64_t)(dur * 1e9);
    uint64_t t_abort = t_end + 5000000000ull; /* hard stop: 5 s after deadline */
    int active = nconns, errors = 0;
    for (int i = 0; i < nconns; i++)
        if (start_req(&conns[i], now_ns()) < 0) { conns[i].done = 1; active--; errors++; }

    struct epoll_event evs[1024];
    while (active > 0) {
        int n = epoll_wait(ep, evs, 1024, 100);
        if (n < 0 && errno != EINTR) { perror("epoll_wait"); break; }
        for (int i = 0; i < n; i++) {
            conn_t *c = evs[i].data.ptr;
            if (c->done) continue;
            if ((evs[i].events & EPOLLOUT) && c->sent < msg_size) {
                if (flush_send(c) < 0) { c->done = 1; active--; errors++; continue; }
            }
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t r = read(c->fd, rbuf, sizeof rbuf);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (r <= 0) { c->done = 1; active--; errors++; continue; }
                c->rcvd += (size_t)r;
                if (c->rcvd > msg_size || c->rcvd > c->sent) { /* protocol violation */
                    c->done = 1; active--; errors++; continue;
                }
                if (c->rcvd == msg_size) {
                    uint64_t t = now_ns();
                    if (c->t0 >= t_meas && t <= t_end) record(t - c->t0);
                    if (t < t_end) {
                        if (start_req(c, t) < 0) { c->done = 1; active--; errors++; }
                    } else {
                        c->done = 1; active--;
                    }
                }
            }
        }
        if (now_ns() > t_abort) break;
    }
    int stalled = active;
    for (int i = 0; i < nconns; i++) close(conns[i].fd);

    qsort(samples, nsamples, sizeof *samples, cmp_u64);
    printf("conns=%d size=%zu dur_s=%.3f completed=%zu rps=%.0f p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%d stalled=%d\n",
           nconns, msg_size, dur, nsamples, nsamples / dur, pct(0.50), pct(0.99), pct(0.999),
           nsamples ? samples[nsamples - 1] / 1000.0 : 0.0, errors, stalled);
    return (errors || stalled) ? 1 : 0;
}
