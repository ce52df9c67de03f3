// SPDX-License-Identifier: GPL-2.0
/* wiretap socket tracer: syscalls → ringbuf records (layout in socket_tracer.h).
 * Only TCP over IPv4/IPv6 is shipped; "is this fd such a socket" is decided here by walking
 * the task's fd table, so file and pipe I/O never leave the kernel. Two attach modes share
 * all logic: one tp_btf program on sys_exit dispatching on the syscall number (default,
 * cheaper per call) or the per-syscall tracepoints (the loader picks one set). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "socket_tracer.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115
#define MSG_PEEK 2
#define BPF_LOCAL_STORAGE_GET_F_CREATE 1

/* x86_64 syscall numbers (the raw sys_exit dispatch; 32-bit compat calls are not
 * traced in that mode). */
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_accept4 288
#define NR_recvmmsg 299
#define NR_sendmmsg 307

/* Set by the loader before load (skeleton .rodata). */
const volatile __u32 self_tgid = 0;
const volatile __u32 payload_cap = WT_DEFAULT_PAYLOAD_CAP;
/* Ship payload only for connections whose first bytes look like a protocol we parse. */
const volatile __u8 infer_protocols = 1;
/* Scope: only this network namespace (inode of /proc/PID/ns/net; 0 = all) and/or only this
 * cgroup v2 subtree (id of its root and that root's level; 0 = all). */
const volatile __u32 scope_netns = 0;
const volatile __u64 scope_cgroup = 0;
const volatile __u32 scope_cgroup_level = 0;

/* TLS gates for the plain syscall path (finish_call): threads inside an SSL_read/SSL_write
 * call right now (incremented at the uprobe, decremented at its return; a return that never
 * comes only leaves the gate open), and whether any BIO_write of an SSL call was seen. */
__u64 tls_inflight = 0;
__u8 tls_membio = 0;

/* Size is set by the loader before load (power of two). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

/* LRU: a process that exits closes its fds without close(2); stale entries age out.
 * User space reads it for conn_stats and may set WT_FLAG_DISABLED. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct wt_conn_key);
	__type(value, struct wt_conn);
} conns SEC(".maps");

/* Syscall arguments between enter and exit. Task-local storage: no hashing and no LRU
 * lock on the hot path, freed with the task (the LRU hash it replaced cost an update and
 * a delete per call). `sys` = 0 means "nothing pending". */
struct call_args {
	__u64 ts;
	__u64 sk;
	__u64 buf;      /* buffer, iovec array when vec, mmsghdr array for *mmsg */
	__u64 iovcnt;
	__u32 fd;
	__u16 sys;
	__u8 dir;
	__u8 vec;       /* ARG_VEC: buf is an iovec array; ARG_BIO: bio_bind this send */
};
#define ARG_VEC 1
#define ARG_BIO 2   /* a send by a memory-BIO TLS thread: look its head up in bio_heads */

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_args);
} calls SEC(".maps");

/* An SSL_read/SSL_write call in progress on this thread: its arguments, and the socket the
 * library's own read/write syscalls used inside it (how SSL* is mapped to an fd when the
 * SSL object does its own socket I/O, as libssl users do). Exists only for threads that
 * made SSL calls, so other threads' syscalls pay one failed lookup and nothing more. */
struct tls_call {
	__u64 ssl;
	__u64 buf;
	__u64 outlen;   /* _ex variants: size_t *written / *readbytes */
	__u64 ts;
	__s32 fd;
	__u8 dir;
	__u8 active;
	__u8 ex;
	__u8 membio;    /* this thread's SSL objects write ciphertext to memory BIOs (node) */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tls_call);
} tls_calls SEC(".maps");

/* SSL* → socket once learnt (SSL_read may be served from the library's buffer, no
 * syscall; a memory-BIO SSL object never makes one). The socket's `struct sock` is kept so
 * an fd closed and reused behind our back is not taken for the same connection. Deleted by
 * the SSL_free uprobe; LRU for processes that exit without freeing. */
struct ssl_key {
	__u32 tgid;
	__u32 _pad;
	__u64 ssl;
};

struct ssl_sock {
	__s32 fd;
	__u32 _pad;
	__u64 sk;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ssl_key);
	__type(value, struct ssl_sock);
} ssl_fds SEC(".maps");

/* Memory-BIO TLS (node): the first WT_TLS_HEAD ciphertext bytes of each record an unbound
 * SSL object wrote into its BIO → that SSL*. When the application later flushes the BIO to
 * its socket, the write starts with such a record: the match binds SSL* → socket. Ciphertext
 * (and a hello's random) makes a false match as good as impossible. Entries are deleted on
 * match; records never seen at the start of a write age out (LRU). */
struct bio_head {
	__u32 tgid;
	__u32 _pad;
	__u8 head[WT_TLS_HEAD];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct bio_head);
	__type(value, __u64);
} bio_heads SEC(".maps");

/* Scratch record per CPU. A plain ARRAY indexed by CPU id (entries = CPUs, set by the
 * loader) because per-CPU values are limited to 32 KiB; the payload area is twice the max
 * so "offset ≤ MAX, length ≤ MAX" is provably in bounds for the verifier. */
struct scratch {
	struct wt_event ev;
	__u8 payload[2 * WT_MAX_PAYLOAD];
	struct wt_conn conn;  /* a new `conns` entry under construction (stack is 512 B) */
	struct iovec iov[2];  /* a two-iovec call's array, read at once */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* One per-CPU struct wt_stats (key 0): a single lookup per record. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wt_stats);
} stats SEC(".maps");

/* clang-14 otherwise folds the bound away and the verifier sees an unbounded length. */
#define CLAMP(n, max) asm volatile("if %[v] <= %[m] goto +1; %[v] = %[m];" : [v] "+r"(n) : [m] "i"(max))

