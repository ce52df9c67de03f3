// wiretap_scan(id): a DuckDB table function over column buffers that JS registered for one query.
// DuckDB's worker threads claim whole batches (an atomic counter) and fill output vectors straight
// from the buffers: memcpy or widening for fixed-width columns, ENUM ids through the batch's
// remap, UUIDs from the batch's UPID table, VARCHAR from UTF-8 + offsets. No JS runs here.
//
// Lifetime: a Plan pins the typed arrays it reads (napi references) and is shared by the
// registry (until JS removes it) and by every DuckDB bind of it (until DuckDB drops the bound
// plan). Whoever drops it last frees it; napi references can only be deleted on the JS thread,
// so a DuckDB thread hands them to the registry, which deletes them on its next JS call.
#include "scan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bridge.h"
#include "scan-decode.h"

namespace wiretap_duck {
namespace {

enum class Out : uint8_t { kSmallint, kInteger, kBigint, kFloat, kDouble, kBoolean, kTimestampTz, kTimestamp, kUuid, kVarchar, kEnum, kCode };

struct OutKindName {
  const char* name;
  Out out;
  duckdb_type type;
};

const OutKindName kOutKinds[] = {
    {"smallint", Out::kSmallint, DUCKDB_TYPE_SMALLINT}, {"integer", Out::kInteger, DUCKDB_TYPE_INTEGER},
    {"bigint", Out::kBigint, DUCKDB_TYPE_BIGINT},       {"float", Out::kFloat, DUCKDB_TYPE_FLOAT},
    {"double", Out::kDouble, DUCKDB_TYPE_DOUBLE},       {"boolean", Out::kBoolean, DUCKDB_TYPE_BOOLEAN},
    {"timestamptz", Out::kTimestampTz, DUCKDB_TYPE_TIMESTAMP_TZ},
    {"timestamp", Out::kTimestamp, DUCKDB_TYPE_TIMESTAMP},
    {"uuid", Out::kUuid, DUCKDB_TYPE_UUID},             {"varchar", Out::kVarchar, DUCKDB_TYPE_VARCHAR},
    {"enum", Out::kEnum, DUCKDB_TYPE_ENUM},
    // A text column as table-wide codes (CodeDict): (dictionary id << 32) | code, decoded by
    // wiretap_code_text() after a GROUP BY on it (engine/scan/group-codes.ts).
    {"code", Out::kCode, DUCKDB_TYPE_UBIGINT},
};

struct OutputColumn {
  std::string name;
  Out out;
  duckdb_logical_type type = nullptr;
  int enumWidth = 0;  // bytes per ENUM id (DuckDB picks it from the dictionary size)
  uint64_t codeHigh = 0;  // code columns: the dictionary's id << 32
};

// One column of one batch. Which fields are set depends on the output kind (checked at add).
struct ColumnData {
  bool present = false;
  const void* values = nullptr;  // Int32Array (smallint/integer), Float64Array, Uint8Array (bool)
  const uint8_t* nulls = nullptr;  // 1 = NULL; null when the batch has none
  const void* idx = nullptr;       // dictionary ids; null: row i is entry i
  int idxWidth = 0;
  const uint32_t* remap = nullptr;  // ENUM: batch dictionary id → query-wide ENUM id; code: → table-wide code
  size_t remapLen = 0;
  const duckdb_hugeint* upids = nullptr;  // UUID: DuckDB's UUID hugeint of each UPID
  size_t upidCount = 0;
  const char* utf8 = nullptr;  // VARCHAR: entry k = utf8[offsets[k], offsets[k + 1])
  const uint32_t* offsets = nullptr;
  size_t entries = 0;
  // Sealed columns arrive compressed: the thread that claims the batch decodes them.
  bool encoded = false;
  EncodedColumn enc;
  // Every row holds a value only the WHERE's range conjuncts read, and the zone map shows each
  // row satisfies them (engine/scan/scan-plan.ts): a constant vector instead of decoding.
  bool constant = false;
  double constValue = 0;
  // A bounded i32 column still packed (value = packedBase + packed[i]): the row filter reads the
  // narrow offsets, and only the rows it keeps are unpacked if DuckDB reads the column.
  const uint8_t* packed = nullptr;
  int packedWidth = 0;
  double packedBase = 0;
};

// AND-ed bound of the statement's WHERE on an integer or time column (engine/scan/analyze.ts's
// rangeBounds: inclusive, conservative). Rows outside it, or NULL there, cannot match.
struct RangeBound {
  size_t column = 0;
  double lo = 0, hi = 0;
};

struct Batch {
  size_t rows = 0;
  std::vector<ColumnData> cols;
  std::vector<uint8_t> inside;  // per range: the zone map puts every non-NULL value inside it
};

// Table-wide codes of one text column's distinct strings (engine/scan/text-codes.ts): JS interns
// each batch dictionary once (Intern, JS thread) and keeps the batch → code remap; the scan emits
// codes, DuckDB groups by them, and wiretap_code_text() turns the output rows back into strings
// (DuckDB threads). Append-only; JS retires a dictionary (and its remaps) when it has grown far
// past the live batches' entries.
class CodeDict {
 public:
  std::mutex mu;  // Intern (JS thread) vs Get (DuckDB threads): hold it for either

  uint32_t Intern(const char* p, uint32_t len) {
    if ((count_ + 1) * 2 > slots_.size()) Grow();
    uint64_t h = std::hash<std::string_view>()(std::string_view(p, len));
    // A slot holds the hash's high half beside code + 1: most probes settle without touching
    // the entries (the first run of a GROUP BY interns every sealed batch's dictionary).
    uint64_t tag = h & 0xffffffff00000000ULL;
    size_t mask = slots_.size() - 1;
    for (size_t s = h & mask;; s = (s + 1) & mask) {
      uint64_t v = slots_[s];
      if (v == 0) {
        uint32_t code = count_++;
        blob_.append(p, len);
        offsets_.push_back(blob_.size());
        slots_[s] = tag | (code + 1);
        return code;
      }
      if ((v & 0xffffffff00000000ULL) != tag) continue;
      uint32_t code = static_cast<uint32_t>(v) - 1;
      if (offsets_[code + 1] - offsets_[code] == len && std::memcmp(blob_.data() + offsets_[code], p, len) == 0) return code;
    }
  }

  bool Get(uint32_t code, const char** p, uint32_t* len) const {
    if (code >= count_) return false;
    *p = blob_.data() + offsets_[code];
    *len = static_cast<uint32_t>(offsets_[code + 1] - offsets_[code]);
    return true;
  }

  size_t Size() const { return count_; }
  size_t Bytes() const { return blob_.capacity() + offsets_.capacity() * 8 + slots_.capacity() * 8; }

 private:
  void Grow() {
    std::vector<uint64_t> slots(std::max<size_t>(1024, slots_.size() * 2), 0);
    size_t mask = slots.size() - 1;
    for (uint64_t v : slots_) {
      if (!v) continue;
      uint32_t code = static_cast<uint32_t>(v) - 1;
      uint64_t h = std::hash<std::string_view>()(std::string_view(blob_.data() + offsets_[code], offsets_[code + 1] - offsets_[code]));
      size_t s = h & mask;
      while (slots[s]) s = (s + 1) & mask;
      slots[s] = v;
    }
    slots_.swap(slots);
  }

  std::string blob_;
  std::vector<uint64_t> offsets_{0};
  std::vector<uint64_t> slots_;  // hash high half << 32 | code + 1; 0 = empty
  uint32_t count_ = 0;
};

class Core;

struct Plan {
  std::shared_ptr<Core> core;
  std::vector<OutputColumn> columns;
  std::vector<Batch> batches;
  std::vector<RangeBound> ranges;
  uint64_t rows = 0;
  size_t maxThreads = 1;
  std::vector<napi_ref> refs;
  ~Plan();
};

// Per database: the plans of running queries by id. Shared by the JS object and the registered
// function (DuckDB may outlive either).
class Core {
 public:
  Core(napi_env env) : env_(env), jsThread_(std::this_thread::get_id()) {}

  int64_t Add(std::shared_ptr<Plan> plan) {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t id = nextId_++;
    plans_.emplace(id, std::move(plan));
    return id;
  }

  std::shared_ptr<Plan> Find(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(id);
    return it == plans_.end() ? nullptr : it->second;
  }

  // Returns the plan so it is destroyed (if last) outside the lock.
  std::shared_ptr<Plan> Remove(int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = plans_.find(id);
    if (it == plans_.end()) return nullptr;
    auto plan = std::move(it->second);
    plans_.erase(it);
    return plan;
  }

  // A pooled connection's persistent view scans `wiretap_scan(-1 - slot)`: the plan its query
  // set for that slot (per DuckDB connection id, so concurrent queries on other connections
  // never see it). 0 clears. A removed plan is not found, so a stale slot can only fail a bind.
  void SetCurrent(uint64_t connection, int64_t slot, int64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (id == 0) {
      current_.erase({connection, slot});
    } else {
      current_[{connection, slot}] = id;
    }
  }

