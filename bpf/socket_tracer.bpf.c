// SPDX-License-Identifier: GPL-2.0
/* wiretap socket tracer: syscall tracepoints → ringbuf records (layout in socket_tracer.h).
 * Only TCP over IPv4/IPv6 is shipped; "is this fd such a socket" is decided here by walking
 * the task's fd table, so file and pipe I/O never leave the kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
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

/* Set by the loader before load (skeleton .rodata). */
const volatile __u32 self_tgid = 0;
const volatile __u32 payload_cap = WT_DEFAULT_PAYLOAD_CAP;

/* Size is set by the loader before load (power of two). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 << 20);
} events SEC(".maps");

struct conn_key {
	__u32 tgid;
	__u32 fd;
};

struct conn_info {
	__u64 gen;
	__u64 sk;        /* detects fd reuse we did not see close (dup2, exit, close_range) */
	__u64 send_pos;
	__u64 recv_pos;
	__u8 role;
	__u8 _pad[7];
};

/* LRU: a process that exits closes its fds without close(2); stale entries age out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct conn_key);
	__type(value, struct conn_info);
} conns SEC(".maps");

/* Syscall arguments between enter and exit, keyed by pid_tgid (one syscall per thread). */
struct call_args {
	__u64 ts;
	__u64 sk;
	__u64 buf;      /* buffer, or iovec array when vec */
	__u64 iovcnt;
	__u32 fd;
	__u16 syscall;
	__u8 dir;
	__u8 vec;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct call_args);
} calls SEC(".maps");

/* Scratch record per CPU. A plain ARRAY indexed by CPU id (entries = CPUs, set by the
 * loader) because per-CPU values are limited to 32 KiB; the payload area is twice the max
 * so "offset ≤ MAX, length ≤ MAX" is provably in bounds for the verifier. */
