#!/usr/bin/env python3
"""Generates tickmesh's Prometheus rules, their promtool unit tests and the Grafana dashboards.

    deploy/generate.py          write the files below
    deploy/generate.py --check  exit 1 (naming the files) if a committed file differs from what
                                this script generates (scripts/check-deploy runs this)

Outputs (committed; edit this script, not them):
    deploy/prometheus/rules/tickmesh.rules.yml      recording rules and alerts
    deploy/prometheus/tests/tickmesh.rules.test.yml promtool test rules for every alert
    deploy/grafana/dashboards/*.json                overview, one per service, load-test run

Every series the rules and dashboards select carries a `service` label (the service name,
e.g. market-data) set by the scrape configuration: deploy/prometheus/prometheus.yml for compose,
the pod label app.kubernetes.io/name for Kubernetes (k8s/). Metric names are the services' real
ones (see each service README); scripts/check-metrics-coverage checks them against a scrape.
"""
import json
import re
import sys
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
SERVICES = ["market-data", "signal", "execution", "cache", "persistence", "loadtest"]
# Services with a runtime::StreamLoop client (client_stream_* metrics), and their peers.
STREAM_CLIENTS = {"signal": ["market-data"], "execution": ["market-data", "signal", "persistence"]}
TICK_TO_ORDER_SLO_SECONDS = 0.005  # tick_to_order.p99 <= 5000 us (loadtest's default SLO)
DATASOURCE_UID = "tickmesh-prometheus"


def prefix(svc):
    return "tickmesh_" + svc.replace("-", "_") + "_"


MD, EX = prefix("market-data"), prefix("execution")


def quantile(q, metric, by="le", window="5m", selector=""):
    return f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket{selector}[{window}])))"


# --------------------------------------------------------------------------------------------
# Prometheus rules
# --------------------------------------------------------------------------------------------

# The hops that make up tick -> order inside the mesh (network hops between them excluded):
# market-data validates and applies the batch, signal decides, execution goes from signal
# arrival to the venue ack of the order. The sum of their p99s bounds the p99 of their sum from
# above, so the budget alert can fire early but never misses a real breach of these stages.
HOPS = [
    ("market_data_book_apply", "tickmesh_market_data_book_apply_seconds"),
    ("signal_decision", "tickmesh_signal_decision_latency_seconds"),
    ("execution_submit_to_ack", "tickmesh_execution_submit_to_ack_seconds"),
]


def recording_rules():
    latency = []
    for name, metric in HOPS + [("execution_signal_to_fill",
                                 "tickmesh_execution_signal_to_fill_seconds")]:
        latency.append({"record": f"tickmesh:{name}_seconds:p99_5m",
                        "expr": quantile(0.99, metric)})
    latency.append({
        "record": "tickmesh:tick_to_order_seconds:p99_5m_budget",
        "expr": " + ".join(f"tickmesh:{name}_seconds:p99_5m" for name, _ in HOPS),
    })
    errors = []
    for svc in SERVICES:
        p = prefix(svc)
        errors.append({"record": "tickmesh:grpc_requests:rate5m", "labels": {"service": svc},
                       "expr": f"sum(rate({p}grpc_requests_total[5m]))"})
        # CANCELLED is a client going away (a closed stream), not a service failure.
        # Without any error yet the errors family is not exported at all: record 0 then.
        errors.append({"record": "tickmesh:grpc_errors:rate5m", "labels": {"service": svc},
                       "expr": f'sum(rate({p}grpc_errors_total{{code!="CANCELLED"}}[5m])) '
                               f"or 0 * sum(rate({p}grpc_requests_total[5m]))"})
    errors.append({"record": "tickmesh:grpc_error_ratio:rate5m",
                   "expr": "tickmesh:grpc_errors:rate5m / tickmesh:grpc_requests:rate5m"})
    streams = []
    for svc in STREAM_CLIENTS:
        streams.append({
            "record": "tickmesh:client_stream_reconnects:increase5m", "labels": {"service": svc},
            "expr": f"sum by (peer) (increase({prefix(svc)}client_stream_reconnects_total[5m]))"})
    # Live venues (execution): a REST request ends with a response (counted by the latency
    # histogram, error statuses included) or a transport error (no response, not in the
    # histogram). Both exist only once a live venue is configured and called.
    ex = prefix("execution")
    venues = [
        {"record": "tickmesh:venue_rest_requests:rate5m",
         "expr": f"sum by (service, instance, venue) (rate({ex}venue_rest_seconds_count[5m]) "
                 f'or rate({ex}venue_rest_errors_total{{kind="transport"}}[5m]))'},
        {"record": "tickmesh:venue_rest_errors:rate5m",
         "expr": f"sum by (service, instance, venue) (rate({ex}venue_rest_errors_total[5m]))"},
        {"record": "tickmesh:venue_rest_error_ratio:rate5m",
         "expr": "tickmesh:venue_rest_errors:rate5m / tickmesh:venue_rest_requests:rate5m"},
    ]
    return [
        {"name": "tickmesh.latency", "interval": "15s", "rules": latency},
        {"name": "tickmesh.errors", "interval": "15s", "rules": errors},
        {"name": "tickmesh.streams", "interval": "15s", "rules": streams},
        {"name": "tickmesh.venues", "interval": "15s", "rules": venues},
    ]


def alert(name, expr, for_, severity, summary, description):
    return {"alert": name, "expr": expr, "for": for_,
            "labels": {"severity": severity},
            "annotations": {"summary": summary, "description": description,
                            "runbook_url": "docs/operations.md#alerts"}}