  int64_t Current(uint64_t connection, int64_t slot) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = current_.find({connection, slot});
    return it == current_.end() ? 0 : it->second;
  }

  // The JS object is gone: drop every plan (they hold the core: a cycle otherwise).
  std::unordered_map<int64_t, std::shared_ptr<Plan>> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    std::unordered_map<int64_t, std::shared_ptr<Plan>> out;
    out.swap(plans_);
    return out;
  }

  size_t Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return plans_.size();
  }

  void ReleaseRefs(std::vector<napi_ref>& refs) {
    if (refs.empty()) return;
    if (std::this_thread::get_id() == jsThread_ && envAlive_.load()) {
      for (napi_ref r : refs) napi_delete_reference(env_, r);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      pending_.insert(pending_.end(), refs.begin(), refs.end());
    }
    refs.clear();
  }

  // JS thread only: frees references that DuckDB threads dropped since the last call.
  void Drain() {
    std::vector<napi_ref> refs;
    {
      std::lock_guard<std::mutex> lock(mu_);
      refs.swap(pending_);
    }
    if (envAlive_.load()) {
      for (napi_ref r : refs) napi_delete_reference(env_, r);
    }
  }

  void PlanCreated() { live_++; }
  void PlanDestroyed() { live_--; }
  size_t LivePlans() const { return live_.load(); }

  void EnvGone() { envAlive_.store(false); }

  uint32_t AddDict() {
    std::lock_guard<std::mutex> lock(mu_);
    uint32_t id = nextDict_++;
    dicts_.emplace(id, std::make_shared<CodeDict>());
    return id;
  }

  std::shared_ptr<CodeDict> FindDict(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dicts_.find(id);
    return it == dicts_.end() ? nullptr : it->second;
  }

  void DropDict(uint32_t id) {
    std::shared_ptr<CodeDict> gone;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = dicts_.find(id);
    if (it == dicts_.end()) return;
    gone = std::move(it->second);
    dicts_.erase(it);
  }

 private:
  std::unordered_map<uint32_t, std::shared_ptr<CodeDict>> dicts_;
  uint32_t nextDict_ = 1;

  std::mutex mu_;
  std::unordered_map<int64_t, std::shared_ptr<Plan>> plans_;
  std::map<std::pair<uint64_t, int64_t>, int64_t> current_;
  int64_t nextId_ = 1;
  std::vector<napi_ref> pending_;
  napi_env env_;
  std::thread::id jsThread_;
  std::atomic<bool> envAlive_{true};
  std::atomic<size_t> live_{0};
};

Plan::~Plan() {
  for (auto& c : columns) {
    if (c.type) duckdb_destroy_logical_type(&c.type);
  }
  core->ReleaseRefs(refs);
  core->PlanDestroyed();
}

// ---- DuckDB callbacks (DuckDB threads) ----

struct GlobalState {
  std::shared_ptr<Plan> plan;
  std::vector<int64_t> projection;  // plan column per output column; -1: row id (NULL)
  std::atomic<size_t> next{0};
};

// Rows of a batch a bound keeps. The buffer only grows (a std::vector shrunk to the kept rows
// zero-filled its tail again for every batch).
struct Selection {
  std::vector<uint32_t> buf{0};
  size_t n = 0;
  uint32_t* Reserve(size_t rows) {
    if (buf.size() < rows + 1) buf.resize(rows + 1);
    return buf.data();
  }
  uint32_t* data() { return buf.data(); }
  const uint32_t* data() const { return buf.data(); }
  size_t size() const { return n; }
  bool empty() const { return n == 0; }
  uint32_t operator[](size_t i) const { return buf[i]; }
};

// Decode scratch kept across queries: a zstd context and per-column buffers cost an allocation
// and a memset per scanning thread per query otherwise (~3% of a resent Q1's samples at 2M rows).
// At most kScratchKept sets are kept, buffers only up to kScratchBytes a set (a `SELECT *`
// decodes every text column of a batch: those go back to the allocator).
struct Scratch {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::vector<DecodedBuffers> buffers, gathered;
  ~Scratch() { ZSTD_freeDCtx(dctx); }
  size_t Bytes() const {
    size_t n = 0;
    for (auto* set : {&buffers, &gathered}) {
      for (const DecodedBuffers& b : *set) {
        n += b.values.capacity() + b.nulls.capacity() + b.idx.capacity() + b.utf8.capacity() + b.scratch.capacity() + b.offsets.capacity() * 4;
      }
    }
    return n;
  }
};

constexpr size_t kScratchKept = 8;
constexpr size_t kScratchBytes = 8 << 20;

struct ScratchPool {
  std::mutex mu;
  std::vector<std::unique_ptr<Scratch>> kept;
};
// Never destroyed: DuckDB threads may end scans while the process exits.
ScratchPool& Pool() {
  static ScratchPool* pool = new ScratchPool();
  return *pool;
}

std::unique_ptr<Scratch> TakeScratch() {
  ScratchPool& p = Pool();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.kept.empty()) return std::make_unique<Scratch>();
  auto s = std::move(p.kept.back());
  p.kept.pop_back();
  return s;
}

void KeepScratch(std::unique_ptr<Scratch> s) {
  if (s->Bytes() > kScratchBytes) {
    s->buffers.clear();
    s->buffers.shrink_to_fit();
    s->gathered.clear();
    s->gathered.shrink_to_fit();
  }
  ScratchPool& p = Pool();
  std::lock_guard<std::mutex> lock(p.mu);
  if (p.kept.size() < kScratchKept) p.kept.push_back(std::move(s));
}

struct LocalState {
  size_t batch = SIZE_MAX;
  size_t row = 0;
  size_t rows = 0;  // rows the current batch emits (its selection, or all of it)
  Selection sel;
  std::vector<DecodedBuffers> gathered;  // per plan column: its selected rows
  bool done = false;
  ZSTD_DCtx* dctx = nullptr;
  std::vector<DecodedBuffers> buffers;  // per plan column
  std::vector<ColumnData> current;      // per plan column: what the current batch reads
  std::vector<uint8_t> opened;          // per plan column: made readable for the current batch
  std::vector<uint8_t> mask;            // per row of the batch: inside the current bound
  // Per plan column: the batch's dictionary as a DuckDB vector (VARCHAR with ids), which output
  // vectors reference and slice: each string is copied once per batch, not once per row, and
  // DuckDB sees dictionary vectors. Its buffers are shared, so chunks outlive our handle.
  std::vector<duckdb_vector> dicts;
  void DropDict(size_t c) {
    if (dicts[c]) duckdb_destroy_vector(&dicts[c]);
    dicts[c] = nullptr;
  }
  std::unique_ptr<Scratch> scratch;  // owns dctx, buffers and gathered between queries
  ~LocalState() {
    for (size_t c = 0; c < dicts.size(); c++) DropDict(c);
    scratch->buffers.swap(buffers);
    scratch->gathered.swap(gathered);
    KeepScratch(std::move(scratch));
  }
};

template <typename T>
void DeleteAs(void* p) {
  delete static_cast<T*>(p);
}

// What a bind keeps. A scan of a plan id pins that plan. A persistent view's scan (negative id)
// keeps only its connection and slot: each execution (Init) scans the plan the slot names then,
// so a statement prepared once and run again reads each run's own snapshot, and a cached
// statement pins no buffers between runs. Its columns must keep their types (checked at Init).
struct BindData {
  std::shared_ptr<Plan> plan;
  std::shared_ptr<Core> core;
  uint64_t connection = 0;
  int64_t slot = -1;
  int64_t boundId = 0;
  std::vector<duckdb_type> types;
};

std::vector<duckdb_type> TypesOf(const Plan& plan) {
  std::vector<duckdb_type> out;
  for (auto& c : plan.columns) out.push_back(duckdb_get_type_id(c.type));
  return out;
}

void Bind(duckdb_bind_info info) {
  auto& core = *static_cast<std::shared_ptr<Core>*>(duckdb_bind_get_extra_info(info));
  duckdb_value param = duckdb_bind_get_parameter(info, 0);
  int64_t id = duckdb_get_int64(param);
  duckdb_destroy_value(&param);
  auto data = std::make_unique<BindData>();
  if (id < 0) {
    // A persistent view: the plan its connection's query set for the slot (SetCurrent).
    duckdb_client_context context = nullptr;
    duckdb_table_function_get_client_context(info, &context);
    data->connection = duckdb_client_context_get_connection_id(context);
    duckdb_destroy_client_context(&context);
    data->slot = -1 - id;
    data->core = core;
    id = core->Current(data->connection, data->slot);
    if (id == 0) {
      std::string message = "wiretap_scan: no current scan for slot " + std::to_string(data->slot) + " on this connection";
      duckdb_bind_set_error(info, message.c_str());
      return;
    }
  }
  std::shared_ptr<Plan> plan = core->Find(id);
  if (!plan) {
    std::string message = "wiretap_scan: no scan " + std::to_string(id) + " (scans exist only while their query runs)";
    duckdb_bind_set_error(info, message.c_str());
    return;
  }
  for (auto& c : plan->columns) duckdb_bind_add_result_column(info, c.name.c_str(), c.type);
  // With a row prefilter the scan emits fewer rows than the plan holds: then only an estimate.
  duckdb_bind_set_cardinality(info, plan->rows, plan->ranges.empty() && data->slot < 0);
  data->types = TypesOf(*plan);
  data->boundId = id;
  if (data->slot < 0) data->plan = std::move(plan);
  duckdb_bind_set_bind_data(info, data.release(), DeleteAs<BindData>);
}