static __always_inline struct wt_stats *stats_slot(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline void emit(void *data, __u64 len)
{
	CLAMP(len, sizeof(struct wt_event) + WT_MAX_PAYLOAD);
	/* No wakeup: the poller drains on a timer, which saves an irq_work per record. */
	long err = bpf_ringbuf_output(&events, data, len, BPF_RB_NO_WAKEUP);
	struct wt_stats *st = stats_slot();
	if (!st)
		return;
	if (err) {
		st->drops++;
	} else {
		st->events++;
		st->bytes += len;
	}
}

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline int in_cgroup_scope(void)
{
	if (!scope_cgroup)
		return 1;
	return bpf_get_current_ancestor_cgroup_id(scope_cgroup_level) == scope_cgroup;
}

/* fd → struct sock if it is a TCP socket over IPv4/IPv6 (in the scoped netns), else NULL.
 * Runs on every traced syscall (file I/O included), so it uses direct BTF-pointer loads (no
 * helper call each) wherever the verifier allows; only the fd array slot needs
 * bpf_probe_read_kernel. */
static __always_inline struct sock *tcp_sock_of(struct task_struct *task, __u64 fd64)
{
	__u32 fd = fd64;
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	/* fd[fd] without a helper call: the slot's address cast to a struct whose first field
	 * is a pointer, then a direct (fault-safe) load of that field. */
	__u64 fds = (__u64)fdt->fd;
	if (!fds)
		return NULL;
	struct list_head *slot = bpf_rdonly_cast((void *)(fds + (__u64)fd * sizeof(void *)),
						 bpf_core_type_id_kernel(struct list_head));
	__u64 fp = (__u64)slot->next;
	if (!fp)
		return NULL;
	struct file *file = bpf_rdonly_cast((void *)fp, bpf_core_type_id_kernel(struct file));
	struct inode *inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = bpf_rdonly_cast(file->private_data, bpf_core_type_id_kernel(struct socket));
	if (!sock || sock->type != SOCK_STREAM)
		return NULL;
	struct sock *sk = sock->sk;
	if (!sk)
		return NULL;
	__u16 fam = sk->__sk_common.skc_family;
	if (fam != AF_INET && fam != AF_INET6)
		return NULL;
	if (sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	if (scope_netns && sk->__sk_common.skc_net.net->ns.inum != scope_netns)
		return NULL;
	/* Callers keep it as a plain address (stored in maps, compared, read with CO-RE). */
	return (struct sock *)(__u64)sk;
}

static __always_inline __u64 start_ticks_of(struct task_struct *task)
{
	/* /proc/PID/stat field 22: nsec_to_clock_t(start_boottime) with USER_HZ = 100. */
	return task->group_leader->start_boottime / 10000000ULL;
}

static __always_inline void conn_addrs(struct wt_conn *c, __u64 skp)
{
	/* Direct (fault-safe) loads instead of a helper call per field. */
	struct sock *sk = bpf_rdonly_cast((void *)skp, bpf_core_type_id_kernel(struct sock));
	struct inet_sock *inet = bpf_rdonly_cast((void *)skp, bpf_core_type_id_kernel(struct inet_sock));
	__u32 *l = (__u32 *)c->laddr, *r = (__u32 *)c->raddr;
	/* inet_sport, not skc_num: the latter is zeroed when the port is released at TCP_CLOSE,
	 * which a server that closes after its peer reaches before close(2). */
	c->lport = bpf_ntohs(inet->inet_sport);
	c->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (sk->__sk_common.skc_family == AF_INET6) {
		c->family = 6;
		l[0] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[0];
		l[1] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[1];
		l[2] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[2];
		l[3] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[3];
		r[0] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[0];
		r[1] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[1];
		r[2] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[2];
		r[3] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3];
	} else {
		c->family = 4;
		l[0] = sk->__sk_common.skc_rcv_saddr;
		r[0] = sk->__sk_common.skc_daddr;
	}
}

/* A fresh connection entry: addresses are read once here and copied into every record. */
static __always_inline void conn_init(struct wt_conn *n, __u64 sk, __u64 now, __u8 role)
{
	__builtin_memset(n, 0, sizeof(*n));
	n->gen = now;
	n->sk = sk;
	n->role = role;
	n->start_ticks = start_ticks_of(bpf_get_current_task_btf());
	conn_addrs(n, sk);
}

/* Record header from the connection entry. */
static __always_inline void fill_header(struct wt_event *e, __u8 kind, __u64 id, __u32 fd,
					struct wt_conn *c, __u16 sys)
{
	e->kind = kind;
	e->role = c->role;
	e->family = c->family;
	e->fd = fd;
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	e->start_ticks = c->start_ticks;
	e->gen = c->gen;
	e->syscall = sys;
	e->proto = c->proto;
	e->flags = c->flags;
	e->lport = c->lport;
	e->rport = c->rport;
	__builtin_memcpy(e->laddr, c->laddr, 16);
	__builtin_memcpy(e->raddr, c->raddr, 16);
}

static __always_inline struct scratch *scratch_slot(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch, &cpu);
}

/* Open/close records carry no payload. */
static __always_inline void emit_ctl(struct scratch *s, __u8 kind, __u64 id, __u32 fd,
				     struct wt_conn *c, __u64 ts_enter, __u64 ts_exit, __u16 sys)
{
	struct wt_event *e = &s->ev;
	__builtin_memset(e, 0, sizeof(*e));
	fill_header(e, kind, id, fd, c, sys);
	e->ts_enter = ts_enter;
	e->ts_exit = ts_exit;
	if (kind == WT_CLOSE) {
		e->pos = c->send_pos;
		e->aux = c->recv_pos;
	}
	emit(e, sizeof(*e));
}

/* ---- in-kernel protocol guess ------------------------------------------------------ */

#define WT_HEAD 16

static __always_inline __u32 be32(const __u8 *p)
{
	return ((__u32)p[0] << 24) | ((__u32)p[1] << 16) | ((__u32)p[2] << 8) | p[3];
}