struct scratch {
	struct wt_event ev;
	__u8 payload[2 * WT_MAX_PAYLOAD];
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

static __always_inline void emit(void *data, __u64 len, __u64 data_bytes)
{
	CLAMP(len, sizeof(struct wt_event) + WT_MAX_PAYLOAD);
	/* No wakeup: the poller drains on a timer, which saves an irq_work per record. */
	long err = bpf_ringbuf_output(&events, data, len, BPF_RB_NO_WAKEUP);
	struct wt_stats *st = stats_slot();
	if (!st)
		return;
	st->data_bytes += data_bytes;
	if (err) {
		st->drops++;
	} else {
		st->events++;
		st->bytes += len;
	}
}

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* fd → struct sock if it is a TCP socket over IPv4/IPv6, else NULL. Runs on every traced
 * syscall (file I/O included), so it uses direct BTF-pointer loads (no helper call each)
 * wherever the verifier allows; only the fd array slot needs bpf_probe_read_kernel. */
static __always_inline struct sock *tcp_sock_of(__u64 fd64)
{
	__u32 fd = fd64;
	struct task_struct *task = bpf_get_current_task_btf();
	struct files_struct *files = task->files;
	if (!files)
		return NULL;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	__u64 fds = 0, fp = 0;
	if (bpf_probe_read_kernel(&fds, sizeof(fds), &fdt->fd) || !fds)
		return NULL;
	if (bpf_probe_read_kernel(&fp, sizeof(fp), (void *)(fds + (__u64)fd * sizeof(void *))) || !fp)
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
	/* Callers keep it as a plain address (stored in maps, compared, read with CO-RE). */
	return (struct sock *)(__u64)sk;
}

static __always_inline void fill_proc(struct wt_event *e, __u64 id)
{
	e->tgid = id >> 32;
	e->tid = (__u32)id;
	/* /proc/PID/stat field 22: nsec_to_clock_t(start_boottime) with USER_HZ = 100. */
	e->start_ticks = bpf_get_current_task_btf()->group_leader->start_boottime / 10000000ULL;
}

static __always_inline void fill_addrs(struct wt_event *e, struct sock *skp)
{
	__u32 *l = (__u32 *)e->laddr, *r = (__u32 *)e->raddr;
	l[0] = l[1] = l[2] = l[3] = 0;
	r[0] = r[1] = r[2] = r[3] = 0;
	e->family = 0;
	e->lport = e->rport = 0;
	if (!skp)
		return;
	/* Direct (fault-safe) loads instead of a helper call per field. */
	struct sock *sk = bpf_rdonly_cast(skp, bpf_core_type_id_kernel(struct sock));
	struct inet_sock *inet = bpf_rdonly_cast(skp, bpf_core_type_id_kernel(struct inet_sock));
	/* inet_sport, not skc_num: the latter is zeroed when the port is released at TCP_CLOSE,
	 * which a server that closes after its peer reaches before close(2). */
	e->lport = bpf_ntohs(inet->inet_sport);
	e->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (sk->__sk_common.skc_family == AF_INET6) {
		e->family = 6;
		l[0] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[0];
		l[1] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[1];
		l[2] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[2];
		l[3] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[3];
		r[0] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[0];
		r[1] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[1];
		r[2] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[2];
		r[3] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[3];
	} else {
		e->family = 4;
		l[0] = sk->__sk_common.skc_rcv_saddr;
		r[0] = sk->__sk_common.skc_daddr;
	}
}

/* Open/close records carry no payload: built on the stack. */
static __always_inline void emit_ctl(__u8 kind, __u64 id, __u32 fd,
				     struct conn_info *c, struct sock *sk, __u64 ts_enter,
				     __u64 ts_exit, __u16 sys)
{
	struct wt_event e;
	__builtin_memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.role = c->role;
	e.fd = fd;
	fill_proc(&e, id);
	e.gen = c->gen;
	e.ts_enter = ts_enter;
	e.ts_exit = ts_exit;
	e.syscall = sys;
	if (kind == WT_CLOSE) {
		e.pos = c->send_pos;
		e.aux = c->recv_pos;
	}
	fill_addrs(&e, sk);
	emit(&e, sizeof(e), 0);
}

/* ---- data syscalls ---------------------------------------------------------------- */

static __always_inline int enter_data(__u64 fd, __u64 buf, __u64 iovcnt, __u16 sys, __u8 dir,
				      __u8 vec)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	__u64 ts = bpf_ktime_get_ns();
	struct sock *sk = tcp_sock_of(fd);
	if (!sk)
		return 0;
	struct call_args a = {
		.ts = ts, .sk = (__u64)sk, .buf = buf, .iovcnt = iovcnt,
		.fd = (__u32)fd, .syscall = sys, .dir = dir, .vec = vec,
	};
	bpf_map_update_elem(&calls, &id, &a, BPF_ANY);
	return 0;
}

static __always_inline struct conn_info *conn_for(__u32 tgid, __u32 fd, __u64 sk, __u64 now)
{
	struct conn_key k = { .tgid = tgid, .fd = fd };
	struct conn_info *c = bpf_map_lookup_elem(&conns, &k);
	if (c && c->sk == sk)
		return c;
	/* First sight (connection older than the tracer) or an fd reused behind our back. */
	struct conn_info n = { .gen = now, .sk = sk, .role = WT_ROLE_UNKNOWN };
	bpf_map_update_elem(&conns, &k, &n, BPF_ANY);
	return bpf_map_lookup_elem(&conns, &k);
}