void Init(duckdb_init_info info) {
  auto& bind = *static_cast<BindData*>(duckdb_init_get_bind_data(info));
  std::shared_ptr<Plan> plan = bind.plan;
  if (!plan) {
    int64_t id = bind.core->Current(bind.connection, bind.slot);
    plan = id ? bind.core->Find(id) : nullptr;
    if (!plan) {
      std::string message = "wiretap_scan: no current scan for slot " + std::to_string(bind.slot) + " on this connection";
      duckdb_init_set_error(info, message.c_str());
      return;
    }
    // ENUM members differ per plan: such a column's ids would be read with another plan's members.
    bool same = TypesOf(*plan) == bind.types;
    for (auto t : bind.types) same = same && t != DUCKDB_TYPE_ENUM;
    if (id != bind.boundId && !same) {
      duckdb_init_set_error(info, "wiretap_scan: the scan's columns changed since the statement was prepared");
      return;
    }
  }
  auto state = std::make_unique<GlobalState>();
  state->plan = plan;
  idx_t count = duckdb_init_get_column_count(info);
  for (idx_t k = 0; k < count; k++) {
    idx_t c = duckdb_init_get_column_index(info, k);
    if (c >= plan->columns.size()) {
      state->projection.push_back(-1);
      continue;
    }
    for (auto& b : plan->batches) {
      if (b.rows > 0 && !b.cols[c].present) {
        std::string message = "wiretap_scan: column " + plan->columns[c].name + " was not prepared for this scan";
        duckdb_init_set_error(info, message.c_str());
        return;
      }
    }
    state->projection.push_back(static_cast<int64_t>(c));
  }
  duckdb_init_set_max_threads(info, plan->maxThreads);
  duckdb_init_set_init_data(info, state.release(), DeleteAs<GlobalState>);
}

void LocalInit(duckdb_init_info info) {
  size_t columns = static_cast<BindData*>(duckdb_init_get_bind_data(info))->types.size();  // Init checked the plan's
  auto* l = new LocalState();
  l->scratch = TakeScratch();
  l->dctx = l->scratch->dctx;
  l->buffers.swap(l->scratch->buffers);
  l->gathered.swap(l->scratch->gathered);
  l->buffers.resize(columns);
  l->current.resize(columns);
  l->gathered.resize(columns);
  l->dicts.resize(columns, nullptr);
  duckdb_init_set_init_data(info, l, DeleteAs<LocalState>);
}

duckdb_vector DictionaryVector(const ColumnData& c, duckdb_logical_type type);

// Makes column c of the batch readable in l.current (decoding a sealed one).
// `packed`: an i32 column may stay packed (ColumnData::packed).
bool OpenColumn(const GlobalState& g, LocalState& l, const Batch& batch, size_t c, std::string& error, bool packed = false) {
  const ColumnData& src = batch.cols[c];
  ColumnData& cur = l.current[c];
  cur = src;
  if (!src.encoded || src.constant) return true;
  {
    DecodedView v;
    if (!DecodeColumn(l.dctx, src.enc, batch.rows, l.buffers[c], v, error, packed)) {
      error = "wiretap_scan: column " + g.plan->columns[c].name + ": " + error;
      return false;
    }
    cur.values = v.values;
    cur.nulls = v.nulls;
    cur.idx = v.idx;
    cur.idxWidth = v.idxWidth;
    cur.packed = v.packed;
    cur.packedWidth = v.packedWidth;
    cur.packedBase = v.base;
    if (v.utf8) {
      cur.utf8 = v.utf8;
      cur.offsets = v.offsets;
      cur.entries = v.entries;
    }
  }
  return true;
}

// Keeps the rows of `sel` (all of the batch when `all`) whose value lies in [lo, hi] and is not
// NULL. Over the whole batch: a flag per row first (a loop the compiler vectorises), then the
// flagged rows, 8 flags at a time (a WHERE keeps few rows: most words are zero).
template <typename T>
__attribute__((optimize("tree-vectorize"))) void Flag(const T* v, T lo, T hi, size_t count, uint8_t* m) {
  for (size_t row = 0; row < count; row++) m[row] = (v[row] >= lo) & (v[row] <= hi);
}

template <typename T>
size_t KeepInside(const T* v, const uint8_t* nulls, T lo, T hi, bool all, size_t count, uint32_t* sel, std::vector<uint8_t>& mask) {
  size_t n = 0;
  if (!all) {
    for (size_t i = 0; i < count; i++) {
      uint32_t row = sel[i];
      sel[n] = row;
      n += (v[row] >= lo) & (v[row] <= hi) & (!nulls || nulls[row] == 0);
    }
    return n;
  }
  mask.resize(count + 8);
  uint8_t* m = mask.data();
  Flag(v, lo, hi, count, m);
  if (nulls) {
    for (size_t row = 0; row < count; row++) m[row] &= nulls[row] ^ 1;
  }
  std::memset(m + count, 0, 8);
  for (size_t w = 0; w < count; w += 8) {
    uint64_t word;
    std::memcpy(&word, m + w, 8);
    if (!word) continue;
    for (size_t j = 0; j < 8; j++) {
      sel[n] = static_cast<uint32_t>(w + j);
      n += m[w + j];
    }
  }
  return n;
}

// l.sel = rows of the batch inside every range that can drop rows; false: no selection needed.
bool SelectRows(const GlobalState& g, LocalState& l, const Batch& batch) {
  const Plan& plan = *g.plan;
  bool first = true;
  size_t n = 0;
  for (size_t r = 0; r < plan.ranges.size(); r++) {
    const RangeBound& b = plan.ranges[r];
    if (!batch.cols[b.column].present) continue;  // not prepared: DuckDB's filter alone decides
    const ColumnData& c = l.current[b.column];
    // Every row inside by the zone map and no NULLs: this bound drops nothing here.
    if (batch.inside[r] && !c.nulls) continue;
    if (first) l.sel.Reserve(batch.rows);
    if (c.constant) {
      // JS sends only values inside, but a constant outside would drop every row.
      if (!(c.constValue >= b.lo && c.constValue <= b.hi)) n = 0;
      else if (first) n = batch.rows, std::iota(l.sel.data(), l.sel.data() + batch.rows, 0u);
      first = false;
      continue;
    }
    // NULL compares to NULL: the WHERE drops it, so NULL rows never pass.
    Out out = plan.columns[b.column].out;
    size_t count = first ? batch.rows : n;
    if (out == Out::kSmallint || out == Out::kInteger) {
      // Integer bounds, exact, in the values' own type (so the flag loop vectorises): packed
      // offsets compare with the bounds minus the batch's base.
      auto clamp = [](double x) { return static_cast<int64_t>(std::min(std::max(x, -8589934592.0), 8589934592.0)); };
      int64_t base = c.packed ? static_cast<int64_t>(c.packedBase) : 0;
      int64_t lo = clamp(std::ceil(b.lo)) - base;
      int64_t hi = clamp(std::floor(b.hi)) - base;
      int64_t min = c.packed ? 0 : INT32_MIN;
      int64_t max = !c.packed ? INT32_MAX : c.packedWidth == 1 ? 0xff : c.packedWidth == 2 ? 0xffff : 0xffffffffLL;
      lo = std::max(lo, min);
      hi = std::min(hi, max);
      if (lo > hi) {
        n = 0;
      } else if (!c.packed) {
        n = KeepInside<int32_t>(static_cast<const int32_t*>(c.values), c.nulls, lo, hi, first, count, l.sel.data(), l.mask);
      } else if (c.packedWidth == 1) {
        n = KeepInside<uint8_t>(c.packed, c.nulls, lo, hi, first, count, l.sel.data(), l.mask);
      } else if (c.packedWidth == 2) {
        n = KeepInside<uint16_t>(reinterpret_cast<const uint16_t*>(c.packed), c.nulls, lo, hi, first, count, l.sel.data(), l.mask);
      } else {
        n = KeepInside<uint32_t>(reinterpret_cast<const uint32_t*>(c.packed), c.nulls, lo, hi, first, count, l.sel.data(), l.mask);
      }
    } else {
      n = KeepInside<double>(static_cast<const double*>(c.values), c.nulls, b.lo, b.hi, first, count, l.sel.data(), l.mask);
    }
    first = false;
  }
  if (!first) l.sel.n = n;
  return !first && n < batch.rows;
}