/* What the first bytes of a message say. Permissive on purpose: a false positive ships a
 * connection's payload for nothing, a false negative loses it. */
static __always_inline __u8 guess_proto(const __u8 *p, __u64 n, __u64 total)
{
	/* A TLS record (handshake, alert, application data): ciphertext, never a guess. */
	if (n >= 3 && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 3 && p[2] <= 4)
		return WT_PROTO_UNKNOWN;
	if (n >= 4) {
		__u32 w = be32(p);
		if (w == 0x47455420 /* "GET " */ || w == 0x504f5354 /* POST */ ||
		    w == 0x50555420 /* PUT  */ || w == 0x48454144 /* HEAD */ ||
		    w == 0x44454c45 /* DELE */ || w == 0x50415443 /* PATC */ ||
		    w == 0x4f505449 /* OPTI */ || w == 0x434f4e4e /* CONN */ ||
		    w == 0x54524143 /* TRAC */ || w == 0x48545450 /* HTTP */)
			return WT_PROTO_HTTP;
	}
	if (n >= 5) {
		__u32 len = p[0] | ((__u32)p[1] << 8) | ((__u32)p[2] << 16);
		__u8 seq = p[3], b = p[4];
		/* Server greeting (protocol 10), or a command that starts a client exchange; the
		 * call moved exactly that one packet (how clients and servers write them). */
		if (seq == 0 && len > 0 && len + 4 == total &&
		    (b == 10 || b == 3 /* QUERY */ || b == 0x16 /* STMT_PREPARE */ ||
		     b == 0x17 /* STMT_EXECUTE */ || b == 0x19 /* STMT_CLOSE */ || b == 2 /* INIT_DB */ ||
		     b == 0x0e /* PING */ || b == 1 /* QUIT */) &&
		    (b != 1 || len == 1) && (b != 0x0e || len == 1) && (b == 10 ? len >= 40 : 1))
			return WT_PROTO_MYSQL;
	}
	if (n >= 14) {
		/* Request: int32 length, int16 api_key, int16 api_version, int32 correlation id,
		 * int16 client_id length (-1 or short). */
		__u32 len = be32(p);
		__u16 key = ((__u16)p[4] << 8) | p[5];
		__u16 ver = ((__u16)p[6] << 8) | p[7];
		__u16 cid = ((__u16)p[12] << 8) | p[13];
		if (len >= 10 && len < (64 << 20) && key <= 80 && ver <= 20 && !(p[8] & 0x80) &&
		    (cid == 0xffff || cid < 256))
			return WT_PROTO_KAFKA;
	}
	return WT_PROTO_UNKNOWN;
}

/* ---- data syscalls ---------------------------------------------------------------- */

/* bpf_get_current_pid_tgid() from the task pointer the caller holds anyway: helper calls are
 * the dearest part of these programs here (each call and return goes through the
 * speculation-safe return thunk), loads from the task are not. */
static __always_inline __u64 task_id(struct task_struct *task)
{
	return ((__u64)(__u32)task->tgid << 32) | (__u32)task->pid;
}

/* The per-call filter: not the loader itself, in the scoped cgroup, fd is a TCP socket. */
static __always_inline struct sock *traced_sock(struct task_struct *task, __u64 fd)
{
	if ((__u32)task->tgid == self_tgid)
		return NULL;
	if (!in_cgroup_scope())
		return NULL;
	return tcp_sock_of(task, fd);
}

/* Keeps a call's arguments for its exit (sends, connect; receives too in "syscalls" mode).
 * Everything else, TLS bookkeeping included, happens at exit and only for calls that moved
 * bytes. */
static __always_inline int enter_call(__u64 fd, __u64 buf, __u64 iovcnt, __u16 sys, __u8 dir,
				      __u8 vec)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock *sk = traced_sock(task, fd);
	if (!sk)
		return 0;
	struct call_args *a = bpf_task_storage_get(&calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!a)
		return 0;
	a->ts = bpf_ktime_get_ns();
	a->sk = (__u64)sk;
	a->buf = buf;
	a->iovcnt = iovcnt;
	a->fd = (__u32)fd;
	a->sys = sys;
	a->dir = dir;
	a->vec = vec;
	return 0;
}

static __always_inline struct wt_conn *conn_for(__u32 tgid, __u32 fd, __u64 sk, __u64 now)
{
	struct wt_conn_key k = { .tgid = tgid, .fd = fd };
	struct wt_conn *c = bpf_map_lookup_elem(&conns, &k);
	if (c && c->sk == sk)
		return c;
	/* First sight (connection older than the tracer) or an fd reused behind our back. */
	struct scratch *s = scratch_slot();
	if (!s)
		return NULL;
	conn_init(&s->conn, sk, now, WT_ROLE_UNKNOWN);
	bpf_map_update_elem(&conns, &k, &s->conn, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &k);
}

static __always_inline void count_skip(__u64 bytes)
{
	struct wt_stats *st = stats_slot();
	if (st) {
		st->skipped++;
		st->skipped_bytes += bytes;
	}
}

/* First bytes of a buffer or an iovec array, for the protocol guess. */
static __always_inline __u64 read_head(__u8 *head, __u64 buf, __u8 vec, __u64 len)
{
	__u64 n = len < WT_HEAD ? len : WT_HEAD;
	void *src = (void *)buf;
	if (vec) {
		struct iovec iov;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)buf))
			return 0;
		if (iov.iov_len < n)
			n = iov.iov_len;
		src = iov.iov_base;
	}
	CLAMP(n, WT_HEAD);
	if (bpf_probe_read_user(head, n, src))
		return 0;
	return n;
}

/* One iovec of a vectored call into the scratch payload (a bpf_loop step). */
struct iov_walk {
	__u64 iovp;
	__u64 want;
	__u64 off;
};

