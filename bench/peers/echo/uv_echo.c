/* Copied unchanged from the project's shared bench harness (bench_peers/src/uv_echo.c), 2026-12-04. */
/* uv_echo.c - libuv TCP echo server (single loop).
 * Each connection owns a 64 KiB read buffer. On read, uv_try_write() is tried
 * first (what Node.js does); any remainder is copied and sent with uv_write().
 * usage: uv_echo PORT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

typedef struct { uv_tcp_t h; char buf[65536]; } conn_t;
typedef struct { uv_write_t req; uv_buf_t b; } wreq_t;

static uv_loop_t *loop;

static void on_close(uv_handle_t *h) { free(h); }
static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) {
    (void)sz;
    conn_t *c = (conn_t *)h;
    *b = uv_buf_init(c->buf, sizeof c->buf);
}
static void on_write(uv_write_t *r, int status) {
    (void)status;
    wreq_t *w = (wreq_t *)r;
    free(w->b.base);
    free(w);
}
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
    if (n < 0) { uv_close((uv_handle_t *)s, on_close); return; }
    if (n == 0) return;
    uv_buf_t out = uv_buf_init(b->base, (unsigned)n);
    int w = uv_try_write(s, &out, 1);
    if (w == n) return;
    if (w < 0 && w != UV_EAGAIN) { uv_close((uv_handle_t *)s, on_close); return; }
    if (w < 0) w = 0;
    wreq_t *wr = malloc(sizeof *wr);
    size_t rest = (size_t)n - (size_t)w;
    wr->b = uv_buf_init(malloc(rest), (unsigned)rest);
    memcpy(wr->b.base, b->base + w, rest);
    uv_write(&wr->req, s, &wr->b, 1, on_write);
}
static void on_conn(uv_stream_t *srv, int status) {
    if (status < 0) return;
    conn_t *c = malloc(sizeof *c);
    uv_tcp_init(loop, &c->h);
    if (uv_accept(srv, (uv_stream_t *)&c->h) == 0) {
        uv_tcp_nodelay(&c->h, 1);
        uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
    } else {
        uv_close((uv_handle_t *)&c->h, on_close);
    }
}
int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s PORT\n", argv[0]); return 2; }
    loop = uv_default_loop();
    uv_tcp_t srv;
    uv_tcp_init(loop, &srv);
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[1]), &addr);
    uv_tcp_bind(&srv, (const struct sockaddr *)&addr, 0);
    int r = uv_listen((uv_stream_t *)&srv, 1024, on_conn);
    if (r) { fprintf(stderr, "listen: %s\n", uv_strerror(r)); return 1; }
    return uv_run(loop, UV_RUN_DEFAULT);
}
