// ratecli: an open-loop HTTP/1.1 rate client (what wrk2 does, for one fixed request shape).
//
//   ratecli -p PORT -r RATE -d SECONDS [-c CONNS] [-H HOST] [-P PATH] [-t TIMEOUT_MS] [-R RTPRIO]
//           [-S SPIN_US]
//
// Sends round(RATE * SECONDS) requests `GET PATH<N> HTTP/1.1` (N = 0, 1, ...; PATH defaults to
// /seq/) over CONNS keep-alive connections, at intended times t0 + N / RATE (CLOCK_MONOTONIC).
// One request in flight per connection: a request that falls due while every connection is busy
// waits, and its latency counts from its intended time, not from when it was written
// (coordinated omission corrected). The schedule is a timerfd (absolute time, 1 ns timer slack)
// in the same epoll set as the sockets; how late the loop saw each request fall due is reported
// (`schedLateUs`: the client's own jitter) apart from how late it was written (`sendLateUs`:
// jitter plus waiting for a free connection). Responses are framed by Content-Length (no
// chunked bodies: enough for nginx's and the tests' fixed responses). -R: run under SCHED_FIFO at
// that priority (root), so other runnable work on a busy machine does not delay the client's
// wake-ups: its lateness then no longer follows the machine's load. -S: wake SPIN_US early and
// spin to each intended time (costs up to SPIN_US × RATE of a CPU; at rates whose period is
// shorter than SPIN_US the client busy-polls).
//
// Every request ends as exactly one of: ok (2xx), httpErrors (other status), connErrors (the
// connection failed or sent something unparseable while it was in flight), timeouts (no answer
// within TIMEOUT_MS, or not sent/answered by the end: the last intended time + TIMEOUT_MS).
// Prints one JSON object on stdout; bad arguments or no connection at start: message on stderr,
// exit 2.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("ratecli: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// ---- histogram: ns values, exact below 2048 ns, then 1024 sub-buckets per power of two
// (relative error < 0.1%), up to 2^40 ns (~18 min; larger values land in the last bucket).
#define SUB_BITS 10
#define SUB (1u << SUB_BITS)
#define MAX_EXP 40
#define NBUCKETS (2 * SUB + (MAX_EXP - SUB_BITS - 1) * SUB)

typedef struct {
  uint64_t counts[NBUCKETS];
  uint64_t n, max;
  uint64_t max_at; // intended time of the request that set max (where in the run the worst stall was)
} hist;

static size_t bucket_of(uint64_t v) {
  if (v < 2 * SUB) return (size_t)v;
  int msb = 63 - __builtin_clzll(v);
  if (msb >= MAX_EXP) return NBUCKETS - 1;
  int shift = msb - SUB_BITS;
  return 2 * SUB + (size_t)(shift - 1) * SUB + (size_t)((v >> shift) - SUB);
}

// Highest value that lands in bucket i.
static uint64_t bucket_high(size_t i) {
  if (i < 2 * SUB) return i;
  size_t shift = (i - 2 * SUB) / SUB + 1, sub = (i - 2 * SUB) % SUB + SUB;
  return ((uint64_t)(sub + 1) << shift) - 1;
}

static void hist_add(hist *h, uint64_t v, uint64_t at) {
  h->counts[bucket_of(v)]++;
  h->n++;
  if (v > h->max) h->max = v, h->max_at = at;
}

// The value at quantile q: the smallest bucket whose cumulative count reaches ceil(q * n),
// reported as that bucket's highest value (capped at the exact maximum).
static uint64_t hist_q(const hist *h, double q) {
  if (h->n == 0) return 0;
  uint64_t rank = (uint64_t)ceil(q * (double)h->n), seen = 0;
  if (rank < 1) rank = 1;
  for (size_t i = 0; i < NBUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) {
      uint64_t v = bucket_high(i);
      return v < h->max ? v : h->max;
    }
  }
  return h->max;
}

// ---- connections
enum { CONNECTING, IDLE, BUSY, DOWN };
#define IN_CAP 65536