static long iov_step(__u32 i, void *ctx)
{
	struct iov_walk *w = ctx;
	if (w->off >= w->want)
		return 1;
	struct iovec iov;
	if (bpf_probe_read_user(&iov, sizeof(iov), (void *)(w->iovp + (__u64)i * sizeof(struct iovec))))
		return 1;
	struct scratch *s = scratch_slot();
	if (!s)
		return 1;
	__u64 off = w->off;
	__u64 n = iov.iov_len;
	if (n > w->want - off)
		n = w->want - off;
	CLAMP(off, WT_MAX_PAYLOAD);
	CLAMP(n, WT_MAX_PAYLOAD);
	bpf_probe_read_user(s->payload + off, n, iov.iov_base);
	w->off = off + n;
	return 0;
}

/* Ships `len` bytes moved by one call (or one message of an mmsg call) at stream position
 * `pos`: payload from `buf` (iovec array when vec), capped; nothing when nocopy. */
static __always_inline void ship(struct call_args *a, struct wt_conn *c, __u64 id, __u64 now,
				 __u64 buf, __u64 iovcnt, __u8 vec, __u64 len, __u64 pos,
				 __u8 nocopy, __u8 tls)
{
	/* On a TLS connection the syscalls move ciphertext: only the uprobes' plaintext ships. */
	if ((c->flags & WT_FLAG_DISABLED) || (!tls && (c->flags & WT_FLAG_TLS))) {
		count_skip(len);
		return;
	}
	if (infer_protocols && c->proto == WT_PROTO_UNKNOWN) {
		/* Retried on every message until something matches (a connection first seen
		 * mid-body starts shipping at its next message start). */
		__u8 head[WT_HEAD] = {};
		__u64 hn = nocopy ? 0 : read_head(head, buf, vec, len);
		__u8 p = guess_proto(head, hn, len);
		if (p == WT_PROTO_UNKNOWN) {
			count_skip(len);
			return;
		}
		c->proto = p;
	}
	struct scratch *s = scratch_slot();
	if (!s)
		return;
	struct wt_event *e = &s->ev;
	fill_header(e, WT_DATA, id, a->fd, c, a->sys);
	e->direction = a->dir;
	e->ts_enter = a->ts;
	e->ts_exit = now;
	e->pos = pos;
	e->size = len;
	e->aux = 0;

	__u64 want = nocopy ? 0 : len;
	__u64 cap = payload_cap;
	if (want > cap)
		want = cap;
	CLAMP(want, WT_MAX_PAYLOAD);
	__u64 off = 0;
	if (!vec) {
		bpf_probe_read_user(s->payload, want, (void *)buf);
		off = want;
	} else if (iovcnt == 2 && bpf_probe_read_user(s->iov, sizeof(s->iov), (void *)buf) == 0) {
		/* A header and a body (nginx's writev): the array in one probe read, since every
		 * probe read pays the kernel's hardened-usercopy check (bpf/README.md Cost). A
		 * separate path: a branch inside the loop below makes the verifier give up (E2BIG). */
		__u64 n = s->iov[0].iov_len;
		if (n > want)
			n = want;
		CLAMP(n, WT_MAX_PAYLOAD);
		bpf_probe_read_user(s->payload, n, s->iov[0].iov_base);
		off = n;
		n = s->iov[1].iov_len;
		if (n > want - off)
			n = want - off;
		CLAMP(off, WT_MAX_PAYLOAD);
		CLAMP(n, WT_MAX_PAYLOAD);
		if (n)
			bpf_probe_read_user(s->payload + off, n, s->iov[1].iov_base);
		off += n;
	} else {
		/* Any number of iovecs (node's chunked writes: 3 per chunk, 81 in one writev), up to
		 * the payload cap: bpf_loop keeps the verifier's work constant however many. */
		struct iov_walk w = { .iovp = buf, .want = want, .off = 0 };
		bpf_loop(iovcnt < WT_MAX_IOV ? iovcnt : WT_MAX_IOV, iov_step, &w, 0);
		off = w.off;
	}
	CLAMP(off, WT_MAX_PAYLOAD);
	e->captured = off;
	struct wt_stats *st = stats_slot();
	if (st) {
		st->data_bytes += len;
		if (off < len && !nocopy)
			st->truncated++;
	}
	emit(s, sizeof(struct wt_event) + off);
}

/* A send by a thread whose SSL objects use memory BIOs: if it starts with a record an
 * unbound SSL object wrote into its BIO, that SSL object is this connection's. */
static __always_inline void bio_bind(struct call_args *a, struct wt_conn *c, __u32 tgid)
{
	struct bio_head h = { .tgid = tgid };
	__u64 src = a->buf;
	if (a->vec & ARG_VEC) {
		struct iovec iov;
		if (bpf_probe_read_user(&iov, sizeof(iov), (void *)a->buf) || iov.iov_len < WT_TLS_HEAD)
			return;
		src = (__u64)iov.iov_base;
	}
	if (bpf_probe_read_user(h.head, WT_TLS_HEAD, (void *)src))
		return;
	__u64 *sslp = bpf_map_lookup_elem(&bio_heads, &h);
	if (!sslp)
		return;
	struct ssl_key k = { .tgid = tgid, .ssl = *sslp };
	struct ssl_sock v = { .fd = (__s32)a->fd, .sk = a->sk };
	bpf_map_update_elem(&ssl_fds, &k, &v, BPF_ANY);
	bpf_map_delete_elem(&bio_heads, &h);
	c->flags |= WT_FLAG_TLS;
	struct wt_stats *st = stats_slot();
	if (st)
		st->tls_bio_bound++;
}

