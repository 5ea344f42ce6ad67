#include "writer.h"

#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics.h"
#include "tickmesh/runtime/clock.h"
#include "tickmesh/runtime/log.h"

namespace tickmesh::persistence {
namespace {

v1::AppendAck MakeAck(const v1::AppendRequest& batch, v1::Durability durability,
                      absl::StatusCode code = absl::StatusCode::kOk, std::string error = "") {
  v1::AppendAck ack;
  ack.set_batch_id(batch.batch_id());
  ack.set_records(static_cast<uint32_t>(batch.records_size()));
  ack.set_durability(durability);
  ack.set_status_code(static_cast<int32_t>(code));
  ack.set_error(std::move(error));
  return ack;
}

double SecondsSince(int64_t start_ns) {
  return static_cast<double>(runtime::MonotonicNs() - start_ns) / 1e9;
}

}  // namespace

Writer::Writer(StoreFactory factory, std::unique_ptr<Spool> spool, WriterOptions options)
    : factory_(std::move(factory)), spool_(std::move(spool)), options_(options) {}

Writer::~Writer() { Stop(); }

void Writer::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stop_) return;
    started_ = true;
  }
  PersistenceMetrics& m = Metrics();
  if (spool_->truncated_bytes() > 0) {
    m.spool_truncated_bytes->Increment(static_cast<double>(spool_->truncated_bytes()));
    runtime::LogWarn("spool torn tail truncated",
                     {{"path", spool_->path()}, {"bytes", spool_->truncated_bytes()}});
  }
  if (spool_->pending_entries() > 0) {
    runtime::LogInfo("spool holds entries to replay",
                     {{"entries", spool_->pending_entries()}, {"bytes", spool_->pending_bytes()}});
  }
  store_ = factory_();
  absl::Status st = store_->Connect();
  db_up_ = st.ok();
  m.database_up->Set(st.ok() ? 1 : 0);
  if (!st.ok()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_error_ = std::string(st.message());
    }
    runtime::WarnOnce("persistence.database_down", "database unavailable; spooling writes",
                      {{"backend", store_->backend()}, {"error", std::string(st.message())}});
    m.database_down_transitions->Increment();
  }
  if (on_state_) on_state_(st.ok());
  thread_ = std::thread([this] { Run(); });
  prober_ = std::thread([this] { ProbeLoop(); });
}

absl::Status Writer::Submit(std::shared_ptr<const v1::AppendRequest> batch, Done done) {
  const size_t n = static_cast<size_t>(batch->records_size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || !started_) return absl::UnavailableError("persistence writer is not running");
    if (queued_records_ > 0 && queued_records_ + n > options_.max_queued_records) {
      Metrics().batches_rejected_queue_full->Increment();
      return absl::ResourceExhaustedError(absl::StrCat("writer queue full: ", queued_records_,
                                                       " records queued, limit ",
                                                       options_.max_queued_records));
    }
    queue_.push_back(Pending{std::move(batch), std::move(done), runtime::MonotonicNs()});
    queued_records_ += n;
    Metrics().queued_records->Set(static_cast<double>(queued_records_));
  }
  cv_.notify_one();
  return absl::OkStatus();
}

void Writer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  {
    std::lock_guard<std::mutex> lock(probe_mu_);
    probe_stop_ = true;
  }
  probe_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (prober_.joinable()) prober_.join();
}

WriterStats Writer::Stats() const {
  WriterStats s;
  s.database_up = db_up_.load();
  {
    std::lock_guard<std::mutex> lock(mu_);
    s.queued_records = queued_records_;
    s.last_database_error = last_error_;
  }
  s.spool_pending_bytes = spool_->pending_bytes();
  s.spool_pending_entries = spool_->pending_entries();
  s.spool_file_bytes = spool_->file_bytes();
  s.spool_max_bytes = spool_->max_bytes();
  s.records_committed = committed_.load();
  s.records_spooled = spooled_.load();
  s.records_replayed = replayed_.load();
  s.dead_lettered_entries = dead_lettered_.load();
  s.replay_blocked = replay_blocked_.load();
  return s;
}

void Writer::SetDatabaseUp(bool up, const absl::Status& why) {
  if (!up) {
    std::lock_guard<std::mutex> lock(mu_);
    last_error_ = std::string(why.message());
  }
  if (db_up_.exchange(up) == up) return;
  PersistenceMetrics& m = Metrics();
  m.database_up->Set(up ? 1 : 0);
  if (up) {
    runtime::ResetWarnOnce("persistence.database_down");
    runtime::LogInfo(
        "database available again; replaying spool",
        {{"backend", store_->backend()}, {"spool_entries", spool_->pending_entries()}});
  } else {
    m.database_down_transitions->Increment();
    runtime::WarnOnce("persistence.database_down", "database unavailable; spooling writes",
                      {{"backend", store_->backend()}, {"error", std::string(why.message())}});
  }
  if (on_state_) on_state_(up);
  if (!up) probe_cv_.notify_all();
}