template <typename T>
const void* Gather(const void* src, const Selection& sel, std::vector<uint8_t>& dst) {
  dst.resize(sel.size() * sizeof(T) + 1);  // never empty: data() must not be null
  auto* out = reinterpret_cast<T*>(dst.data());
  const T* in = static_cast<const T*>(src);
  for (size_t i = 0; i < sel.size(); i++) out[i] = in[sel[i]];
  return dst.data();
}

// Column c reduced to the selected rows (values, NULL flags, dictionary ids; dictionaries stay).
void GatherColumn(const OutputColumn& col, ColumnData& c, const Selection& sel, DecodedBuffers& buf) {
  if (c.constant) return;
  if (c.nulls) c.nulls = static_cast<const uint8_t*>(Gather<uint8_t>(c.nulls, sel, buf.nulls));
  switch (col.out) {
    case Out::kSmallint:
    case Out::kInteger:
      c.values = Gather<int32_t>(c.values, sel, buf.values);
      return;
    case Out::kBigint:
    case Out::kTimestampTz:
    case Out::kTimestamp:
    case Out::kFloat:
    case Out::kDouble:
      c.values = Gather<double>(c.values, sel, buf.values);
      return;
    case Out::kBoolean:
      c.values = Gather<uint8_t>(c.values, sel, buf.values);
      return;
    default:
      break;
  }
  switch (c.idxWidth) {
    case 1: c.idx = Gather<uint8_t>(c.idx, sel, buf.idx); return;
    case 2: c.idx = Gather<uint16_t>(c.idx, sel, buf.idx); return;
    case 4: c.idx = Gather<uint32_t>(c.idx, sel, buf.idx); return;
    default:  // no ids (row i is entry i): the selected rows are the ids
      buf.idx.resize(sel.size() * 4 + 1);
      if (!sel.empty()) std::memcpy(buf.idx.data(), sel.data(), sel.size() * 4);
      c.idx = buf.idx.data();
      c.idxWidth = 4;
  }
}

// Makes the projected columns of a newly claimed batch readable (decoding sealed ones) and, when
// the plan has ranges, reduces them to the rows inside every range (a superset of the matches).
// The bounded columns are decoded first: a batch with no row inside them decodes nothing else.
bool OpenBatch(const GlobalState& g, LocalState& l, const Batch& batch, std::string& error) {
  const Plan& plan = *g.plan;
  l.opened.assign(plan.columns.size(), 0);
  auto open = [&](size_t c, bool packed) {
    if (l.opened[c]) return true;
    l.opened[c] = 1;
    return OpenColumn(g, l, batch, c, error, packed);
  };
  for (const RangeBound& b : plan.ranges) {
    if (batch.cols[b.column].present && !open(b.column, true)) return false;
  }
  l.rows = batch.rows;
  bool selected = SelectRows(g, l, batch);
  if (selected) {
    l.rows = l.sel.size();
    if (l.rows == 0) return true;
  }
  for (int64_t c : g.projection) {
    if (c < 0) continue;
    if (!open(static_cast<size_t>(c), false)) return false;
    ColumnData& cur = l.current[c];
    if (cur.packed) {
      // Unpack only the kept rows (into the gathered buffers) or, with no selection, all of them.
      DecodedBuffers& buf = selected ? l.gathered[c] : l.buffers[c];
      buf.values.resize(l.rows * 4 + 4);
      auto* out = reinterpret_cast<int32_t*>(buf.values.data());
      if (selected) {
        GatherI32(cur.packed, cur.packedWidth, cur.packedBase, l.sel.data(), l.rows, out);
        if (cur.nulls) cur.nulls = static_cast<const uint8_t*>(Gather<uint8_t>(cur.nulls, l.sel, buf.nulls));
      } else {
        UnpackI32(cur.packed, cur.packedWidth, batch.rows, cur.packedBase, out);
      }
      cur.values = out;
      cur.packed = nullptr;
    } else if (selected) {
      GatherColumn(plan.columns[c], cur, l.sel, l.gathered[c]);
    }
  }
  for (int64_t c : g.projection) {
    if (c < 0) continue;
    l.DropDict(c);
    const ColumnData& cur = l.current[c];
    if (g.plan->columns[c].out == Out::kVarchar && cur.idx && cur.entries < l.rows) {
      l.dicts[c] = DictionaryVector(cur, g.plan->columns[c].type);
    }
  }
  return true;
}

void SetAllNull(duckdb_vector vec, size_t n) {
  duckdb_vector_ensure_validity_writable(vec);
  uint64_t* v = duckdb_vector_get_validity(vec);
  for (size_t w = 0; w * 64 < n; w++) v[w] = 0;
}

void FillValidity(duckdb_vector vec, const uint8_t* nulls, size_t n) {
  if (!nulls) return;
  if (!std::any_of(nulls, nulls + n, [](uint8_t x) { return x != 0; })) return;
  duckdb_vector_ensure_validity_writable(vec);
  uint64_t* v = duckdb_vector_get_validity(vec);
  for (size_t w = 0; w * 64 < n; w++) {
    size_t end = std::min<size_t>(64, n - w * 64);
    uint64_t mask = 0;
    for (size_t j = 0; j < end; j++) mask |= static_cast<uint64_t>(nulls[w * 64 + j] == 0) << j;
    v[w] = mask;
  }
}

inline uint32_t IdAt(const ColumnData& c, size_t row) {
  switch (c.idxWidth) {
    case 1: return static_cast<const uint8_t*>(c.idx)[row];
    case 2: return static_cast<const uint16_t*>(c.idx)[row];
    case 4: return static_cast<const uint32_t*>(c.idx)[row];
    default: return static_cast<uint32_t>(row);  // no ids: row i is entry i
  }
}

// Entry of row `row` below `limit`, or false. NULL rows may hold any id: they read entry 0.
inline bool Entry(const ColumnData& c, size_t row, size_t limit, uint32_t* out) {
  uint32_t id = IdAt(c, row);
  if (id < limit) {
    *out = id;
    return true;
  }
  if (c.nulls && c.nulls[row]) {
    *out = UINT32_MAX;
    return true;
  }
  return false;
}

template <typename O>
bool FillEnum(O* out, const ColumnData& c, size_t from, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t id;
    if (!Entry(c, from + i, c.remapLen, &id)) return false;
    out[i] = id == UINT32_MAX ? 0 : static_cast<O>(c.remap[id]);
  }
  return true;
}

// Writes one string: inline (zero-padded, as DuckDB compares them) or into the vector's heap.
inline void PutString(duckdb_vector vec, duckdb_string_t* out, size_t i, const char* p, uint32_t len) {
  if (len <= 12) {
    duckdb_string_t& str = out[i];
    std::memset(&str, 0, sizeof str);
    str.value.inlined.length = len;
    std::memcpy(str.value.inlined.inlined, p, len);
  } else {
    duckdb_vector_assign_string_element_len(vec, i, p, len);
  }
}

// The batch's dictionary as a VARCHAR vector, with one more entry (NULL) for NULL rows.
duckdb_vector DictionaryVector(const ColumnData& c, duckdb_logical_type type) {
  duckdb_vector dict = duckdb_create_vector(type, c.entries + 1);
  auto* out = static_cast<duckdb_string_t*>(duckdb_vector_get_data(dict));
  for (size_t k = 0; k < c.entries; k++) {
    PutString(dict, out, k, c.utf8 + c.offsets[k], c.offsets[k + 1] - c.offsets[k]);
  }
  std::memset(&out[c.entries], 0, sizeof out[c.entries]);
  duckdb_vector_ensure_validity_writable(dict);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(dict), c.entries);
  return dict;
}

// Output rows as a slice of the batch's dictionary vector; false on an out-of-range id.
bool FillFromDictionary(duckdb_vector vec, duckdb_vector dict, const ColumnData& c, size_t from, size_t n) {
  // A fresh selection per chunk: the dictionary vector shares it, and a chunk may outlive the call.
  duckdb_selection_vector sel = duckdb_create_selection_vector(n);
  sel_t* s = duckdb_selection_vector_get_data_ptr(sel);
  for (size_t i = 0; i < n; i++) {
    uint32_t id;
    if (!Entry(c, from + i, c.entries, &id)) {
      duckdb_destroy_selection_vector(sel);
      return false;
    }
    s[i] = (id == UINT32_MAX || (c.nulls && c.nulls[from + i])) ? static_cast<sel_t>(c.entries) : id;
  }
  duckdb_vector_reference_vector(vec, dict);
  duckdb_slice_vector(vec, sel, n);
  duckdb_destroy_selection_vector(sel);
  return true;
}