/* A call that returned `ret` (> 0 for data calls), arguments in `a`, `now` = exit time. */
static __always_inline int finish_call(struct call_args *ap, __u16 sys, long ret,
				       struct task_struct *task, __u64 now)
{
	/* `sys` (= a.sys) is passed in because it is a constant in each per-syscall exit
	 * program: the paths of other syscalls (the mmsg loop) are compiled out there; with
	 * a.sys the verifier walks them all and gives up on exit_recvmmsg. */
	struct call_args a = *ap;
	__u64 id = task_id(task);
	__u32 tgid = id >> 32;
	/* Known bits for the verifier: ARG_BIO is only ever set below, and the direction
	 * follows from sys (constant in the per-syscall programs, as above). */
	a.vec &= ARG_VEC;
	a.dir = (sys == WT_SYS_READ || sys == WT_SYS_READV || sys == WT_SYS_RECVFROM ||
		 sys == WT_SYS_RECVMSG || sys == WT_SYS_RECVMMSG) ? WT_RECV : WT_SEND;

	if (sys == WT_SYS_CONNECT) {
		/* Non-blocking connect: EINPROGRESS means the handshake is under way. */
		if (ret != 0 && ret != -EINPROGRESS)
			return 0;
		goto opened;
	}
	if (ret <= 0)
		return 0;
	/* Inside SSL_read/SSL_write: this socket is the SSL object's (the uprobe's return
	 * learns it); a send by a memory-BIO TLS thread may bind one. Looked up only while some
	 * thread is in an SSL call or memory-BIO TLS was seen at all: otherwise it is a helper
	 * call per data call that finds nothing. */
	struct tls_call *t = NULL;
	if (tls_inflight || (tls_membio && a.dir == WT_SEND))
		t = bpf_task_storage_get(&tls_calls, task, 0, 0);
	if (t) {
		if (t->active)
			t->fd = (__s32)a.fd;
		if (t->membio && a.dir == WT_SEND)
			a.vec |= ARG_BIO;
	}
	struct wt_conn *c = conn_for(tgid, a.fd, a.sk, now);
	if (!c)
		return 0;
	/* Before ship(): a bound connection's ciphertext is never shipped. */
	if ((a.vec & ARG_BIO) && !(c->flags & WT_FLAG_TLS) && ret >= WT_TLS_HEAD &&
	    sys != WT_SYS_SENDMMSG && sys != WT_SYS_SENDFILE)
		bio_bind(&a, c, tgid);
	if (sys == WT_SYS_SENDMMSG || sys == WT_SYS_RECVMMSG) {
		/* ret = messages moved; each mmsghdr's msg_len = its bytes. */
		struct mmsghdr *mv = (struct mmsghdr *)a.buf;
		for (int i = 0; i < 64; i++) {
			if (i >= ret)
				break;
			struct mmsghdr m;
			if (bpf_probe_read_user(&m, sizeof(m), &mv[i]))
				break;
			__u64 pos = __sync_fetch_and_add(a.dir == WT_SEND ? &c->send_pos : &c->recv_pos,
							 (__u64)m.msg_len);
			if (i < WT_MAX_MMSG) {
				ship(&a, c, id, now, (__u64)m.msg_hdr.msg_iov, m.msg_hdr.msg_iovlen, 1,
				     m.msg_len, pos, 0, 0);
			} else {
				struct wt_stats *st = stats_slot();
				if (st)
					st->mmsg_lost++;
			}
		}
		return 0;
	}
	/* Reserve this call's range of the stream even if the record is dropped later, so
	 * user space sees a gap instead of silently shifted bytes. */
	__u64 pos = __sync_fetch_and_add(a.dir == WT_SEND ? &c->send_pos : &c->recv_pos, (__u64)ret);
	ship(&a, c, id, now, a.buf, a.iovcnt, a.vec & ARG_VEC, ret, pos, sys == WT_SYS_SENDFILE, 0);
	return 0;

opened:;
	struct wt_conn_key k = { .tgid = tgid, .fd = a.fd };
	struct scratch *s = scratch_slot();
	if (!s)
		return 0;
	conn_init(&s->conn, a.sk, now, WT_ROLE_CLIENT);
	bpf_map_update_elem(&conns, &k, &s->conn, BPF_ANY);
	emit_ctl(s, WT_OPEN, id, a.fd, &s->conn, a.ts, now, WT_SYS_CONNECT);
	return 0;
}

/* Exit of a call whose arguments enter_call kept. */
static __always_inline int exit_call(long ret, __u16 sys)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct call_args *ap = bpf_task_storage_get(&calls, task, 0, 0);
	if (!ap || !ap->sys)
		return 0;
	struct call_args a = *ap;
	ap->sys = 0;
	if (a.sys != sys)
		return 0;
	return finish_call(&a, sys, ret, task, bpf_ktime_get_ns());
}

/* Raw mode: data calls (receives and sends) are handled at their exit alone. The arguments
 * are still in pt_regs there (only ax holds the result), so the enter program does nothing
 * for them: no task-storage write and read per call, one clock read, and a call that moved
 * nothing (EAGAIN) costs a compare. Their records carry ts_enter = ts_exit = the exit time
 * (as Pixie's do): a send's bytes are in the socket when it returns. */
static __always_inline int exit_data(__u16 sys, long ret, __u64 fd, __u64 buf, __u64 a2, __u64 a3)
{
	if (ret <= 0)
		return 0;
	struct call_args a = { .buf = buf, .fd = (__u32)fd, .sys = sys };
	switch (sys) {
	case WT_SYS_READ:
	case WT_SYS_WRITE:
	case WT_SYS_SENDTO:
		break;
	case WT_SYS_READV:
	case WT_SYS_WRITEV:
	case WT_SYS_SENDMMSG:
		a.iovcnt = a2;
		a.vec = ARG_VEC;
		break;
	case WT_SYS_RECVFROM:
		/* MSG_PEEK leaves the bytes in the socket: they will be read again. */
		if (a3 & MSG_PEEK)
			return 0;
		break;
	case WT_SYS_RECVMSG:
	case WT_SYS_SENDMSG: {
		if (sys == WT_SYS_RECVMSG && (a2 & MSG_PEEK))
			return 0;
		struct user_msghdr mh;
		if (bpf_probe_read_user(&mh, sizeof(mh), (void *)buf))
			return 0;
		a.buf = (__u64)mh.msg_iov;
		a.iovcnt = mh.msg_iovlen;
		a.vec = ARG_VEC;
		break;
	}
	case WT_SYS_RECVMMSG:
		if (a3 & MSG_PEEK)
			return 0;
		a.iovcnt = a2;
		a.vec = ARG_VEC;
		break;
	case WT_SYS_SENDFILE: /* out_fd, in_fd: bytes counted, no payload */
		a.buf = 0;
		break;
	default:
		return 0;
	}
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock *sk = traced_sock(task, fd);
	if (!sk)
		return 0;
	a.sk = (__u64)sk;
	__u64 now = bpf_ktime_get_ns();
	a.ts = now;
	return finish_call(&a, sys, ret, task, now);
}