void Writer::ProbeLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(probe_mu_);
      probe_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.probe_interval),
                         [&] { return probe_stop_; });
      if (probe_stop_) return;
    }
    if (db_up_.load()) continue;
    // A fresh connection each time: an old one may look open to a server that has gone.
    std::unique_ptr<Store> probe = factory_();
    if (probe->Connect().ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        probe_ok_ = true;
      }
      cv_.notify_one();
    }
  }
}

void Writer::Run() {
  PersistenceMetrics& m = Metrics();
  while (true) {
    std::deque<Pending> group;
    bool try_reconnect = false;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto replay_due = [&] {
        return db_up_.load() && !replay_blocked_.load() && spool_->pending_entries() > 0;
      };
      cv_.wait(lock, [&] { return !queue_.empty() || stop_ || probe_ok_ || replay_due(); });
      if (!queue_.empty() && !stop_ && queued_records_ < options_.group_max_records) {
        // Group commit: let other callers join until the group is full or the oldest batch has
        // waited long enough.
        const auto deadline = std::chrono::steady_clock::time_point(
                                  std::chrono::nanoseconds(queue_.front().enqueued_ns)) +
                              absl::ToChronoNanoseconds(options_.group_max_delay);
        cv_.wait_until(lock, deadline,
                       [&] { return stop_ || queued_records_ >= options_.group_max_records; });
      }
      size_t taken = 0;
      while (!queue_.empty() && (group.empty() || taken + queue_.front().batch->records_size() <=
                                                      options_.group_max_records)) {
        taken += queue_.front().batch->records_size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_records_ -= taken;
      m.queued_records->Set(static_cast<double>(queued_records_));
      try_reconnect = probe_ok_;
      probe_ok_ = false;
      stopping = stop_ && queue_.empty();
    }
    if (try_reconnect && !db_up_.load()) {
      absl::Status st = store_->Connect();
      if (st.ok()) SetDatabaseUp(true, st);
    }
    if (!group.empty()) Commit(group);
    if (stopping) break;
    if (db_up_.load() && !replay_blocked_.load() && spool_->pending_entries() > 0) ReplayChunk();
  }
}

void Writer::Commit(std::deque<Pending>& group) {
  PersistenceMetrics& m = Metrics();
  size_t total = 0;
  for (const Pending& p : group) total += p.batch->records_size();
  m.group_records->Observe(static_cast<double>(total));
  std::string db_error = "database unavailable";
  if (db_up_.load()) {
    std::vector<const v1::Record*> records;
    records.reserve(total);
    for (const Pending& p : group) {
      for (const v1::Record& r : p.batch->records()) records.push_back(&r);
    }
    const int64_t t0 = runtime::MonotonicNs();
    absl::Status st = store_->Write(records);
    if (st.ok()) {
      m.commit_seconds_db->Observe(SecondsSince(t0));
      m.records_database->Increment(static_cast<double>(total));
      committed_ += total;
      for (Pending& p : group) p.done(MakeAck(*p.batch, v1::DURABILITY_DATABASE));
      group.clear();
      return;
    }
    if (absl::IsUnavailable(st)) {
      SetDatabaseUp(false, st);
      db_error = std::string(st.message());
    } else {
      // The database refused something in the group. Write each batch alone so one caller's
      // bad batch fails only that caller.
      runtime::LogWarn("group commit refused; retrying batch by batch",
                       {{"error", std::string(st.message())}});
      while (!group.empty() && db_up_.load()) {
        Pending& p = group.front();
        std::vector<const v1::Record*> one;
        for (const v1::Record& r : p.batch->records()) one.push_back(&r);
        absl::Status s1 = store_->Write(one);
        if (absl::IsUnavailable(s1)) {
          SetDatabaseUp(false, s1);
          db_error = std::string(s1.message());
          break;
        }
        if (s1.ok()) {
          m.records_database->Increment(p.batch->records_size());
          committed_ += p.batch->records_size();
          p.done(MakeAck(*p.batch, v1::DURABILITY_DATABASE));
        } else {
          m.batches_failed->Increment();
          runtime::LogWarn("batch refused by the database", {{"batch_id", p.batch->batch_id()},
                                                             {"error", std::string(s1.message())}});
          p.done(
              MakeAck(*p.batch, v1::DURABILITY_UNSPECIFIED, s1.code(), std::string(s1.message())));
        }
        group.pop_front();
      }
      if (group.empty()) return;
    }
  }
  SpoolGroup(group, db_error);
}