typedef struct {
  int fd, state;
  int connect_err;   // connect() failed at once (the error is not in SO_ERROR then)
  int close_after;   // the response said Connection: close
  uint64_t id;       // request in flight
  uint64_t intended, sent_at;
  uint64_t retry_at; // DOWN: reconnect from this time on
  char out[256];
  size_t outlen, outoff;
  size_t inlen;
  char in[IN_CAP];
} conn;

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int ep;
static const char *host = "127.0.0.1", *path = "/seq/";

static void conn_open(conn *c) {
  c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket: %s", strerror(errno));
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->inlen = c->outlen = c->outoff = 0;
  c->close_after = 0;
  c->state = CONNECTING;
  // An immediate failure is reported like an asynchronous one: EPOLLERR on the next wait.
  c->connect_err = connect(c->fd, (struct sockaddr *)&addr, addrlen) < 0 && errno != EINPROGRESS ? errno : 0;
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl: %s", strerror(errno));
}

static void conn_close(conn *c, uint64_t retry_at) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
  c->state = DOWN;
  c->retry_at = retry_at;
}

static void want_out(conn *c, int on) {
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

// Writes what is left of c->out; 0 done, 1 would block, -1 failed.
static int flush_out(conn *c) {
  while (c->outoff < c->outlen) {
    ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN ? 1 : -1;
    }
    c->outoff += (size_t)w;
  }
  return 0;
}

// ---- response framing. 1: a whole response of *len bytes with *status; 0: need more; -1: bad.
static int parse_response(conn *c, size_t *len, int *status) {
  char *end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
  if (!end) return c->inlen == IN_CAP ? -1 : 0;
  if (c->inlen < 12 || memcmp(c->in, "HTTP/1.", 7) != 0 || c->in[8] != ' ') return -1;
  int st = 0;
  for (int i = 9; i < 12; i++) {
    if (c->in[i] < '0' || c->in[i] > '9') return -1;
    st = st * 10 + (c->in[i] - '0');
  }
  long long clen = -1;
  // Header lines: from after the status line to end.
  char *p = memchr(c->in, '\n', (size_t)(end - c->in));
  while (p && p < end) {
    char *line = p + 1;
    char *nl = memchr(line, '\n', (size_t)(end + 2 - line));
    if (!nl) break;
    size_t ll = (size_t)(nl - line);
    if (ll > 15 && strncasecmp(line, "content-length:", 15) == 0) {
      char *q = line + 15, *e;
      while (*q == ' ' || *q == '\t') q++;
      errno = 0;
      clen = strtoll(q, &e, 10);
      if (e == q || errno || clen < 0) return -1;
    } else if (ll > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
      return -1; // chunked framing is not supported
    } else if (ll >= 17 && strncasecmp(line, "connection:", 11) == 0) {
      char *q = line + 11;
      while (*q == ' ' || *q == '\t') q++;
      if (strncasecmp(q, "close", 5) == 0) c->close_after = 1;
    }
    p = nl;
  }
  if (clen < 0) {
    if (st / 100 == 1 || st == 204 || st == 304) clen = 0;
    else return -1; // no framing we understand (close-delimited bodies are not supported)
  }
  size_t total = (size_t)(end - c->in) + 4 + (size_t)clen;
  if (total > IN_CAP) return -1;
  if (c->inlen < total) return 0;
  *len = total;
  *status = st;
  return 1;
}

// ---- run state
static conn *conns;
static int nconns;
static uint64_t total, t0, next_due, next_unsent, finished, deadline;
static double period_ns;
static uint64_t timeout_ns, spin_ns;
static uint64_t n_ok, n_http_err, n_conn_err, n_timeout, n_unsent, n_reconnects, last_done;
static hist lat, service, sched_late, send_late;

static uint64_t intended(uint64_t id) { return t0 + (uint64_t)llround((double)id * period_ns); }