static __always_inline int enter_msg(__u64 fd, __u64 msgp, __u64 flags, __u16 sys, __u8 dir)
{
	if (dir == WT_RECV && (flags & MSG_PEEK))
		return 0;
	struct user_msghdr mh;
	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)msgp))
		return 0;
	return enter_call(fd, (__u64)mh.msg_iov, mh.msg_iovlen, sys, dir, 1);
}

/* ---- connection lifecycle -------------------------------------------------------- */

static __always_inline int on_accept(long ret, __u16 sys)
{
	if (ret < 0)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	if (!in_cgroup_scope())
		return 0;
	struct sock *sk = tcp_sock_of(bpf_get_current_task_btf(), ret);
	if (!sk)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct wt_conn_key k = { .tgid = id >> 32, .fd = (__u32)ret };
	struct scratch *s = scratch_slot();
	if (!s)
		return 0;
	conn_init(&s->conn, (__u64)sk, now, WT_ROLE_SERVER);
	bpf_map_update_elem(&conns, &k, &s->conn, BPF_ANY);
	emit_ctl(s, WT_OPEN, id, (__u32)ret, &s->conn, now, now, sys);
	return 0;
}

/* CLOSE for a connection we track. `at_exit` (raw mode): close(2) has released the fd by
 * now, and another thread may already have been given the same number for a new socket
 * (its accept/connect exit made the entry); when the fd resolves to the entry's own socket,
 * the entry is that new connection's and stays. */
static __always_inline int on_close(__u64 fd64, __u8 at_exit)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 id = task_id(task);
	struct wt_conn_key k = { .tgid = id >> 32, .fd = (__u32)fd64 };
	struct wt_conn *cp = bpf_map_lookup_elem(&conns, &k);
	if (!cp)
		return 0;
	if (at_exit && (__u64)tcp_sock_of(task, fd64) == cp->sk)
		return 0;
	struct scratch *s = scratch_slot();
	if (!s)
		return 0;
	s->conn = *cp;
	bpf_map_delete_elem(&conns, &k);
	__u64 now = bpf_ktime_get_ns();
	emit_ctl(s, WT_CLOSE, id, (__u32)fd64, &s->conn, now, now, WT_SYS_CLOSE);
	return 0;
}

/* Raw mode: connect at its exit alone (the socket is the same one; the OPEN record carries
 * ts_enter = ts_exit, user space uses the exit time). */
static __always_inline int connect_at_exit(long ret, __u64 fd)
{
	/* Non-blocking connect: EINPROGRESS means the handshake is under way. */
	if (ret != 0 && ret != -EINPROGRESS)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock *sk = traced_sock(task, fd);
	if (!sk)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct call_args a = { .ts = now, .sk = (__u64)sk, .fd = (__u32)fd, .sys = WT_SYS_CONNECT };
	return finish_call(&a, WT_SYS_CONNECT, ret, task, now);
}

/* Per-syscall argument decoding shared by both attach modes. a0..a3: syscall arguments. */
static __always_inline int on_enter(__u16 sys, __u64 a0, __u64 a1, __u64 a2, __u64 a3)
{
	switch (sys) {
	case WT_SYS_READ:
		return enter_call(a0, a1, 0, sys, WT_RECV, 0);
	case WT_SYS_WRITE:
		return enter_call(a0, a1, 0, sys, WT_SEND, 0);
	case WT_SYS_READV:
		return enter_call(a0, a1, a2, sys, WT_RECV, 1);
	case WT_SYS_WRITEV:
		return enter_call(a0, a1, a2, sys, WT_SEND, 1);
	case WT_SYS_RECVFROM:
		/* MSG_PEEK leaves the bytes in the socket: they will be read again. */
		if (a3 & MSG_PEEK)
			return 0;
		return enter_call(a0, a1, 0, sys, WT_RECV, 0);
	case WT_SYS_SENDTO:
		return enter_call(a0, a1, 0, sys, WT_SEND, 0);
	case WT_SYS_RECVMSG:
		return enter_msg(a0, a1, a2, sys, WT_RECV);
	case WT_SYS_SENDMSG:
		return enter_msg(a0, a1, a2, sys, WT_SEND);
	case WT_SYS_RECVMMSG:
		if (a3 & MSG_PEEK)
			return 0;
		return enter_call(a0, a1, a2, sys, WT_RECV, 1);
	case WT_SYS_SENDMMSG:
		return enter_call(a0, a1, a2, sys, WT_SEND, 1);
	case WT_SYS_SENDFILE: /* out_fd, in_fd: bytes counted, no payload */
		return enter_call(a0, 0, 0, sys, WT_SEND, 0);
	case WT_SYS_CONNECT:
		return enter_call(a0, 0, 0, sys, WT_SEND, 0);
	case WT_SYS_CLOSE:
		return on_close(a0, 0);
	}
	return 0;
}

static __always_inline int on_exit(__u16 sys, long ret)
{
	if (sys == WT_SYS_ACCEPT || sys == WT_SYS_ACCEPT4)
		return on_accept(ret, sys);
	return exit_call(ret, sys);
}