// Writes rows [from, from + n) of one batch column; false on an out-of-range id.
bool FillVector(duckdb_vector vec, const OutputColumn& col, const ColumnData& c, size_t from, size_t n) {
  const uint8_t* nulls = c.nulls ? c.nulls + from : nullptr;
  FillValidity(vec, nulls, n);
  void* data = duckdb_vector_get_data(vec);
  switch (col.out) {
    case Out::kSmallint: {
      auto* in = static_cast<const int32_t*>(c.values) + from;
      auto* out = static_cast<int16_t*>(data);
      for (size_t i = 0; i < n; i++) out[i] = static_cast<int16_t>(in[i]);
      return true;
    }
    case Out::kInteger:
      std::memcpy(data, static_cast<const int32_t*>(c.values) + from, n * 4);
      return true;
    case Out::kBigint:
    case Out::kTimestampTz:
    case Out::kTimestamp: {
      // int8 and µs timestamps are held as float64 (exact to 2^53).
      auto* in = static_cast<const double*>(c.values) + from;
      auto* out = static_cast<int64_t*>(data);
      for (size_t i = 0; i < n; i++) out[i] = static_cast<int64_t>(in[i]);
      return true;
    }
    case Out::kFloat: {
      auto* in = static_cast<const double*>(c.values) + from;
      auto* out = static_cast<float*>(data);
      for (size_t i = 0; i < n; i++) out[i] = static_cast<float>(in[i]);
      return true;
    }
    case Out::kDouble:
      std::memcpy(data, static_cast<const double*>(c.values) + from, n * 8);
      return true;
    case Out::kBoolean: {
      auto* in = static_cast<const uint8_t*>(c.values) + from;
      auto* out = static_cast<bool*>(data);
      for (size_t i = 0; i < n; i++) out[i] = in[i] != 0;
      return true;
    }
    case Out::kUuid: {
      auto* out = static_cast<duckdb_hugeint*>(data);
      for (size_t i = 0; i < n; i++) {
        uint32_t id;
        if (!Entry(c, from + i, c.upidCount, &id)) return false;
        out[i] = id == UINT32_MAX ? duckdb_hugeint{0, 0} : c.upids[id];
      }
      return true;
    }
    case Out::kEnum:
      switch (col.enumWidth) {
        case 1: return FillEnum(static_cast<uint8_t*>(data), c, from, n);
        case 2: return FillEnum(static_cast<uint16_t*>(data), c, from, n);
        default: return FillEnum(static_cast<uint32_t*>(data), c, from, n);
      }
    case Out::kCode: {
      auto* out = static_cast<uint64_t*>(data);
      for (size_t i = 0; i < n; i++) {
        uint32_t id;
        if (!Entry(c, from + i, c.remapLen, &id)) return false;
        out[i] = id == UINT32_MAX ? 0 : col.codeHigh | c.remap[id];
      }
      return true;
    }
    case Out::kVarchar: {
      auto* out = static_cast<duckdb_string_t*>(data);
      for (size_t i = 0; i < n; i++) {
        if (nulls && nulls[i]) continue;
        uint32_t id;
        if (!Entry(c, from + i, c.entries, &id)) return false;
        PutString(vec, out, i, c.utf8 + c.offsets[id], c.offsets[id + 1] - c.offsets[id]);
      }
      return true;
    }
  }
  return false;
}

// A constant vector (integer and time columns: what JS sends as a constant).
void FillConstant(duckdb_vector vec, const OutputColumn& col, double v) {
  duckdb_value value;
  switch (col.out) {
    case Out::kSmallint: value = duckdb_create_int16(static_cast<int16_t>(v)); break;
    case Out::kInteger: value = duckdb_create_int32(static_cast<int32_t>(v)); break;
    case Out::kTimestampTz: value = duckdb_create_timestamp_tz(duckdb_timestamp{static_cast<int64_t>(v)}); break;
    case Out::kTimestamp: value = duckdb_create_timestamp(duckdb_timestamp{static_cast<int64_t>(v)}); break;
    default: value = duckdb_create_int64(static_cast<int64_t>(v)); break;
  }
  duckdb_vector_reference_value(vec, value);
  duckdb_destroy_value(&value);
}

void Scan(duckdb_function_info info, duckdb_data_chunk output) {
  auto* g = static_cast<GlobalState*>(duckdb_function_get_init_data(info));
  auto* l = static_cast<LocalState*>(duckdb_function_get_local_init_data(info));
  const Plan& plan = *g->plan;
  while (!l->done && (l->batch == SIZE_MAX || l->row >= l->rows)) {
    size_t b = g->next.fetch_add(1);
    if (b >= plan.batches.size()) {
      l->done = true;
      break;
    }
    l->batch = b;
    l->row = 0;
    l->rows = 0;
    if (plan.batches[b].rows == 0) continue;
    std::string error;
    if (!OpenBatch(*g, *l, plan.batches[b], error)) {
      duckdb_function_set_error(info, error.c_str());
      l->done = true;
      duckdb_data_chunk_set_size(output, 0);
      return;
    }
  }
  if (l->done) {
    duckdb_data_chunk_set_size(output, 0);
    return;
  }
  size_t n = std::min<size_t>(duckdb_vector_size(), l->rows - l->row);
  for (size_t k = 0; k < g->projection.size(); k++) {
    duckdb_vector vec = duckdb_data_chunk_get_vector(output, k);
    int64_t c = g->projection[k];
    if (c < 0) {
      SetAllNull(vec, n);
      continue;
    }
    if (l->current[c].constant) {
      FillConstant(vec, plan.columns[c], l->current[c].constValue);
      continue;
    }
    bool ok = l->dicts[c] ? FillFromDictionary(vec, l->dicts[c], l->current[c], l->row, n)
                          : FillVector(vec, plan.columns[c], l->current[c], l->row, n);
    if (!ok) {
      std::string message = "wiretap_scan: column " + plan.columns[c].name + " has a dictionary id out of range";
      duckdb_function_set_error(info, message.c_str());
      return;
    }
  }
  l->row += n;
  duckdb_data_chunk_set_size(output, n);
}

// wiretap_code_text(code UBIGINT) → VARCHAR: the string behind a code column's value (NULL stays
// NULL; DuckDB flattens a C API function's input).
void CodeText(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  Core* core = static_cast<std::shared_ptr<Core>*>(duckdb_scalar_function_get_extra_info(info))->get();
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector in = duckdb_data_chunk_get_vector(input, 0);
  auto* codes = static_cast<const uint64_t*>(duckdb_vector_get_data(in));
  uint64_t* valid = duckdb_vector_get_validity(in);
  auto* out = static_cast<duckdb_string_t*>(duckdb_vector_get_data(output));
  std::shared_ptr<CodeDict> dict;
  std::unique_lock<std::mutex> lock;
  uint32_t dictId = 0;
  for (idx_t i = 0; i < n; i++) {
    if (valid && !duckdb_validity_row_is_valid(valid, i)) {
      duckdb_vector_ensure_validity_writable(output);
      duckdb_validity_set_row_invalid(duckdb_vector_get_validity(output), i);
      continue;
    }
    uint32_t d = static_cast<uint32_t>(codes[i] >> 32);
    if (!dict || d != dictId) {
      if (lock.owns_lock()) lock.unlock();
      dict = core->FindDict(d);
      dictId = d;
      if (!dict) {
        duckdb_scalar_function_set_error(info, "wiretap_code_text: no such dictionary (codes exist only while their query runs)");
        return;
      }
      lock = std::unique_lock<std::mutex>(dict->mu);
    }
    const char* p;
    uint32_t len;
    if (!dict->Get(static_cast<uint32_t>(codes[i]), &p, &len)) {
      duckdb_scalar_function_set_error(info, "wiretap_code_text: code out of range");
      return;
    }
    PutString(output, out, i, p, len);
  }
}

// ---- JS side ----

struct TypedView {
  const void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_uint8_array;
};

class PlanBuilder {
 public:
  PlanBuilder(Napi::Env env, Plan& plan) : env_(env), plan_(plan) {}

