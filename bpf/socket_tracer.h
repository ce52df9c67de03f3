/* Shared between socket_tracer.bpf.c and native/: the event record layout, stats slots,
 * limits. Include vmlinux.h (BPF) or <linux/types.h> (user space) first. */
#ifndef WIRETAP_SOCKET_TRACER_H
#define WIRETAP_SOCKET_TRACER_H

/* Payload bytes per data event: default and hard maximum (record stays < 32 KiB). */
#define WT_DEFAULT_PAYLOAD_CAP 16384
#define WT_MAX_PAYLOAD 30720
/* iovecs looked at per readv/writev/recvmsg/sendmsg for payload (size is always exact):
 * UIO_MAXIOV, the most a call can pass; the walk stops at the payload cap anyway. */
#define WT_MAX_IOV 1024
/* Messages of one sendmmsg/recvmmsg shipped as data events (the rest: counted, gap). */
#define WT_MAX_MMSG 8
/* Ciphertext bytes a memory-BIO TLS record is recognised by on the socket (bpf/README.md). */
#define WT_TLS_HEAD 32
/* Bytes of the exec'd file name shipped with an EXEC record. */
#define WT_MAX_FILENAME 256

enum wt_kind { WT_OPEN = 1, WT_DATA = 2, WT_CLOSE = 3, WT_EXEC = 4, WT_EXIT = 5 };
enum wt_dir { WT_SEND = 0, WT_RECV = 1 };
enum wt_role { WT_ROLE_UNKNOWN = 0, WT_ROLE_CLIENT = 1, WT_ROLE_SERVER = 2 };
enum wt_syscall {
	WT_SYS_READ = 1, WT_SYS_WRITE, WT_SYS_READV, WT_SYS_WRITEV, WT_SYS_RECVFROM,
	WT_SYS_SENDTO, WT_SYS_RECVMSG, WT_SYS_SENDMSG, WT_SYS_CONNECT, WT_SYS_ACCEPT,
	WT_SYS_ACCEPT4, WT_SYS_CLOSE, WT_SYS_SENDMMSG, WT_SYS_RECVMMSG, WT_SYS_SENDFILE,
	WT_SYS_SSL_WRITE, WT_SYS_SSL_READ, /* plaintext from the TLS library (uprobes) */
};
/* In-kernel protocol guess from a connection's first bytes (conn_info.proto, record byte
 * 70). Connections guessed OTHER ship counters only, never payload. */
enum wt_proto {
	WT_PROTO_UNKNOWN = 0, WT_PROTO_HTTP = 1, WT_PROTO_MYSQL = 2, WT_PROTO_KAFKA = 3,
	WT_PROTO_OTHER = 255,
};
/* conn_info.flags / record byte 71. */
#define WT_FLAG_DISABLED 1   /* user space stopped payload for this connection */
#define WT_FLAG_TLS 2        /* TLS seen on it: only plaintext (uprobe) events are shipped */

/* Every ringbuf record starts with this header (112 bytes, little endian, no padding
 * holes); data events are followed by `captured` payload bytes. See bpf/README.md. */
struct wt_event {
	__u8 kind;          /*   0 wt_kind */
	__u8 direction;     /*   1 wt_dir (data only) */
	__u8 role;          /*   2 wt_role */
	__u8 family;        /*   3 4 or 6 */
	__u32 fd;           /*   4 exec: parent tgid */
	__u32 tgid;         /*   8 */
	__u32 tid;          /*  12 */
	__u64 start_ticks;  /*  16 process start, clock ticks (= /proc/PID/stat field 22) */
	__u64 gen;          /*  24 connection generation (ktime ns when first seen) */
	__u64 ts_enter;     /*  32 bpf_ktime_get_ns at syscall enter */
	__u64 ts_exit;      /*  40 bpf_ktime_get_ns at syscall exit */
	__u64 pos;          /*  48 data: stream position of first byte; close: bytes sent */
	__u32 size;         /*  56 data: bytes the syscall moved */
	__u32 captured;     /*  60 payload bytes following the header */
	__u16 lport;        /*  64 host order */
	__u16 rport;        /*  66 host order */
	__u16 syscall;      /*  68 wt_syscall */
	__u8 proto;         /*  70 wt_proto (kernel guess) */
	__u8 flags;         /*  71 */
	__u8 laddr[16];     /*  72 v4: first 4 bytes */
	__u8 raddr[16];     /*  88 */
	__u64 aux;          /* 104 close: bytes received; exit: exit code */
};                          /* 112 */

/* Per-CPU counters: the single value of the `stats` map. */
struct wt_stats {
	__u64 events;      /* records written to the ringbuf */
	__u64 bytes;       /* bytes written to the ringbuf (headers + payload) */
	__u64 drops;       /* records lost: ringbuf full */
	__u64 data_bytes;  /* socket bytes moved by traced syscalls (sum of size) */
	__u64 truncated;   /* data events whose payload was cut at the cap (or iovec limit) */
	__u64 skipped;     /* data calls not shipped: protocol OTHER or connection disabled */
	__u64 skipped_bytes;
	__u64 mmsg_lost;   /* sendmmsg/recvmmsg messages beyond WT_MAX_MMSG (counted, gap) */
	__u64 tls_nofd;    /* SSL_read/SSL_write calls whose socket could not be found */
	__u64 tls_bio_bound; /* memory-BIO SSL objects bound to a socket by a ciphertext match */
};

/* The `conns` map, readable by user space (conn_stats) and writable (disable). */
struct wt_conn_key {
	__u32 tgid;
	__u32 fd;
};

struct wt_conn {
	__u64 gen;
	__u64 sk;        /* detects fd reuse we did not see close (dup2, exit, close_range) */
	__u64 send_pos;  /* = bytes sent since first sight */
	__u64 recv_pos;
	__u64 start_ticks;
	__u8 role;
	__u8 proto;
	__u8 flags;
	__u8 family;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
	__u64 tls_send_pos;  /* plaintext positions (TLS connections) */
	__u64 tls_recv_pos;
};                   /* 96 */

#endif
