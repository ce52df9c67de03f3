// wiretap native addon: loads the socket tracer (skeleton embedded at build time), drains its
// ringbuf on a poller thread and hands JS one Buffer per batch through a thread-safe function.
// Batch framing: repeated [u32 LE record length][record bytes], records as in bpf/README.md.
#include <napi.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <linux/types.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "socket_tracer.h"
#include "socket_tracer.skel.h"

namespace {

// ---- libbpf log capture: the tail goes into error messages (verifier output etc.) ------

std::mutex g_log_mu;
std::string g_log;

int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list ap) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[2048];
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  std::lock_guard<std::mutex> lk(g_log_mu);
  g_log.append(buf, n < 0 ? 0 : std::min<size_t>(n, sizeof(buf) - 1));
  if (g_log.size() > 16384) g_log.erase(0, g_log.size() - 16384);
  return 0;
}

std::string LogTail(size_t max = 1500) {
  std::lock_guard<std::mutex> lk(g_log_mu);
  std::string s = g_log.size() > max ? "..." + g_log.substr(g_log.size() - max) : g_log;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void ClearLog() {
  std::lock_guard<std::mutex> lk(g_log_mu);
  g_log.clear();
}

bool Exists(const char* path) { return access(path, F_OK) == 0; }

// "other" | "batch" | "idle" → SCHED_*; -1 for anything else.
int SchedPolicy(const std::string& name) {
  if (name == "other") return SCHED_OTHER;
  if (name == "batch") return SCHED_BATCH;
  if (name == "idle") return SCHED_IDLE;
  return -1;
}

// The calling thread only (Linux: pid 0 = this thread); the nice value is kept.
int SetThreadPolicy(int policy) {
  struct sched_param sp = {};
  return sched_setscheduler(0, policy, &sp) == 0 ? 0 : errno;
}

// libbpf resolves tracepoint ids through tracefs (or debugfs/tracing when that exists).
void EnsureTracefs() {
  if (Exists("/sys/kernel/tracing/events/syscalls") ||
      Exists("/sys/kernel/debug/tracing/events/syscalls"))
    return;
  mkdir("/sys/kernel/tracing", 0755);
  mount("nodev", "/sys/kernel/tracing", "tracefs", 0, nullptr);
}

int64_t Ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return int64_t(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// CLOCK_REALTIME − CLOCK_MONOTONIC (bpf_ktime_get_ns is CLOCK_MONOTONIC): the tightest of a
// few bracketed samples.
int64_t ClockOffsetNs() {
  int64_t best = 0, best_gap = INT64_MAX;
  for (int i = 0; i < 5; i++) {
    int64_t m1 = Ns(CLOCK_MONOTONIC), r = Ns(CLOCK_REALTIME), m2 = Ns(CLOCK_MONOTONIC);
    if (m2 - m1 < best_gap) {
      best_gap = m2 - m1;
      best = r - (m1 + (m2 - m1) / 2);
    }
  }
  return best;
}

struct Batch {
  uint8_t* data;
  size_t size;
  uint32_t events;
};

class Tracer : public Napi::ObjectWrap<Tracer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Tracer",
                       {InstanceMethod("stop", &Tracer::Stop), InstanceMethod("stats", &Tracer::Stats),
                        InstanceMethod("clockOffsetNs", &Tracer::ClockOffset),
                        InstanceMethod("progStats", &Tracer::ProgStats),
                        InstanceMethod("connections", &Tracer::Connections),
                        InstanceMethod("disableConnection", &Tracer::DisableConnection),
                        InstanceMethod("attachTls", &Tracer::AttachTls)});
  }

  // new Tracer(options, onBatch(buffer, events))
  explicit Tracer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "new Tracer(options, onBatch)");
    Napi::Object o = info[0].As<Napi::Object>();
    auto num = [&](const char* k, double def) {
      Napi::Value v = o.Get(k);
      return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
    };
    uint32_t payload_cap = uint32_t(num("payloadCap", WT_DEFAULT_PAYLOAD_CAP));
    if (payload_cap > WT_MAX_PAYLOAD) payload_cap = WT_MAX_PAYLOAD;
    uint64_t ring_bytes = uint64_t(num("ringbufBytes", 64 << 20));
    if (ring_bytes < 4096 || (ring_bytes & (ring_bytes - 1)))
      throw Napi::RangeError::New(env, "ringbufBytes must be a power of two >= 4096");
    batch_bytes_ = size_t(num("batchBytes", 4 << 20));
    batch_events_ = uint32_t(num("batchEvents", 8192));
    poll_ms_ = int(num("pollMs", 10));
    uint32_t self_tgid = uint32_t(num("selfTgid", getpid()));
    size_t max_queue = size_t(num("maxQueuedBatches", 64));
    Napi::Value attach_v = o.Get("attach");
    std::string attach = attach_v.IsString() ? attach_v.As<Napi::String>().Utf8Value() : "raw";
    if (attach != "raw" && attach != "syscalls")
      throw Napi::RangeError::New(env, "attach must be 'raw' or 'syscalls'");
    Napi::Value sched_v = o.Get("pollerSched");
    if (sched_v.IsString()) {
      poller_policy_ = SchedPolicy(sched_v.As<Napi::String>().Utf8Value());
      if (poller_policy_ < 0) throw Napi::RangeError::New(env, "pollerSched must be 'other', 'batch' or 'idle'");
    }
    Napi::Value infer_v = o.Get("inferProtocols");
    bool infer = infer_v.IsBoolean() ? infer_v.As<Napi::Boolean>().Value() : true;
    uint32_t scope_netns = uint32_t(num("scopeNetns", 0));
    uint64_t scope_cgroup = uint64_t(num("scopeCgroupId", 0));
    uint32_t scope_cgroup_level = uint32_t(num("scopeCgroupLevel", 0));

    if (!Exists("/sys/kernel/btf/vmlinux"))
      throw Napi::Error::New(env,
                             "eBPF unavailable: kernel BTF not found at /sys/kernel/btf/vmlinux "
                             "(needs CONFIG_DEBUG_INFO_BTF; use --source demo)");
    EnsureTracefs();
    ClearLog();

    // The verifier gives up with EAGAIN when a signal arrives during a long verification
    // (e.g. a profiler's SIGPROF): open and load again a few times.
    for (int attempt = 0;; attempt++) {
      skel_ = socket_tracer::open();
      if (!skel_) Fail(env, "open", -errno);
      skel_->rodata->self_tgid = self_tgid;
      skel_->rodata->payload_cap = payload_cap;
      skel_->rodata->infer_protocols = infer ? 1 : 0;
      skel_->rodata->scope_netns = scope_netns;
      skel_->rodata->scope_cgroup = scope_cgroup;
      skel_->rodata->scope_cgroup_level = scope_cgroup_level;
      // One attach mode: the tp_btf sys_exit program, or the per-syscall tracepoints.
      struct bpf_program* prog;
      bpf_object__for_each_program(prog, skel_->obj) {
        const char* sec = bpf_program__section_name(prog);
        bool raw_sys = strcmp(sec, "tp_btf/sys_enter") == 0 || strcmp(sec, "tp_btf/sys_exit") == 0;
        bool per_sys = strncmp(sec, "tracepoint/syscalls/", 20) == 0;
        if ((raw_sys && attach != "raw") || (per_sys && attach != "syscalls"))
          bpf_program__set_autoload(prog, false);
      }
      int ncpu = libbpf_num_possible_cpus();
      if (ncpu <= 0) ncpu = 1;
      bpf_map__set_max_entries(skel_->maps.events, uint32_t(ring_bytes));
      bpf_map__set_max_entries(skel_->maps.scratch, uint32_t(ncpu));
      ncpu_ = ncpu;
      // Signals (a profiler's SIGPROF every ms) interrupt the verifier: blocked while loading.
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, &old);
      int err = socket_tracer::load(skel_);
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      if (err == 0) break;
      if (err != -EAGAIN || attempt >= 4) Fail(env, "load", err);
      socket_tracer::destroy(skel_);
      skel_ = nullptr;
      ClearLog();
    }
    if (int err = socket_tracer::attach(skel_)) Fail(env, "attach", err);
    rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), &Tracer::OnSample, this, nullptr);
    if (!rb_) Fail(env, "ring buffer", -errno);

    batch_.reserve(batch_bytes_ + sizeof(struct wt_event) + WT_MAX_PAYLOAD + 8);
    pending_stops_ = new std::vector<Napi::Promise::Deferred>();
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "wiretap-ringbuf",
                                          max_queue, 1, this, &Tracer::OnFinalize,
                                          pending_stops_);
    // Does not keep the process alive by itself; stop() re-refs until the queue drained.
    tsfn_.Unref(env);
    has_tsfn_ = true;
    napi_add_env_cleanup_hook(env, &Tracer::CleanupHook, this);
    hook_ = true;
    running_ = true;
    thread_ = std::thread([this] { PollLoop(); });
  }

  ~Tracer() override {
    if (hook_) napi_remove_env_cleanup_hook(Env(), &Tracer::CleanupHook, this);
    StopThread();
    Destroy();
    if (has_tsfn_) {
      has_tsfn_ = false;
      tsfn_.Abort();
    }
  }

 private:
  [[noreturn]] void Fail(Napi::Env env, const char* stage, int err) {
    int e = err < 0 ? -err : err;
    std::string msg;
    bool perm = e == EPERM || (e == EACCES && geteuid() != 0);
    if (perm) {
      msg = "eBPF unavailable: permission denied (run as root or use --source demo)";
    } else if (e == ENOENT && std::string(stage) == "attach") {
      msg = std::string("eBPF unavailable: syscall tracepoints not found (is tracefs mounted at "
                        "/sys/kernel/tracing?): ") + strerror(e);
    } else {
      msg = std::string("eBPF unavailable: ") + stage + " failed: " + strerror(e);
    }
    std::string tail = LogTail();
    if (!tail.empty()) msg += "\nlibbpf: " + tail;
    Destroy();
    throw Napi::Error::New(env, msg);
  }

  void Destroy() {
    if (rb_) {
      ring_buffer__free(rb_);
      rb_ = nullptr;
    }
    for (auto* l : tls_links_) bpf_link__destroy(l);
    tls_links_.clear();
    if (skel_) {
      ReadKernelStats();  // keep the final counters readable after stop()
      DetachParallel();
      socket_tracer::destroy(skel_);
      skel_ = nullptr;
    }
  }

  // Each syscall-tracepoint detach waits for RCU grace periods in the kernel; one at a time
  // stop() took ~1.7 s here, concurrently ~0.85 s (the kernel serializes part of it).
  void DetachParallel() {
    if (!skel_) return;
    struct bpf_object_skeleton* s = skel_->skeleton;
    std::vector<std::thread> ts;
    for (int i = 0; i < s->prog_cnt; i++) {
      struct bpf_link** link = s->progs[i].link;
      if (!link || !*link) continue;
      ts.emplace_back([link] {
        bpf_link__destroy(*link);
        *link = nullptr;
      });
    }
    for (auto& t : ts) t.join();
  }

  void StopThread() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!running_) return;
      running_ = false;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  static void CleanupHook(void* arg) {
    auto* self = static_cast<Tracer*>(arg);
    self->hook_ = false;
    self->StopThread();
    self->Destroy();
  }

  // Appends one record; returning a negative value makes libbpf (1.1) stop after consuming
  // this record (positive values are ignored), which is how a batch stays bounded.
  static int OnSample(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Tracer*>(ctx);
    uint32_t len = uint32_t(size);
    size_t at = self->batch_.size();
    self->batch_.resize(at + 4 + size);
    memcpy(self->batch_.data() + at, &len, 4);
    memcpy(self->batch_.data() + at + 4, data, size);
    self->batch_count_++;
    if (self->batch_.size() >= self->batch_bytes_ || self->batch_count_ >= self->batch_events_) {
      self->batch_full_ = true;
      return -1;
    }
    return 0;
  }

  void PollLoop() {
    // Named so its CPU can be told apart in /proc/PID/task (top -H, perf).
    pthread_setname_np(pthread_self(), "wt-ringbuf");
    if (poller_policy_ >= 0) SetThreadPolicy(poller_policy_);  // best effort
    for (;;) {
      bool stopping = !running_.load();
      batch_full_ = false;
      ring_buffer__consume(rb_);
      bool full = batch_full_;
      Flush();
      if (full) continue;  // more is waiting: no sleep
      if (stopping) break;  // final drain done
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(poll_ms_), [this] { return !running_.load(); });
    }
  }

  // Hands the current batch to JS in an exact-size allocation (payload views keep it alive,
  // so no slack); the working buffer is reused.
  void Flush() {
    if (batch_count_ == 0) return;
    auto* b = new Batch{static_cast<uint8_t*>(malloc(batch_.size())), batch_.size(), batch_count_};
    memcpy(b->data, batch_.data(), b->size);
    batch_.clear();
    batch_count_ = 0;
    uint32_t n = b->events;
    size_t size = b->size;
    // After a successful call `b` belongs to the JS thread (may already be freed).
    napi_status st = tsfn_.NonBlockingCall(b, &Tracer::CallJs);
    if (st != napi_ok) {
      // JS is not keeping up (queue full) or the env is going away.
      user_drops_ += n;
      free(b->data);
      delete b;
      return;
    }
    batches_++;
    events_ += n;
    bytes_ += size;
  }

  static void CallJs(Napi::Env env, Napi::Function cb, Batch* b) {
    if (env == nullptr || cb.IsEmpty()) {
      free(b->data);
      delete b;
      return;
    }
    Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(b->size));
    size_t size = b->size;
    auto buf = Napi::Buffer<uint8_t>::New(env, b->data, b->size, [size](Napi::Env e, uint8_t* p) {
      Napi::MemoryManagement::AdjustExternalMemory(e, -int64_t(size));
      free(p);
    });
    uint32_t n = b->events;
    delete b;
    cb.Call({buf, Napi::Number::New(env, n)});
  }

  // Owns `pending` (not the Tracer, which may be collected before the queue drains).
  static void OnFinalize(Napi::Env env, std::vector<Napi::Promise::Deferred>* pending, Tracer*) {
    for (auto& d : *pending) d.Resolve(env.Undefined());
    delete pending;
  }

  // stop(): detaches, drains what is left, and resolves once every batch reached JS.
  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto d = Napi::Promise::Deferred::New(env);
    if (!has_tsfn_) {
      StopThread();
      Destroy();
      d.Resolve(env.Undefined());
      return d.Promise();
    }
    // Detach first so the final drain sees everything produced so far.
    DetachParallel();
    StopThread();
    Destroy();
    pending_stops_->push_back(d);
    has_tsfn_ = false;
    tsfn_.Ref(env);
    tsfn_.Release();
    return d.Promise();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("events", double(events_.load()));
    o.Set("bytes", double(bytes_.load()));
    o.Set("batches", double(batches_.load()));
    o.Set("userDrops", double(user_drops_.load()));
    ReadKernelStats();
    const struct wt_stats& k = last_kernel_;
    o.Set("kernelEvents", double(k.events));
    o.Set("kernelBytes", double(k.bytes));
    o.Set("kernelDrops", double(k.drops));
    o.Set("socketBytes", double(k.data_bytes));
    o.Set("kernelTruncated", double(k.truncated));
    o.Set("kernelSkipped", double(k.skipped));
    o.Set("kernelSkippedBytes", double(k.skipped_bytes));
    o.Set("kernelMmsgLost", double(k.mmsg_lost));
    o.Set("kernelTlsNoFd", double(k.tls_nofd));
    o.Set("kernelTlsBioBound", double(k.tls_bio_bound));
    o.Set("running", Napi::Boolean::New(env, running_.load()));
    return o;
  }

  // Sums the per-CPU kernel counters into last_kernel_ (kept after the maps are gone).
  void ReadKernelStats() {
    if (!skel_) return;
    std::vector<struct wt_stats> vals(ncpu_);
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.stats), &zero, vals.data()) != 0) return;
    struct wt_stats sum = {};
    for (auto& v : vals) {
      sum.events += v.events;
      sum.bytes += v.bytes;
      sum.drops += v.drops;
      sum.data_bytes += v.data_bytes;
      sum.truncated += v.truncated;
      sum.skipped += v.skipped;
      sum.skipped_bytes += v.skipped_bytes;
      sum.mmsg_lost += v.mmsg_lost;
      sum.tls_nofd += v.tls_nofd;
      sum.tls_bio_bound += v.tls_bio_bound;
    }
    last_kernel_ = sum;
  }

  // Per-program cost as the kernel counts it (needs kernel.bpf_stats_enabled=1 while the
  // programs run): [{ name, runTimeNs, runCnt }] for the attached programs.
  Napi::Value ProgStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env);
    if (!skel_) return out;
    uint32_t i = 0;
    struct bpf_program* prog;
    bpf_object__for_each_program(prog, skel_->obj) {
      int fd = bpf_program__fd(prog);
      if (fd < 0 || !bpf_program__autoload(prog)) continue;
      struct bpf_prog_info pi;
      memset(&pi, 0, sizeof(pi));
      uint32_t len = sizeof(pi);
      if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0) continue;
      Napi::Object p = Napi::Object::New(env);
      p.Set("name", bpf_program__name(prog));
      p.Set("runTimeNs", double(pi.run_time_ns));
      p.Set("runCnt", double(pi.run_cnt));
      out.Set(i++, p);
    }
    return out;
  }

  // The kernel's connection table as one Buffer of [struct wt_conn_key][struct wt_conn]
  // records (conn_stats reads it at a fixed interval).
  Napi::Value Connections(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!skel_) return Napi::Buffer<uint8_t>::New(env, 0);
    int fd = bpf_map__fd(skel_->maps.conns);
    const size_t rec = sizeof(struct wt_conn_key) + sizeof(struct wt_conn);
    std::vector<uint8_t> out;
    struct wt_conn_key key, next;
    struct wt_conn val;
    void* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
      if (bpf_map_lookup_elem(fd, &next, &val) == 0) {
        size_t at = out.size();
        out.resize(at + rec);
        memcpy(out.data() + at, &next, sizeof(next));
        memcpy(out.data() + at + sizeof(next), &val, sizeof(val));
      }
      key = next;
      prev = &key;
      if (out.size() > rec * 200000) break;  // the map holds at most 65536
    }
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  // attachTls(path, memoryBio): uprobes on SSL_write/SSL_read(_ex) of the OpenSSL library
  // (or binary exporting them) at `path`, for every process mapping it, and on SSL_free
  // (unbinds the SSL*). memoryBio (a binary with OpenSSL linked in, e.g. node): also
  // BIO_write(_ex), which binds memory-BIO SSL objects to their sockets (bpf/README.md).
  // Returns how many of the four read/write functions were attached; throws if none.
  Napi::Value AttachTls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!skel_ || info.Length() < 1 || !info[0].IsString())
      throw Napi::TypeError::New(env, "attachTls(path) on a running tracer");
    std::string path = info[0].As<Napi::String>().Utf8Value();
    bool memory_bio = info.Length() > 1 && info[1].ToBoolean().Value();
    struct { const char* fn; struct bpf_program* enter; } fns[] = {
        {"SSL_write", skel_->progs.tls_write_enter},
        {"SSL_read", skel_->progs.tls_read_enter},
        {"SSL_write_ex", skel_->progs.tls_write_ex_enter},
        {"SSL_read_ex", skel_->progs.tls_read_ex_enter},
    };
    int attached = 0;
    std::string errs;
    for (auto& f : fns) {
      LIBBPF_OPTS(bpf_uprobe_opts, eo, .retprobe = false, .func_name = f.fn);
      LIBBPF_OPTS(bpf_uprobe_opts, ro, .retprobe = true, .func_name = f.fn);
      struct bpf_link* e = bpf_program__attach_uprobe_opts(f.enter, -1, path.c_str(), 0, &eo);
      if (!e) {
        errs += std::string(" ") + f.fn + ": " + strerror(errno);
        continue;
      }
      struct bpf_link* r = bpf_program__attach_uprobe_opts(skel_->progs.tls_ret, -1, path.c_str(), 0, &ro);
      if (!r) {
        errs += std::string(" ") + f.fn + " (return): " + strerror(errno);
        bpf_link__destroy(e);
        continue;
      }
      tls_links_.push_back(e);
      tls_links_.push_back(r);
      attached++;
    }
    if (attached == 0) throw Napi::Error::New(env, "attachTls " + path + ":" + errs);
    // Entry-only probes. SSL_free is optional (its absence only delays unbinding to the LRU);
    // without BIO_write a memory-BIO binary ships nothing (counted as tls_nofd).
    struct { const char* fn; struct bpf_program* prog; bool want; } extra[] = {
        {"SSL_free", skel_->progs.tls_free, true},
        {"BIO_write", skel_->progs.tls_bio_write, memory_bio},
        {"BIO_write_ex", skel_->progs.tls_bio_write_ex, memory_bio},
    };
    for (auto& f : extra) {
      if (!f.want) continue;
      LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = false, .func_name = f.fn);
      struct bpf_link* l = bpf_program__attach_uprobe_opts(f.prog, -1, path.c_str(), 0, &o);
      if (l) tls_links_.push_back(l);
      else if (f.prog != skel_->progs.tls_free) throw Napi::Error::New(env, "attachTls " + path + ": " + f.fn + ": " + strerror(errno));
    }
    return Napi::Number::New(env, attached);
  }

  // disableConnection(tgid, fd, gen): stop shipping payload for that connection (the
  // kernel keeps counting its bytes). False if the entry is gone or is a newer connection.
  // Read-modify-write: byte counts moved in between are lost (a few bytes of conn_stats).
  Napi::Value DisableConnection(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!skel_ || info.Length() < 3) return Napi::Boolean::New(env, false);
    struct wt_conn_key k = {info[0].As<Napi::Number>().Uint32Value(),
                            info[1].As<Napi::Number>().Uint32Value()};
    bool lossless;
    uint64_t gen = info[2].As<Napi::BigInt>().Uint64Value(&lossless);
    int fd = bpf_map__fd(skel_->maps.conns);
    struct wt_conn v;
    if (bpf_map_lookup_elem(fd, &k, &v) != 0 || v.gen != gen) return Napi::Boolean::New(env, false);
    v.flags |= WT_FLAG_DISABLED;
    return Napi::Boolean::New(env, bpf_map_update_elem(fd, &k, &v, BPF_EXIST) == 0);
  }

  Napi::Value ClockOffset(const Napi::CallbackInfo& info) {
    return Napi::BigInt::New(info.Env(), ClockOffsetNs());
  }

  struct socket_tracer* skel_ = nullptr;
  struct ring_buffer* rb_ = nullptr;
  std::vector<struct bpf_link*> tls_links_;
  int ncpu_ = 1;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  Napi::ThreadSafeFunction tsfn_;
  bool has_tsfn_ = false;
  bool hook_ = false;
  std::vector<Napi::Promise::Deferred>* pending_stops_ = nullptr;  // owned by the TSFN finalizer

  // Poller-thread state.
  std::vector<uint8_t> batch_;
  uint32_t batch_count_ = 0;
  bool batch_full_ = false;
  size_t batch_bytes_ = 4 << 20;
  uint32_t batch_events_ = 8192;
  int poll_ms_ = 10;
  int poller_policy_ = -1;  // SCHED_* for the poller thread; -1: inherited

  std::atomic<uint64_t> events_{0}, bytes_{0}, batches_{0}, user_drops_{0};
  struct wt_stats last_kernel_ = {};
};