static __always_inline __u16 wt_sys(long nr)
{
	switch (nr) {
	case NR_read: return WT_SYS_READ;
	case NR_write: return WT_SYS_WRITE;
	case NR_readv: return WT_SYS_READV;
	case NR_writev: return WT_SYS_WRITEV;
	case NR_recvfrom: return WT_SYS_RECVFROM;
	case NR_sendto: return WT_SYS_SENDTO;
	case NR_recvmsg: return WT_SYS_RECVMSG;
	case NR_sendmsg: return WT_SYS_SENDMSG;
	case NR_recvmmsg: return WT_SYS_RECVMMSG;
	case NR_sendmmsg: return WT_SYS_SENDMMSG;
	case NR_sendfile: return WT_SYS_SENDFILE;
	case NR_connect: return WT_SYS_CONNECT;
	case NR_accept: return WT_SYS_ACCEPT;
	case NR_accept4: return WT_SYS_ACCEPT4;
	case NR_close: return WT_SYS_CLOSE;
	}
	return 0;
}

/* ---- attach mode "raw": one program pair for all syscalls --------------------------- */

/* Everything happens at sys_exit: the arguments are still in pt_regs there (only ax holds
 * the result), and no record needs the enter time (user space times sends, receives and
 * opens by their exit, closes by theirs). So no program runs at sys_enter, which every
 * syscall of every task on the machine would pay for (~35 ns of program plus the call into
 * it). */
SEC("tp_btf/sys_exit")
int BPF_PROG(raw_exit, struct pt_regs *regs, long ret)
{
	__u16 sys = wt_sys(regs->orig_ax);
	switch (sys) {
	case 0:
		return 0;
	case WT_SYS_CLOSE:
		return on_close(regs->di, 1);
	case WT_SYS_CONNECT:
		return connect_at_exit(ret, regs->di);
	case WT_SYS_ACCEPT:
	case WT_SYS_ACCEPT4:
		return on_accept(ret, sys);
	}
	return exit_data(sys, ret, regs->di, regs->si, regs->dx, regs->r10);
}

/* ---- attach mode "syscalls": per-syscall tracepoints ------------------------------ */

#define ENTER(name, sys) SEC("tracepoint/syscalls/sys_enter_" #name) \
	int enter_##name(struct trace_event_raw_sys_enter *ctx) \
	{ return on_enter(sys, ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3]); }
#define EXIT(name, sys) SEC("tracepoint/syscalls/sys_exit_" #name) \
	int exit_##name(struct trace_event_raw_sys_exit *ctx) { return on_exit(sys, ctx->ret); }

ENTER(read, WT_SYS_READ) EXIT(read, WT_SYS_READ)
ENTER(write, WT_SYS_WRITE) EXIT(write, WT_SYS_WRITE)
ENTER(readv, WT_SYS_READV) EXIT(readv, WT_SYS_READV)
ENTER(writev, WT_SYS_WRITEV) EXIT(writev, WT_SYS_WRITEV)
ENTER(recvfrom, WT_SYS_RECVFROM) EXIT(recvfrom, WT_SYS_RECVFROM)
ENTER(sendto, WT_SYS_SENDTO) EXIT(sendto, WT_SYS_SENDTO)
ENTER(recvmsg, WT_SYS_RECVMSG) EXIT(recvmsg, WT_SYS_RECVMSG)
ENTER(sendmsg, WT_SYS_SENDMSG) EXIT(sendmsg, WT_SYS_SENDMSG)
ENTER(recvmmsg, WT_SYS_RECVMMSG) EXIT(recvmmsg, WT_SYS_RECVMMSG)
ENTER(sendmmsg, WT_SYS_SENDMMSG) EXIT(sendmmsg, WT_SYS_SENDMMSG)
ENTER(sendfile64, WT_SYS_SENDFILE) EXIT(sendfile64, WT_SYS_SENDFILE)
ENTER(connect, WT_SYS_CONNECT) EXIT(connect, WT_SYS_CONNECT)
EXIT(accept, WT_SYS_ACCEPT)
EXIT(accept4, WT_SYS_ACCEPT4)
ENTER(close, WT_SYS_CLOSE)

/* ---- TLS: uprobes on libssl's SSL_read/SSL_write(_ex) -------------------------------- */
/* Attached by the loader to each libssl found (uprobes live on the file's inode, so one
 * attach covers every process mapping that file, running or started later). */

static __always_inline int tls_enter(__u64 ssl, __u64 buf, __u64 outlen, __u8 dir, __u8 ex)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)(id >> 32) == self_tgid || !in_cgroup_scope())
		return 0;
	struct tls_call *t = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return 0;
	t->ssl = ssl;
	t->buf = buf;
	t->outlen = outlen;
	t->ts = bpf_ktime_get_ns();
	t->fd = -1;
	t->dir = dir;
	t->ex = ex;
	if (!t->active)
		__sync_fetch_and_add(&tls_inflight, 1);
	t->active = 1;
	return 0;
}