static void send_next(conn *c, uint64_t now) {
  uint64_t id = next_unsent++;
  c->id = id;
  c->intended = intended(id);
  c->sent_at = now;
  hist_add(&send_late, now - c->intended, c->intended);
  int n = snprintf(c->out, sizeof c->out, "GET %s%llu HTTP/1.1\r\nHost: %s\r\n\r\n", path, (unsigned long long)id, host);
  c->outlen = (size_t)n;
  c->outoff = 0;
  c->state = BUSY;
  int r = flush_out(c);
  if (r == 1) want_out(c, 1);
  else if (r < 0) {
    n_conn_err++;
    finished++;
    conn_close(c, now + 10000000);
  }
}

// The in-flight request of c failed (connection level).
static void fail_conn(conn *c, uint64_t now) {
  if (c->state == BUSY) {
    n_conn_err++;
    finished++;
  }
  conn_close(c, now + 10000000); // 10 ms between reconnects: a dead server must not spin us
}

static void on_readable(conn *c, uint64_t now) {
  for (;;) {
    ssize_t r = read(c->fd, c->in + c->inlen, IN_CAP - c->inlen);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      fail_conn(c, now);
      return;
    }
    if (r == 0) {
      fail_conn(c, now);
      return;
    }
    size_t room = IN_CAP - c->inlen;
    c->inlen += (size_t)r;
    // A short read drained the socket: skip the read that would only say EAGAIN (epoll is
    // level-triggered, anything arriving later wakes us again).
    if ((size_t)r < room || c->inlen == IN_CAP) break;
  }
  now = now_ns(); // completion time: after the bytes arrived
  for (;;) {
    size_t len;
    int status;
    int p = parse_response(c, &len, &status);
    if (p == 0) return;
    if (p < 0 || c->state != BUSY) { // garbage, or an answer to nothing
      fail_conn(c, now);
      return;
    }
    hist_add(&lat, now - c->intended, c->intended);
    hist_add(&service, now - c->sent_at, c->intended);
    if (status / 100 == 2) n_ok++;
    else n_http_err++;
    finished++;
    last_done = now;
    memmove(c->in, c->in + len, c->inlen - len);
    c->inlen -= len;
    c->state = IDLE;
    if (c->close_after) {
      conn_close(c, now);
      return;
    }
    if (next_unsent < next_due) {
      send_next(c, now);
      if (c->state == DOWN) return; // the write failed: nothing more to parse on this connection
    }
  }
}

static double ms(uint64_t ns) { return (double)ns / 1e6; }
static double us(uint64_t ns) { return (double)ns / 1e3; }

// Seconds into the run (from t0) of the request that set h's max.
static double max_at_s(const hist *h) { return h->n && h->max_at > t0 ? (double)(h->max_at - t0) / 1e9 : 0; }

static void print_late(const char *name, const hist *h) {
  printf("\"%s\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"maxAtS\":%.3f}", name, us(hist_q(h, 0.5)),
         us(hist_q(h, 0.9)), us(hist_q(h, 0.99)), us(hist_q(h, 0.999)), us(h->max), max_at_s(h));
}

static double num_arg(const char *opt, const char *v, double lo, double hi) {
  char *e;
  errno = 0;
  double d = strtod(v, &e);
  if (e == v || *e || errno || !(d >= lo && d <= hi)) die("bad %s '%s' (want a number in [%g, %g])", opt, v, lo, hi);
  return d;
}