  // A typed array of one of `types`, pinned for the plan's lifetime; absent → empty view.
  TypedView Typed(Napi::Object o, const char* key, std::initializer_list<napi_typedarray_type> types, bool required) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) {
      if (required) throw Napi::TypeError::New(env_, std::string("scan plan: missing ") + key);
      return {};
    }
    if (!v.IsTypedArray()) throw Napi::TypeError::New(env_, std::string("scan plan: ") + key + " must be a typed array");
    auto ta = v.As<Napi::TypedArray>();
    if (std::find(types.begin(), types.end(), ta.TypedArrayType()) == types.end()) {
      throw Napi::TypeError::New(env_, std::string("scan plan: ") + key + " has the wrong element type");
    }
    napi_ref ref;
    if (napi_create_reference(env_, ta, 1, &ref) != napi_ok) throw Napi::Error::New(env_, "scan plan: cannot pin a buffer");
    plan_.refs.push_back(ref);
    TypedView view;
    // Data() materialises on-heap arrays off-heap, so the pointer stays put while pinned.
    view.data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    view.length = ta.ElementLength();
    view.type = ta.TypedArrayType();
    return view;
  }

  Packed Frame(Napi::Object o, const char* key, int width, bool required) {
    TypedView v = Typed(o, key, {napi_uint8_array}, required);
    Packed p;
    p.z = static_cast<const uint8_t*>(v.data);
    p.zlen = v.length;
    p.width = width;
    return p;
  }

  int Width(Napi::Object o, const char* key) {
    Napi::Value v = o.Get(key);
    int w = v.IsNumber() ? v.As<Napi::Number>().Int32Value() : 0;
    if (w != 1 && w != 2 && w != 4) throw Napi::RangeError::New(env_, std::string("scan plan: encoded.") + key + " must be 1, 2 or 4");
    return w;
  }

  // A sealed column still compressed (engine/store/sealed-batch.ts layout); decoded by DuckDB threads.
  void Encoded(const OutputColumn& col, Napi::Object o, ColumnData& c) {
    EncodedColumn& e = c.enc;
    c.encoded = true;
    std::string kind = o.Get("kind").ToString();
    bool fits = false;
    if (kind == "i32") {
      e.kind = EncodedColumn::kI32;
      fits = col.out == Out::kSmallint || col.out == Out::kInteger;
    } else if (kind == "f64") {
      e.kind = EncodedColumn::kF64;
      fits = col.out == Out::kBigint || col.out == Out::kFloat || col.out == Out::kDouble || col.out == Out::kTimestampTz ||
             col.out == Out::kTimestamp;
    } else if (kind == "bool") {
      e.kind = EncodedColumn::kBool;
      fits = col.out == Out::kBoolean;
    } else if (kind == "upid") {
      e.kind = EncodedColumn::kUpid;
      fits = col.out == Out::kUuid;
    } else if (kind == "text") {
      e.kind = EncodedColumn::kText;
      fits = col.out == Out::kVarchar || col.out == Out::kCode;
      e.idsOnly = col.out == Out::kCode;
    }
    if (!fits) throw Napi::TypeError::New(env_, "scan plan: " + col.name + " cannot be read from an encoded " + kind + " column");
    e.nulls = Frame(o, "nulls", 1, false);
    switch (e.kind) {
      case EncodedColumn::kI32:
        e.base = o.Get("base").ToNumber().DoubleValue();
        e.ints = Frame(o, "ints", Width(o, "width"), true);
        break;
      case EncodedColumn::kF64: {
        std::string mode = o.Get("mode").ToString();
        e.base = o.Get("base").ToNumber().DoubleValue();
        if (mode == "raw") {
          e.mode = EncodedColumn::kRaw;
          e.raw = Frame(o, "raw", 8, true);
        } else if (mode == "offset" || mode == "delta") {
          e.mode = mode == "offset" ? EncodedColumn::kOffset : EncodedColumn::kDelta;
          e.ints = Frame(o, "ints", Width(o, "width"), true);
        } else {
          throw Napi::TypeError::New(env_, "scan plan: " + col.name + ": unknown float mode " + mode);
        }
        break;
      }
      case EncodedColumn::kBool:
        e.raw = Frame(o, "data", 1, true);
        break;
      case EncodedColumn::kUpid: {
        e.idx = Frame(o, "idx", Width(o, "idxWidth"), true);
        TypedView u = Typed(o, "upids", {napi_uint32_array}, true);
        if (u.length % 4 != 0) throw Napi::RangeError::New(env_, "scan plan: " + col.name + ".upids must hold 4 words per UPID");
        c.upids = static_cast<const duckdb_hugeint*>(u.data);
        c.upidCount = u.length / 4;
        break;
      }
      case EncodedColumn::kText: {
        double size = o.Get("dictSize").ToNumber().DoubleValue();
        if (!(size >= 0 && size < 4294967295.0)) throw Napi::RangeError::New(env_, "scan plan: bad dictSize");
        e.dictSize = static_cast<size_t>(size);
        e.dictUtf8 = Frame(o, "dictUtf8", 1, true);
        e.lengths = Frame(o, "lengths", Width(o, "lengthsWidth"), true);
        e.chars = o.Get("chars").ToBoolean();
        Napi::Value idx = o.Get("idx");
        if (!idx.IsNull() && !idx.IsUndefined()) e.idx = Frame(o, "idx", Width(o, "idxWidth"), true);
        break;
      }
    }
  }

  void Column(const OutputColumn& col, Napi::Object o, size_t rows, ColumnData& c) {
    c.present = true;
    Napi::Value k = o.Get("constant");
    if (!k.IsUndefined() && !k.IsNull()) {
      double v = k.ToNumber().DoubleValue();
      bool integral = col.out == Out::kSmallint || col.out == Out::kInteger || col.out == Out::kBigint ||
                      col.out == Out::kTimestampTz || col.out == Out::kTimestamp;
      double limit = col.out == Out::kSmallint ? 32767 : col.out == Out::kInteger ? 2147483647 : 9007199254740992.0;
      if (!integral || !k.IsNumber() || v != std::floor(v) || v > limit || v < -limit - 1) {
        throw Napi::TypeError::New(env_, "scan plan: " + col.name + ".constant must be an integer in range (integer and time columns only)");
      }
      c.constant = true;
      c.constValue = v;
      return;
    }
    Napi::Value enc = o.Get("encoded");
    if (enc.IsObject()) {
      Encoded(col, enc.As<Napi::Object>(), c);
      if (col.out == Out::kCode) Remap(col, o, c, c.enc.dictSize);
      return;
    }
    auto check = [&](const TypedView& v, size_t need, const char* key) {
      if (v.data && v.length < need) {
        throw Napi::RangeError::New(env_, "scan plan: " + col.name + "." + key + " is shorter than the batch");
      }
    };
    TypedView nulls = Typed(o, "nulls", {napi_uint8_array}, false);
    check(nulls, rows, "nulls");
    c.nulls = static_cast<const uint8_t*>(nulls.data);
    switch (col.out) {
      case Out::kSmallint:
      case Out::kInteger: {
        TypedView v = Typed(o, "values", {napi_int32_array}, true);
        check(v, rows, "values");
        c.values = v.data;
        return;
      }
      case Out::kBigint:
      case Out::kTimestampTz:
      case Out::kTimestamp:
      case Out::kFloat:
      case Out::kDouble: {
        TypedView v = Typed(o, "values", {napi_float64_array}, true);
        check(v, rows, "values");
        c.values = v.data;
        return;
      }
      case Out::kBoolean: {
        TypedView v = Typed(o, "values", {napi_uint8_array}, true);
        check(v, rows, "values");
        c.values = v.data;
        return;
      }
      default:
        break;
    }
    TypedView idx = Typed(o, "idx", {napi_uint8_array, napi_uint16_array, napi_uint32_array}, col.out == Out::kUuid);
    check(idx, rows, "idx");
    c.idx = idx.data;
    c.idxWidth = !idx.data ? 0 : idx.type == napi_uint8_array ? 1 : idx.type == napi_uint16_array ? 2 : 4;
    if (col.out == Out::kUuid) {
      TypedView u = Typed(o, "upids", {napi_uint32_array}, true);
      if (u.length % 4 != 0) throw Napi::RangeError::New(env_, "scan plan: " + col.name + ".upids must hold 4 words per UPID");
      c.upids = static_cast<const duckdb_hugeint*>(u.data);
      c.upidCount = u.length / 4;
    } else if (col.out == Out::kCode) {
      Remap(col, o, c, 0);
    } else if (col.out == Out::kEnum) {
      TypedView r = Typed(o, "remap", {napi_uint32_array}, true);
      c.remap = static_cast<const uint32_t*>(r.data);
      c.remapLen = r.length;
      for (size_t i = 0; i < r.length; i++) {
        if (c.remap[i] >= enumSize_) throw Napi::RangeError::New(env_, "scan plan: " + col.name + ".remap points past the ENUM");
      }
    } else {
      TypedView u = Typed(o, "utf8", {napi_uint8_array}, true);
      TypedView off = Typed(o, "offsets", {napi_uint32_array}, true);
      if (off.length == 0) throw Napi::RangeError::New(env_, "scan plan: " + col.name + ".offsets is empty");
      c.utf8 = static_cast<const char*>(u.data);
      c.offsets = static_cast<const uint32_t*>(off.data);
      c.entries = off.length - 1;
      for (size_t i = 0; i < c.entries; i++) {
        if (c.offsets[i] > c.offsets[i + 1] || c.offsets[i + 1] > u.length) {
          throw Napi::RangeError::New(env_, "scan plan: " + col.name + ".offsets out of order or past utf8");
        }
      }
    }
  }

  void SetEnumSize(size_t n) { enumSize_ = n; }

  // Code columns: batch dictionary id → table-wide code (ids past it fail the scan per row).
  void Remap(const OutputColumn& col, Napi::Object o, ColumnData& c, size_t atLeast) {
    TypedView r = Typed(o, "remap", {napi_uint32_array}, true);
    if (r.length < atLeast) throw Napi::RangeError::New(env_, "scan plan: " + col.name + ".remap is shorter than the batch dictionary");
    c.remap = static_cast<const uint32_t*>(r.data);
    c.remapLen = r.length;
  }

 private:
  Napi::Env env_;
  Plan& plan_;
  size_t enumSize_ = 0;
};