static __always_inline int tls_exit(long ret)
{
	struct tls_call *tp = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (!tp || !tp->active)
		return 0;
	struct tls_call t = *tp;
	tp->active = 0;
	__sync_fetch_and_add(&tls_inflight, -1);
	/* SSL_read/SSL_write(_ex) return int: rax's upper half is not part of it (-1 would
	 * otherwise read as 4294967295 bytes). */
	ret = (int)ret;
	__u64 n = 0;
	if (t.ex) {
		if (ret != 1 || bpf_probe_read_user(&n, sizeof(n), (void *)t.outlen))
			return 0;
	} else {
		if (ret <= 0)
			return 0;
		n = ret;
	}
	if (!n)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	struct ssl_key k = { .tgid = id >> 32, .ssl = t.ssl };
	__s32 fd = t.fd;
	struct sock *sk;
	if (fd >= 0) {
		/* The library did socket I/O inside the call (socket BIO): learn or refresh. */
		sk = tcp_sock_of(bpf_get_current_task_btf(), fd);
		if (!sk)
			return 0;
		struct ssl_sock v = { .fd = fd, .sk = (__u64)sk };
		bpf_map_update_elem(&ssl_fds, &k, &v, BPF_ANY);
	} else {
		/* Served from the library's buffer, or a memory BIO: the binding learnt before,
		 * if its socket is still the same one. */
		struct ssl_sock *v = bpf_map_lookup_elem(&ssl_fds, &k);
		sk = v ? tcp_sock_of(bpf_get_current_task_btf(), v->fd) : NULL;
		if (!v || !sk || (__u64)sk != v->sk) {
			struct wt_stats *st = stats_slot();
			if (st)
				st->tls_nofd++;
			return 0;
		}
		fd = v->fd;
	}
	__u64 now = bpf_ktime_get_ns();
	struct wt_conn *c = conn_for(id >> 32, fd, (__u64)sk, now);
	if (!c)
		return 0;
	c->flags |= WT_FLAG_TLS;
	__u64 pos = __sync_fetch_and_add(t.dir == WT_SEND ? &c->tls_send_pos : &c->tls_recv_pos, n);
	struct call_args a = {
		.ts = t.ts, .sk = (__u64)sk, .buf = t.buf, .fd = fd,
		.sys = t.dir == WT_SEND ? WT_SYS_SSL_WRITE : WT_SYS_SSL_READ, .dir = t.dir,
	};
	ship(&a, c, id, now, t.buf, 0, 0, n, pos, 0, 1);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_write_enter, void *ssl, void *buf, int num)
{
	return tls_enter((__u64)ssl, (__u64)buf, 0, WT_SEND, 0);
}

SEC("uprobe")
int BPF_KPROBE(tls_read_enter, void *ssl, void *buf, int num)
{
	return tls_enter((__u64)ssl, (__u64)buf, 0, WT_RECV, 0);
}

SEC("uprobe")
int BPF_KPROBE(tls_write_ex_enter, void *ssl, void *buf, __u64 num, void *written)
{
	return tls_enter((__u64)ssl, (__u64)buf, (__u64)written, WT_SEND, 1);
}

SEC("uprobe")
int BPF_KPROBE(tls_read_ex_enter, void *ssl, void *buf, __u64 num, void *readbytes)
{
	return tls_enter((__u64)ssl, (__u64)buf, (__u64)readbytes, WT_RECV, 1);
}

SEC("uretprobe")
int BPF_KRETPROBE(tls_ret, long ret)
{
	return tls_exit(ret);
}

/* BIO_write(_ex) of a binary with OpenSSL linked in (node): inside an SSL call, the record
 * layer writing ciphertext to the SSL object's write BIO. With a memory BIO the socket write
 * comes later, outside the call; remember the record's head so that write can be matched
 * (bio_bind). Attached only to such binaries: libssl users' BIO_write is in libcrypto. */
static __always_inline int bio_write(__u64 data, __s64 len)
{
	struct tls_call *t = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), 0, 0);
	if (!t || !t->active)
		return 0;
	t->membio = 1;
	tls_membio = 1;
	if (len < WT_TLS_HEAD)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct ssl_key k = { .tgid = tgid, .ssl = t->ssl };
	if (bpf_map_lookup_elem(&ssl_fds, &k))
		return 0; /* bound already (SSL_free unbinds, so a reused address starts over) */
	struct bio_head h = { .tgid = tgid };
	if (bpf_probe_read_user(h.head, WT_TLS_HEAD, (void *)data))
		return 0;
	bpf_map_update_elem(&bio_heads, &h, &k.ssl, BPF_ANY);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(tls_bio_write, void *bio, void *data, int len)
{
	return bio_write((__u64)data, len);
}

SEC("uprobe")
int BPF_KPROBE(tls_bio_write_ex, void *bio, void *data, __u64 len)
{
	return bio_write((__u64)data, len > 0x7fffffff ? 0x7fffffff : (__s64)len);
}

/* SSL_free: the SSL object is gone; its address may come back for another connection. */
SEC("uprobe")
int BPF_KPROBE(tls_free, void *ssl)
{
	struct ssl_key k = { .tgid = bpf_get_current_pid_tgid() >> 32, .ssl = (__u64)ssl };
	bpf_map_delete_elem(&ssl_fds, &k);
	return 0;
}

/* ---- process lifecycle (both modes) ------------------------------------------------- */

static __always_inline int task_in_scope(struct task_struct *t)
{
	if (!in_cgroup_scope())
		return 0;
	if (scope_netns && t->nsproxy && t->nsproxy->net_ns->ns.inum != scope_netns)
		return 0;
	return 1;
}

/* EXEC: a process image was replaced (user space re-reads cmdline); payload = file name. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!task_in_scope(p))
		return 0;
	struct scratch *s = scratch_slot();
	if (!s)
		return 0;
	struct wt_event *e = &s->ev;
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = WT_EXEC;
	e->tgid = p->tgid;
	e->tid = p->pid;
	e->fd = p->real_parent->tgid;
	e->start_ticks = start_ticks_of(p);
	e->ts_enter = e->ts_exit = bpf_ktime_get_ns();
	long n = bpf_probe_read_kernel_str(s->payload, WT_MAX_FILENAME, bprm->filename);
	__u64 len = n > 1 ? n - 1 : 0; /* without the NUL */
	CLAMP(len, WT_MAX_FILENAME);
	e->captured = len;
	emit(s, sizeof(struct wt_event) + len);
	return 0;
}

/* EXIT: the last thread of a process is gone (user space keeps its metadata a while). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_process, struct task_struct *p, bool group_dead)
{
	if (!group_dead || !task_in_scope(p))
		return 0;
	struct wt_event e;
	__builtin_memset(&e, 0, sizeof(e));
	e.kind = WT_EXIT;
	e.tgid = p->tgid;
	e.tid = p->pid;
	e.start_ticks = start_ticks_of(p);
	e.ts_enter = e.ts_exit = bpf_ktime_get_ns();
	e.aux = p->exit_code;
	emit(&e, sizeof(e));
	return 0;
}