def alert_rules():
    slo_ms = TICK_TO_ORDER_SLO_SECONDS * 1000
    rules = [
        alert("TickmeshTickToOrderP99OverSLO",
              f"tickmesh:tick_to_order_seconds:p99_5m_budget > {TICK_TO_ORDER_SLO_SECONDS}",
              "5m", "page",
              f"tick -> order p99 over the {slo_ms:g} ms SLO",
              "The p99s of market-data book apply + signal decision + execution signal->ack "
              "add up to more than the SLO for 5 minutes. The per-hop recording rules "
              "tickmesh:*_seconds:p99_5m show which stage is slow."),
        alert("TickmeshHighErrorRatio",
              "tickmesh:grpc_error_ratio:rate5m > 0.05 and tickmesh:grpc_requests:rate5m > 0.1",
              "5m", "page",
              "{{ $labels.service }}: more than 5% of gRPC calls fail",
              "Errors other than CANCELLED over requests, 5 minute rate. The service dashboard "
              "splits them by method and code."),
        alert("TickmeshServiceDown", 'up{service=~".+",service!="loadtest"} == 0', "1m", "page",
              "{{ $labels.service }} ({{ $labels.instance }}) cannot be scraped",
              "The admin port does not answer /metrics: the process is down or hung. (The load "
              "tester is excluded: it runs only during load tests.)"),
        alert("TickmeshCacheFallbackActive",
              'max without (state) (tickmesh_cache_breaker_state{state=~"open|half_open"}) == 1',
              "1m", "warning",
              "cache {{ $labels.instance }} is serving without Redis",
              "The Redis breaker is not closed: reads come from L1, writes wait in the replay "
              "queue (tickmesh_cache_replay_queue_depth). Clients see no errors yet."),
        alert("TickmeshCacheBreakerOpen",
              'max without (state) (tickmesh_cache_breaker_state{state=~"open|half_open"}) == 1',
              "10m", "page",
              "cache {{ $labels.instance }}: Redis breaker open for 10 minutes",
              "Redis has been unreachable for 10 minutes; the replay queue fills and other "
              "cache instances do not see this one's writes. Check Redis."),
        alert("TickmeshCacheReplayOverflow",
              "increase(tickmesh_cache_replay_overflow_total[5m]) > 0", "0m", "page",
              "cache {{ $labels.instance }}: writes no longer fit the replay queue",
              "Writes made while Redis is down are kept in L1 only and will not reach Redis."),
        alert("TickmeshPersistenceDatabaseDown", "tickmesh_persistence_database_up == 0", "1m",
              "warning",
              "persistence {{ $labels.instance }} is spooling: database unreachable",
              "Appends are made durable in the local spool and replayed when the database "
              "returns. Nothing is lost until the spool is full."),
        alert("TickmeshPersistenceSpoolGrowing",
              "deriv(tickmesh_persistence_spool_bytes[10m]) > 0 "
              "and tickmesh_persistence_spool_bytes > 0",
              "10m", "page",
              "persistence {{ $labels.instance }}: spool growing for 10 minutes",
              "The spool is not being replayed into the database. When it reaches "
              "--spool_max_bytes, Appends fail with RESOURCE_EXHAUSTED and execution "
              "stops accepting orders."),
        alert("TickmeshMemoryGrowth",
              'deriv(process_resident_memory_bytes{service!=""}[30m]) > 1048576 / 60', "1h",
              "warning",
              "{{ $labels.service }} ({{ $labels.instance }}): RSS growing over 1 MiB/min for 1h",
              "Resident memory keeps growing: a leak or an unbounded structure. Compare with "
              "the service's queue and cache gauges on its dashboard."),
        alert("TickmeshStreamReconnectStorm",
              "tickmesh:client_stream_reconnects:increase5m > 10", "2m", "warning",
              "{{ $labels.service }}: stream to {{ $labels.peer }} reconnecting repeatedly",
              "More than 10 reconnects in 5 minutes: the peer is flapping, overloaded "
              "(RESOURCE_EXHAUSTED ends slow subscribers) or the network drops streams."),
        # Venue connectors (market-data) and live venues (execution): these series exist only
        # on processes configured with venues.
        alert("TickmeshVenueDisconnected", f"{MD}venue_connected == 0", "1m", "page",
              "market-data {{ $labels.instance }}: {{ $labels.venue }} feed disconnected",
              "The venue WebSocket has been closed for a minute: no market data from this venue "
              "(the connector reconnects with backoff; its books go stale). Check "
              "/status connectors and the market-data log for the close reason."),
        alert("TickmeshVenueResyncStorm",
              f"sum by (service, instance, venue) (increase({MD}venue_gaps_total[5m])) > 10 "
              f"or sum by (service, instance, venue) (increase({MD}venue_resyncs_total[5m])) "
              "> 10",
              "2m", "warning",
              "market-data {{ $labels.instance }}: {{ $labels.venue }} books resyncing repeatedly",
              "More than 10 sequence gaps or book resyncs in 5 minutes: frames are lost (a slow "
              "connector, a lossy network) or the venue's stream is unstable. Every resync "
              "drops the book and fetches a REST snapshot (watch the venue's rate limits)."),
        alert("TickmeshVenueRestErrorRatio",
              "tickmesh:venue_rest_error_ratio:rate5m > 0.05 "
              "and tickmesh:venue_rest_requests:rate5m > 0.05",
              "5m", "warning",
              "execution {{ $labels.instance }}: over 5% of {{ $labels.venue }} REST calls fail",
              "Transport errors and HTTP 4xx/5xx over REST requests, 5 minute rate. The "
              "execution dashboard splits them by endpoint and kind; 4xx on signed endpoints "
              "often means a clock skew or a key problem, 5xx and transport the venue itself."),
        alert("TickmeshVenueInferredFills",
              f"increase({EX}venue_inferred_fills_total[10m]) > 0", "0m", "warning",
              "execution {{ $labels.instance }}: {{ $labels.venue }} fills inferred",
              "Orders left the venue's open orders and the venue API offers no lookup: "
              "execution took them as filled at their limit price. Reconcile the fills with "
              "the venue's trade history."),
    ]
    return [{"name": "tickmesh.alerts", "rules": rules}]


def expand(template, labels):
    return re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m.group(1), ""), template)


def alert_by_name(name):
    for r in alert_rules()[0]["rules"]:
        if r["alert"] == name:
            return r
    raise KeyError(name)


def expected(name, labels):
    r = alert_by_name(name)
    all_labels = dict(labels, severity=r["labels"]["severity"])
    return {"exp_labels": all_labels,
            "exp_annotations": {k: expand(v, all_labels) for k, v in r["annotations"].items()}}


def buckets(metric, counts_per_min, labels):
    """Cumulative histogram buckets growing by counts_per_min[le] each minute for 30 minutes."""
    series = []
    for le, n in counts_per_min:
        series.append({"series": f'{metric}_bucket{{{labels},le="{le}"}}',
                       "values": f"0+{n}x30"})
    return series