static __always_inline int exit_data(long ret, __u16 sys)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args *ap = bpf_map_lookup_elem(&calls, &id);
	if (!ap)
		return 0;
	struct call_args a = *ap;
	bpf_map_delete_elem(&calls, &id);
	if (a.syscall != sys || ret <= 0)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct conn_info *c = conn_for(id >> 32, a.fd, a.sk, now);
	if (!c)
		return 0;
	/* Reserve this call's range of the stream even if the record is dropped later, so
	 * user space sees a gap instead of silently shifted bytes. */
	__u64 pos = __sync_fetch_and_add(a.dir == WT_SEND ? &c->send_pos : &c->recv_pos,
					 (__u64)ret);

	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s)
		return 0;
	struct wt_event *e = &s->ev;
	e->kind = WT_DATA;
	e->direction = a.dir;
	e->role = c->role;
	e->fd = a.fd;
	fill_proc(e, id);
	e->gen = c->gen;
	e->ts_enter = a.ts;
	e->ts_exit = now;
	e->pos = pos;
	e->size = ret;
	e->syscall = sys;
	e->_pad = 0;
	e->aux = 0;
	fill_addrs(e, (struct sock *)a.sk);

	__u64 want = ret;
	__u64 cap = payload_cap;
	if (want > cap)
		want = cap;
	CLAMP(want, WT_MAX_PAYLOAD);
	__u64 off = 0;
	if (!a.vec) {
		bpf_probe_read_user(s->payload, want, (void *)a.buf);
		off = want;
	} else {
		struct iovec *iovp = (struct iovec *)a.buf;
		for (int i = 0; i < WT_MAX_IOV; i++) {
			if (i >= a.iovcnt || off >= want)
				break;
			struct iovec iov;
			if (bpf_probe_read_user(&iov, sizeof(iov), &iovp[i]))
				break;
			__u64 n = iov.iov_len;
			if (n > want - off)
				n = want - off;
			CLAMP(off, WT_MAX_PAYLOAD);
			CLAMP(n, WT_MAX_PAYLOAD);
			bpf_probe_read_user(s->payload + off, n, iov.iov_base);
			off += n;
		}
	}
	CLAMP(off, WT_MAX_PAYLOAD);
	e->captured = off;
	emit(s, sizeof(struct wt_event) + off, ret);
	return 0;
}

#define ENTER(name) SEC("tracepoint/syscalls/sys_enter_" #name) \
	int enter_##name(struct trace_event_raw_sys_enter *ctx)
#define EXIT(name) SEC("tracepoint/syscalls/sys_exit_" #name) \
	int exit_##name(struct trace_event_raw_sys_exit *ctx)

ENTER(read) { return enter_data(ctx->args[0], ctx->args[1], 0, WT_SYS_READ, WT_RECV, 0); }
EXIT(read) { return exit_data(ctx->ret, WT_SYS_READ); }
ENTER(write) { return enter_data(ctx->args[0], ctx->args[1], 0, WT_SYS_WRITE, WT_SEND, 0); }
EXIT(write) { return exit_data(ctx->ret, WT_SYS_WRITE); }
ENTER(readv) { return enter_data(ctx->args[0], ctx->args[1], ctx->args[2], WT_SYS_READV, WT_RECV, 1); }
EXIT(readv) { return exit_data(ctx->ret, WT_SYS_READV); }
ENTER(writev) { return enter_data(ctx->args[0], ctx->args[1], ctx->args[2], WT_SYS_WRITEV, WT_SEND, 1); }
EXIT(writev) { return exit_data(ctx->ret, WT_SYS_WRITEV); }

ENTER(recvfrom)
{
	/* MSG_PEEK leaves the bytes in the socket: they will be read again. */
	if (ctx->args[3] & MSG_PEEK)
		return 0;
	return enter_data(ctx->args[0], ctx->args[1], 0, WT_SYS_RECVFROM, WT_RECV, 0);
}
EXIT(recvfrom) { return exit_data(ctx->ret, WT_SYS_RECVFROM); }
ENTER(sendto) { return enter_data(ctx->args[0], ctx->args[1], 0, WT_SYS_SENDTO, WT_SEND, 0); }
EXIT(sendto) { return exit_data(ctx->ret, WT_SYS_SENDTO); }