void Writer::SpoolGroup(std::deque<Pending>& group, const std::string& db_error) {
  PersistenceMetrics& m = Metrics();
  std::vector<std::string> payloads;
  payloads.reserve(group.size());
  for (const Pending& p : group) {
    // batch_id and the stream are not needed to replay; only the records are.
    payloads.push_back(p.batch->SerializeAsString());
  }
  const int64_t t0 = runtime::MonotonicNs();
  absl::StatusOr<size_t> appended = spool_->Append(payloads);
  m.spool_bytes->Set(static_cast<double>(spool_->pending_bytes()));
  m.spool_entries->Set(static_cast<double>(spool_->pending_entries()));
  size_t n = 0;
  if (appended.ok()) {
    n = *appended;
    m.commit_seconds_spool->Observe(SecondsSince(t0));
  }
  for (size_t i = 0; i < group.size(); ++i) {
    Pending& p = group[i];
    if (i < n) {
      m.records_spool->Increment(p.batch->records_size());
      spooled_ += p.batch->records_size();
      p.done(MakeAck(*p.batch, v1::DURABILITY_SPOOL));
    } else if (appended.ok() || absl::IsResourceExhausted(appended.status())) {
      m.batches_rejected_spool_full->Increment();
      runtime::WarnOnce(
          "persistence.spool_full", "spool full; refusing writes",
          {{"pending_bytes", spool_->pending_bytes()}, {"max_bytes", spool_->max_bytes()}});
      p.done(MakeAck(*p.batch, v1::DURABILITY_UNSPECIFIED, absl::StatusCode::kResourceExhausted,
                     absl::StrCat("database unavailable (", db_error,
                                  ") and spool full: ", spool_->file_bytes(), " of ",
                                  spool_->max_bytes(), " bytes used")));
    } else {
      m.batches_failed->Increment();
      runtime::WarnOnce("persistence.spool_error", "spool write failed",
                        {{"error", std::string(appended.status().message())}});
      p.done(MakeAck(*p.batch, v1::DURABILITY_UNSPECIFIED, absl::StatusCode::kUnavailable,
                     absl::StrCat("database unavailable (", db_error,
                                  ") and spool write failed: ", appended.status().message())));
    }
  }
  if (n == group.size()) runtime::ResetWarnOnce("persistence.spool_full");
  group.clear();
}

void Writer::ReplayChunk() {
  PersistenceMetrics& m = Metrics();
  auto entries = spool_->ReadPending(options_.replay_chunk_entries, options_.replay_chunk_bytes);
  if (!entries.ok()) {
    replay_blocked_ = true;
    runtime::LogError(
        "spool replay stopped: unreadable entry; operator action needed",
        {{"error", std::string(entries.status().message())}, {"path", spool_->path()}});
    return;
  }
  if (entries->empty()) return;
  std::vector<v1::AppendRequest> batches(entries->size());
  std::vector<bool> parsed(entries->size());
  std::vector<const v1::Record*> records;
  for (size_t i = 0; i < entries->size(); ++i) {
    parsed[i] = batches[i].ParseFromString((*entries)[i].payload);
    if (!parsed[i]) continue;
    for (const v1::Record& r : batches[i].records()) records.push_back(&r);
  }
  auto dead_letter = [&](size_t i, const std::string& why) {
    absl::Status st = spool_->AppendDeadLetter((*entries)[i].payload);
    ++dead_lettered_;
    m.dead_lettered_entries->Increment();
    runtime::LogError(
        "spool entry refused on replay; moved to dead_letter.log",
        {{"offset", (*entries)[i].offset}, {"error", why}, {"dead_letter_ok", st.ok()}});
  };
  auto mark = [&](size_t upto_exclusive, uint64_t nrecords) {
    if (upto_exclusive == 0) return;
    absl::Status st =
        spool_->MarkReplayed((*entries)[upto_exclusive - 1].next_offset, upto_exclusive);
    if (!st.ok())
      runtime::LogWarn("spool replay mark failed", {{"error", std::string(st.message())}});
    replayed_ += nrecords;
    m.replayed_records->Increment(static_cast<double>(nrecords));
    m.replayed_entries->Increment(static_cast<double>(upto_exclusive));
    m.spool_bytes->Set(static_cast<double>(spool_->pending_bytes()));
    m.spool_entries->Set(static_cast<double>(spool_->pending_entries()));
    if (spool_->pending_entries() == 0) {
      runtime::LogInfo("spool drained into the database", {{"replayed_records", replayed_.load()}});
    }
  };
  const int64_t t0 = runtime::MonotonicNs();
  absl::Status st = records.empty() ? absl::OkStatus() : store_->Write(records);
  if (st.ok()) {
    m.commit_seconds_db->Observe(SecondsSince(t0));
    for (size_t i = 0; i < entries->size(); ++i) {
      if (!parsed[i]) dead_letter(i, "payload does not parse as AppendRequest");
    }
    mark(entries->size(), records.size());
    return;
  }
  if (absl::IsUnavailable(st)) {
    SetDatabaseUp(false, st);
    return;
  }
  // Find the entry the database refuses: replay one by one, in order.
  uint64_t nrecords = 0;
  for (size_t i = 0; i < entries->size(); ++i) {
    if (!parsed[i]) {
      dead_letter(i, "payload does not parse as AppendRequest");
      continue;
    }
    std::vector<const v1::Record*> one;
    for (const v1::Record& r : batches[i].records()) one.push_back(&r);
    absl::Status s1 = store_->Write(one);
    if (absl::IsUnavailable(s1)) {
      mark(i, nrecords);
      SetDatabaseUp(false, s1);
      return;
    }
    if (s1.ok()) {
      nrecords += one.size();
    } else {
      dead_letter(i, std::string(s1.message()));
    }
  }
  mark(entries->size(), nrecords);
}

}  // namespace tickmesh::persistence
