#include "metrics.h"

#include "tickmesh/runtime/metrics.h"

namespace tickmesh::persistence {
namespace {

std::string Name(const char* what) { return runtime::MetricPrefix("persistence") + what; }

PersistenceMetrics* Build() {
  using runtime::CounterFamily;
  using runtime::GaugeFamily;
  using runtime::HistogramFamily;
  auto* m = new PersistenceMetrics();
  m->group_records = &HistogramFamily(Name("group_commit_records"),
                                      "Records written per group commit (database or spool)")
                          .Add({}, runtime::SizeBuckets());
  auto& commit = HistogramFamily(Name("commit_duration_seconds"),
                                 "Latency of one group commit, by target (database | spool)");
  m->commit_seconds_db = &commit.Add({{"target", "database"}}, runtime::LatencyBuckets());
  m->commit_seconds_spool = &commit.Add({{"target", "spool"}}, runtime::LatencyBuckets());
  auto& records = CounterFamily(Name("records_written_total"),
                                "Records acknowledged durable, by durability (database | spool)");
  m->records_database = &records.Add({{"durability", "database"}});
  m->records_spool = &records.Add({{"durability", "spool"}});
  auto& rejected =
      CounterFamily(Name("batches_rejected_total"), "Append batches not stored, by reason");
  m->batches_rejected_invalid = &rejected.Add({{"reason", "invalid"}});
  m->batches_rejected_queue_full = &rejected.Add({{"reason", "queue_full"}});
  m->batches_rejected_spool_full = &rejected.Add({{"reason", "spool_full"}});
  m->batches_failed = &rejected.Add({{"reason", "error"}});
  m->queued_records =
      &GaugeFamily(Name("writer_queued_records"), "Records queued for the writer").Add({});
  m->spool_bytes =
      &GaugeFamily(Name("spool_bytes"), "Spool bytes not yet replayed into the database").Add({});
  m->spool_entries = &GaugeFamily(Name("spool_entries"),
                                  "Spool entries (batches) not yet replayed: the replay depth")
                          .Add({});
  m->spool_truncated_bytes =
      &CounterFamily(Name("spool_truncated_bytes_total"),
                     "Bytes of torn spool tail truncated at start (crash mid-append)")
           .Add({});
  m->replayed_records =
      &CounterFamily(Name("replayed_records_total"), "Spooled records replayed into the database")
           .Add({});
  m->replayed_entries =
      &CounterFamily(Name("replayed_entries_total"), "Spool entries replayed into the database")
           .Add({});
  m->dead_lettered_entries =
      &CounterFamily(Name("dead_lettered_entries_total"),
                     "Spool entries the database refused on replay, moved to dead_letter.log")
           .Add({});
  m->database_up =
      &GaugeFamily(Name("database_up"), "1 while the database accepts writes, else 0").Add({});
  m->database_down_transitions =
      &CounterFamily(Name("database_down_total"), "Times the database became unavailable").Add({});
  return m;
}

}  // namespace

PersistenceMetrics& Metrics() {
  static PersistenceMetrics* m = Build();
  return *m;
}

prometheus::Histogram& QueryLatency(const std::string& query) {
  return runtime::HistogramFamily(Name("query_duration_seconds"),
                                  "Latency of read queries, by query")
      .Add({{"query", query}}, runtime::LatencyBuckets());
}

prometheus::Counter& SlowQueries(const std::string& query) {
  return runtime::CounterFamily(Name("slow_queries_total"),
                                "Queries slower than --slow_query_ms, by query")
      .Add({{"query", query}});
}

prometheus::Counter& QueriesRejected(const std::string& reason) {
  return runtime::CounterFamily(Name("queries_rejected_total"),
                                "Queries refused before running, by reason")
      .Add({{"reason", reason}});
}

}  // namespace tickmesh::persistence