int main(int argc, char **argv) {
  double rate = 0, seconds = 0, port = 0, timeout_ms = 2000, rtprio = 0;
  int opt;
  nconns = 16;
  while ((opt = getopt(argc, argv, "p:r:d:c:H:P:t:R:S:")) != -1) {
    switch (opt) {
    case 'p': port = num_arg("port (-p)", optarg, 1, 65535); break;
    case 'r': rate = num_arg("rate (-r)", optarg, 0.001, 10e6); break;
    case 'd': seconds = num_arg("seconds (-d)", optarg, 0.001, 86400); break;
    case 'c': nconns = (int)num_arg("connections (-c)", optarg, 1, 10000); break;
    case 'H': host = optarg; break;
    case 'P': path = optarg; break;
    case 't': timeout_ms = num_arg("timeout (-t)", optarg, 1, 3600e3); break;
    case 'R': rtprio = num_arg("real-time priority (-R)", optarg, 1, 99); break;
    case 'S': spin_ns = (uint64_t)(num_arg("spin (-S, µs)", optarg, 0, 100000) * 1000); break;
    default: die("usage: ratecli -p PORT -r RATE -d SECONDS [-c CONNS] [-H HOST] [-P PATH] [-t TIMEOUT_MS] [-R RTPRIO] [-S SPIN_US]");
    }
  }
  if (optind != argc) die("unexpected argument '%s'", argv[optind]);
  if (!port || !rate || !seconds) die("-p PORT, -r RATE and -d SECONDS are required");
  if (strlen(host) + strlen(path) > 150 || strpbrk(path, " \r\n") || strpbrk(host, " \r\n/")) die("bad host or path");
  if (port != floor(port)) die("bad port");
  total = (uint64_t)llround(rate * seconds);
  if (total < 1) die("rate * seconds rounds to 0 requests");
  period_ns = 1e9 / rate;
  timeout_ns = (uint64_t)(timeout_ms * 1e6);

  memset(&addr, 0, sizeof addr);
  struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    addrlen = sizeof *a4;
  } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    addrlen = sizeof *a6;
  } else die("host '%s' is not an IPv4 or IPv6 address", host);

  if (rtprio) {
    struct sched_param sp = {.sched_priority = (int)rtprio};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) die("SCHED_FIFO priority %d: %s", (int)rtprio, strerror(errno));
  }
  signal(SIGPIPE, SIG_IGN);
  // Timers of this thread fire on time instead of up to 50 µs late (the default slack).
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep < 0 || tfd < 0) die("epoll/timerfd: %s", strerror(errno));
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  conns = calloc((size_t)nconns, sizeof *conns);
  if (!conns) die("out of memory");
  struct epoll_event evs[64];

  // Connect everything before the clock starts; any failure here is fatal (nothing to measure).
  for (int i = 0; i < nconns; i++) conn_open(&conns[i]);
  uint64_t connect_deadline = now_ns() + 5000000000u;
  for (int up = 0; up < nconns;) {
    int64_t left = (int64_t)(connect_deadline - now_ns());
    if (left <= 0) die("connect %s:%d: timed out", host, (int)port);
    int n = epoll_wait(ep, evs, 64, (int)(left / 1000000) + 1);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c || c->state != CONNECTING) continue;
      int err = c->connect_err;
      socklen_t el = sizeof err;
      if (!err) getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
      if (err || (evs[i].events & (EPOLLERR | EPOLLHUP))) die("connect %s:%d: %s", host, (int)port, strerror(err ? err : ECONNRESET));
      if (evs[i].events & EPOLLOUT) {
        c->state = IDLE;
        want_out(c, 0);
        up++;
      }
    }
  }

  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  t0 = now_ns() + 1000000; // first request 1 ms from now
  deadline = intended(total - 1) + timeout_ns;
  uint64_t armed = 0;
  for (;;) {
    uint64_t now = now_ns();
    // -S: within spin_ns of the next intended time, wait for it on the CPU (timer wake-ups
    // come tens of µs late here; a spin does not).
    if (spin_ns && next_due < total) {
      uint64_t due = intended(next_due);
      if (due > now && due - now <= spin_ns)
        while ((now = now_ns()) < due) {
#if defined(__x86_64__) || defined(__i386__)
          __builtin_ia32_pause();
#endif
        }
    }
    for (; next_due < total && intended(next_due) <= now; next_due++) hist_add(&sched_late, now - intended(next_due), intended(next_due));
    for (int i = 0; i < nconns && next_unsent < next_due; i++)
      if (conns[i].state == IDLE) send_next(&conns[i], now);
    // Expired requests, and reconnects of dropped connections.
    for (int i = 0; i < nconns; i++) {
      conn *c = &conns[i];
      if (c->state == BUSY && now - c->sent_at >= timeout_ns) {
        n_timeout++;
        finished++;
        c->state = IDLE; // not an error of the connection: close it so a late answer cannot be misattributed
        conn_close(c, now);
      }
      if (c->state == DOWN && now >= c->retry_at) {
        n_reconnects++;
        conn_open(c);
      }
    }
    if (finished == total || now >= deadline) break;
    if (next_due < total && armed != intended(next_due) - spin_ns) {
      armed = intended(next_due) - spin_ns;
      struct itimerspec its = {.it_value = {.tv_sec = (time_t)(armed / 1000000000u), .tv_nsec = (long)(armed % 1000000000u)}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    // Sockets and the schedule timer wake us; the 10 ms cap bounds how late timeouts, reconnects
    // and the deadline are noticed.
    int n = epoll_wait(ep, evs, 64, 10);
    if (n < 0 && errno != EINTR) die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) {
        // Re-arming (top of the loop) clears the expiry; only the last one must be read.
        uint64_t ticks;
        if (next_due >= total && read(tfd, &ticks, sizeof ticks) < 0) { /* nothing to drain */ }
        continue;
      }
      if (c->state == DOWN) continue; // closed earlier in this batch
      now = now_ns();
      if (c->state == CONNECTING) {
        int err = c->connect_err;
        socklen_t el = sizeof err;
        if (!err) getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err || (evs[i].events & (EPOLLERR | EPOLLHUP))) fail_conn(c, now);
        else if (evs[i].events & EPOLLOUT) {
          c->state = IDLE;
          want_out(c, 0);
        }
        continue;
      }
      if (evs[i].events & EPOLLOUT) {
        int r = flush_out(c);
        if (r < 0) {
          fail_conn(c, now);
          continue;
        }
        if (r == 0) want_out(c, 0);
      }
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c, now);
    }
  }
  uint64_t end = now_ns();
  // Whatever is left ran past the deadline: in flight or never sent, both count as timeouts.
  for (int i = 0; i < nconns; i++)
    if (conns[i].state == BUSY) n_timeout++, finished++;
  n_unsent = total - next_unsent;
  n_timeout += n_unsent;
  finished += n_unsent;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu_ms = (double)(ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e3 +
                  (double)(ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e3;
  uint64_t span = (last_done > t0 ? last_done : end > t0 ? end : t0 + 1) - t0;
  uint64_t errors = n_http_err + n_conn_err;
  printf("{\"count\":%llu,\"sent\":%llu,\"ok\":%llu,\"failed\":%llu,\"errors\":%llu,\"httpErrors\":%llu,\"connErrors\":%llu,"
         "\"timeouts\":%llu,\"unsent\":%llu,\"reconnects\":%llu,\"seconds\":%.3f,\"rate\":%.3f,\"achievedRate\":%.1f,",
         (unsigned long long)total, (unsigned long long)next_unsent, (unsigned long long)n_ok, (unsigned long long)(errors + n_timeout),
         (unsigned long long)errors, (unsigned long long)n_http_err, (unsigned long long)n_conn_err, (unsigned long long)n_timeout,
         (unsigned long long)n_unsent, (unsigned long long)n_reconnects, (double)span / 1e9, rate,
         (double)(n_ok + n_http_err) / ((double)span / 1e9));
  printf("\"p50Ms\":%.4f,\"p90Ms\":%.4f,\"p99Ms\":%.4f,\"p999Ms\":%.4f,\"maxMs\":%.4f,\"maxAtS\":%.3f,\"serviceP50Ms\":%.4f,\"serviceP99Ms\":%.4f,",
         ms(hist_q(&lat, 0.5)), ms(hist_q(&lat, 0.9)), ms(hist_q(&lat, 0.99)), ms(hist_q(&lat, 0.999)), ms(lat.max), max_at_s(&lat),
         ms(hist_q(&service, 0.5)), ms(hist_q(&service, 0.99)));
  print_late("schedLateUs", &sched_late);
  putchar(',');
  print_late("sendLateUs", &send_late);
  printf(",\"cpuMs\":%.1f,\"connections\":%d,\"rtPrio\":%d,\"spinUs\":%.1f}\n", cpu_ms, nconns, (int)rtprio, (double)spin_ns / 1e3);
  return 0;
}
