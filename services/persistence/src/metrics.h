// The persistence service's Prometheus metrics (tickmesh_persistence_*), registered once in the
// process registry. Label values are fixed, low-cardinality strings.
#pragma once

#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace tickmesh::persistence {

struct PersistenceMetrics {
  prometheus::Histogram* group_records;         // records per group commit
  prometheus::Histogram* commit_seconds_db;     // database transaction latency
  prometheus::Histogram* commit_seconds_spool;  // spool append + fdatasync latency
  prometheus::Counter* records_database;        // records acked DURABILITY_DATABASE
  prometheus::Counter* records_spool;           // records acked DURABILITY_SPOOL
  prometheus::Counter* batches_rejected_invalid;
  prometheus::Counter* batches_rejected_queue_full;
  prometheus::Counter* batches_rejected_spool_full;
  prometheus::Counter* batches_failed;  // refused by the database or spool I/O error
  prometheus::Gauge* queued_records;
  prometheus::Gauge* spool_bytes;              // pending (not yet replayed) bytes
  prometheus::Gauge* spool_entries;            // pending entries (replay depth)
  prometheus::Counter* spool_truncated_bytes;  // torn tail cut at open
  prometheus::Counter* replayed_records;
  prometheus::Counter* replayed_entries;
  prometheus::Counter* dead_lettered_entries;
  prometheus::Gauge* database_up;
  prometheus::Counter* database_down_transitions;
};

// The process-wide instance (registered on first use).
PersistenceMetrics& Metrics();

// Per-query latency histogram and slow-query counter for a query name ("orders", "fills", ...).
prometheus::Histogram& QueryLatency(const std::string& query);
prometheus::Counter& SlowQueries(const std::string& query);
prometheus::Counter& QueriesRejected(const std::string& reason);

}  // namespace tickmesh::persistence