static __always_inline int enter_msg(__u64 fd, __u64 msgp, __u64 flags, __u16 sys, __u8 dir)
{
	if (dir == WT_RECV && (flags & MSG_PEEK))
		return 0;
	struct user_msghdr mh;
	if (bpf_probe_read_user(&mh, sizeof(mh), (void *)msgp))
		return 0;
	return enter_data(fd, (__u64)mh.msg_iov, mh.msg_iovlen, sys, dir, 1);
}

ENTER(recvmsg) { return enter_msg(ctx->args[0], ctx->args[1], ctx->args[2], WT_SYS_RECVMSG, WT_RECV); }
EXIT(recvmsg) { return exit_data(ctx->ret, WT_SYS_RECVMSG); }
ENTER(sendmsg) { return enter_msg(ctx->args[0], ctx->args[1], ctx->args[2], WT_SYS_SENDMSG, WT_SEND); }
EXIT(sendmsg) { return exit_data(ctx->ret, WT_SYS_SENDMSG); }

/* ---- connection lifecycle -------------------------------------------------------- */

ENTER(connect)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	__u64 ts = bpf_ktime_get_ns();
	struct sock *sk = tcp_sock_of(ctx->args[0]);
	if (!sk)
		return 0;
	struct call_args a = { .ts = ts, .sk = (__u64)sk, .fd = (__u32)ctx->args[0],
			       .syscall = WT_SYS_CONNECT };
	bpf_map_update_elem(&calls, &id, &a, BPF_ANY);
	return 0;
}

EXIT(connect)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_args *ap = bpf_map_lookup_elem(&calls, &id);
	if (!ap)
		return 0;
	struct call_args a = *ap;
	bpf_map_delete_elem(&calls, &id);
	long ret = ctx->ret;
	/* Non-blocking connect: EINPROGRESS means the handshake is under way. */
	if (a.syscall != WT_SYS_CONNECT || (ret != 0 && ret != -EINPROGRESS))
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct conn_key k = { .tgid = id >> 32, .fd = a.fd };
	struct conn_info n = { .gen = now, .sk = a.sk, .role = WT_ROLE_CLIENT };
	bpf_map_update_elem(&conns, &k, &n, BPF_ANY);
	emit_ctl(WT_OPEN, id, a.fd, &n,
		 (struct sock *)a.sk, a.ts, now, WT_SYS_CONNECT);
	return 0;
}

static __always_inline int on_accept(long ret, __u16 sys)
{
	if (ret < 0)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)(id >> 32) == self_tgid)
		return 0;
	struct sock *sk = tcp_sock_of(ret);
	if (!sk)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	struct conn_key k = { .tgid = id >> 32, .fd = (__u32)ret };
	struct conn_info n = { .gen = now, .sk = (__u64)sk, .role = WT_ROLE_SERVER };
	bpf_map_update_elem(&conns, &k, &n, BPF_ANY);
	emit_ctl(WT_OPEN, id, (__u32)ret, &n, sk, now, now, sys);
	return 0;
}

EXIT(accept) { return on_accept(ctx->ret, WT_SYS_ACCEPT); }
EXIT(accept4) { return on_accept(ctx->ret, WT_SYS_ACCEPT4); }

ENTER(close)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 fd = ctx->args[0];
	struct conn_key k = { .tgid = id >> 32, .fd = fd };
	struct conn_info *cp = bpf_map_lookup_elem(&conns, &k);
	if (!cp)
		return 0;
	struct conn_info c = *cp;
	bpf_map_delete_elem(&conns, &k);
	__u64 now = bpf_ktime_get_ns();
	struct sock *sk = tcp_sock_of(fd);
	/* A different socket on this fd means the tracked one ended unseen: no addresses. */
	if ((__u64)sk != c.sk)
		sk = NULL;
	emit_ctl(WT_CLOSE, id, fd, &c, sk, now, now, WT_SYS_CLOSE);
	return 0;
}