def rule_tests():
    fast = [("0.001", 100), ("0.005", 100), ("0.01", 100), ("+Inf", 100)]
    slow = [("0.001", 0), ("0.005", 0), ("0.01", 100), ("+Inf", 100)]
    md, sig, ex = (m for _, m in HOPS)
    tests = []
    # tick -> order: fast stages never alert; execution slow pushes the budget over the SLO.
    tests.append({
        "name": "tick to order p99 over SLO",
        "interval": "1m",
        "input_series": buckets(md, fast, 'service="market-data"')
        + buckets(sig, fast, 'service="signal"') + buckets(ex, slow, 'service="execution"'),
        "promql_expr_test": [{
            "expr": "tickmesh:execution_submit_to_ack_seconds:p99_5m", "eval_time": "10m",
            "exp_samples": [{"labels": "tickmesh:execution_submit_to_ack_seconds:p99_5m",
                             "value": 0.00995}]}],
        "alert_rule_test": [
            {"eval_time": "4m", "alertname": "TickmeshTickToOrderP99OverSLO", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "TickmeshTickToOrderP99OverSLO",
             "exp_alerts": [expected("TickmeshTickToOrderP99OverSLO", {})]}],
    })
    tests.append({
        "name": "tick to order p99 within SLO",
        "interval": "1m",
        "input_series": buckets(md, fast, 'service="market-data"')
        + buckets(sig, fast, 'service="signal"') + buckets(ex, fast, 'service="execution"'),
        "alert_rule_test": [{"eval_time": "20m", "alertname": "TickmeshTickToOrderP99OverSLO",
                             "exp_alerts": []}],
    })
    # Error ratio: execution fails 10% of 100 req/min, signal only has CANCELLED streams.
    tests.append({
        "name": "gRPC error ratio",
        "interval": "1m",
        "input_series": [
            {"series": 'tickmesh_execution_grpc_requests_total{service="execution",'
                       'method="/tickmesh.v1.ExecutionService/Submit"}', "values": "0+100x30"},
            {"series": 'tickmesh_execution_grpc_errors_total{service="execution",'
                       'method="/tickmesh.v1.ExecutionService/Submit",code="UNAVAILABLE"}',
             "values": "0+10x30"},
            {"series": 'tickmesh_signal_grpc_requests_total{service="signal",'
                       'method="/tickmesh.v1.SignalService/Subscribe"}', "values": "0+100x30"},
            {"series": 'tickmesh_signal_grpc_errors_total{service="signal",'
                       'method="/tickmesh.v1.SignalService/Subscribe",code="CANCELLED"}',
             "values": "0+50x30"},
        ],
        "promql_expr_test": [{
            "expr": "tickmesh:grpc_error_ratio:rate5m", "eval_time": "10m",
            "exp_samples": [{"labels": 'tickmesh:grpc_error_ratio:rate5m{service="execution"}',
                             "value": 0.1},
                            {"labels": 'tickmesh:grpc_error_ratio:rate5m{service="signal"}',
                             "value": 0}]}],
        "alert_rule_test": [
            {"eval_time": "3m", "alertname": "TickmeshHighErrorRatio", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "TickmeshHighErrorRatio",
             "exp_alerts": [expected("TickmeshHighErrorRatio", {"service": "execution"})]}],
    })
    # Service down: persistence stops answering at minute 5.
    tests.append({
        "name": "service down",
        "interval": "1m",
        "input_series": [
            {"series": 'up{job="tickmesh",service="persistence",instance="persistence:9105"}',
             "values": "1x5 0x10"},
            {"series": 'up{job="tickmesh",service="cache",instance="cache:9104"}',
             "values": "1x15"},
            {"series": 'up{job="prometheus",instance="localhost:9090"}', "values": "0x15"},
            {"series": 'up{job="tickmesh-loadtest",service="loadtest",instance="loadtest:9106"}',
             "values": "0x15"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshServiceDown", "exp_alerts": []},
            {"eval_time": "8m", "alertname": "TickmeshServiceDown",
             "exp_alerts": [expected("TickmeshServiceDown",
                                     {"job": "tickmesh", "service": "persistence",
                                      "instance": "persistence:9105"})]}],
    })
    cache_labels = 'service="cache",instance="cache:9104"'
    # Breaker: closed for 5m, then open / half_open alternating (a failing probe) for 20m.
    tests.append({
        "name": "cache fallback and breaker open",
        "interval": "1m",
        "input_series": [
            {"series": f'tickmesh_cache_breaker_state{{{cache_labels},state="closed"}}',
             "values": "1x5 0x20"},
            {"series": f'tickmesh_cache_breaker_state{{{cache_labels},state="open"}}',
             "values": "0x5 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0"},
            {"series": f'tickmesh_cache_breaker_state{{{cache_labels},state="half_open"}}',
             "values": "0x5 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1 0 1"},
            {"series": f'tickmesh_cache_breaker_state{{{cache_labels},state="disabled"}}',
             "values": "0x25"},
            {"series": f"tickmesh_cache_replay_overflow_total{{{cache_labels}}}",
             "values": "0x20 5 10 15 20 25"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshCacheFallbackActive", "exp_alerts": []},
            {"eval_time": "8m", "alertname": "TickmeshCacheFallbackActive",
             "exp_alerts": [expected("TickmeshCacheFallbackActive",
                                     {"service": "cache", "instance": "cache:9104"})]},
            {"eval_time": "10m", "alertname": "TickmeshCacheBreakerOpen", "exp_alerts": []},
            {"eval_time": "17m", "alertname": "TickmeshCacheBreakerOpen",
             "exp_alerts": [expected("TickmeshCacheBreakerOpen",
                                     {"service": "cache", "instance": "cache:9104"})]},
            {"eval_time": "19m", "alertname": "TickmeshCacheReplayOverflow", "exp_alerts": []},
            {"eval_time": "22m", "alertname": "TickmeshCacheReplayOverflow",
             "exp_alerts": [expected("TickmeshCacheReplayOverflow",
                                     {"service": "cache", "instance": "cache:9104"})]}],
    })
    cache_disabled = 'service="cache",instance="cache:9104"'
    tests.append({
        "name": "cache without Redis configured is not a fallback",
        "interval": "1m",
        "input_series": [
            {"series": f'tickmesh_cache_breaker_state{{{cache_disabled},state="{s}"}}',
             "values": ("1x20" if s == "disabled" else "0x20")}
            for s in ["closed", "open", "half_open", "disabled"]],
        "alert_rule_test": [
            {"eval_time": "20m", "alertname": "TickmeshCacheFallbackActive", "exp_alerts": []},
            {"eval_time": "20m", "alertname": "TickmeshCacheBreakerOpen", "exp_alerts": []}],
    })
    pl = 'service="persistence",instance="persistence:9105"'
    # Database down at minute 5; spool grows 1 MB/min until minute 30; back at minute 40, the
    # spool drains.
    tests.append({
        "name": "persistence database down and spool growing",
        "interval": "1m",
        "input_series": [
            {"series": f"tickmesh_persistence_database_up{{{pl}}}", "values": "1x5 0x35 1x10"},
            {"series": f"tickmesh_persistence_spool_bytes{{{pl}}}",
             "values": "0x5 1000000+1000000x35 0x10"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshPersistenceDatabaseDown", "exp_alerts": []},
            {"eval_time": "8m", "alertname": "TickmeshPersistenceDatabaseDown",
             "exp_alerts": [expected("TickmeshPersistenceDatabaseDown",
                                     {"service": "persistence",
                                      "instance": "persistence:9105"})]},
            {"eval_time": "10m", "alertname": "TickmeshPersistenceSpoolGrowing",
             "exp_alerts": []},
            {"eval_time": "25m", "alertname": "TickmeshPersistenceSpoolGrowing",
             "exp_alerts": [expected("TickmeshPersistenceSpoolGrowing",
                                     {"service": "persistence",
                                      "instance": "persistence:9105"})]},
            {"eval_time": "50m", "alertname": "TickmeshPersistenceSpoolGrowing",
             "exp_alerts": []},
            {"eval_time": "50m", "alertname": "TickmeshPersistenceDatabaseDown",
             "exp_alerts": []}],
    })
    # Memory: signal leaks 2 MiB/min, market-data is flat, prometheus (no service) leaks too.
    tests.append({
        "name": "memory growth",
        "interval": "1m",
        "input_series": [
            {"series": 'process_resident_memory_bytes{service="signal",instance="signal:9102"}',
             "values": "100000000+2097152x150"},
            {"series": 'process_resident_memory_bytes{service="market-data",'
                       'instance="market-data:9101"}', "values": "100000000+0x150"},
            {"series": 'process_resident_memory_bytes{instance="localhost:9090"}',
             "values": "100000000+2097152x150"},
        ],
        "alert_rule_test": [
            {"eval_time": "60m", "alertname": "TickmeshMemoryGrowth", "exp_alerts": []},
            {"eval_time": "120m", "alertname": "TickmeshMemoryGrowth",
             "exp_alerts": [expected("TickmeshMemoryGrowth",
                                     {"service": "signal", "instance": "signal:9102"})]}],
    })
    # Reconnect storm: execution's stream to persistence reconnects 4 times a minute.
    tests.append({
        "name": "stream reconnect storm",
        "interval": "1m",
        "input_series": [
            {"series": 'tickmesh_execution_client_stream_reconnects_total{service="execution",'
                       'instance="execution:9103",peer="persistence"}', "values": "0x5 4+4x20"},
            {"series": 'tickmesh_execution_client_stream_reconnects_total{service="execution",'
                       'instance="execution:9103",peer="signal"}', "values": "0+0x25"},
            {"series": 'tickmesh_signal_client_stream_reconnects_total{service="signal",'
                       'instance="signal:9102",peer="market-data"}', "values": "0 1 1 1 1x22"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshStreamReconnectStorm", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "TickmeshStreamReconnectStorm",
             "exp_alerts": [expected("TickmeshStreamReconnectStorm",
                                     {"service": "execution", "peer": "persistence"})]}],
    })
    md_l = 'service="market-data",instance="market-data:9101"'
    # Venue feeds: binance's WebSocket closes at minute 5 and stays down; kraken stays up.
    tests.append({
        "name": "venue feed disconnected",
        "interval": "1m",
        "input_series": [
            {"series": f'{MD}venue_connected{{{md_l},venue="binance"}}', "values": "1x5 0x10"},
            {"series": f'{MD}venue_connected{{{md_l},venue="kraken"}}', "values": "1x15"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshVenueDisconnected", "exp_alerts": []},
            {"eval_time": "6m", "alertname": "TickmeshVenueDisconnected", "exp_alerts": []},
            {"eval_time": "8m", "alertname": "TickmeshVenueDisconnected",
             "exp_alerts": [expected("TickmeshVenueDisconnected",
                                     {"service": "market-data", "instance": "market-data:9101",
                                      "venue": "binance"})]}],
    })
    # Gaps: kraken breaks its sequence 3 times a minute from minute 5 (and resyncs each time);
    # binance once a minute (5 per 5m, under the threshold); bybit only resyncs (checksum
    # failures), 4 a minute from minute 20.
    tests.append({
        "name": "venue resync storm",
        "interval": "1m",
        "input_series": [
            {"series": f'{MD}venue_gaps_total{{{md_l},venue="kraken"}}', "values": "0x5 3+3x25"},
            {"series": f'{MD}venue_resyncs_total{{{md_l},venue="kraken"}}',
             "values": "0x5 3+3x25"},
            {"series": f'{MD}venue_gaps_total{{{md_l},venue="binance"}}', "values": "0+1x30"},
            {"series": f'{MD}venue_resyncs_total{{{md_l},venue="binance"}}', "values": "0+1x30"},
            {"series": f'{MD}venue_gaps_total{{{md_l},venue="bybit"}}', "values": "0x30"},
            {"series": f'{MD}venue_resyncs_total{{{md_l},venue="bybit"}}',
             "values": "0x20 4+4x10"},
        ],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshVenueResyncStorm", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "TickmeshVenueResyncStorm",
             "exp_alerts": [expected("TickmeshVenueResyncStorm",
                                     {"service": "market-data", "instance": "market-data:9101",
                                      "venue": "kraken"})]},
            {"eval_time": "28m", "alertname": "TickmeshVenueResyncStorm",
             "exp_alerts": [expected("TickmeshVenueResyncStorm",
                                     {"service": "market-data", "instance": "market-data:9101",
                                      "venue": v}) for v in ("bybit", "kraken")]}],
    })
    ex_l = 'service="execution",instance="execution:9103"'
    # REST: binance answers 1 request/s, 10% of them HTTP 5xx from minute 5; kraken has 1
    # transport error a minute besides 60 answers (1.6%); bybit fails half its calls but makes
    # only 2 a minute (under the 0.05/s floor).
    tests.append({
        "name": "venue REST error ratio",
        "interval": "1m",
        "input_series": [
            {"series": f'{EX}venue_rest_seconds_count{{{ex_l},venue="binance",endpoint="order"}}',
             "values": "0+60x30"},
            {"series": f'{EX}venue_rest_errors_total{{{ex_l},venue="binance",endpoint="order",'
                       'kind="http_5xx"}', "values": "0x5 6+6x25"},
            {"series": f'{EX}venue_rest_seconds_count{{{ex_l},venue="kraken",'
                       'endpoint="OpenOrders"}', "values": "0+60x30"},
            {"series": f'{EX}venue_rest_errors_total{{{ex_l},venue="kraken",'
                       'endpoint="OpenOrders",kind="transport"}', "values": "0+1x30"},
            {"series": f'{EX}venue_rest_seconds_count{{{ex_l},venue="bybit",'
                       'endpoint="order/create"}', "values": "0+1x30"},
            {"series": f'{EX}venue_rest_errors_total{{{ex_l},venue="bybit",'
                       'endpoint="order/create",kind="transport"}', "values": "0+1x30"},
        ],
        "promql_expr_test": [{
            "expr": 'tickmesh:venue_rest_error_ratio:rate5m{venue="binance"}', "eval_time": "15m",
            "exp_samples": [{"labels": 'tickmesh:venue_rest_error_ratio:rate5m{service='
                                       '"execution",instance="execution:9103",venue="binance"}',
                             "value": 0.1}]}],
        "alert_rule_test": [
            {"eval_time": "5m", "alertname": "TickmeshVenueRestErrorRatio", "exp_alerts": []},
            {"eval_time": "15m", "alertname": "TickmeshVenueRestErrorRatio",
             "exp_alerts": [expected("TickmeshVenueRestErrorRatio",
                                     {"service": "execution", "instance": "execution:9103",
                                      "venue": "binance"})]}],
    })
    # Inferred fills: one kraken order taken as filled at minute 10.
    tests.append({
        "name": "venue inferred fills",
        "interval": "1m",
        "input_series": [
            {"series": f'{EX}venue_inferred_fills_total{{{ex_l},venue="kraken"}}',
             "values": "0x10 1x20"},
            {"series": f'{EX}venue_inferred_fills_total{{{ex_l},venue="binance"}}',
             "values": "0x30"},
        ],
        "alert_rule_test": [
            {"eval_time": "9m", "alertname": "TickmeshVenueInferredFills", "exp_alerts": []},
            {"eval_time": "12m", "alertname": "TickmeshVenueInferredFills",
             "exp_alerts": [expected("TickmeshVenueInferredFills",
                                     {"service": "execution", "instance": "execution:9103",
                                      "venue": "kraken"})]},
            {"eval_time": "25m", "alertname": "TickmeshVenueInferredFills", "exp_alerts": []}],
    })
    return {"rule_files": ["../rules/tickmesh.rules.yml"], "evaluation_interval": "1m",
            "tests": tests}


# --------------------------------------------------------------------------------------------
# Grafana dashboards
# --------------------------------------------------------------------------------------------

DS = {"type": "prometheus", "uid": "${datasource}"}


class Board:
    def __init__(self, uid, title, description, tags):
        self.uid, self.title, self.description, self.tags = uid, title, description, tags
        self.panels, self.y, self.next_id = [], 0, 1

    def row(self, title):
        self.panels.append({"type": "row", "title": title, "id": self.next_id, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.next_id += 1
        self.y += 1

    def line(self, panels):
        """panels: list of (title, unit, [(expr, legend)], description); one row of equal width."""
        w = 24 // len(panels)
        for i, (title, unit, targets, description) in enumerate(panels):
            self.panels.append({
                "type": "timeseries", "id": self.next_id, "title": title,
                "description": description, "datasource": DS,
                "gridPos": {"h": 8, "w": w, "x": i * w, "y": self.y},
                "fieldConfig": {"defaults": {"unit": unit, "custom": {"fillOpacity": 10}},
                                "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"},
                            "tooltip": {"mode": "multi"}},
                "targets": [{"datasource": DS, "expr": e, "legendFormat": lf,
                             "refId": chr(ord("A") + j)} for j, (e, lf) in enumerate(targets)],
            })
            self.next_id += 1
        self.y += 8

    def json(self):
        return {
            "uid": self.uid, "title": self.title, "description": self.description,
            "tags": ["tickmesh"] + self.tags, "editable": True, "schemaVersion": 39,
            "version": 1, "time": {"from": "now-1h", "to": "now"}, "refresh": "10s",
            "timezone": "utc", "graphTooltip": 1,
            "links": [{"type": "dashboards", "tags": ["tickmesh"], "asDropdown": True,
                       "title": "tickmesh", "includeVars": True, "keepTime": True}],
            "templating": {"list": [{
                "name": "datasource", "label": "Prometheus", "type": "datasource",
                "query": "prometheus", "current": {"text": "Prometheus", "value": DATASOURCE_UID},
                "hide": 0, "refresh": 1, "regex": "", "options": []}]},
            "annotations": {"list": [{
                "name": "Alerts", "datasource": DS, "enable": True, "iconColor": "red",
                "expr": 'ALERTS{alertstate="firing",alertname=~"Tickmesh.*"}',
                "titleFormat": "{{alertname}}", "textFormat": "{{summary}}"}]},
            "panels": self.panels,
        }


def hop_p99_targets():
    return [(f"tickmesh:{n}_seconds:p99_5m", n) for n, _ in HOPS] + [
        ("tickmesh:execution_signal_to_fill_seconds:p99_5m", "execution_signal_to_fill"),
        ("tickmesh:tick_to_order_seconds:p99_5m_budget", "tick→order budget (sum)"),
        (f"vector({TICK_TO_ORDER_SLO_SECONDS})", "SLO")]


def overview():
    b = Board("tickmesh-overview", "tickmesh / mesh overview",
              "Tick to order latency, throughput and errors of every service.", ["overview"])
    b.row("Tick → order")
    b.line([
        ("Tick → order p99 (per stage and budget)", "s", hop_p99_targets(),
         "p99 of each in-mesh stage over 5m and their sum, against the SLO. The budget is an "
         "upper bound of the stages' combined p99 (network hops between services excluded)."),
        ("Stage p50", "s", [(quantile(0.5, m), n) for n, m in HOPS],
         "Median of each stage."),
    ])
    b.row("Throughput")
    b.line([
        ("Market events in / out", "ops",
         [("sum by (kind) (rate(tickmesh_market_data_events_in_total[1m]))", "in {{kind}}"),
          ("sum(rate(tickmesh_market_data_events_out_total[1m]))", "out (to subscribers)")],
         "Events accepted by market-data and offered to subscriber queues."),
        ("Signals, orders, fills", "ops",
         [("sum(rate(tickmesh_signal_signals_total[1m]))", "signals"),
          ("sum by (status) (rate(tickmesh_execution_orders_total[1m]))", "orders {{status}}"),
          ("sum(rate(tickmesh_execution_fills_total[1m]))", "fills")],
         "Signals emitted, orders reaching each status, fills."),
        ("Persisted records", "ops",
         [("sum by (durability) (rate(tickmesh_persistence_records_written_total[1m]))",
           "{{durability}}")],
         "Records made durable, in the database or (database down) in the spool."),
    ])
    b.row("Errors and health")
    b.line([
        ("gRPC requests by service", "reqps",
         [("tickmesh:grpc_requests:rate5m", "{{service}}")], "All methods, 5m rate."),
        ("gRPC error ratio by service", "percentunit",
         [("tickmesh:grpc_error_ratio:rate5m", "{{service}}")],
         "Errors other than CANCELLED over requests, 5m rate. Alert over 5%."),
        ("Up", "none", [('up{service!=""}', "{{service}} {{instance}}")],
         "1 = the admin port answered the last scrape."),
    ])
    b.line([
        ("Degraded modes", "none",
         [('max without (state) (tickmesh_cache_breaker_state{state=~"open|half_open"})',
           "cache Redis fallback {{instance}}"),
          ("1 - tickmesh_persistence_database_up", "persistence spooling {{instance}}")],
         "1 = the service is serving in a degraded mode (see the alerts)."),
        ("Stream reconnects (5m)", "none",
         [("tickmesh:client_stream_reconnects:increase5m", "{{service}} → {{peer}}")],
         "Client streams re-opened by signal and execution."),
        ("Resident memory", "bytes",
         [('process_resident_memory_bytes{service!=""}', "{{service}} {{instance}}")],
         "RSS per process."),
    ])
    return b


def common_rows(b, svc):
    p = prefix(svc)
    sel = f'{{service="{svc}"}}'
    b.row("gRPC")
    b.line([
        ("Requests by method", "reqps",
         [(f"sum by (method) (rate({p}grpc_requests_total[1m]))", "{{method}}")],
         "Calls started per second (streams count once)."),
        ("Errors by method and code", "reqps",
         [(f"sum by (method, code) (rate({p}grpc_errors_total[1m]))", "{{method}} {{code}}")],
         "Calls that ended with a non-OK status."),
        ("Latency p99 by method", "s",
         [(quantile(0.99, f"{p}grpc_request_duration_seconds", by="le, method"), "{{method}}")],
         "For streams this is the stream's lifetime."),
    ])
    b.row("Process")
    b.line([
        ("Resident memory", "bytes",
         [(f"process_resident_memory_bytes{sel}", "{{instance}}")], "RSS."),
        ("CPU", "percentunit",
         [(f"rate(process_cpu_seconds_total{sel}[1m])", "{{instance}}")], "Cores used."),
        ("Threads and fds", "none",
         [(f"process_threads{sel}", "threads {{instance}}"),
          (f"process_open_fds{sel}", "fds {{instance}}")], "Threads and open file descriptors."),
        ("Up", "none", [(f"up{sel}", "{{instance}}")], "1 = scraped."),
    ])


def service_board(svc, description, specific):
    b = Board(f"tickmesh-{svc}", f"tickmesh / {svc}", description, ["service"])
    for row_title, panels in specific:
        b.row(row_title)
        # panels: one line of panels, or a list of lines under the same row.
        for line in (panels if isinstance(panels[0], list) else [panels]):
            b.line(line)
    common_rows(b, svc)
    return b


def boards():
    md, sg, ex = prefix("market-data"), prefix("signal"), prefix("execution")
    ca, pe = prefix("cache"), prefix("persistence")
    out = [overview()]
    out.append(service_board("market-data", "Feeds, books and subscriber fan-out.", [
        ("Events", [
            ("Events in by venue and kind", "ops",
             [(f"sum by (venue, kind) (rate({md}events_in_total[1m]))", "{{venue}} {{kind}}")],
             "Accepted events."),
            ("Events out", "ops", [(f"sum by (kind) (rate({md}events_out_total[1m]))", "{{kind}}")],
             "Events offered to subscriber queues."),
            ("Rejected batches, gaps, crossed books", "ops",
             [(f"sum by (source) (rate({md}parse_errors_total[5m]))", "rejected {{source}}"),
              (f"sum by (venue) (rate({md}seq_gaps_total[5m]))", "gaps {{venue}}"),
              (f"sum by (venue) (rate({md}crossed_books_total[5m]))", "crossed {{venue}}")],
             "Bad input and sequence gaps."),
        ]),
        ("Latency and fan-out", [
            ("Book apply p50 / p99", "s",
             [(quantile(0.5, f"{md}book_apply_seconds"), "p50"),
              (quantile(0.99, f"{md}book_apply_seconds"), "p99")],
             "Validate + apply one batch."),
            ("Feed lag p99 by venue", "s",
             [(quantile(0.99, f"{md}feed_lag_seconds", by="le, venue"), "{{venue}}")],
             "Ingest time minus venue time."),
            ("Subscribers and queue depth", "none",
             [(f"{md}subscribers", "subscribers"),
              (f"sum({md}subscriber_queue_depth)", "queued batches"),
              (f"{md}books", "books")], "Fan-out state."),
            ("Slow subscribers (5m)", "none",
             [(f"sum by (subscriber) (increase({md}subscriber_disconnects_total[5m]))",
               "disconnected {{subscriber}}"),
              (f"sum by (subscriber) (increase({md}subscriber_conflations_total[5m]))",
               "conflated {{subscriber}}")],
             "Subscribers ended with RESOURCE_EXHAUSTED, and book events conflated for slow ones."),
        ]),
        # Venue connectors: only on a market-data configured with venues (empty otherwise).
        ("Venues", [[
            ("Venue connection state", "none",
             [(f"{md}venue_connected", "{{venue}} {{instance}}"),
              (f"sum by (venue) (increase({md}venue_reconnects_total[5m]))",
               "reconnects (5m) {{venue}}")],
             "1 = the venue WebSocket is open. Alert after 1 m at 0."),
            ("Venue frames", "ops",
             [(f"sum by (venue) (rate({md}venue_frames_total[1m]))", "{{venue}}")],
             "WebSocket frames decoded per second."),
            ("Parse errors, gaps, resyncs (5m)", "none",
             [(f"sum by (venue) (increase({md}venue_parse_errors_total[5m]))",
               "parse errors {{venue}}"),
              (f"sum by (venue) (increase({md}venue_gaps_total[5m]))", "gaps {{venue}}"),
              (f"sum by (venue) (increase({md}venue_checksum_failures_total[5m]))",
               "checksum failures {{venue}}"),
              (f"sum by (venue) (increase({md}venue_resyncs_total[5m]))", "resyncs {{venue}}")],
             "Frames skipped, sequence breaks and checksum mismatches; each break drops the "
             "book and resyncs it from a snapshot."),
        ], [
            ("Snapshot latency p99", "s",
             [(quantile(0.99, f"{md}venue_snapshot_seconds", by="le, venue"), "{{venue}}")],
             "REST book snapshot, request sent → response."),
            ("Frame → ingest p99", "s",
             [(quantile(0.99, f"{md}venue_frame_ingest_seconds", by="le, venue"),
               "{{venue}}")],
             "WebSocket frame received → its events ingested and fanned out."),
            ("Snapshot errors, rejected requests and batches (5m)", "none",
             [(f"sum by (venue, reason) (increase({md}venue_snapshot_errors_total[5m]))",
               "snapshot {{reason}} {{venue}}"),
              (f"sum by (venue) (increase({md}venue_request_errors_total[5m]))",
               "requests refused {{venue}}"),
              (f"sum by (venue) (increase({md}venue_batches_rejected_total[5m]))",
               "batches rejected {{venue}}")],
             "Failed snapshots by reason, requests (subscriptions) the venue refused, batches "
             "Ingest refused."),
        ]]),
    ]))
    out.append(service_board("signal", "Indicators, strategies and the signal stream.", [
        ("Signals", [
            ("Signals by strategy and side", "ops",
             [(f"sum by (strategy, side) (rate({sg}signals_total[1m]))", "{{strategy}} {{side}}")],
             "Signals emitted."),
            ("Trades in, stale events", "ops",
             [(f"rate({sg}trades_total[1m])", "trades"),
              (f"rate({sg}stale_events_total[1m])", "stale")], "Input of the strategies."),
            ("Decision latency p50 / p99", "s",
             [(quantile(0.5, f"{sg}decision_latency_seconds"), "p50"),
              (quantile(0.99, f"{sg}decision_latency_seconds"), "p99")],
             "Batch received → signals emitted."),
        ]),
        ("Upstream", [
            ("Market-data stream connected", "none",
             [(f"{sg}client_stream_connected", "{{peer}}")], "1 = stream open."),
            ("Reconnects (5m)", "none",
             [(f"increase({sg}client_stream_reconnects_total[5m])", "{{peer}}")],
             "Stream re-opened."),
            ("Indicator resets, symbols", "none",
             [(f"sum by (reason) (increase({sg}indicator_resets_total[5m]))", "reset {{reason}}"),
              (f"{sg}symbols_tracked", "symbols")], "State resets on reconnect or gap."),
        ]),
    ]))
    out.append(service_board("execution", "Orders, risk, paper venue, outbox and cache.", [
        ("Orders", [
            ("Orders by status", "ops",
             [(f"sum by (status) (rate({ex}orders_total[1m]))", "{{status}}")],
             "Orders reaching each status."),
            ("Rejects", "ops",
             [(f"sum by (rule) (rate({ex}risk_rejects_total[5m]))", "risk {{rule}}"),
              (f"sum by (reason) (rate({ex}venue_rejects_total[5m]))", "venue {{reason}}"),
              (f"sum by (reason) (rate({ex}resource_rejects_total[5m]))", "resource {{reason}}")],
             "Why orders were refused."),
            ("Fills and signals", "ops",
             [(f"rate({ex}fills_total[1m])", "fills"),
              (f"sum by (result) (rate({ex}signals_total[1m]))", "signals {{result}}")],
             "Fills and signals by result."),
        ]),
        ("Latency", [
            ("Submit → ack p50 / p99", "s",
             [(quantile(0.5, f"{ex}submit_to_ack_seconds"), "p50"),
              (quantile(0.99, f"{ex}submit_to_ack_seconds"), "p99")],
             "Order request (or signal) arrival → venue ack."),
            ("Signal → fill p50 / p99", "s",
             [(quantile(0.5, f"{ex}signal_to_fill_seconds"), "p50"),
              (quantile(0.99, f"{ex}signal_to_fill_seconds"), "p99")],
             "Signal arrival → first fill."),
            ("Book events", "ops",
             [(f"sum by (result) (rate({ex}book_events_total[1m]))", "{{result}}")],
             "Books applied or refused."),
        ]),
        ("Outbox, cache and streams", [
            ("Outbox depth", "none", [(f"{ex}outbox_depth", "records")],
             "Records waiting for persistence's durable ack."),
            ("Outbox acks and resends", "ops",
             [(f"rate({ex}outbox_acked_total[1m])", "acked"),
              (f"rate({ex}outbox_resent_total[1m])", "resent"),
              (f"rate({ex}outbox_failed_acks_total[1m])", "failed acks")], "Outbox traffic."),
            ("Cache writes", "ops",
             [(f"rate({ex}cache_writes_total[1m])", "written"),
              (f"rate({ex}cache_write_errors_total[1m])", "errors"),
              (f"rate({ex}cache_dropped_total[1m])", "dropped")], "Balances/positions to cache."),
            ("Peer streams", "none",
             [(f"{ex}client_stream_connected", "connected {{peer}}"),
              (f"increase({ex}client_stream_reconnects_total[5m])", "reconnects {{peer}}"),
              (f"increase({ex}event_subscriber_overflows_total[5m])", "subscriber overflows")],
             "Upstream streams and order-event subscribers."),
        ]),
        # Live venues and algorithms: only with live venues configured / algo orders placed.
        ("Live venues / algorithms", [[
            ("REST latency p99 by endpoint", "s",
             [(quantile(0.99, f"{ex}venue_rest_seconds", by="le, venue, endpoint"),
               "{{venue}} {{endpoint}}")],
             "Live venue REST request sent → full response (error statuses included)."),
            ("REST errors", "ops",
             [(f"sum by (venue, endpoint, kind) (rate({ex}venue_rest_errors_total[5m]))",
               "{{venue}} {{endpoint}} {{kind}}")],
             "Transport errors and HTTP 4xx/5xx per second, by endpoint."),
            ("REST error ratio", "percentunit",
             [("tickmesh:venue_rest_error_ratio:rate5m", "{{venue}} {{instance}}")],
             "Errors over requests, 5m rate. Alert over 5% for 5 m."),
            ("Sign latency p99", "s",
             [(quantile(0.99, f"{ex}venue_sign_seconds", by="le, venue"), "{{venue}}")],
             "Building and signing one request."),
        ], [
            ("Venue calls by result", "ops",
             [(f"sum by (venue, call, result) (rate({ex}venue_calls_total[1m]))",
               "{{venue}} {{call}} {{result}}")],
             "Place, cancel, query, open_orders, balances by result."),
            ("Venue call p99", "s",
             [(quantile(0.99, f"{ex}venue_call_seconds", by="le, venue, call"),
               "{{venue}} {{call}}")],
             "Duration of one live venue call by venue and call."),
            ("Venue orders by state", "none",
             [(f"sum by (venue, state) ({ex}venue_orders)", "{{venue}} {{state}}")],
             "Orders open on live venues: pending, unconfirmed, open, cancelling, foreign."),
            ("Inferred fills (1h)", "none",
             [(f"sum by (venue) (increase({ex}venue_inferred_fills_total[1h]))", "{{venue}}")],
             "Orders taken as filled because they left the open orders and the venue has no "
             "order lookup. Alert on any."),
        ], [
            ("Algo parents", "ops",
             [(f"sum by (algo, status) (rate({ex}algo_parents_total[5m]))",
               "{{algo}} {{status}}")],
             "Algo parent orders accepted and ended, by algorithm and status."),
            ("Algo children", "ops",
             [(f"sum by (result) (rate({ex}algo_children_total[5m]))", "{{result}}")],
             "Child orders placed for algo parents: accepted or refused by the engine."),
        ]]),
    ]))
    out.append(service_board("cache", "L1 and Redis tiers, breaker and replay queue.", [
        ("Traffic", [
            ("Hits and misses by tier", "ops",
             [(f"sum by (tier) (rate({ca}hits_total[1m]))", "hit {{tier}}"),
              (f"sum by (tier) (rate({ca}misses_total[1m]))", "miss {{tier}}")], "Reads."),
            ("Operation p99", "s",
             [(quantile(0.99, f"{ca}op_duration_seconds", by="le, op"), "{{op}}")],
             "Per operation."),
            ("Rejected requests", "ops",
             [(f"sum by (reason) (rate({ca}requests_rejected_total[5m]))", "{{reason}}")],
             "Invalid or shed (overloaded)."),
        ]),
        ("Redis", [
            ("Breaker state", "none",
             [(f"{ca}breaker_state == 1", "{{state}} {{instance}}")],
             "Current breaker state (closed = Redis in use)."),
            ("Replay queue", "none",
             [(f"{ca}replay_queue_depth", "depth"),
              (f"increase({ca}replay_overflow_total[5m])", "overflow (5m)"),
              (f"increase({ca}replayed_total[5m])", "replayed (5m)")],
             "Writes waiting for Redis."),
            ("Redis errors, breaker transitions", "none",
             [(f"increase({ca}redis_errors_total[5m])", "errors (5m)"),
              (f"sum by (to) (increase({ca}breaker_transitions_total[5m]))", "→ {{to}} (5m)")],
             "Redis failures."),
        ]),
        ("L1", [
            ("L1 memory", "bytes", [(f"{ca}l1_memory_bytes", "bytes")], "Bytes held."),
            ("L1 entries", "none", [(f"{ca}l1_entries", "entries")], "Entries held."),
            ("L1 evictions / expirations", "ops",
             [(f"rate({ca}l1_evictions_total[1m])", "evictions"),
              (f"rate({ca}l1_expirations_total[1m])", "expirations")], "Bound pressure."),
        ]),
    ]))
    out.append(service_board("persistence", "Group commit, database, spool and replay.", [
        ("Writes", [
            ("Records written", "ops",
             [(f"sum by (durability) (rate({pe}records_written_total[1m]))", "{{durability}}")],
             "Durable records per second."),
            ("Commit p99", "s",
             [(quantile(0.99, f"{pe}commit_duration_seconds", by="le, target"), "{{target}}")],
             "Commit latency, database or spool."),
            ("Records per commit p50", "none",
             [(quantile(0.5, f"{pe}group_commit_records"), "p50")], "Group-commit size."),
            ("Rejected batches", "ops",
             [(f"sum by (reason) (rate({pe}batches_rejected_total[5m]))", "{{reason}}")],
             "Invalid, queue full, spool full, error."),
        ]),
        ("Database and spool", [
            ("Database up", "none", [(f"{pe}database_up", "{{instance}}")],
             "0 = writes go to the spool."),
            ("Spool", "bytes", [(f"{pe}spool_bytes", "bytes")], "Pending spool bytes."),
            ("Spool entries, writer queue", "none",
             [(f"{pe}spool_entries", "spool entries"),
              (f"{pe}writer_queued_records", "writer queue")], "Backlog."),
            ("Replay", "ops",
             [(f"rate({pe}replayed_records_total[1m])", "replayed records"),
              (f"increase({pe}dead_lettered_entries_total[5m])", "dead-lettered (5m)")],
             "Spool replay progress."),
        ]),
    ]))
    out.append(service_board("loadtest", "The load tester process (serve mode).", []))
    run = Board("tickmesh-loadtest-run", "tickmesh / load-test run",
                "What the mesh did during a load-test run: injected ticks (venue loadtest), "
                "orders and fills, per-stage latency, back-pressure and resources. Set the time "
                "range to the run.", ["loadtest"])
    run.row("Load")
    run.line([
        ("Injected ticks", "ops",
         [(f'sum by (kind) (rate({md}events_in_total{{venue="loadtest"}}[1m]))', "{{kind}}")],
         "Events the load tester published into market-data."),
        ("Orders and fills", "ops",
         [(f"sum by (status) (rate({ex}orders_total[1m]))", "{{status}}"),
          (f"rate({ex}fills_total[1m])", "fills")], "What the ticks caused."),
        ("Publish streams", "reqps",
         [(f'sum(rate({md}grpc_requests_total{{method=~".*/Publish"}}[1m]))', "publish streams"),
          (f'sum(rate({prefix("loadtest")}grpc_requests_total[1m]))', "loadtest RPCs")],
         "Streams opened."),
    ])
    run.row("Latency")
    run.line([("Stage p99 and tick → order budget", "s", hop_p99_targets(),
               "Same as the overview, for the run's time range.")])
    run.row("Back-pressure and resources")
    run.line([
        ("Queues", "none",
         [(f"sum({md}subscriber_queue_depth)", "market-data subscriber queues"),
          (f"{ex}outbox_depth", "execution outbox"),
          (f"{pe}writer_queued_records", "persistence writer queue")], "Queue depths."),
        ("Drops and overflows (1m)", "none",
         [(f"sum(increase({md}subscriber_disconnects_total[1m]))", "market-data disconnects"),
          (f"sum(increase({ex}event_subscriber_overflows_total[1m]))", "execution overflows"),
          (f"sum by (reason) (increase({ex}resource_rejects_total[1m]))", "rejects {{reason}}")],
         "Anything shed under the load."),
        ("CPU by service", "percentunit",
         [('rate(process_cpu_seconds_total{service!=""}[1m])', "{{service}}")], "Cores used."),
        ("RSS by service", "bytes",
         [('process_resident_memory_bytes{service!=""}', "{{service}}")], "Resident memory."),
    ])
    out.append(run)
    return out


# --------------------------------------------------------------------------------------------


def yaml_dump(obj):
    """JSON is valid YAML; a stable, diff-friendly rendering without a YAML library."""
    return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"


def outputs():
    files = {}
    header = ("# GENERATED by deploy/generate.py: edit the generator, then run it.\n")
    files["prometheus/rules/tickmesh.rules.yml"] = header + yaml_dump(
        {"groups": recording_rules() + alert_rules()})
    files["prometheus/tests/tickmesh.rules.test.yml"] = header + yaml_dump(rule_tests())
    for b in boards():
        name = b.uid.removeprefix("tickmesh-") + ".json"
        if name == "overview.json":
            name = "mesh-overview.json"
        files[f"grafana/dashboards/{name}"] = json.dumps(b.json(), indent=2,
                                                         ensure_ascii=False) + "\n"
    return files


def main():
    check = "--check" in sys.argv[1:]
    stale = []
    for rel, text in outputs().items():
        path = DEPLOY / rel
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(rel)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print("deploy/generate.py --check: out of date (run deploy/generate.py): "
              + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