class ScanRegistryWrap : public Napi::ObjectWrap<ScanRegistryWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ScanRegistry",
                       {InstanceMethod<&ScanRegistryWrap::Add>("add"), InstanceMethod<&ScanRegistryWrap::Remove>("remove"),
                        InstanceMethod<&ScanRegistryWrap::Run>("run"),
                        InstanceMethod<&ScanRegistryWrap::SetCurrent>("setCurrent"),
                        InstanceMethod<&ScanRegistryWrap::CodesCreate>("codesCreate"),
                        InstanceMethod<&ScanRegistryWrap::CodesDrop>("codesDrop"),
                        InstanceMethod<&ScanRegistryWrap::CodesRemap>("codesRemap"),
                        InstanceMethod<&ScanRegistryWrap::CodesInfo>("codesInfo"),
                        InstanceAccessor<&ScanRegistryWrap::Size>("size"),
                        InstanceAccessor<&ScanRegistryWrap::Live>("livePlans")});
  }

  // new ScanRegistry(connection external, function name): registers the function on its database.
  ScanRegistryWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ScanRegistryWrap>(info) {
    Napi::Env env = info.Env();
    duckdb_connection conn = ConnectionFromJs(env, info[0]);
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "ScanRegistry: function name must be a string");
    std::string name = info[1].As<Napi::String>();
    core_ = std::make_shared<Core>(env);
    env_ = env;
    cleanupArg_ = new std::weak_ptr<Core>(core_);
    napi_add_env_cleanup_hook(env, EnvCleanup, cleanupArg_);

    duckdb_table_function f = duckdb_create_table_function();
    duckdb_table_function_set_name(f, name.c_str());
    duckdb_logical_type bigint = duckdb_create_logical_type(DUCKDB_TYPE_BIGINT);
    duckdb_table_function_add_parameter(f, bigint);
    duckdb_destroy_logical_type(&bigint);
    duckdb_table_function_set_extra_info(f, new std::shared_ptr<Core>(core_), DeleteAs<std::shared_ptr<Core>>);
    duckdb_table_function_set_bind(f, Bind);
    duckdb_table_function_set_init(f, Init);
    duckdb_table_function_set_local_init(f, LocalInit);
    duckdb_table_function_set_function(f, Scan);
    duckdb_table_function_supports_projection_pushdown(f, true);
    duckdb_state state = duckdb_register_table_function(conn, f);
    duckdb_destroy_table_function(&f);
    if (state != DuckDBSuccess) throw Napi::Error::New(env, "ScanRegistry: cannot register table function " + name);

    // The decoder of code columns, when JS names it (third argument).
    if (info[2].IsString()) {
      std::string decoder = info[2].As<Napi::String>();
      duckdb_scalar_function sf = duckdb_create_scalar_function();
      duckdb_scalar_function_set_name(sf, decoder.c_str());
      duckdb_logical_type ubigint = duckdb_create_logical_type(DUCKDB_TYPE_UBIGINT);
      duckdb_logical_type varchar = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
      duckdb_scalar_function_add_parameter(sf, ubigint);
      duckdb_scalar_function_set_return_type(sf, varchar);
      duckdb_destroy_logical_type(&ubigint);
      duckdb_destroy_logical_type(&varchar);
      duckdb_scalar_function_set_extra_info(sf, new std::shared_ptr<Core>(core_), DeleteAs<std::shared_ptr<Core>>);
      duckdb_scalar_function_set_function(sf, CodeText);
      state = duckdb_register_scalar_function(conn, sf);
      duckdb_destroy_scalar_function(&sf);
      if (state != DuckDBSuccess) throw Napi::Error::New(env, "ScanRegistry: cannot register scalar function " + decoder);
    }
  }

  ~ScanRegistryWrap() override {
    // Plans still registered (a query that never removed its scan) drop their core reference.
    auto plans = core_->TakeAll();
    plans.clear();
    core_->Drain();
    napi_remove_env_cleanup_hook(env_, EnvCleanup, cleanupArg_);
    delete cleanupArg_;
  }

 private:
  static void EnvCleanup(void* arg) {
    auto* weak = static_cast<std::weak_ptr<Core>*>(arg);
    if (auto core = weak->lock()) core->EnvGone();
  }

  // add({ columns: [{name, type, members?}], batches: [{rows, columns: [col | null]}], maxThreads })
  Napi::Value Add(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    core_->Drain();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "ScanRegistry.add: expected a plan object");
    Napi::Object spec = info[0].As<Napi::Object>();
    auto plan = std::make_shared<Plan>();
    plan->core = core_;
    core_->PlanCreated();
    Napi::Value colsValue = spec.Get("columns");
    Napi::Value batchesValue = spec.Get("batches");
    if (!colsValue.IsArray() || !batchesValue.IsArray()) {
      throw Napi::TypeError::New(env, "ScanRegistry.add: columns and batches must be arrays");
    }
    Napi::Array cols = colsValue.As<Napi::Array>();
    for (uint32_t i = 0; i < cols.Length(); i++) {
      Napi::Object c = cols.Get(i).As<Napi::Object>();
      OutputColumn col;
      col.name = c.Get("name").As<Napi::String>();
      std::string type = c.Get("type").As<Napi::String>();
      const OutKindName* kind = nullptr;
      for (auto& k : kOutKinds) {
        if (type == k.name) kind = &k;
      }
      if (!kind) throw Napi::TypeError::New(env, "ScanRegistry.add: unknown column type " + type);
      col.out = kind->out;
      if (col.out == Out::kEnum) {
        Napi::Value mv = c.Get("members");
        if (!mv.IsArray() || mv.As<Napi::Array>().Length() == 0) {
          throw Napi::TypeError::New(env, "ScanRegistry.add: ENUM column " + col.name + " needs members");
        }
        Napi::Array members = mv.As<Napi::Array>();
        std::vector<std::string> names(members.Length());
        std::vector<const char*> ptrs(members.Length());
        for (uint32_t m = 0; m < members.Length(); m++) {
          names[m] = members.Get(m).As<Napi::String>().Utf8Value();
          ptrs[m] = names[m].c_str();
        }
        col.type = duckdb_create_enum_type(ptrs.data(), ptrs.size());
        duckdb_type internal = duckdb_enum_internal_type(col.type);
        col.enumWidth = internal == DUCKDB_TYPE_UTINYINT ? 1 : internal == DUCKDB_TYPE_USMALLINT ? 2 : 4;
      } else {
        if (col.out == Out::kCode) {
          double dict = c.Get("dict").ToNumber().DoubleValue();
          if (!(dict >= 1 && dict <= 4294967295.0) || !core_->FindDict(static_cast<uint32_t>(dict))) {
            throw Napi::TypeError::New(env, "ScanRegistry.add: code column " + col.name + " needs a live dictionary");
          }
          col.codeHigh = static_cast<uint64_t>(dict) << 32;
        }
        col.type = duckdb_create_logical_type(kind->type);
      }
      plan->columns.push_back(std::move(col));
    }
    Napi::Value rangesValue = spec.Get("ranges");
    if (!rangesValue.IsUndefined() && !rangesValue.IsNull()) {
      if (!rangesValue.IsArray()) throw Napi::TypeError::New(env, "ScanRegistry.add: ranges must be an array");
      Napi::Array ranges = rangesValue.As<Napi::Array>();
      for (uint32_t r = 0; r < ranges.Length(); r++) {
        if (!ranges.Get(r).IsObject()) throw Napi::TypeError::New(env, "ScanRegistry.add: a range must be an object");
        Napi::Object ro = ranges.Get(r).As<Napi::Object>();
        double column = ro.Get("column").ToNumber().DoubleValue();
        RangeBound b;
        b.lo = ro.Get("lo").ToNumber().DoubleValue();
        b.hi = ro.Get("hi").ToNumber().DoubleValue();
        if (!(column >= 0 && column < plan->columns.size()) || b.lo != b.lo || b.hi != b.hi) {
          throw Napi::RangeError::New(env, "ScanRegistry.add: a range needs a column index and numeric lo/hi");
        }
        b.column = static_cast<size_t>(column);
        Out out = plan->columns[b.column].out;
        if (out != Out::kSmallint && out != Out::kInteger && out != Out::kBigint && out != Out::kTimestampTz && out != Out::kTimestamp) {
          throw Napi::TypeError::New(env, "ScanRegistry.add: range on " + plan->columns[b.column].name + ": only integer and time columns");
        }
        plan->ranges.push_back(b);
      }
    }
    Napi::Array batches = batchesValue.As<Napi::Array>();
    plan->batches.resize(batches.Length());
    PlanBuilder builder(env, *plan);
    size_t nonEmpty = 0;
    for (uint32_t b = 0; b < batches.Length(); b++) {
      Napi::Object bo = batches.Get(b).As<Napi::Object>();
      Batch& batch = plan->batches[b];
      double rows = bo.Get("rows").ToNumber().DoubleValue();
      if (!(rows >= 0 && rows <= 4294967295.0)) throw Napi::RangeError::New(env, "ScanRegistry.add: bad batch row count");
      batch.rows = static_cast<size_t>(rows);
      plan->rows += batch.rows;
      if (batch.rows > 0) nonEmpty++;
      batch.cols.resize(plan->columns.size());
      batch.inside.assign(plan->ranges.size(), 0);
      Napi::Value inside = bo.Get("inside");
      if (inside.IsArray()) {
        Napi::Array in = inside.As<Napi::Array>();
        if (in.Length() != plan->ranges.size()) throw Napi::TypeError::New(env, "ScanRegistry.add: batch inside needs one entry per range");
        for (uint32_t r = 0; r < in.Length(); r++) batch.inside[r] = in.Get(r).ToBoolean() ? 1 : 0;
      }
      Napi::Value bc = bo.Get("columns");
      if (!bc.IsArray() || bc.As<Napi::Array>().Length() != plan->columns.size()) {
        throw Napi::TypeError::New(env, "ScanRegistry.add: each batch needs one entry per column");
      }
      Napi::Array bcols = bc.As<Napi::Array>();
      for (uint32_t i = 0; i < bcols.Length(); i++) {
        Napi::Value cv = bcols.Get(i);
        if (cv.IsNull() || cv.IsUndefined()) continue;
        if (!cv.IsObject()) throw Napi::TypeError::New(env, "ScanRegistry.add: a batch column must be an object or null");
        const OutputColumn& col = plan->columns[i];
        if (col.out == Out::kEnum) {
          builder.SetEnumSize(cols.Get(i).As<Napi::Object>().Get("members").As<Napi::Array>().Length());
        }
        builder.Column(col, cv.As<Napi::Object>(), batch.rows, batch.cols[i]);
      }
    }
    double maxThreads = spec.Has("maxThreads") ? spec.Get("maxThreads").ToNumber().DoubleValue() : 1;
    if (!(maxThreads >= 1)) maxThreads = 1;
    plan->maxThreads = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(std::min(maxThreads, 1024.0)), nonEmpty));
    return Napi::Number::New(env, static_cast<double>(core_->Add(std::move(plan))));
  }

  // run(connection, sql): a statement without rows (a query's temp views) on the JS thread. DuckDB
  // spends ~0.1 ms binding a view; node-api's async run adds a thread-pool round trip (~1 ms, more
  // under load) per statement. Throws DuckDB's message.
  Napi::Value Run(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    duckdb_connection conn = ConnectionFromJs(env, info[0]);
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "ScanRegistry.run: sql must be a string");
    std::string sql = info[1].As<Napi::String>();
    duckdb_result result;
    bool ok = duckdb_query(conn, sql.c_str(), &result) == DuckDBSuccess;
    std::string message = ok ? "" : duckdb_result_error(&result) ? duckdb_result_error(&result) : "ScanRegistry.run: failed";
    duckdb_destroy_result(&result);
    if (!ok) throw Napi::Error::New(env, message);
    return env.Undefined();
  }

  // setCurrent(connection, slot, id): the plan `wiretap_scan(-1 - slot)` binds on this
  // connection (id 0: none). Returns nothing; throws on bad arguments.
  Napi::Value SetCurrent(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    duckdb_connection conn = ConnectionFromJs(env, info[0]);
    double slot = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : -1;
    double id = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : -1;
    if (!(slot >= 0 && slot < 1e6 && slot == std::floor(slot)) || !(id >= 0 && id < 9e15 && id == std::floor(id))) {
      throw Napi::RangeError::New(env, "ScanRegistry.setCurrent: slot and id must be non-negative integers");
    }
    duckdb_client_context context = nullptr;
    duckdb_connection_get_client_context(conn, &context);
    uint64_t connection = duckdb_client_context_get_connection_id(context);
    duckdb_destroy_client_context(&context);
    core_->SetCurrent(connection, static_cast<int64_t>(slot), static_cast<int64_t>(id));
    return env.Undefined();
  }

  Napi::Value Remove(const Napi::CallbackInfo& info) {
    auto plan = core_->Remove(static_cast<int64_t>(info[0].ToNumber().DoubleValue()));
    plan.reset();  // on the JS thread: frees its references now unless DuckDB still holds it
    core_->Drain();
    return info.Env().Undefined();
  }

  // codesCreate() → id of a new, empty code dictionary.
  Napi::Value CodesCreate(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->AddDict()); }

  // codesDrop(id): scans already bound keep reading their remaps; decoding its codes fails after.
  Napi::Value CodesDrop(const Napi::CallbackInfo& info) {
    core_->DropDict(static_cast<uint32_t>(info[0].ToNumber().Uint32Value()));
    return info.Env().Undefined();
  }

  std::shared_ptr<CodeDict> DictArg(const Napi::CallbackInfo& info) {
    auto dict = core_->FindDict(static_cast<uint32_t>(info[0].ToNumber().Uint32Value()));
    if (!dict) throw Napi::RangeError::New(info.Env(), "ScanRegistry: no such code dictionary");
    return dict;
  }

  // codesRemap(id, { encoded: text column } | { utf8, offsets }) → Uint32Array: the code of each
  // entry of one batch's dictionary (sealed: decompressed here; the dictionary only).
  Napi::Value CodesRemap(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    core_->Drain();
    auto dict = DictArg(info);
    if (!info[1].IsObject()) throw Napi::TypeError::New(env, "codesRemap: expected a column object");
    Napi::Object o = info[1].As<Napi::Object>();
    Plan scratch;  // pins nothing past this call: its references are released below
    scratch.core = core_;
    core_->PlanCreated();
    PlanBuilder builder(env, scratch);
    OutputColumn col;
    col.name = "codes";
    col.out = Out::kVarchar;
    ColumnData c;
    DecodedBuffers buf;
    const char* utf8;
    const uint32_t* offsets;
    size_t entries;
    Napi::Value enc = o.Get("encoded");
    if (enc.IsObject()) {
      builder.Encoded(col, enc.As<Napi::Object>(), c);
      c.enc.idx = Packed();  // the dictionary alone
      c.enc.nulls = Packed();
      auto scratch = TakeScratch();
      DecodedView v;
      std::string error;
      bool ok = DecodeColumn(scratch->dctx, c.enc, 0, buf, v, error);
      KeepScratch(std::move(scratch));
      if (!ok) throw Napi::Error::New(env, "codesRemap: " + error);
      utf8 = v.utf8;
      offsets = v.offsets;
      entries = v.entries;
    } else {
      TypedView u = builder.Typed(o, "utf8", {napi_uint8_array}, true);
      TypedView off = builder.Typed(o, "offsets", {napi_uint32_array}, true);
      if (off.length == 0) throw Napi::RangeError::New(env, "codesRemap: offsets is empty");
      utf8 = static_cast<const char*>(u.data);
      offsets = static_cast<const uint32_t*>(off.data);
      entries = off.length - 1;
      for (size_t i = 0; i < entries; i++) {
        if (offsets[i] > offsets[i + 1] || offsets[i + 1] > u.length) throw Napi::RangeError::New(env, "codesRemap: offsets out of order or past utf8");
      }
    }
    Napi::Uint32Array out = Napi::Uint32Array::New(env, entries);
    {
      std::lock_guard<std::mutex> lock(dict->mu);
      if (dict->Size() + entries >= 0xffffffffULL) throw Napi::RangeError::New(env, "codesRemap: dictionary full");
      for (size_t k = 0; k < entries; k++) out[k] = dict->Intern(utf8 + offsets[k], offsets[k + 1] - offsets[k]);
    }
    return out;
  }

  // codesInfo(id) → { entries, bytes }.
  Napi::Value CodesInfo(const Napi::CallbackInfo& info) {
    auto dict = DictArg(info);
    Napi::Object out = Napi::Object::New(info.Env());
    std::lock_guard<std::mutex> lock(dict->mu);
    out.Set("entries", static_cast<double>(dict->Size()));
    out.Set("bytes", static_cast<double>(dict->Bytes()));
    return out;
  }

  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(core_->Size())); }

  // Plans not yet freed: registered ones plus those DuckDB still holds (tests check that a
  // finished, failed or cancelled query leaves none behind).
  Napi::Value Live(const Napi::CallbackInfo& info) {
    core_->Drain();
    return Napi::Number::New(info.Env(), static_cast<double>(core_->LivePlans()));
  }

  std::shared_ptr<Core> core_;
  napi_env env_ = nullptr;
  std::weak_ptr<Core>* cleanupArg_ = nullptr;
};

}  // namespace

void InitScan(Napi::Env env, Napi::Object exports) { exports.Set("ScanRegistry", ScanRegistryWrap::Define(env)); }

}  // namespace wiretap_duck