Napi::Value ClockOffsetFn(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), ClockOffsetNs());
}

// enableRunTimeStats(): the kernel's per-program run-time counters, on while the returned fd
// is open (BPF_ENABLE_STATS is refcounted and dropped with the process, unlike the
// kernel.bpf_stats_enabled sysctl, which two overlapping save/restore users can leave on —
// and then every BPF program on the machine pays two clock reads per run).
Napi::Value EnableRunTimeStatsFn(const Napi::CallbackInfo& info) {
  int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
  if (fd < 0) throw Napi::Error::New(info.Env(), std::string("enableRunTimeStats: ") + strerror(errno));
  return Napi::Number::New(info.Env(), fd);
}

// setThreadSched(policy): scheduling policy of the calling (JS) thread.
Napi::Value SetThreadSchedFn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int policy = info.Length() > 0 && info[0].IsString() ? SchedPolicy(info[0].As<Napi::String>().Utf8Value()) : -1;
  if (policy < 0) throw Napi::RangeError::New(env, "setThreadSched('other' | 'batch' | 'idle')");
  if (int e = SetThreadPolicy(policy)) throw Napi::Error::New(env, std::string("setThreadSched: ") + strerror(e));
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(LibbpfPrint);
  exports.Set("Tracer", Tracer::Define(env));
  exports.Set("clockOffsetNs", Napi::Function::New(env, ClockOffsetFn));
  exports.Set("enableRunTimeStats", Napi::Function::New(env, EnableRunTimeStatsFn));
  exports.Set("setThreadSched", Napi::Function::New(env, SetThreadSchedFn));
  Napi::Object c = Napi::Object::New(env);
  c.Set("headerSize", double(sizeof(struct wt_event)));
  c.Set("maxPayload", double(WT_MAX_PAYLOAD));
  c.Set("defaultPayloadCap", double(WT_DEFAULT_PAYLOAD_CAP));
  exports.Set("constants", c);
  return exports;
}

}  // namespace

NODE_API_MODULE(wiretap_native, Init)
