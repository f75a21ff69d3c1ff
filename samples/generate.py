#!/usr/bin/env python3
"""Deterministic generator for logtriage samples, test fixtures and benchmark inputs.

    python3 samples/generate.py                 # samples + fixtures (default)
    python3 samples/generate.py samples         # samples/ only (also rewrites samples/README.md)
    python3 samples/generate.py fixtures        # tests/fixtures/ only
    python3 samples/generate.py bench --size-mb 500 --out /tmp/bench

Python 3 standard library only. Every random choice comes from random.Random(seed), so
re-running produces byte-identical files.

Entries follow the Cloud Logging LogEntry JSON exactly as exported:
  * gcloud `logging read --format=json`: pretty array, 2-space indent, keys sorted,
    ensure_ascii=False, newest first, trailing newline;
  * Logs Explorer download / Cloud Storage sink: one compact object per line, oldest first,
    keys in API (proto field) order: textPayload/protoPayload, insertId, jsonPayload,
    httpRequest, resource, timestamp, severity, labels, logName, operation, trace,
    sourceLocation, receiveTimestamp, spanId, traceSampled, split, errorGroups; map fields
    (labels, resource.labels) in no particular order.
"""

import argparse
import calendar
import functools
import gzip
import io
import json
import os
import random
import shutil
import sys
import time
import zlib
from json.encoder import encode_basestring as _enc_str  # C implementation, ensure_ascii=False

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SAMPLES = HERE
FIXTURES = os.path.join(ROOT, "tests", "fixtures")

# ----------------------------------------------------------------------------------------
# time and id helpers
# ----------------------------------------------------------------------------------------

US = 1_000_000


def utc_us(y, mo, d, h=0, mi=0, s=0, us=0):
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * US + us


@functools.lru_cache(maxsize=16384)
def _sec_str(sec):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))


def rfc3339_ns(ns):
    """Canonical API output: Z, fraction of 0/3/6/9 digits (trailing zero groups trimmed)."""
    s, f = divmod(ns, 1_000_000_000)
    if f == 0:
        return _sec_str(s) + "Z"
    if f % 1_000_000 == 0:
        return "%s.%03dZ" % (_sec_str(s), f // 1_000_000)
    if f % 1000 == 0:
        return "%s.%06dZ" % (_sec_str(s), f // 1000)
    return "%s.%09dZ" % (_sec_str(s), f)


def ts(us):
    return rfc3339_ns(us * 1000)


def py_iso(us):
    """Python datetime.isoformat() of an aware UTC datetime, as apps print it."""
    s, f = divmod(us, US)
    return "%s.%06d+00:00" % (_sec_str(s), f)


def py_z(us):
    s, f = divmod(us, US)
    return "%s.%06dZ" % (_sec_str(s), f)


def gunicorn_time(us):
    return time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(us // US))


def duration(ns):
    """google.protobuf.Duration JSON: seconds with 0/3/6/9 fraction digits and an 's'."""
    s, f = divmod(ns, 1_000_000_000)
    if f == 0:
        return "%ds" % s
    if f % 1_000_000 == 0:
        return "%d.%03ds" % (s, f // 1_000_000)
    if f % 1000 == 0:
        return "%d.%06ds" % (s, f // 1000)
    return "%d.%09ds" % (s, f)


class Rand(random.Random):
    """random.Random plus the id shapes Cloud Logging uses.

    randint/choice/randrange are overridden with cheaper (still deterministic) versions:
    they sit on the benchmark's hot path."""

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))

    def randrange(self, n):
        return int(self.random() * n)

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def hex(self, n):
        return "%0*x" % (n, self.getrandbits(4 * n))

    def b36(self, n):
        return "".join(self.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(n))

    def trace_id(self):
        return self.hex(32)

    def span_id(self):
        return self.hex(16)

    def uuid4(self):
        h = self.hex(32)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:32])

    def run_insert_id(self, us):
        """Cloud Run / App Engine style: 8 hex seconds, 8 hex micros, 8 random hex."""
        s, f = divmod(us, US)
        return "%08x%08x%08x" % (s, f, self.getrandbits(32))

    def lognormal_ms(self, median_ms, sigma=0.6, lo=1.0, hi=None):
        v = median_ms * (2.718281828 ** self.gauss(0, sigma))
        v = max(lo, v)
        return min(hi, v) if hi else v


# ----------------------------------------------------------------------------------------
# LogEntry construction (API / proto field order)
# ----------------------------------------------------------------------------------------

def log_entry(*, insert_id, resource, log_name, ts_us=None, recv_ns=None, severity=None,
              text=None, proto=None, payload=None, http=None, labels=None, operation=None,
              trace=None, span=None, sampled=None, source_location=None, split=None,
              error_groups=None, timestamp_str=None):
    e = {}
    if proto is not None:
        e["protoPayload"] = proto
    if text is not None:
        e["textPayload"] = text
    e["insertId"] = insert_id
    if payload is not None:
        e["jsonPayload"] = payload
    if http is not None:
        e["httpRequest"] = http
    e["resource"] = resource
    if timestamp_str is not None:
        e["timestamp"] = timestamp_str
    elif ts_us is not None:
        e["timestamp"] = ts(ts_us)
    if severity is not None:
        e["severity"] = severity
    if labels is not None:
        e["labels"] = labels
    e["logName"] = log_name
    if operation is not None:
        e["operation"] = operation
    if trace is not None:
        e["trace"] = trace
    if source_location is not None:
        e["sourceLocation"] = source_location
    if recv_ns is not None:
        e["receiveTimestamp"] = rfc3339_ns(recv_ns)
    if span is not None:
        e["spanId"] = span
    if sampled is not None:
        e["traceSampled"] = sampled
    if split is not None:
        e["split"] = split
    if error_groups is not None:
        e["errorGroups"] = error_groups
    return e


def http_request(method, url, req_size, status, resp_size, ua, remote_ip, server_ip,
                 latency_ns, protocol="HTTP/1.1", referer=None):
    h = {"requestMethod": method, "requestUrl": url, "requestSize": str(req_size),
         "status": status}
    if resp_size is not None:
        h["responseSize"] = str(resp_size)
    h["userAgent"] = ua
    h["remoteIp"] = remote_ip
    if referer:
        h["referer"] = referer
    h["serverIp"] = server_ip
    h["latency"] = duration(latency_ns)
    h["protocol"] = protocol
    return h


def severity_for_status(status):
    if status >= 500:
        return "ERROR"
    if status >= 400:
        return "WARNING"
    return "INFO"


# ----------------------------------------------------------------------------------------
# Cloud Run service model
# ----------------------------------------------------------------------------------------

MALFORMED_503 = ("The request failed because either the HTTP response was malformed or connection to the "
                 "instance had an error. Additional troubleshooting documentation can be found at: "
                 "https://cloud.google.com/run/docs/troubleshooting#malformed-response-or-connection-error")

START_REASONS = {
    "AUTOSCALING": "AUTOSCALING - Instance started due to configured scaling factors (e.g. CPU utilization, "
                   "request throughput, etc.) or no existing capacity for current traffic.",
    "MANUAL_OR_CUSTOMER_MIN_INSTANCE": "MANUAL_OR_CUSTOMER_MIN_INSTANCE - Instance started because of "
                                       "customer-configured min-instances or manual scaling.",
    "DEPLOYMENT_ROLLOUT": "DEPLOYMENT_ROLLOUT - Instance started due to traffic shifting between revisions due "
                          "to deployment, traffic split adjustment, or deployment health check.",
}

HANDLER_LABELS = {"function": "callHandlers", "line": "1706", "module": "logging"}  # shared(), see pretty()


class Instance:
    __slots__ = ("iid", "rev", "started", "master_pid", "worker_pid", "req_counter", "labels")

    def __init__(self, iid, rev, started, master_pid, worker_pid, labels):
        self.iid, self.rev, self.started = iid, rev, started
        self.master_pid, self.worker_pid = master_pid, worker_pid
        self.req_counter = 0
        self.labels = labels


class CloudRunService:
    """Builds the entries one Cloud Run service writes: requests, stdout/stderr, varlog/system."""

    def __init__(self, rng, sink, project, service, region, host, extra_labels=None,
                 iid_prefix="0069c7a988", server_ip="34.54.41.44", port=8000):
        self.r, self.sink = rng, sink
        self.project, self.service, self.region, self.host = project, service, region, host
        self.extra_labels = extra_labels or {}
        self.iid_prefix, self.server_ip, self.port = iid_prefix, server_ip, port
        self.log_prefix = "projects/%s/logs/" % project
        self.ln_requests = self.log_prefix + "run.googleapis.com%2Frequests"
        self.ln_stdout = self.log_prefix + "run.googleapis.com%2Fstdout"
        self.ln_stderr = self.log_prefix + "run.googleapis.com%2Fstderr"
        self.ln_system = self.log_prefix + "run.googleapis.com%2Fvarlog%2Fsystem"
        self._resources = {}

    # -- shared pieces -------------------------------------------------------------------
    def resource(self, rev):
        res = self._resources.get(rev)
        if res is None:
            res = shared({"type": "cloud_run_revision", "labels": shared({
                "revision_name": rev, "project_id": self.project, "service_name": self.service,
                "configuration_name": self.service, "location": self.region})})
            self._resources[rev] = res
        return res

    def start_instance(self, rev, t_us):
        iid = self.iid_prefix + self.r.hex(156 - len(self.iid_prefix))
        labels = {"instanceId": iid}
        labels.update(self.extra_labels)
        return Instance(iid, rev, t_us, 1, self.r.randint(7, 14), shared(labels))

    def trace(self, trace_id):
        return "projects/%s/traces/%s" % (self.project, trace_id)

    def _recv(self, t_us, lo_ms=4, hi_ms=350):
        return t_us * 1000 + self.r.randint(lo_ms * 1_000_000, hi_ms * 1_000_000)

    # -- entry kinds ---------------------------------------------------------------------
    def request_log(self, inst, t_us, method, path, status, latency_us, ua, remote_ip,
                    trace_id, span_id, req_size=None, resp_size=None, referer=None, sampled=None,
                    text=None, protocol="HTTP/1.1"):
        end_us = t_us + latency_us
        r = self.r
        e = log_entry(
            text=text,
            insert_id=r.run_insert_id(end_us + r.randint(50, 4000)),
            http=http_request(method, "https://%s%s" % (self.host, path),
                              req_size if req_size is not None else r.randint(280, 1400), status,
                              resp_size if resp_size is not None else r.randint(60, 9000),
                              ua, remote_ip, self.server_ip, latency_us * 1000 + r.randint(0, 999),
                              protocol=protocol, referer=referer),
            resource=self.resource(inst.rev), ts_us=t_us, severity=severity_for_status(status),
            labels=inst.labels, log_name=self.ln_requests, trace=self.trace(trace_id),
            recv_ns=end_us * 1000 + r.randint(300_000_000, 7_500_000_000),
            span=span_id, sampled=sampled)
        self.sink(t_us, e)
        return e

    def app_log(self, inst, t_us, severity, message, fields=None, stream="stderr", trace_id=None,
                span_id=None, logger=None, sampled=None):
        """Structured application log (jsonPayload with `message`).

        stderr: the app's logging handler shape (labels/function/line/module + timestamp);
        stdout: the unified logging SSOT shape (logger, service, textPayload, validation ...).
        """
        if stream == "stderr":
            p = {"labels": HANDLER_LABELS, "message": message, "timestamp": py_iso(t_us - self.r.randint(300, 7000))}
            if fields:
                p.update(fields)
            ln = self.ln_stderr
        else:
            app_t = t_us - self.r.randint(40, 600)
            p = {"error": {"message": "Missing field", "severity": "ERROR", "timestamp": py_z(app_t + 9),
                           "traceback": "", "type": "str"},
                 "logger": logger or "shared.logging.unified_logging_ssot", "message": message}
            if logger:
                p["name"] = logger
            p["service"] = "netra-service"
            p["textPayload"] = message
            p["timestamp"] = py_z(app_t)
            p["validation"] = {"message_length": len(message) + 1, "severity": severity,
                               "validated_at": py_z(app_t + 14), "zero_empty_guarantee": True}
            if fields:
                p.update(fields)
            ln = self.ln_stdout
        e = log_entry(insert_id=self.r.run_insert_id(t_us), payload=p, resource=self.resource(inst.rev),
                      ts_us=t_us, severity=severity, labels=inst.labels, log_name=ln,
                      trace=self.trace(trace_id) if trace_id else None, recv_ns=self._recv(t_us),
                      span=span_id, sampled=sampled)
        self.sink(t_us, e)
        return e

    def text_log(self, inst, t_us, text, stream="stderr", severity=None, error_groups=None):
        e = log_entry(text=text, insert_id=self.r.run_insert_id(t_us), resource=self.resource(inst.rev),
                      ts_us=t_us, severity=severity, labels=inst.labels,
                      log_name=self.ln_stderr if stream == "stderr" else self.ln_stdout,
                      recv_ns=self._recv(t_us), error_groups=error_groups)
        self.sink(t_us, e)
        return e

    def system_log(self, inst, t_us, text, severity="INFO", extra_labels=None):
        labels = dict(inst.labels)
        if extra_labels:
            labels.update(extra_labels)
        e = log_entry(text=text, insert_id=self.r.run_insert_id(t_us), resource=self.resource(inst.rev),
                      ts_us=t_us, severity=severity, labels=labels, log_name=self.ln_system,
                      recv_ns=self._recv(t_us, 8, 40))
        self.sink(t_us, e)
        return e

    def gunicorn(self, inst, t_us, level, text, pid=None):
        pid = inst.master_pid if pid is None else pid
        return self.text_log(inst, t_us, "[%s] [%d] [%s] %s" % (gunicorn_time(t_us), pid, level, text))

    # -- audit ---------------------------------------------------------------------------
    def audit_replace_service(self, t_us, new_rev, old_rev, principal, generation, image, env_names,
                              secret_envs, caller_ip="35.202.71.118"):
        """Cloud Run Admin Activity audit for a deploy (shape of a real ReplaceService entry:
        resource.labels revision_name/configuration_name are empty; gcloud names the new
        revision in request.service.spec.template.metadata.name)."""
        r = self.r
        ns = "%d" % (700000000000 + r.randint(0, 99999999999))
        env = []
        for name in env_names:
            if name in secret_envs:
                env.append({"name": name, "valueFrom": {"secretKeyRef": {"key": "latest", "name": secret_envs[name]}}})
            else:
                env.append({"name": name, "value": env_values(name, self.project)})
        annotations = {"run.googleapis.com/client-name": "gcloud", "run.googleapis.com/client-version": "538.0.0",
                       "run.googleapis.com/ingress": "all", "run.googleapis.com/ingress-status": "all",
                       "run.googleapis.com/operation-id": r.uuid4(),
                       "serving.knative.dev/creator": principal, "serving.knative.dev/lastModifier": principal}
        svc_meta = {"annotations": annotations, "creationTimestamp": "2025-08-14T19:02:11.114232Z",
                    "generation": generation - 1, "labels": {"cloud.googleapis.com/location": self.region},
                    "name": self.service, "namespace": ns,
                    "resourceVersion": "AAY" + r.b36(8).upper(),
                    "selfLink": "/apis/serving.knative.dev/v1/namespaces/%s/services/%s" % (ns, self.service),
                    "uid": r.uuid4()}
        template = {"metadata": {"annotations": {"autoscaling.knative.dev/maxScale": "20",
                                                 "autoscaling.knative.dev/minScale": "1",
                                                 "run.googleapis.com/cloudsql-instances": "%s:%s:staging-shared-postgres" % (self.project, self.region),
                                                 "run.googleapis.com/cpu-throttling": "false",
                                                 "run.googleapis.com/execution-environment": "gen2",
                                                 "run.googleapis.com/startup-cpu-boost": "true",
                                                 "run.googleapis.com/vpc-access-connector": "projects/%s/locations/%s/connectors/staging-connector" % (self.project, self.region),
                                                 "run.googleapis.com/vpc-access-egress": "private-ranges-only"},
                                 "labels": {"migration-run": self.extra_labels.get("migration-run", "1757350810"),
                                            "run.googleapis.com/startupProbeType": "Default",
                                            "vpc-connectivity": "enabled"},
                                 "name": new_rev},
                    "spec": {"containerConcurrency": 80,
                             "containers": [{"env": env, "image": image,
                                             "ports": [{"containerPort": self.port, "name": "http1"}],
                                             "resources": {"limits": {"cpu": "2", "memory": "4Gi"}},
                                             "startupProbe": {"failureThreshold": 1, "periodSeconds": 240,
                                                              "tcpSocket": {"port": self.port}, "timeoutSeconds": 240}}],
                             "serviceAccountName": "netra-staging-runner@%s.iam.gserviceaccount.com" % self.project,
                             "timeoutSeconds": 600}}
        request_service = {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "metadata": svc_meta,
                           "spec": {"template": template, "traffic": [{"latestRevision": True, "percent": 100}]}}
        resp_meta = dict(svc_meta, generation=generation, resourceVersion="AAY" + r.b36(8).upper())
        resp_meta["annotations"] = dict(annotations, **{"run.googleapis.com/operation-id": r.uuid4()})
        response = {"@type": "type.googleapis.com/google.cloud.run.v1.Service", "apiVersion": "serving.knative.dev/v1",
                    "kind": "Service", "metadata": resp_meta,
                    "spec": {"template": template, "traffic": [{"latestRevision": True, "percent": 100}]},
                    "status": {"address": {"url": "https://%s-701137405146.%s.run.app" % (self.service, self.region)},
                               "conditions": [{"lastTransitionTime": ts(t_us - 86_400 * US),
                                               "status": "True", "type": "Ready"},
                                              {"lastTransitionTime": "2025-08-14T19:02:11.240115Z", "status": "True",
                                               "type": "ConfigurationsReady"},
                                              {"lastTransitionTime": ts(t_us - 86_400 * US), "status": "True",
                                               "type": "RoutesReady"}],
                               "latestCreatedRevisionName": old_rev, "latestReadyRevisionName": old_rev,
                               "observedGeneration": generation - 1,
                               "traffic": [{"latestRevision": True, "percent": 100, "revisionName": old_rev}],
                               "url": "https://%s-701137405146.%s.run.app" % (self.service, self.region)}}
        resource_name = "namespaces/%s/services/%s" % (self.project, self.service)
        proto = {"@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                 "authenticationInfo": {"principalEmail": principal},
                 "authorizationInfo": [{"granted": True, "permission": "run.services.update",
                                        "permissionType": "ADMIN_WRITE", "resource": resource_name,
                                        "resourceAttributes": {}}],
                 "methodName": "google.cloud.run.v1.Services.ReplaceService",
                 "request": {"@type": "type.googleapis.com/google.cloud.run.v1.ReplaceServiceRequest",
                             "name": "projects/%s/locations/%s/services/%s" % (self.project, self.region, self.service),
                             "region": self.region, "service": request_service},
                 "requestMetadata": {"callerIp": caller_ip,
                                     "callerSuppliedUserAgent": "google-cloud-sdk gcloud/538.0.0 command/gcloud.run.deploy "
                                                                "invocation-id/%s environment/GCE environment-version/None "
                                                                "client-os/LINUX client-os-ver/6.8.0 client-pltf-arch/x86_64 "
                                                                "interactive/False from-script/True python/3.12.3 term/ "
                                                                "(Linux 6.8.0-1032-gcp),gzip(gfe)" % r.hex(32),
                                     "destinationAttributes": {},
                                     "requestAttributes": {"auth": {}, "time": ts(t_us + r.randint(200_000, 400_000))}},
                 "resourceLocation": {"currentLocations": [self.region]},
                 "resourceName": resource_name, "response": response, "serviceName": "run.googleapis.com"}
        e = log_entry(proto=proto, insert_id=r.b36(11),
                      resource={"type": "cloud_run_revision", "labels": {
                          "configuration_name": "", "location": self.region, "project_id": self.project,
                          "revision_name": "", "service_name": self.service}},
                      ts_us=t_us, severity="NOTICE",
                      log_name=self.log_prefix + "cloudaudit.googleapis.com%2Factivity",
                      recv_ns=t_us * 1000 + r.randint(100_000_000, 600_000_000))
        self.sink(t_us, e)
        return e


def env_values(name, project):
    return {"ENVIRONMENT": "staging", "SERVICE_ID": "netra-backend", "POSTGRES_DB": "netra_staging",
            "POSTGRES_HOST": "/cloudsql/%s:us-central1:staging-shared-postgres" % project,
            "POSTGRES_PORT": "5432", "REDIS_HOST": "10.166.204.83", "REDIS_PORT": "6379",
            "AUTH_SERVICE_URL": "https://auth.staging.netrasystems.ai",
            "FRONTEND_URL": "https://app.staging.netrasystems.ai", "LOG_LEVEL": "INFO",
            "CLICKHOUSE_HOST": "clickhouse.staging.netrasystems.ai", "GCP_PROJECT_ID": project}.get(name, "true")


BACKEND_ENV = ["ENVIRONMENT", "SERVICE_ID", "POSTGRES_DB", "POSTGRES_HOST", "POSTGRES_PORT", "REDIS_HOST",
               "REDIS_PORT", "AUTH_SERVICE_URL", "FRONTEND_URL", "LOG_LEVEL", "CLICKHOUSE_HOST", "GCP_PROJECT_ID",
               "POSTGRES_USER", "POSTGRES_PASSWORD", "SECRET_KEY", "FERNET_KEY", "SERVICE_SECRET", "JWT_SECRET_KEY",
               "GEMINI_API_KEY", "CLICKHOUSE_PASSWORD"]
BACKEND_SECRETS = {"POSTGRES_USER": "postgres-user-staging", "POSTGRES_PASSWORD": "postgres-password-staging",
                   "SECRET_KEY": "secret-key-staging", "FERNET_KEY": "fernet-key-staging",
                   "SERVICE_SECRET": "service-secret-staging", "JWT_SECRET_KEY": "jwt-secret-key-staging",
                   "GEMINI_API_KEY": "gemini-api-key-staging", "CLICKHOUSE_PASSWORD": "clickhouse-password-staging"}


# ----------------------------------------------------------------------------------------
# message catalog: thousands of distinct background templates
# ----------------------------------------------------------------------------------------

DOMAINS = {
    "agents": (["SupervisorAgent", "TriageSubAgent", "DataSubAgent", "ReportingSubAgent", "OptimizationsCoreSubAgent",
                "ActionsToMeetGoalsSubAgent", "ExecutionEngine", "AgentRegistry", "ToolDispatcher"],
               ["{c} started run {rid} for thread {tid}",
                "{c} completed run {rid} in {ms}ms ({n} tool calls)",
                "{c} selected tool {tool} for run {rid}",
                "{c}: tool {tool} returned {n} rows in {ms}ms",
                "{c} state persisted for run {rid} (step {k}/{n})",
                "{c} emitted agent_thinking for run {rid}",
                "{c} registered {n} tools for user context {ctx}",
                "{c} created UserExecutionContext {ctx} for run {rid}",
                "{c} handoff to {sub} for run {rid}",
                "{c} finished step {k} of run {rid} with status=success",
                "{c} token usage for run {rid}: prompt={tok} completion={tok2}",
                "{c} cleaned up {n} completed runs older than {k}h",
                "{c} plan generated with {n} steps for thread {tid}",
                "{c} cache warm for tool {tool} ({n} entries)",
                "{c} validated output schema for run {rid}",
                "{c} execution queue depth={n} active={k}",
                "{c} resumed run {rid} from checkpoint {k}",
                "{c} received user message of {n} chars on thread {tid}"]),
    "websocket": (["UnifiedWebSocketManager", "UnifiedWebSocketEmitter", "AgentWebSocketBridge", "WebSocketHeartbeat",
                   "ConnectionRegistry", "WebSocketAuthenticator", "EventRouter", "MessageBuffer"],
                  ["{c} connection {ws} established for user {uid}",
                   "{c} connection {ws} closed normally (code=1000) after {sec}s",
                   "{c} sent {evt} to connection {ws}",
                   "{c} heartbeat ok for {n} active connections",
                   "{c} delivered {n} buffered events to {ws}",
                   "{c} routed {evt} for run {rid} to {n} connection(s)",
                   "{c} subscription added: {ws} -> thread {tid}",
                   "{c} subscription removed: {ws} -> thread {tid}",
                   "{c} ping/pong latency {ms}ms on {ws}",
                   "{c} active connections: {n} (peak {k})",
                   "{c} reconnect for user {uid} restored {n} pending events",
                   "{c} message queue drained ({n} messages) for {ws}",
                   "{c} authenticated connection {ws} via JWT subprotocol",
                   "{c} compression negotiated for {ws}: permessage-deflate",
                   "{c} emitted {evt} ({n} bytes)",
                   "{c} registered handler for {evt}"]),
    "database": (["DatabaseManager", "SessionFactory", "ThreadRepository", "MessageRepository", "RunRepository",
                  "UserRepository", "MigrationChecker", "ConnectionPool"],
                 ["{c} query {op} on {table} returned {n} rows in {ms}ms",
                  "{c} committed transaction with {n} statements in {ms}ms",
                  "{c} pool status: size={k} checked_out={n} overflow=0",
                  "{c} loaded {n} records from {table}",
                  "{c} upserted {n} rows into {table}",
                  "{c} session closed after {ms}ms",
                  "{c} prepared statement cache hit ratio {pct}%",
                  "{c} schema version check passed ({table} at revision {hexs})",
                  "{c} soft-deleted {n} rows in {table}",
                  "{c} vacuum hint: {table} has {n} dead tuples",
                  "{c} bulk insert into {table}: {n} rows, {ms}ms",
                  "{c} read replica lag {ms}ms",
                  "{c} connection recycled after {sec}s idle",
                  "{c} index scan on {table} ({n} rows examined)",
                  "{c} paginated {table}: page {k}, {n} rows",
                  "{c} transaction isolation READ COMMITTED for request {req}"]),
    "cache": (["RedisManager", "CacheManager", "RateLimiter", "SessionCache", "AuthClientCache", "LLMResponseCache",
               "FeatureFlagCache"],
              ["{c} GET {key} hit ({ms}ms)",
               "{c} GET {key} miss, populated in {ms}ms",
               "{c} SET {key} ttl={sec}s",
               "{c} evicted {n} expired keys",
               "{c} hit ratio over last 5m: {pct}%",
               "{c} pipeline executed {n} commands in {ms}ms",
               "{c} refreshed {n} entries",
               "{c} memory usage {n}MB of 1024MB",
               "{c} token bucket for user {uid}: {k}/100 remaining",
               "{c} invalidated {key}",
               "{c} connection pool: {n} in use, {k} idle",
               "{c} keyspace notification processed for {key}"]),
    "llm": (["LLMManager", "GeminiClient", "PromptBuilder", "ResponseValidator", "TokenCounter", "CostTracker",
             "StreamingHandler", "ModelRouter"],
            ["{c} request to {model} completed in {ms}ms (prompt_tokens={tok}, completion_tokens={tok2})",
             "{c} streaming {n} chunks from {model} for run {rid}",
             "{c} selected {model} for task {task}",
             "{c} prompt assembled: {n} messages, {tok} tokens",
             "{c} response validated against schema {task}",
             "{c} cost for run {rid}: ${cents}",
             "{c} context window usage {pct}% for thread {tid}",
             "{c} cached completion reused for {key}",
             "{c} safety filters passed for run {rid}",
             "{c} model {model} latency p95={ms}ms over {n} calls",
             "{c} truncated history to {n} messages for thread {tid}",
             "{c} function call {tool} parsed from {model} output"]),
    "threads": (["ThreadService", "ThreadCleanupJob", "MessageService", "ThreadTitleGenerator", "AttachmentService",
                 "SearchIndexer", "ExportService"],
                ["{c} created thread {tid} for user {uid}",
                 "{c} loaded thread {tid} with {n} messages",
                 "{c} appended message {mid} to thread {tid}",
                 "{c} generated title for thread {tid} in {ms}ms",
                 "{c} archived {n} inactive threads",
                 "{c} indexed {n} messages for search",
                 "{c} attachment {mid} stored ({n} KB)",
                 "{c} export of thread {tid} completed ({n} messages)",
                 "{c} listed {n} threads for user {uid}",
                 "{c} updated metadata for thread {tid}",
                 "{c} pruned {n} orphaned attachments",
                 "{c} thread {tid} marked read by user {uid}"]),
    "platform": (["BackgroundTaskManager", "HealthMonitor", "MetricsCollector", "ErrorRecoveryManager",
                  "CircuitBreakerRegistry", "TracingManager", "ConfigWatcher", "SchedulerService", "AuditLogger"],
                 ["{c} task {task} completed in {ms}ms",
                  "{c} scheduled task {task} (next run in {sec}s)",
                  "{c} health snapshot: postgres=ok redis=ok clickhouse=ok ({ms}ms)",
                  "{c} flushed {n} metrics",
                  "{c} circuit '{circ}' state=closed failures=0",
                  "{c} exported {n} spans",
                  "{c} configuration unchanged (hash {hexs})",
                  "{c} audit event {evt2} recorded for user {uid}",
                  "{c} memory rss={n}MB gc_collections={k}",
                  "{c} recovered {n} stale tasks",
                  "{c} worker heartbeat ok (uptime {sec}s)",
                  "{c} queue {task} depth={n}"]),
    "analytics": (["ClickHouseClient", "UsageAggregator", "CorpusService", "SyntheticDataService",
                   "QualityGateService", "BillingReporter"],
                  ["{c} inserted {n} events into {table} in {ms}ms",
                   "{c} aggregated usage for {n} users",
                   "{c} query returned {n} rows in {ms}ms",
                   "{c} corpus {hexs} loaded with {n} documents",
                   "{c} generated {n} synthetic records for job {task}",
                   "{c} quality score {pct} for run {rid}",
                   "{c} daily rollup for {table} complete",
                   "{c} batch {k} of {n} written"]),
}

MESSAGE_FORMS = ("{m}", "[{d}] {m}", "{d}.{s} | {m}")


def build_templates():
    out = []
    for domain, (comps, phrases) in sorted(DOMAINS.items()):
        for comp in comps:
            module = "netra_backend.app.%s.%s" % (domain, _snake(comp))
            for phrase in phrases:
                for form in MESSAGE_FORMS:
                    tpl = form.replace("{m}", phrase).replace("{d}", domain).replace("{s}", _snake(comp)).replace("{c}", comp)
                    out.append((tpl, module))
    return out


def _snake(name):
    s = "".join("_" + ch.lower() if ch.isupper() else ch for ch in name).lstrip("_")
    return s.replace("l_l_m", "llm").replace("w_s", "ws")


TEMPLATES = build_templates()

TOOLS = ["query_usage_metrics", "fetch_cost_breakdown", "analyze_latency", "search_corpus", "generate_report",
         "optimize_prompt", "list_models", "compare_providers", "forecast_spend", "detect_anomalies"]
TABLES = ["threads", "messages", "runs", "assistants", "users", "user_sessions", "agent_state", "tool_results",
          "usage_events", "corpus_documents"]
MODELS = ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash-lite"]
EVENTS = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
TASKS = ["cleanup_expired_sessions", "refresh_model_pricing", "rollup_usage_hourly", "sync_feature_flags",
         "prune_ws_buffers", "reindex_threads", "report_generation", "triage_classification"]
CIRCUITS = ["auth_service", "clickhouse", "redis", "llm_gemini", "postgres"]
OPS = ["SELECT", "INSERT", "UPDATE", "DELETE"]


class Ctx(dict):
    """Lazy placeholder values for str.format_map."""
    __slots__ = ("r",)

    def __init__(self, r, base=None):
        super().__init__(base or {})
        self.r = r

    def __missing__(self, k):
        r = self.r
        if k == "n":
            v = r.randint(1, 240)
        elif k == "k":
            v = r.randint(1, 12)
        elif k == "ms":
            v = r.randint(2, 1800)
        elif k == "sec":
            v = r.randint(5, 3600)
        elif k == "pct":
            v = "%.1f" % r.uniform(60, 99.9)
        elif k == "rid":
            v = "run_" + r.hex(12)
        elif k == "tid":
            v = "thread_" + r.hex(12)
        elif k == "mid":
            v = "msg_" + r.hex(12)
        elif k == "uid":
            v = r.uuid4()
        elif k == "ws":
            v = "ws_" + r.hex(10)
        elif k == "ctx":
            v = "ctx_" + r.hex(8)
        elif k == "req":
            v = "req_%d_%d_%s" % (r.randint(1757000000000, 1758999999999), r.randint(1, 900), r.hex(8))
        elif k in ("tok", "tok2"):
            v = r.randint(40, 9000)
        elif k == "tool":
            v = r.choice(TOOLS)
        elif k == "table":
            v = r.choice(TABLES)
        elif k == "model":
            v = r.choice(MODELS)
        elif k == "evt":
            v = r.choice(EVENTS)
        elif k == "evt2":
            v = r.choice(["login", "thread_export", "api_key_rotated", "settings_updated"])
        elif k == "task":
            v = r.choice(TASKS)
        elif k == "circ":
            v = r.choice(CIRCUITS)
        elif k == "op":
            v = r.choice(OPS)
        elif k == "key":
            v = "%s:%s" % (r.choice(["user", "thread", "llm", "ff", "rl"]), r.hex(10))
        elif k == "sub":
            v = r.choice(["TriageSubAgent", "DataSubAgent", "ReportingSubAgent"])
        elif k == "cents":
            v = "%.4f" % r.uniform(0.0002, 0.9)
        elif k == "hexs":
            v = r.hex(7)
        else:
            raise KeyError(k)
        self[k] = v
        return v


def background_message(r, base=None):
    tpl, module = TEMPLATES[r.randrange(len(TEMPLATES))]
    return tpl.format_map(Ctx(r, base)), module, tpl


WARNING_TEMPLATES = [
    "Slow query detected: {op} on {table} took {slow}ms (threshold 500ms)",
    "Retrying {task} after transient error: ConnectionResetError (attempt {k}/3)",
    "Redis connection pool nearing capacity: {used}/50 connections in use",
    "LLM response truncated at max_tokens=8192 for run {rid}",
    "Rate limit approaching for user {uid}: {used}/100 requests in window",
    "WebSocket {ws} missed heartbeat, waiting {k}s before closing",
    "ClickHouse insert batch delayed {slow}ms (buffer {n} events)",
    "Gemini API returned 429, backing off {k}s (attempt {k}/5)",
    "Thread {tid} exceeds 200 messages, history will be summarized",
    "Deprecated endpoint /api/v1/threads called by {uid}; use /api/threads",
]


def warning_message(r, base=None):
    tpl = r.choice(WARNING_TEMPLATES)
    c = Ctx(r, base)
    c["slow"] = r.randint(520, 4200)
    c["used"] = r.randint(41, 49)
    return tpl.format_map(c), tpl


# ----------------------------------------------------------------------------------------
# netra-backend behaviour shared by several samples
# ----------------------------------------------------------------------------------------

BROWSER_UAS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:142.0) Gecko/20100101 Firefox/142.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1",
]
API_UAS = ["python-httpx/0.28.1", "python-requests/2.32.3", "Go-http-client/2.0", "okhttp/4.12.0", "curl/8.7.1",
           "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)"]
UPTIME_UA = "GoogleStackdriverMonitoring-UptimeChecks(https://cloud.google.com/monitoring)"
HTTPX_UA = "python-httpx/0.28.1"
SERVICE_USER_SESSION = "SERVICE USER SESSION: Created session for service user_id='service:netra-backend'"
CRITICAL_AUTH_FAILURE = "CRITICAL_AUTH_FAILURE: 403 'Not authenticated' error detected!"
SERVICE_SECRET_MISSING = "SERVICE_SECRET not configured - service authentication will fail"
JWT_SECRET_MISSING = "JWT_SECRET_KEY not configured - authentication validation will fail"
SYSTEM_USER_SESSION = "SYSTEM USER SESSION: Created session for user_id='system'"
SYSTEM_USER_AUTH_FAILURE = "SYSTEM_USER_AUTH_FAILURE: The 'system' user failed authentication!"
SERVICE_HEADERS_MISSING = "Service authentication failed: missing X-Service-ID or X-Service-Secret header"
GP_USER_TABLES = "❌ CRITICAL: user_authentication_ready - Missing critical user tables: ['user_sessions']"
GP_JWT = ("❌ CRITICAL: jwt_validation_ready - Missing JWT validation functions: "
          "['create_access_token', 'verify_token', 'create_refresh_token']")
GP_AT_RISK = "💸 GOLDEN PATH AT RISK - Chat functionality business value threatened!"
GP_FAILED = "Golden path validation failed: 2 critical requirement(s) not met - business functionality at risk"
DB_FACTORY_MISSING = "Database session factory not available"
KEY_MANAGER_MISSING = "Key manager not available for JWT operations"
TOKEN_INVALID = "Token validation failed: Invalid token or user not found"

# endpoints: (method, path template, needs request-scoped DB session, median latency ms, weight)
SESSION_ENDPOINTS = [
    ("POST", "/api/agent/run_agent", 2400, 5),
    ("GET", "/api/threads", 120, 6),
    ("GET", "/api/threads/{tid}/messages", 90, 5),
    ("POST", "/api/threads", 140, 2),
    ("GET", "/api/agent/status/{rid}", 45, 3),
    ("PUT", "/api/threads/{tid}", 110, 1),
]
PLAIN_ENDPOINTS = [
    ("GET", "/api/auth/providers", 25, 3),
    ("GET", "/api/discovery/services", 30, 2),
    ("GET", "/api/config/public", 12, 3),
    ("GET", "/api/user/me", 40, 4),
    ("GET", "/api/models", 35, 1),
    ("GET", "/health/ready", 60, 1),
]
NOT_FOUND_PATHS = ["/favicon.ico", "/robots.txt", "/.env", "/wp-login.php", "/api/v1/agents", "/.git/config",
                   "/api/threads/thread_{hexs}", "/apple-touch-icon.png", "/api/v2/threads"]


def pick_weighted(r, items):
    total = sum(i[-1] for i in items)
    x = r.uniform(0, total)
    for it in items:
        x -= it[-1]
        if x <= 0:
            return it
    return items[-1]


class Clients:
    """A stable population of callers so the same users come back."""

    def __init__(self, r, n_users=60):
        self.users = [(r.uuid4(), "%d.%d.%d.%d" % (r.choice([68, 73, 98, 24, 174, 71, 47, 99]), r.randint(0, 255),
                                                   r.randint(0, 255), r.randint(1, 254)),
                       r.choice(BROWSER_UAS) if r.random() < 0.7 else r.choice(API_UAS))
                      for _ in range(n_users)]
        self.uptime_ips = ["35.238.118.%d" % r.randint(2, 250), "35.199.66.%d" % r.randint(2, 250),
                           "34.94.29.%d" % r.randint(2, 250)]
        self.scanner_ips = ["%d.%d.%d.%d" % (r.choice([45, 185, 193, 20]), r.randint(0, 255), r.randint(0, 255),
                                             r.randint(1, 254)) for _ in range(5)]
        self.e2e = ("68.5.230.82", HTTPX_UA)


def boot_instance(svc, inst, t, reason, service_secret=True, jwt_secret=True, golden_path="pass"):
    """The log lines one netra-backend instance writes while booting. Returns the time it is ready."""
    r = svc.r
    svc.system_log(inst, t, "Starting new instance. Reason: " + START_REASONS[reason],
                   extra_labels={"scaling_reason": reason})
    t += r.randint(900_000, 2_500_000)
    svc.text_log(inst, t, "Backend Service: Running in staging - skipping .env file loading (using GSM)", "stdout")
    t += r.randint(20_000, 90_000)
    svc.gunicorn(inst, t, "INFO", "Starting gunicorn 23.0.0")
    svc.gunicorn(inst, t + 310, "INFO", "Listening at: http://0.0.0.0:%d (%d)" % (svc.port, inst.master_pid))
    svc.gunicorn(inst, t + 420, "INFO", "Using worker: uvicorn.workers.UvicornWorker")
    svc.gunicorn(inst, t + 2_800, "INFO", "Booting worker with pid: %d" % inst.worker_pid)
    t += r.randint(600_000, 1_400_000)
    stdout = [("INFO", "Loading unified configuration"),
              ("INFO", "Creating StagingConfig for environment: staging"),
              ("INFO", "Loaded SECRET_KEY from environment"),
              ("INFO", "Loaded FERNET_KEY from environment")]
    if jwt_secret:
        stdout.append(("INFO", "Loaded JWT_SECRET_KEY from environment"))
    stdout.append(("INFO", "Loaded SERVICE_ID from environment"))
    if service_secret:
        stdout.append(("INFO", "Loaded SERVICE_SECRET from environment"))
    stdout += [("WARNING", "SERVICE_ID contained whitespace - sanitized from 'netra-backend\\n' to 'netra-backend'"),
               ("INFO", "SERVICE_ID configured: True"),
               ("INFO", "SERVICE_SECRET configured: %s" % service_secret),
               ("INFO", "Database configuration: Using component-based configuration for staging environment"),
               ("INFO", "Built database URL from POSTGRES_* environment variables"),
               ("INFO", "Database URL (staging/Cloud SQL): postgresql+asyncpg://***@/netra_staging?host=/cloudsql/"
                        "%s:%s:staging-shared-postgres" % (svc.project, svc.region)),
               ("INFO", "Configuration loaded and cached for environment: staging"),
               ("INFO", "Validating configuration requirements for staging environment (readiness verified)")]
    if service_secret and jwt_secret:
        stdout.append(("INFO", "PASS:  All configuration requirements validated for staging"))
    stdout += [("INFO", "UnifiedIDManager initialized"),
               ("INFO", "Enhanced RedisManager initialized with automatic recovery"),
               ("INFO", "ErrorRecoveryManager initialized"),
               ("INFO", "BackgroundTaskManager initialized"),
               ("INFO", "WebSocket SSOT loaded - CRITICAL SECURITY MIGRATION: Factory pattern available, singleton "
                        "vulnerabilities mitigated"),
               ("INFO", "Factory methods added to UnifiedWebSocketEmitter - Issue #582 remediation complete")]
    for sev, msg in stdout:
        t += r.randint(200, 9000)
        svc.app_log(inst, t, sev, msg, stream="stdout")
    stderr = [("INFO", "TracingManager initialized"), ("INFO", "Tracer initialized: default"),
              ("INFO", "OpenTelemetry automatic instrumentation initialized for %s in staging" % svc.service),
              ("WARNING", "Sentry SDK not available - install sentry-sdk[fastapi] to enable error tracking"),
              ("INFO", "AuthClientConfigManager initialized"),
              ("INFO", "AuthClientCache initialized with default TTL: 300s and user isolation"),
              ("INFO", "AuthCircuitBreakerManager initialized with UnifiedCircuitBreaker"),
              ("INFO", "Circuit breaker 'auth_service' initialized: threshold=3"),
              ("INFO", "AuthServiceClient initialized - Service ID: netra-backend, Service Secret=REDACTED %s"
                       % service_secret)]
    if not service_secret:
        stderr.append(("ERROR", SERVICE_SECRET_MISSING))
    if not jwt_secret:
        stderr.append(("ERROR", JWT_SECRET_MISSING))
    stderr += [("INFO", "Starting enhanced middleware setup with WebSocket exclusion support..."),
               ("INFO", "uvicorn-compatible SessionMiddleware configured for staging (Issue #449)"),
               ("INFO", "uvicorn-compatible SessionMiddleware installed (Issue #449)")]
    for sev, msg in stderr:
        t += r.randint(300, 12_000)
        svc.app_log(inst, t, sev, msg)
    t += r.randint(100_000, 400_000)
    svc.system_log(inst, t, 'Default STARTUP TCP probe succeeded after 1 attempt for container '
                            '"%s-1" on port %d.' % (svc.service, svc.port))
    w = inst.worker_pid
    t += r.randint(50_000, 300_000)
    svc.gunicorn(inst, t, "INFO", "Started server process [%d]" % w, pid=w)
    svc.gunicorn(inst, t + 120, "INFO", "Waiting for application startup.", pid=w)
    t += r.randint(400_000, 1_500_000)
    if golden_path == "pass":
        svc.app_log(inst, t, "INFO", "Validating Golden Path requirements for staging (4 requirements)")
        t += r.randint(80_000, 300_000)
        svc.app_log(inst, t, "INFO", "✅ Golden Path validation passed: 4/4 requirements met",
                    {"requirements": ["user_authentication_ready", "jwt_validation_ready", "websocket_ready",
                                      "agent_execution_ready"]})
        t += r.randint(20_000, 90_000)
        svc.gunicorn(inst, t, "INFO", "Application startup complete.", pid=w)
        return t
    # golden_path == "fail": the startup-validation failure of seed 003
    svc.app_log(inst, t, "INFO", "Validating Golden Path requirements for staging (4 requirements)")
    t += r.randint(50_000, 200_000)
    svc.app_log(inst, t, "WARNING", DB_FACTORY_MISSING,
                {"requirement": "user_authentication_ready", "app_state_attribute": "db_session_factory"})
    t += r.randint(300_000, 900_000)
    svc.app_log(inst, t, "ERROR", GP_USER_TABLES,
                {"requirement": "user_authentication_ready", "missing_tables": ["user_sessions"], "success": False})
    t += r.randint(5_000, 40_000)
    svc.app_log(inst, t, "WARNING", KEY_MANAGER_MISSING,
                {"requirement": "jwt_validation_ready", "app_state_attribute": "key_manager"})
    t += r.randint(5_000, 60_000)
    svc.app_log(inst, t, "ERROR", GP_JWT,
                {"requirement": "jwt_validation_ready", "success": False,
                 "missing_functions": ["create_access_token", "verify_token", "create_refresh_token"]})
    t += r.randint(5_000, 40_000)
    svc.app_log(inst, t, "INFO", "✅ websocket_ready - WebSocket manager available")
    svc.app_log(inst, t + 700, "INFO", "✅ agent_execution_ready - Agent supervisor registered")
    t += r.randint(5_000, 30_000)
    svc.app_log(inst, t, "ERROR", GP_AT_RISK, {"failed_requirements": ["user_authentication_ready",
                                                                       "jwt_validation_ready"]})
    t += r.randint(1_000, 9_000)
    svc.app_log(inst, t, "ERROR", GP_FAILED, {"failed_requirements": ["user_authentication_ready",
                                                                      "jwt_validation_ready"], "passed": 2, "total": 4})
    t += r.randint(2_000, 20_000)
    svc.text_log(inst, t, GOLDEN_PATH_TRACEBACK, severity="ERROR", error_groups=[{"id": "CKrN5a6X3ZnQ7gE"}])
    t += r.randint(1_000, 5_000)
    svc.gunicorn(inst, t, "ERROR", "Application startup failed. Exiting.", pid=w)
    svc.gunicorn(inst, t + 2_100, "INFO", "Worker exiting (pid: %d)" % w, pid=w)
    t += r.randint(200_000, 700_000)
    svc.gunicorn(inst, t, "ERROR", "Worker (pid:%d) exited with code 3" % w)
    svc.gunicorn(inst, t + 900, "ERROR", "Shutting down: Master")
    svc.gunicorn(inst, t + 1_200, "ERROR", "Reason: Worker failed to boot.")
    t += r.randint(150_000, 400_000)
    svc.system_log(inst, t, "Container called exit(3).", severity="WARNING",
                   extra_labels={"container_name": "%s-1" % svc.service})
    return None


GOLDEN_PATH_TRACEBACK = """Traceback (most recent call last):
  File "/usr/local/lib/python3.11/site-packages/starlette/routing.py", line 693, in lifespan
    async with self.lifespan_context(app) as maybe_state:
  File "/usr/local/lib/python3.11/contextlib.py", line 210, in __aenter__
    return await anext(self.gen)
           ^^^^^^^^^^^^^^^^^^^^^
  File "/app/netra_backend/app/core/lifespan_manager.py", line 64, in lifespan
    await run_startup_validation(app)
  File "/app/netra_backend/app/smd.py", line 412, in run_startup_validation
    await self._validate_golden_path(app)
  File "/app/netra_backend/app/smd.py", line 538, in _validate_golden_path
    raise DeterministicStartupError(
netra_backend.app.smd.DeterministicStartupError: Golden path validation failed: 2 critical requirement(s) not met - business functionality at risk"""


class NetraBackend:
    """Traffic model for netra-backend-staging: requests and the app logs they cause."""

    def __init__(self, r, svc, clients, mode):
        self.r, self.svc, self.c = r, svc, clients
        self.mode = mode  # "healthy" | "service_auth_broken" | "system_user_broken" | "down"
        self.instances = []

    def pick_instance(self):
        return self.r.choice(self.instances)

    def request_id(self, inst, t):
        inst.req_counter += 1
        return "req_%d_%d_%s" % (t // 1000, inst.req_counter, self.r.hex(8))

    # -- request kinds -------------------------------------------------------------------
    def user_request(self, t, user=None, session_endpoint=None, forced=None, req_id=None):
        r = self.r
        if self.mode == "down":
            return self.down_request(t, user)
        uid, ip, ua = user or r.choice(self.c.users)
        if session_endpoint is None:
            session_endpoint = r.random() < 0.62
        method, tpl, med, _ = pick_weighted(r, SESSION_ENDPOINTS if session_endpoint else PLAIN_ENDPOINTS)
        ctx = Ctx(r, {"uid": uid})
        path = tpl.format_map(ctx)
        inst = self.pick_instance()
        trace_id, span = r.trace_id(), r.span_id()
        req = req_id or self.request_id(inst, t)
        sampled = True if r.random() < 0.04 else None
        app_t = t + r.randint(800, 6000)
        status = 200 if method != "POST" or tpl != "/api/threads" else 201
        if forced is not None:
            status = forced
        elif session_endpoint and self.mode == "service_auth_broken":
            status = 403
        elif session_endpoint and self.mode == "system_user_broken":
            status = 403
        if status == 403 and forced is None and self.mode == "service_auth_broken":
            self.svc.app_log(inst, app_t, "ERROR", CRITICAL_AUTH_FAILURE, {
                "user_id": "service:netra-backend", "operation": "create_request_scoped_db_session",
                "auth_failure_stage": "session_factory_call",
                "likely_cause": "authentication_middleware_blocked_service_user",
                "user_type": "regular", "is_service_call": False, "request_id": req,
                "error": "403: Not authenticated"}, trace_id=trace_id, span_id=span, sampled=sampled)
            lat = int(r.lognormal_ms(38, 0.5) * 1000)
            self.svc.request_log(inst, t, method, path, 403, lat, ua, ip, trace_id, span,
                                 resp_size=r.randint(30, 34), referer="https://app.staging.netrasystems.ai/",
                                 sampled=sampled)
            return "auth_fail"
        if status == 403 and forced is None and self.mode == "system_user_broken":
            self.svc.app_log(inst, app_t, "INFO", SYSTEM_USER_SESSION,
                             {"user_id": "system", "request_id": req, "session_id": "sess_" + r.hex(12)},
                             trace_id=trace_id, span_id=span, sampled=sampled)
            self.svc.app_log(inst, app_t + r.randint(2000, 30000), "ERROR", SYSTEM_USER_AUTH_FAILURE, {
                "user_id": "system", "operation": "create_request_scoped_db_session",
                "auth_failure_stage": "session_factory_call", "request_id": req,
                "function_location": "netra_backend.app.dependencies.get_request_scoped_db_session",
                "error": "403: Not authenticated", "likely_cause": "system_user_missing_service_credentials",
                "has_service_headers": False}, trace_id=trace_id, span_id=span, sampled=sampled)
            lat = int(r.lognormal_ms(55, 0.5) * 1000)
            self.svc.request_log(inst, t, method, path, 403, lat, ua, ip, trace_id, span,
                                 resp_size=r.randint(30, 34), referer="https://app.staging.netrasystems.ai/",
                                 sampled=sampled)
            return "system_fail"
        lat_ms = r.lognormal_ms(med, 0.55) if status < 500 else 30_000 + r.uniform(5, 400)
        if session_endpoint and self.mode == "healthy":
            self.svc.app_log(inst, app_t, "INFO", SERVICE_USER_SESSION,
                             {"user_id": "service:netra-backend", "request_id": req, "session_id": "sess_" + r.hex(12),
                              "user_type": "service", "is_service_call": True},
                             trace_id=trace_id, span_id=span, sampled=sampled)
        if tpl == "/api/agent/run_agent" and status == 200:
            rid = ctx["rid"]
            self.svc.app_log(inst, app_t + 9000, "INFO", "Agent execution started: run_id=%s agent=supervisor user_id=%s"
                             % (rid, uid), trace_id=trace_id, span_id=span, sampled=sampled)
            n_tok = r.randint(300, 6000)
            self.svc.app_log(inst, app_t + int(lat_ms * 900), "INFO",
                             "Agent execution completed: run_id=%s duration_ms=%d tokens=%d" % (rid, int(lat_ms * 0.9), n_tok),
                             trace_id=trace_id, span_id=span, sampled=sampled)
        elif r.random() < 0.45:
            msg, module, _ = background_message(r, {"uid": uid})
            self.svc.app_log(inst, app_t + r.randint(0, max(1, int(lat_ms * 800))), "INFO", msg,
                             stream="stdout" if r.random() < 0.3 else "stderr",
                             logger=module, trace_id=trace_id, span_id=span, sampled=sampled)
        if status >= 500:
            self.svc.app_log(inst, t + int(lat_ms * 1000) - r.randint(2000, 9000), "ERROR",
                             "Unhandled exception in %s %s: sqlalchemy.exc.TimeoutError: QueuePool limit of size 20 "
                             "overflow 10 reached, connection timed out, timeout 30.00" % (method, path),
                             {"request_id": req, "error_type": "TimeoutError"}, trace_id=trace_id, span_id=span)
        if status == 403:  # an ordinary user touching someone else's thread
            self.svc.app_log(inst, app_t, "WARNING", "Access denied: user %s is not the owner of thread %s"
                             % (uid, ctx["tid"]), {"user_id": uid, "request_id": req, "user_type": "regular"},
                             trace_id=trace_id, span_id=span)
        self.svc.request_log(inst, t, method, path, status, int(lat_ms * 1000), ua, ip, trace_id, span,
                             referer="https://app.staging.netrasystems.ai/" if r.random() < 0.7 else None,
                             sampled=sampled)
        return "ok" if status < 400 else "client_error"

    def down_request(self, t, user=None):
        """Every request while no instance can serve: 503 from the Cloud Run front end."""
        r = self.r
        uid, ip, ua = user or r.choice(self.c.users)
        method, tpl, _, _ = pick_weighted(r, SESSION_ENDPOINTS + PLAIN_ENDPOINTS)
        path = tpl.format_map(Ctx(r, {"uid": uid}))
        self.svc.request_log(self.pick_instance(), t, method, path, 503, r.randint(2_800_000, 7_200_000), ua, ip,
                             r.trace_id(), r.span_id(), resp_size=67, text=MALFORMED_503,
                             sampled=True if r.random() < 0.25 else None)
        return "unavailable"

    def health_check(self, t):
        r = self.r
        inst = self.pick_instance()
        status = 503 if self.mode == "down" else 200
        self.svc.request_log(inst, t, "GET", "/health", status,
                             int(r.lognormal_ms(4, 0.5) * 1000) if status == 200 else r.randint(3_000_000, 7_000_000),
                             UPTIME_UA, r.choice(self.c.uptime_ips), r.trace_id(), r.span_id(), req_size=r.randint(180, 220),
                             resp_size=r.randint(64, 70) if status == 200 else 67,
                             text=MALFORMED_503 if status == 503 else None)

    def not_found(self, t):
        r = self.r
        if self.mode == "down":
            return self.down_request(t)
        inst = self.pick_instance()
        path = r.choice(NOT_FOUND_PATHS).format_map(Ctx(r))
        scanner = path in ("/.env", "/wp-login.php", "/.git/config")
        ip = r.choice(self.c.scanner_ips) if scanner else r.choice(self.c.users)[1]
        ua = "Mozilla/5.0 zgrab/0.x" if scanner else r.choice(BROWSER_UAS)
        self.svc.request_log(inst, t, "GET", path, 404, int(r.lognormal_ms(3, 0.4) * 1000), ua, ip,
                             r.trace_id(), r.span_id(), resp_size=22)

    def websocket(self, t):
        r = self.r
        if self.mode == "down":
            return self.down_request(t)
        uid, ip, ua = r.choice(self.c.users)
        inst = self.pick_instance()
        trace_id, span = r.trace_id(), r.span_id()
        secs = r.randint(20, 900)
        ws = "ws_" + r.hex(10)
        self.svc.app_log(inst, t + 40_000, "INFO", "WebSocket connection established: %s user_id=%s" % (ws, uid),
                         {"connection_id": ws, "user_id": uid}, trace_id=trace_id, span_id=span)
        self.svc.app_log(inst, t + secs * US, "INFO", "WebSocket connection %s closed (code=1000) after %ds" % (ws, secs),
                         {"connection_id": ws}, trace_id=trace_id, span_id=span)
        self.svc.request_log(inst, t, "GET", "/ws", 101, secs * US + r.randint(0, 999_999), ua, ip, trace_id, span,
                             resp_size=0, req_size=r.randint(1100, 1600))

    def background(self, t, warn_p=0.06):
        r = self.r
        if self.mode == "down":
            return
        inst = self.pick_instance()
        if r.random() < warn_p:
            msg, _ = warning_message(r)
            self.svc.app_log(inst, t, "WARNING", msg)
            return
        msg, module, _ = background_message(r)
        if r.random() < 0.35:
            self.svc.app_log(inst, t, "INFO", msg, stream="stdout", logger=module)
        else:
            self.svc.app_log(inst, t, "INFO", msg)

    def internal_call(self, t, fail):
        """Inter-service call from the auth service / frontend SSR into /api/internal/*."""
        r = self.r
        inst = self.pick_instance()
        method, path = r.choice([("POST", "/api/internal/user-context/validate"),
                                 ("GET", "/api/internal/threads/thread_%s/state" % r.hex(12)),
                                 ("POST", "/api/internal/events/agent"),
                                 ("POST", "/api/internal/sessions/refresh")])
        caller = r.choice(["netra-auth-service", "netra-frontend-staging"])
        ua = HTTPX_UA if caller == "netra-auth-service" else "axios/1.7.7"
        ip = "34.96.%d.%d" % (r.randint(40, 47), r.randint(1, 254)) if caller == "netra-auth-service" else \
            "35.209.%d.%d" % (r.randint(0, 255), r.randint(1, 254))
        trace_id, span = r.trace_id(), r.span_id()
        if fail:
            has_id = r.random() < 0.4
            self.svc.app_log(inst, t + r.randint(500, 3000), "WARNING", SERVICE_HEADERS_MISSING, {
                "path": path.split("?")[0], "method": method, "x_service_id_present": has_id,
                "x_service_secret_present": False, "x_service_id": caller if has_id else None,
                "middleware": "FastAPIAuthMiddleware", "status_code": 401}, trace_id=trace_id, span_id=span)
            self.svc.request_log(inst, t, method, path, 401, int(r.lognormal_ms(6, 0.4) * 1000), ua, ip,
                                 trace_id, span, resp_size=r.randint(60, 70))
        else:
            self.svc.app_log(inst, t + r.randint(500, 3000), "INFO",
                             "Service request authenticated: service_id=%s path=%s" % (caller, path),
                             trace_id=trace_id, span_id=span)
            self.svc.request_log(inst, t, method, path, 200, int(r.lognormal_ms(20, 0.5) * 1000), ua, ip,
                                 trace_id, span)


# ----------------------------------------------------------------------------------------
# simulation driver
# ----------------------------------------------------------------------------------------

import heapq  # noqa: E402  (kept next to its only user)


class Sim:
    """Event heap. Handlers run in time order and may schedule further events.

    Every entry a handler writes has timestamp >= the handler's event time, so once the
    clock passes t, all entries older than t are final (used for streaming the benchmark)."""

    def __init__(self, r):
        self.r, self.heap, self.seq, self.now = r, [], 0, 0

    def at(self, t, fn):
        heapq.heappush(self.heap, (t, self.seq, fn))
        self.seq += 1

    def poisson(self, t0, rate, fn, until=None):
        """fn(t) at Poisson arrivals; rate is events/s or a callable(t) -> events/s (0 pauses)."""
        r = self.r

        def rate_at(t):
            return rate(t) if callable(rate) else rate

        def nxt(t):
            rt = rate_at(t)
            return t + (int(r.expovariate(rt) * US) + 1 if rt > 0 else 30 * US)

        def tick(t):
            if rate_at(t) > 0:
                fn(t)
            n = nxt(t)
            if until is None or n < until:
                self.at(n, tick)

        self.at(nxt(t0), tick)

    def run(self, t_end, step=None):
        while self.heap and self.heap[0][0] < t_end:
            t, _, fn = heapq.heappop(self.heap)
            self.now = t
            fn(t)
            if step is not None and step(t):
                return False
        return True


class Collector:
    """Collects (timestamp_us, seq, entry); `sorted()` gives entries oldest first."""

    def __init__(self):
        self.items, self.seq = [], 0

    def __call__(self, t_us, entry):
        self.items.append((t_us, self.seq, entry))
        self.seq += 1

    def sorted(self, until=None):
        self.items.sort(key=lambda x: (x[0], x[1]))
        return [e for t, _, e in self.items if until is None or t < until]


# ----------------------------------------------------------------------------------------
# samples (one per seed incident) + healthy baseline
# ----------------------------------------------------------------------------------------

NETRA_LABELS = {"migration-run": "1757350810", "vpc-connectivity": "enabled"}
DEPLOYER = "github-deployer@netra-staging.iam.gserviceaccount.com"


def netra_backend(r, col):
    return CloudRunService(r, col, "netra-staging", "netra-backend-staging", "us-central1",
                           "api.staging.netrasystems.ai", NETRA_LABELS)


def deploy(sim, svc, app, t, old, new, generation, *, secrets_ok=True, boots=(), golden="pass", crash_every=None,
           until=None):
    """Audit entry, first instance of the new revision, traffic switch when it is ready,
    extra instance starts at `boots`; with golden='fail' the new revision crash-loops."""
    r = svc.r
    envs = BACKEND_ENV if secrets_ok else [n for n in BACKEND_ENV if n not in ("SERVICE_SECRET", "JWT_SECRET_KEY")]
    svc.audit_replace_service(t, new, old, DEPLOYER, generation,
                              "gcr.io/netra-staging/%s:staging-%s" % (svc.service, time.strftime("%Y%m%d-%H%M%S", time.gmtime(t // US - 190))),
                              envs, BACKEND_SECRETS)
    start = t + r.randint(5_000_000, 9_000_000)
    inst = svc.start_instance(new, start)
    ready = boot_instance(svc, inst, start, "DEPLOYMENT_ROLLOUT", service_secret=secrets_ok, jwt_secret=secrets_ok,
                          golden_path=golden)

    def switch(_t, inst=inst):
        app.instances = [inst]
        if not secrets_ok:
            app.mode = "service_auth_broken"
        if golden == "fail":
            app.mode = "down"

    if golden == "fail":
        # the TCP probe passed before the worker died, so traffic moved; then it crash-loops
        sim.at(start + 4_500_000, switch)

        def crash(t):
            crashing = svc.start_instance(new, t)
            app.instances = [crashing]
            boot_instance(svc, crashing, t, "MANUAL_OR_CUSTOMER_MIN_INSTANCE", golden_path="fail")
            nxt = t + r.randint(crash_every[0], crash_every[1])
            if until is None or nxt < until:
                sim.at(nxt, crash)

        sim.at(start + r.randint(crash_every[0], crash_every[1]), crash)
        return
    sim.at(ready + r.randint(200_000, 900_000), switch)
    for bt in boots:
        def boot(t):
            i = svc.start_instance(new, t)
            rd = boot_instance(svc, i, t, "AUTOSCALING", service_secret=secrets_ok, jwt_secret=secrets_ok)
            sim.at(rd + 300_000, lambda _t: app.instances.append(i))
        sim.at(bt, boot)


def scale_out(sim, svc, app, t, rev):
    def boot(t):
        i = svc.start_instance(rev, t)
        rd = boot_instance(svc, i, t, "AUTOSCALING")
        sim.at(rd + 300_000, lambda _t: app.instances.append(i))
    sim.at(t, boot)


def sample_service_auth_regression(seed=611):
    """Seeds 000/001: 00611-cr5 -> 00639-g4g drops SERVICE_SECRET/JWT_SECRET_KEY; every
    request-scoped DB session for service:netra-backend then fails with 403."""
    r, col = Rand(seed), Collector()
    sim, svc = Sim(r), netra_backend(r, col)
    clients = Clients(r)
    old, new = "netra-backend-staging-00611-cr5", "netra-backend-staging-00639-g4g"
    t0, t_switch, t1 = utc_us(2025, 9, 11, 15, 28, 0), utc_us(2025, 9, 11, 17, 38, 4, 318227), utc_us(2025, 9, 11, 18, 40, 0)
    app = NetraBackend(r, svc, clients, "healthy")
    app.instances = [svc.start_instance(old, t0 - 3 * 3600 * US) for _ in range(2)]

    def session_call(t):
        if app.mode == "healthy":
            app.user_request(t, session_endpoint=True)
            return
        # the frontend retries a failed call 2-3 times with 1 s / 2 s / 4 s backoff
        user = r.choice(clients.users)
        if app.user_request(t, user=user, session_endpoint=True) == "auth_fail":
            dt = 0
            for k in range(r.choice((2, 3, 3))):
                dt += (1 << k) * US + r.randint(50_000, 400_000)
                app.user_request(t + dt, user=user, session_endpoint=True)

    # users keep reloading while it is broken: slightly higher base rate, plus client retries
    sim.poisson(t0, lambda t: 1 / 15.0 if app.mode == "healthy" else 1 / 10.3, session_call)
    sim.poisson(t0, 1 / 30.0, lambda t: app.user_request(t, session_endpoint=False))
    sim.poisson(t0, 1 / 60.0, app.health_check)
    sim.poisson(t0, 1 / 240.0, app.not_found)
    sim.poisson(t0, 1 / 600.0, app.websocket)
    sim.poisson(t0, 1 / 60.0, app.background)
    scale_out(sim, svc, app, utc_us(2025, 9, 11, 16, 47, 12, 118540), old)
    sim.at(t_switch, lambda t: deploy(sim, svc, app, t, old, new, 639, secrets_ok=False,
                                      boots=(utc_us(2025, 9, 11, 17, 57, 31, 903112),
                                             utc_us(2025, 9, 11, 18, 16, 2, 447120))))
    sim.run(t1)
    return col.sorted(until=t1)


def sample_system_user_auth(seed=909):
    """Seed 002: hard-coded 'system' user has no service credentials; one revision."""
    r, col = Rand(seed), Collector()
    sim, svc = Sim(r), netra_backend(r, col)
    clients = Clients(r)
    rev = "netra-backend-staging-00597-q8d"
    t0, t1 = utc_us(2025, 9, 9, 17, 5, 0), utc_us(2025, 9, 9, 18, 5, 0)
    app = NetraBackend(r, svc, clients, "system_user_broken")
    app.instances = [svc.start_instance(rev, t0 - 5400 * US) for _ in range(2)]
    sim.poisson(t0, 1 / 8.5, lambda t: app.user_request(t, session_endpoint=True))
    sim.poisson(t0, 1 / 16.0, lambda t: app.internal_call(t, fail=True))
    sim.poisson(t0, 1 / 22.0, lambda t: app.user_request(t, session_endpoint=False))
    sim.poisson(t0, 1 / 60.0, app.health_check)
    sim.poisson(t0, 1 / 300.0, app.not_found)
    sim.poisson(t0, 1 / 40.0, app.background)
    # the request quoted in the write-up: req_1757439518278_353_bd254931 at 17:38:38.278
    sim.at(utc_us(2025, 9, 9, 17, 38, 38, 276904), lambda t: app.user_request(
        t, session_endpoint=True, req_id="req_1757439518278_353_bd254931"))
    sim.run(t1)
    return col.sorted(until=t1)


def sample_golden_path_startup(seed=903):
    """Seed 003: 00602-4rk healthy, 00603-9zp fails Golden Path startup validation and
    crash-loops (exit(3)); every request is a 503 from the Cloud Run front end."""
    r, col = Rand(seed), Collector()
    sim, svc = Sim(r), netra_backend(r, col)
    clients = Clients(r)
    old, new = "netra-backend-staging-00602-4rk", "netra-backend-staging-00603-9zp"
    t0, t_switch, t1 = utc_us(2025, 9, 9, 22, 0, 0), utc_us(2025, 9, 9, 23, 6, 41, 207731), utc_us(2025, 9, 10, 0, 0, 0)
    app = NetraBackend(r, svc, clients, "healthy")
    app.instances = [svc.start_instance(old, t0 - 7200 * US) for _ in range(2)]
    sim.poisson(t0, 1 / 11.0, lambda t: app.user_request(t))
    sim.poisson(t0, 1 / 60.0, app.health_check)
    sim.poisson(t0, 1 / 300.0, app.not_found)
    sim.poisson(t0, 1 / 480.0, app.websocket)
    sim.poisson(t0, 1 / 30.0, app.background)
    scale_out(sim, svc, app, utc_us(2025, 9, 9, 22, 31, 44, 502117), old)
    sim.at(t_switch, lambda t: deploy(sim, svc, app, t, old, new, 603, golden="fail",
                                      crash_every=(40 * US, 75 * US), until=t1))
    sim.run(t1)
    return col.sorted(until=t1)


class AuthService:
    """netra-auth-service with its Cloud SQL connection timing out (seed 004)."""

    DB_HOST = "10.107.0.3"

    def __init__(self, r, col):
        self.r = r
        self.svc = CloudRunService(r, col, "netra-staging", "netra-auth-service", "us-central1",
                                   "auth.staging.netrasystems.ai", {"vpc-connectivity": "enabled"}, port=8080)
        self.rev = "netra-auth-service-00291-m2x"
        self.instances = []
        self.clients = Clients(r, 40)

    def psycopg_timeout(self):
        return ('connection to server at "%s", port 5432 failed: Connection timed out\n'
                '\tIs the server running on that host and accepting TCP/IP connections?\n' % self.DB_HOST)

    def validate(self, t):
        r, svc = self.r, self.svc
        inst = r.choice(self.instances)
        trace_id, span = r.trace_id(), r.span_id()
        uid = r.uuid4()
        caller_backend = r.random() < 0.7
        ua, ip = (HTTPX_UA, "34.96.%d.%d" % (r.randint(40, 47), r.randint(1, 254))) if caller_backend else \
            (r.choice(BROWSER_UAS), r.choice(self.clients.users)[1])
        svc.app_log(inst, t + r.randint(900, 4000), "INFO", "JWT signature valid for sub=%s; loading user record" % uid,
                    {"user_id": uid, "token_type": "access"}, trace_id=trace_id, span_id=span, logger="auth_service")
        wait = r.randint(5_000_000, 10_050_000)
        svc.app_log(inst, t + wait, "ERROR", "Failed to connect to database: " + self.psycopg_timeout(),
                    {"error_type": "OperationalError", "db_host": self.DB_HOST, "db_port": 5432,
                     "operation": "get_user_by_id", "user_id": uid}, trace_id=trace_id, span_id=span)
        svc.app_log(inst, t + wait + r.randint(400, 3000), "WARNING", TOKEN_INVALID,
                    {"valid": False, "error": "Invalid token or user not found", "user_id": uid,
                     "endpoint": "/auth/validate-token-and-get-user"}, trace_id=trace_id, span_id=span)
        svc.request_log(inst, t, "POST", "/auth/validate-token-and-get-user", 200, wait + r.randint(4000, 20000),
                        ua, ip, trace_id, span, req_size=r.randint(900, 1300), resp_size=r.randint(68, 72))

    def health(self, t):
        r, svc = self.r, self.svc
        inst = r.choice(self.instances)
        trace_id, span = r.trace_id(), r.span_id()
        lat = r.randint(2_000_000, 3_100_000)  # connectivity_test uses a 2 s timeout
        svc.app_log(inst, t + lat - r.randint(2000, 9000), "WARNING", "Auth service health check: unhealthy", {
            "status": "unhealthy", "service": "auth-service", "version": "1.0.0", "environment": "staging",
            "database_status": "error", "database_details": {"connectivity_test": "failed", "initialized": True},
            "redis_status": "healthy"}, trace_id=trace_id, span_id=span)
        svc.request_log(inst, t, "GET", "/auth/health", 200, lat, UPTIME_UA, r.choice(self.clients.uptime_ips),
                        trace_id, span, req_size=r.randint(180, 220), resp_size=r.randint(210, 216))

    def pool_probe(self, t):
        """asyncpg pool keepalive from the background task."""
        r, svc = self.r, self.svc
        inst = r.choice(self.instances)
        svc.app_log(inst, t, "WARNING", "Database connectivity test failed: TimeoutError (asyncpg connect to %s:5432 "
                    "exceeded 2.0s)" % self.DB_HOST, {"error_type": "TimeoutError", "attempt": r.randint(1, 3),
                                                     "pool": "asyncpg"})

    def other(self, t):
        r, svc = self.r, self.svc
        inst = r.choice(self.instances)
        method, path, status, med, size = r.choice([
            ("GET", "/auth/config", 200, 8, r.randint(900, 1400)),
            ("GET", "/auth/login?provider=google", 302, 15, r.randint(380, 420)),
            ("GET", "/auth/callback?code=4%2F0A" + r.b36(20) + "&state=" + r.hex(16), 302, 240, r.randint(400, 460)),
            ("OPTIONS", "/auth/validate-token-and-get-user", 200, 2, 0),
            ("GET", "/favicon.ico", 404, 2, 22)])
        trace_id, span = r.trace_id(), r.span_id()
        if status == 302 and "callback" in path:
            svc.app_log(inst, t + 200_000, "INFO", "OAuth callback completed for provider=google; issuing tokens",
                        {"provider": "google"}, trace_id=trace_id, span_id=span)
        elif r.random() < 0.4:
            msg, module, _ = background_message(r)
            svc.app_log(inst, t + 2000, "INFO", msg, trace_id=trace_id, span_id=span)
        uid, ip, ua = r.choice(self.clients.users)
        if method == "OPTIONS" or "callback" in path or "login" in path:
            ua = r.choice(BROWSER_UAS)  # CORS preflights and OAuth redirects come from browsers
        svc.request_log(inst, t, method, path, status, int(r.lognormal_ms(med, 0.5) * 1000), ua, ip, trace_id, span,
                        req_size=r.randint(300, 700), resp_size=size)

    def background(self, t):
        msg, module, _ = background_message(self.r)
        self.svc.app_log(self.r.choice(self.instances), t, "INFO", msg)


def sample_auth_db_connectivity(seed=404):
    r, col = Rand(seed), Collector()
    sim = Sim(r)
    a = AuthService(r, col)
    t0, t1 = utc_us(2025, 9, 13, 14, 0, 0), utc_us(2025, 9, 13, 15, 0, 0)
    a.instances = [a.svc.start_instance(a.rev, t0 - 7200 * US) for _ in range(2)]
    sim.poisson(t0, 1 / 10.5, a.validate)
    sim.poisson(t0, 1 / 30.0, a.health)
    sim.poisson(t0, 1 / 45.0, a.pool_probe)
    sim.poisson(t0, 1 / 25.0, a.other)
    sim.poisson(t0, 1 / 30.0, a.background)
    sim.run(t1)
    return col.sorted(until=t1)


def sample_healthy(seed=588):
    """Healthy baseline: two revisions, a deploy in between, no change in failure rate."""
    r, col = Rand(seed), Collector()
    sim, svc = Sim(r), netra_backend(r, col)
    clients = Clients(r)
    old, new = "netra-backend-staging-00588-t6n", "netra-backend-staging-00589-bq4"
    t0, t_switch, t1 = utc_us(2025, 9, 8, 14, 0, 0), utc_us(2025, 9, 8, 15, 16, 52, 90114), utc_us(2025, 9, 8, 16, 30, 0)
    app = NetraBackend(r, svc, clients, "healthy")
    app.instances = [svc.start_instance(old, t0 - 4000 * US) for _ in range(2)]
    sim.poisson(t0, 1 / 12.0, lambda t: app.user_request(t))
    sim.poisson(t0, 1 / 60.0, app.health_check)
    sim.poisson(t0, 1 / 150.0, app.not_found)
    sim.poisson(t0, 1 / 400.0, app.websocket)
    sim.poisson(t0, 1 / 14.0, lambda t: app.background(t, warn_p=0.08))
    scale_out(sim, svc, app, utc_us(2025, 9, 8, 14, 41, 3, 771002), old)
    sim.at(t_switch, lambda t: deploy(sim, svc, app, t, old, new, 589,
                                      boots=(utc_us(2025, 9, 8, 15, 58, 40, 12877),)))
    # isolated: one 500 per revision, three 403s from one ordinary user
    sim.at(utc_us(2025, 9, 8, 14, 52, 7, 441900), lambda t: app.user_request(t, session_endpoint=True, forced=500))
    sim.at(utc_us(2025, 9, 8, 16, 9, 55, 120033), lambda t: app.user_request(t, session_endpoint=True, forced=500))
    nosy = clients.users[7]
    for hh, mm, ss in ((14, 22, 10), (15, 40, 31), (16, 18, 2)):
        sim.at(utc_us(2025, 9, 8, hh, mm, ss, 500321), lambda t: app.user_request(t, user=nosy, session_endpoint=True,
                                                                                  forced=403))
    sim.run(t1)
    return col.sorted(until=t1)


# ----------------------------------------------------------------------------------------
# writers
# ----------------------------------------------------------------------------------------

_SHARED = {}        # id -> dict that many entries reference and nobody mutates (kept alive here)
_PRETTY_MEMO = {}


def shared(d):
    """Mark a dict as shared and immutable so pretty() can reuse its rendering."""
    _SHARED[id(d)] = d
    return d


def pretty(o, ind="\n"):
    """json.dumps(o, indent=2, sort_keys=True, ensure_ascii=False), ~3x faster (bench path)."""
    t = type(o)
    if t is str:
        return _enc_str(o)
    if t is dict:
        if not o:
            return "{}"
        if id(o) in _SHARED:
            key = (id(o), ind)
            text = _PRETTY_MEMO.get(key)
            if text is None:
                ni = ind + "  "
                text = _PRETTY_MEMO[key] = "{" + ",".join(
                    [ni + _enc_str(k) + ": " + pretty(o[k], ni) for k in sorted(o)]) + ind + "}"
            return text
        ni = ind + "  "
        return "{" + ",".join([ni + _enc_str(k) + ": " + pretty(o[k], ni) for k in sorted(o)]) + ind + "}"
    if t is list:
        if not o:
            return "[]"
        ni = ind + "  "
        return "[" + ",".join([ni + pretty(v, ni) for v in o]) + ind + "]"
    if o is True:
        return "true"
    if o is False:
        return "false"
    if o is None:
        return "null"
    return json.dumps(o)


shared(HANDLER_LABELS)


_compact_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def compact(e):
    return _compact_encode(e)


def gcloud_json(entries_oldest_first):
    """`gcloud logging read --format=json`: newest first, sorted keys, 2-space indent."""
    return json.dumps(entries_oldest_first[::-1], indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def explorer_order(entries, seed):
    """Logs Explorer / sink key order: API order, but map fields come out in arbitrary order."""
    r = Rand(seed)
    out = []
    for e in entries:
        e = dict(e)
        res = e.get("resource")
        if res and res.get("labels"):
            items = list(res["labels"].items())
            r.shuffle(items)
            e["resource"] = {"type": res["type"], "labels": dict(items)}
        if e.get("labels"):
            items = list(e["labels"].items())
            r.shuffle(items)
            e["labels"] = dict(items)
        out.append(e)
    return out


def ndjson(entries):
    return "".join(compact(e) + "\n" for e in entries)


def write_bytes(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def gz(data, level=6):
    """Deterministic gzip member (mtime 0, no file name)."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=level, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def log_id(e):
    from urllib.parse import unquote
    return unquote(e["logName"].split("/logs/", 1)[1])


def entry_time_str(e):
    return e.get("timestamp") or e.get("receiveTimestamp")


def utc_hour_of(e):
    """(Y, M, D, H) in UTC of the entry's timestamp (offsets normalised)."""
    s = entry_time_str(e)
    base = s[:19]
    tt = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    tail = s[19:]
    if tail and tail[-1] != "Z":
        sign = 1 if tail[-6] == "+" else -1
        tt -= sign * (int(tail[-5:-3]) * 3600 + int(tail[-2:]) * 60)
    g = time.gmtime(tt)
    return g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour


def sink_file(e, shard="S0"):
    y, m, d, h = utc_hour_of(e)
    return "%s/%04d/%02d/%02d/%02d:00:00_%02d:59:59_%s.json" % (log_id(e), y, m, d, h, h, shard)


def write_sink(root, entries, gzip_files=(), split_shards=(), batch=40):
    """Cloud Storage sink layout: <log id>/YYYY/MM/DD/HH:00:00_HH:59:59_S<n>.json.

    Files listed in split_shards get their entries dealt out to S0/S1 in batches (the
    shards overlap in time, as parallel sink writers do). gzip_files are written .json.gz."""
    files = {}
    for e in entries:
        files.setdefault(sink_file(e), []).append(e)
    written = []
    for rel, es in sorted(files.items()):
        parts = {rel: es}
        if rel in split_shards:
            s1 = rel.replace("_S0.json", "_S1.json")
            parts = {rel: [], s1: []}
            for i in range(0, len(es), batch):
                parts[rel if (i // batch) % 2 == 0 else s1].extend(es[i:i + batch])
        for prel, pes in parts.items():
            data = ndjson(pes).encode("utf-8")
            if prel in gzip_files:
                prel, data = prel + ".gz", gz(data)
            write_bytes(os.path.join(root, prel), data)
            written.append((prel, len(pes)))
    return written


# ----------------------------------------------------------------------------------------
# facts (what a correct analysis must find) -> printed and written to samples/README.md
# ----------------------------------------------------------------------------------------

def message(e):
    jp = e.get("jsonPayload")
    if jp and "message" in jp:
        return jp["message"]
    return e.get("textPayload", "")


SIGNATURES = [
    ("CRITICAL_AUTH_FAILURE", lambda e, m: m == CRITICAL_AUTH_FAILURE),
    ("SERVICE USER SESSION created", lambda e, m: m == SERVICE_USER_SESSION),
    ("SERVICE_SECRET not configured", lambda e, m: m == SERVICE_SECRET_MISSING),
    ("JWT_SECRET_KEY not configured", lambda e, m: m == JWT_SECRET_MISSING),
    ("SYSTEM_USER_AUTH_FAILURE", lambda e, m: m == SYSTEM_USER_AUTH_FAILURE),
    ("SYSTEM USER SESSION created", lambda e, m: m == SYSTEM_USER_SESSION),
    ("missing X-Service-ID/X-Service-Secret", lambda e, m: m == SERVICE_HEADERS_MISSING),
    ("CRITICAL user_authentication_ready", lambda e, m: m == GP_USER_TABLES),
    ("CRITICAL jwt_validation_ready", lambda e, m: m == GP_JWT),
    ("GOLDEN PATH AT RISK", lambda e, m: m == GP_AT_RISK),
    ("Golden path validation failed", lambda e, m: m == GP_FAILED),
    ("Database session factory not available", lambda e, m: m == DB_FACTORY_MISSING),
    ("Key manager not available for JWT operations", lambda e, m: m == KEY_MANAGER_MISSING),
    ("Worker failed to boot", lambda e, m: m.endswith("[ERROR] Reason: Worker failed to boot.")),
    ("Container called exit(3)", lambda e, m: m == "Container called exit(3)."),
    ("Token validation failed", lambda e, m: m == TOKEN_INVALID),
    ("Failed to connect to database (timeout)", lambda e, m: m.startswith("Failed to connect to database: connection to server at")),
    ("health unhealthy (database_status=error)", lambda e, m: (e.get("jsonPayload") or {}).get("database_status") == "error"),
    ("asyncpg connectivity test failed", lambda e, m: m.startswith("Database connectivity test failed")),
    ("Access denied (ordinary user)", lambda e, m: m.startswith("Access denied: user ")),
    ("Unhandled exception", lambda e, m: m.startswith("Unhandled exception in ")),
]


def facts(entries):
    f = {"entries": len(entries), "severity": {}, "revisions": [], "requests": {}, "signatures": {},
         "deploys": [], "first": entry_time_str(entries[0]), "last": entry_time_str(entries[-1])}
    rev_seen = {}
    for e in entries:
        sev = e.get("severity", "(none)")
        f["severity"][sev] = f["severity"].get(sev, 0) + 1
        rev = e["resource"].get("labels", {}).get("revision_name")
        if "protoPayload" in e:
            p = e["protoPayload"]
            new = p.get("request", {}).get("service", {}).get("spec", {}).get("template", {}).get("metadata", {}).get("name")
            f["deploys"].append({"timestamp": e["timestamp"], "method": p["methodName"], "new_revision": new})
            continue
        if rev:
            info = rev_seen.setdefault(rev, {"revision": rev, "entries": 0, "first": e["timestamp"]})
            info["entries"] += 1
            info["last"] = e["timestamp"]
        if "httpRequest" in e:
            st = e["httpRequest"]["status"]
            key = "%s %d" % (rev, st) if rev else str(st)
            f["requests"][key] = f["requests"].get(key, 0) + 1
        m = message(e)
        for name, pred in SIGNATURES:
            if pred(e, m):
                d = f["signatures"].setdefault(name, {})
                d[rev] = d.get(rev, 0) + 1
    f["revisions"] = sorted(rev_seen.values(), key=lambda x: x["first"])
    templates = set()
    for e in entries:
        m = message(e)
        templates.add(_shape(m))
    f["distinct_message_shapes"] = len(templates)
    return f


def _shape(m):
    """Message with ids/numbers masked: a rough count of distinct templates."""
    out = []
    for tok in m.split(" "):
        if any(ch.isdigit() for ch in tok):
            tok = "#"
        out.append(tok)
    return " ".join(out)


def sig_total(f, name):
    return sum(f["signatures"].get(name, {}).values())


def status_total(f, pred):
    return sum(n for k, n in f["requests"].items() if pred(int(k.split()[-1])))


def print_facts(name, f):
    print("== %s: %d entries, %s .. %s" % (name, f["entries"], f["first"], f["last"]))
    print("   severity: %s" % ", ".join("%s %d" % kv for kv in sorted(f["severity"].items())))
    for rv in f["revisions"]:
        print("   revision %s: %d entries, %s .. %s" % (rv["revision"], rv["entries"], rv["first"], rv["last"]))
    for d in f["deploys"]:
        print("   deploy %s %s -> %s" % (d["timestamp"], d["method"], d["new_revision"]))
    print("   requests: %s" % ", ".join("%s=%d" % kv for kv in sorted(f["requests"].items())))
    for sig, per in f["signatures"].items():
        print("   %-45s %5d  %s" % (sig, sum(per.values()), ", ".join("%s:%d" % (k, v) for k, v in per.items())))
    print("   distinct message shapes: %d" % f["distinct_message_shapes"])


def short_rev(rev):
    return rev.rsplit("-", 2)[-2] + "-" + rev.rsplit("-", 1)[-1] if rev else rev


# ----------------------------------------------------------------------------------------
# sample files
# ----------------------------------------------------------------------------------------

def build_samples():
    results = []

    es = sample_service_auth_regression()
    check_unique(es, "service-auth-regression")
    write_text(os.path.join(SAMPLES, "service-auth-regression.json"), gcloud_json(es))
    results.append(("service-auth-regression.json", "gcloud `--format=json` array (newest first)", es))

    es = sample_system_user_auth()
    check_unique(es, "system-user-auth")
    write_text(os.path.join(SAMPLES, "system-user-auth.ndjson"), ndjson(explorer_order(es, 2)))
    results.append(("system-user-auth.ndjson", "NDJSON, Logs Explorer key order, oldest first", es))

    es = sample_golden_path_startup()
    check_unique(es, "golden-path-startup")
    root = os.path.join(SAMPLES, "golden-path-startup")
    if os.path.isdir(root):
        shutil.rmtree(root)
    shards = write_sink(root, explorer_order(es, 3),
                        gzip_files={"run.googleapis.com/stderr/2025/09/09/23:00:00_23:59:59_S0.json"},
                        split_shards={"run.googleapis.com/requests/2025/09/09/23:00:00_23:59:59_S0.json"})
    results.append(("golden-path-startup/", "Cloud Storage sink folder (%d shard files, one .json.gz)" % len(shards), es))

    es = sample_auth_db_connectivity()
    check_unique(es, "auth-db-connectivity")
    write_bytes(os.path.join(SAMPLES, "auth-db-connectivity.ndjson.gz"), gz(ndjson(explorer_order(es, 4)).encode("utf-8")))
    results.append(("auth-db-connectivity.ndjson.gz", "gzip NDJSON, oldest first", es))

    es = sample_healthy()
    check_unique(es, "healthy")
    write_text(os.path.join(SAMPLES, "healthy.ndjson"), ndjson(explorer_order(es, 5)))
    results.append(("healthy.ndjson", "NDJSON, oldest first", es))

    rows = []
    for fname, fmt, es in results:
        f = facts(es)
        print_facts(fname, f)
        rows.append((fname, fmt, f))
    write_text(os.path.join(SAMPLES, "README.md"), readme(rows))
    return rows


def check_unique(entries, name):
    seen = set()
    for e in entries:
        k = (e["logName"], e["insertId"])
        if k in seen:
            raise SystemExit("%s: duplicate insertId %s" % (name, e["insertId"]))
        seen.add(k)


def readme(rows):
    by = {name: f for name, _, f in rows}
    fmt = {name: fm for name, fm, _ in rows}

    def n(f, sig):
        return sig_total(f, sig)

    def st(f, code):
        return status_total(f, lambda s: s == code)

    def s5(f):
        return status_total(f, lambda s: s >= 500)

    def revs(f):
        return " → ".join("`%s`" % r["revision"] for r in f["revisions"])

    def switch(f):
        return f["deploys"][0]["timestamp"] if f["deploys"] else "none"

    a, b, c = by["service-auth-regression.json"], by["system-user-auth.ndjson"], by["golden-path-startup/"]
    d, e = by["auth-db-connectivity.ndjson.gz"], by["healthy.ndjson"]
    new_a = a["revisions"][-1]["revision"]
    lines = [
        "# Samples",
        "",
        "Generated by `python3 samples/generate.py` (deterministic; do not hand-edit — this file is rewritten too).",
        "Service `netra-backend-staging` / `netra-auth-service`, project `netra-staging`, region `us-central1`.",
        "Counts are exact (computed from the generated entries). \"first bad\" = revision whose logs carry the failure.",
        "",
        "| file | format | incident (seed) | revisions | expected facts |",
        "|---|---|---|---|---|",
        "| `service-auth-regression.json` | %s, %d entries | deploy drops SERVICE_SECRET / JWT_SECRET_KEY → service user 403s (000, 001) | %s | ReplaceService audit at %s. `CRITICAL_AUTH_FAILURE` **%d** (all on `%s`, 0 before), 403 request logs **%d** (same traces), `SERVICE_SECRET not configured` %d + `JWT_SECRET_KEY not configured` %d (one each per instance start of the new revision), `SERVICE USER SESSION: Created session…` %d (all on the old revision). Last good `%s`, first bad `%s`. 5xx: %d |"
        % (fmt["service-auth-regression.json"], a["entries"], revs(a), switch(a), n(a, "CRITICAL_AUTH_FAILURE"), short_rev(new_a),
           st(a, 403), n(a, "SERVICE_SECRET not configured"), n(a, "JWT_SECRET_KEY not configured"),
           n(a, "SERVICE USER SESSION created"), short_rev(a["revisions"][0]["revision"]), short_rev(new_a), s5(a)),
        "| `system-user-auth.ndjson` | %s, %d entries | hard-coded `system` user lacks service credentials (002) | %s (no deploy) | `SYSTEM_USER_AUTH_FAILURE` **%d**, each preceded by `SYSTEM USER SESSION: Created session for user_id='system'` (%d) and paired with a 403 request log (%d 403s); `%s` **%d** with **%d** 401 request logs (`/api/internal/*`). Includes `req_1757439518278_353_bd254931`. Last good / first bad: none (failing for the whole window). 5xx: %d |"
        % (fmt["system-user-auth.ndjson"], b["entries"], revs(b), n(b, "SYSTEM_USER_AUTH_FAILURE"), n(b, "SYSTEM USER SESSION created"),
           st(b, 403), SERVICE_HEADERS_MISSING, n(b, "missing X-Service-ID/X-Service-Secret"), st(b, 401), s5(b)),
        "| `golden-path-startup/` | %s, %d entries | Golden Path startup validation fails → crash loop (003) | %s | ReplaceService audit at %s. Per failed boot of the new revision: `❌ CRITICAL: user_authentication_ready…` %d, `❌ CRITICAL: jwt_validation_ready…` %d, `💸 GOLDEN PATH AT RISK…` %d, `%s` %d, `%s` %d, `%s` %d, `Worker failed to boot` %d, `Container called exit(3).` %d. 503 request logs **%d** (all after the switch, 0 before). Last good `%s`, first bad `%s` |"
        % (fmt["golden-path-startup/"], c["entries"], revs(c), switch(c), n(c, "CRITICAL user_authentication_ready"),
           n(c, "CRITICAL jwt_validation_ready"), n(c, "GOLDEN PATH AT RISK"), GP_FAILED, n(c, "Golden path validation failed"),
           DB_FACTORY_MISSING, n(c, "Database session factory not available"), KEY_MANAGER_MISSING,
           n(c, "Key manager not available for JWT operations"), n(c, "Worker failed to boot"), n(c, "Container called exit(3)"),
           s5(c), short_rev(c["revisions"][0]["revision"]), short_rev(c["revisions"][-1]["revision"])),
        "| `auth-db-connectivity.ndjson.gz` | %s, %d entries | auth service cannot reach Cloud SQL; errors hide behind HTTP 200 (004) | %s (no deploy) | `POST /auth/validate-token-and-get-user` 200 with `Token validation failed: Invalid token or user not found` (`valid: false`) **%d**; `Failed to connect to database: connection to server at \"10.107.0.3\", port 5432 failed: Connection timed out…` **%d**; `GET /auth/health` 200 with `status: unhealthy`, `database_status: error` **%d**; asyncpg `Database connectivity test failed` %d. 5xx: %d. Last good / first bad: none |"
        % (fmt["auth-db-connectivity.ndjson.gz"], d["entries"], revs(d), n(d, "Token validation failed"),
           n(d, "Failed to connect to database (timeout)"), n(d, "health unhealthy (database_status=error)"),
           n(d, "asyncpg connectivity test failed"), s5(d)),
        "| `healthy.ndjson` | %s, %d entries | none — must not raise an incident | %s | deploy at %s with no change in error rate. 5xx: %d (isolated, one per revision), 403: %d (one ordinary user, hours apart), 404: %d, WARNING entries: %d, %d distinct message shapes. Zero entries match an incident signature of the rows above. Last good / first bad: none |"
        % (fmt["healthy.ndjson"], e["entries"], revs(e), switch(e), s5(e), st(e, 403), st(e, 404),
           e["severity"].get("WARNING", 0), e["distinct_message_shapes"]),
        "",
        "Traps on purpose: healthy boots print `WebSocket SSOT loaded - CRITICAL SECURITY MIGRATION…` at INFO;",
        "stdout entries carry a nested `error: {severity: \"ERROR\", message: \"Missing field\"}` at INFO (as the real",
        "netra logs do); gunicorn lines on stderr have no severity; the audit entry's `resource.labels.revision_name`",
        "is empty (real ReplaceService shape) — the new revision is `protoPayload.request.service.spec.template.metadata.name`.",
        "",
        "Benchmark input: `python3 samples/generate.py bench --size-mb N --out DIR` (same entry kinds, incident at",
        "the revision switch half way through; prints its own counts).",
        "",
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# gcloud's default YAML output (PyYAML-style block YAML, keys sorted, width 80)
# ----------------------------------------------------------------------------------------

import re  # noqa: E402

_YAML_IMPLICIT = [
    re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$"),
    re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    re.compile(r"^(?:~|null|Null|NULL|)$"),
    re.compile(r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$"),
    re.compile(r"^(?:<<|=)$"),
]


def _yaml_plain_ok(s):
    if not s or s[0] in " \t" or s[-1] in " \t":
        return False
    if s[0] in "#,[]{}&*!|>'\"%@`":
        return False
    if s[0] in "-?:" and (len(s) == 1 or s[1] == " "):
        return False
    if ": " in s or " #" in s or s.endswith(":") or "\n" in s or "\t" in s:
        return False
    return not any(rx.match(s) for rx in _YAML_IMPLICIT)


def _yaml_fold(prefix_col, words, indent, width=80):
    """PyYAML's folding: a single space becomes a line break once the column passed `width`."""
    out, col = [], prefix_col
    for i, w in enumerate(words):
        if i:
            if col > width and w != "":
                out.append("\n" + " " * indent)
                col = indent
            else:
                out.append(" ")
                col += 1
        out.append(w)
        col += len(w)
    return "".join(out)


def _yaml_scalar(v, col, indent):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    if _yaml_plain_ok(v):
        return _yaml_fold(col, v.split(" "), indent)
    return "'" + _yaml_fold(col + 1, v.replace("'", "''").split(" "), indent) + "'"


def to_yaml_doc(d, indent=0):
    lines = []
    for k in sorted(d):
        v = d[k]
        key = k if _yaml_plain_ok(k) else "'" + k.replace("'", "''") + "'"
        head = " " * indent + key + ":"
        if isinstance(v, dict):
            if v:
                lines.append(head)
                lines.append(to_yaml_doc(v, indent + 2))
            else:
                lines.append(head + " {}")
        elif isinstance(v, list):
            raise ValueError("lists are not needed in the YAML fixture")
        else:
            lines.append(head + " " + _yaml_scalar(v, len(head) + 1, indent + 2))
    return "\n".join(lines)


def gcloud_yaml(entries_oldest_first):
    return "".join("---\n" + to_yaml_doc(e) + "\n" for e in entries_oldest_first[::-1])


# ----------------------------------------------------------------------------------------
# test fixtures
# ----------------------------------------------------------------------------------------

def kinds_entries():
    """One entry of each shape the tool must read; returns (entries oldest first, expected)."""
    r = Rand(77)
    got = []
    svc = CloudRunService(r, lambda t, e: None, "netra-staging", "netra-backend-staging", "us-central1",
                          "api.staging.netrasystems.ai", NETRA_LABELS)
    inst = svc.start_instance("netra-backend-staging-00639-g4g", 0)
    P = "netra-staging"

    # Cloud Run admin audit (deploy)
    got.append(svc.audit_replace_service(utc_us(2025, 9, 11, 17, 38, 4, 318227), "netra-backend-staging-00639-g4g",
                                         "netra-backend-staging-00611-cr5", DEPLOYER, 639,
                                         "gcr.io/netra-staging/netra-backend-staging:staging-20250911-173454",
                                         ["ENVIRONMENT", "SERVICE_ID", "POSTGRES_HOST"], {}))
    # stdout textPayload (no severity, as Cloud Run writes plain prints)
    got.append(svc.text_log(inst, utc_us(2025, 9, 11, 17, 38, 13, 4211),
                            "Backend Service: Running in staging - skipping .env file loading (using GSM)", "stdout"))
    # stderr textPayload without severity (gunicorn)
    got.append(svc.gunicorn(inst, utc_us(2025, 9, 11, 17, 38, 13, 90877), "INFO", "Starting gunicorn 23.0.0"))
    # request log + the app log of the same request (shared trace)
    t = utc_us(2025, 9, 11, 17, 41, 22, 105334)
    trace_id, span = r.trace_id(), r.span_id()
    got.append(svc.request_log(inst, t, "POST", "/api/agent/run_agent", 403, 41_210, BROWSER_UAS[0], "73.92.14.201",
                               trace_id, span, req_size=1180, resp_size=30,
                               referer="https://app.staging.netrasystems.ai/", sampled=True))
    got.append(svc.app_log(inst, t + 1816, "ERROR", CRITICAL_AUTH_FAILURE, {
        "user_id": "service:netra-backend", "operation": "create_request_scoped_db_session",
        "auth_failure_stage": "session_factory_call", "likely_cause": "authentication_middleware_blocked_service_user",
        "user_type": "regular", "is_service_call": False}, trace_id=trace_id, span_id=span, sampled=True))
    # entry written through the API by a tool: offset timestamp, no fraction
    got.append(log_entry(insert_id="1a2b3c4d5e6f7", payload={"message": "Deploy pipeline finished for netra-backend-staging",
                                                             "pipeline": "deploy-staging", "status": "SUCCESS"},
                         resource={"type": "global", "labels": {"project_id": P}},
                         timestamp_str="2025-09-11T19:44:05+02:00", severity="NOTICE",
                         log_name="projects/%s/logs/netra-deploy-bot" % P,
                         recv_ns=utc_us(2025, 9, 11, 17, 44, 5, 412553) * 1000 + 118))
    # Cloud Run job (stdout, execution labels, no severity) — resource cloud_run_job
    t = utc_us(2025, 9, 11, 16, 5, 0, 612003)
    got.append(log_entry(text="Migrated 3 tables (auth.user_sessions, public.threads, public.messages) in 2.41s",
                         insert_id=r.run_insert_id(t),
                         resource={"type": "cloud_run_job", "labels": {"job_name": "netra-migrations-staging",
                                                                       "location": "us-central1", "project_id": P}},
                         ts_us=t, labels={"instanceId": "00ca3695d2" + r.hex(118),
                                          "run.googleapis.com/execution_name": "netra-migrations-staging-x7kq2",
                                          "run.googleapis.com/task_attempt": "0", "run.googleapis.com/task_index": "0"},
                         log_name="projects/%s/logs/run.googleapis.com%%2Fstdout" % P,
                         recv_ns=t * 1000 + 5_247_166))
    # GKE k8s_container
    t_ns = utc_us(2025, 9, 11, 16, 12, 44, 315692) * 1000 + 671
    got.append(log_entry(text='10.8.2.17 - - [11/Sep/2025:16:12:44 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.32"',
                         insert_id=r.b36(16),
                         resource={"type": "k8s_container", "labels": {
                             "project_id": P, "location": "us-central1", "cluster_name": "netra-staging-gke",
                             "namespace_name": "ingress", "pod_name": "edge-proxy-6f7d9c8b55-q2x7k",
                             "container_name": "nginx"}},
                         timestamp_str=rfc3339_ns(t_ns), severity="INFO",
                         labels={"k8s-pod/app": "edge-proxy", "k8s-pod/pod-template-hash": "6f7d9c8b55",
                                 "compute.googleapis.com/resource_name": "gke-netra-staging-gke-default-pool-3c1e9a7f-h2kd",
                                 "logging.gke.io/top_level_controller_type": "Deployment",
                                 "logging.gke.io/top_level_controller_name": "edge-proxy"},
                         log_name="projects/%s/logs/stdout" % P, recv_ns=t_ns + 4_450_675_552))
    # App Engine request_log (protoPayload RequestLog with app log lines)
    t = utc_us(2025, 9, 11, 15, 59, 51, 374622)
    req_id = r.hex(64) + "00"
    got.append(log_entry(
        proto={"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog", "appId": "s~" + P,
               "versionId": "20250911t154210", "requestId": req_id, "ip": "73.92.14.201",
               "startTime": ts(t), "endTime": ts(t + 404_415), "latency": "0.404415s", "megaCycles": "196",
               "method": "GET", "resource": "/status", "httpVersion": "HTTP/1.1", "status": 200, "responseSize": "117",
               "userAgent": BROWSER_UAS[1], "urlMapEntry": "auto", "host": "status-dot-%s.uc.r.appspot.com" % P,
               "cost": 9.957699999999999e-8, "instanceIndex": -1, "finished": True, "first": True,
               "instanceId": "00c61b117c" + r.hex(60), "appEngineRelease": "1.9.71", "traceId": r.trace_id(),
               "line": [{"time": ts(t + 120_001), "severity": "INFO", "logMessage": "status page rendered in 12 ms",
                         "sourceLocation": {"file": "/workspace/main.py", "line": "41", "functionName": "status"}}]},
        insert_id=r.run_insert_id(t), http={"status": 200},
        resource={"type": "gae_app", "labels": {"project_id": P, "module_id": "status",
                                                "version_id": "20250911t154210", "zone": "us14"}},
        ts_us=t, severity="INFO", labels={"clone_id": "00c61b117c" + r.hex(60)},
        log_name="projects/%s/logs/appengine.googleapis.com%%2Frequest_log" % P,
        operation={"id": req_id, "producer": "appengine.googleapis.com/request_id", "first": True, "last": True},
        recv_ns=t * 1000 + 612_000_551))
    # Cloud Functions (gen1) — resource cloud_function
    t = utc_us(2025, 9, 11, 18, 2, 10, 5000)
    got.append(log_entry(text="Function execution took 231 ms, finished with status: 'ok'",
                         insert_id="000000-" + r.uuid4(),
                         resource={"type": "cloud_function", "labels": {"function_name": "netra-usage-rollup",
                                                                        "project_id": P, "region": "us-central1"}},
                         ts_us=t, severity="DEBUG", labels={"execution_id": r.b36(12)},
                         log_name="projects/%s/logs/cloudfunctions.googleapis.com%%2Fcloud-functions" % P,
                         trace="projects/%s/traces/%s" % (P, r.trace_id()), recv_ns=t * 1000 + 187_552_913))
    # severity as a number (API enum value 500 = ERROR)
    e = svc.app_log(inst, utc_us(2025, 9, 11, 18, 3, 40, 771250), "ERROR", SERVICE_SECRET_MISSING)
    e["severity"] = 500
    got.append(e)
    # only receiveTimestamp (no timestamp)
    e = svc.text_log(inst, utc_us(2025, 9, 11, 18, 4, 1, 220150),
                     "Backend Service: Running in staging - skipping .env file loading (using GSM)", "stdout")
    del e["timestamp"]
    got.append(e)
    # split entry pair (LogSplit; proto3 JSON omits index 0)
    t = utc_us(2025, 9, 11, 18, 5, 12, 660031)
    uid = r.hex(24)
    for i, part in enumerate((GOLDEN_PATH_TRACEBACK[:420], GOLDEN_PATH_TRACEBACK[420:])):
        e = svc.text_log(inst, t, part, severity="ERROR")
        e["split"] = {"uid": uid, "totalSplits": 2} if i == 0 else {"uid": uid, "index": 1, "totalSplits": 2}
        got.append(e)
    # order oldest first (entry without timestamp sorts by receiveTimestamp)
    got.sort(key=lambda e: _utc_sort_key(entry_time_str(e)))
    dup = json.loads(json.dumps(got[[i for i, e in enumerate(got) if e["logName"].endswith("%2Frequests")][0]]))
    got.append(dup)  # the same request log again, as when two exports overlap
    expected = {"records": len(got) - 1, "duplicates": 1, "split_parts_extra": 1, "no_timestamp": 1}
    return got, expected


def _utc_sort_key(s):
    base = s[:19]
    tt = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
    tail = s[19:]
    frac = 0
    if tail.startswith("."):
        digits = ""
        for ch in tail[1:]:
            if not ch.isdigit():
                break
            digits += ch
        frac = int((digits + "000000000")[:9])
        tail = tail[1 + len(digits):]
    if tail and tail != "Z":
        sign = 1 if tail[0] == "+" else -1
        tt -= sign * (int(tail[1:3]) * 3600 + int(tail[4:6]) * 60)
    return tt * 1_000_000_000 + frac


def build_fixtures():
    F = FIXTURES
    os.makedirs(F, exist_ok=True)
    entries, expected = kinds_entries()
    lines = [compact(e) for e in entries]
    nd = "".join(l + "\n" for l in lines)
    write_text(os.path.join(F, "kinds.ndjson"), nd)
    write_text(os.path.join(F, "kinds.expected.json"), json.dumps(expected, indent=2) + "\n")
    newest_first = sorted(entries, key=lambda e: _utc_sort_key(entry_time_str(e)), reverse=True)
    write_text(os.path.join(F, "kinds.gcloud.json"),
               json.dumps(newest_first, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    write_text(os.path.join(F, "kinds.compact.json"), json.dumps(entries, ensure_ascii=False, separators=(",", ":")))
    write_bytes(os.path.join(F, "kinds.ndjson.gz"), gz(nd.encode("utf-8")))
    half = len(lines) // 2
    write_bytes(os.path.join(F, "kinds.multi.ndjson.gz"),
                gz("".join(l + "\n" for l in lines[:half]).encode("utf-8")) +
                gz("".join(l + "\n" for l in lines[half:]).encode("utf-8")))
    sink_root = os.path.join(F, "kinds-sink")
    if os.path.isdir(sink_root):
        shutil.rmtree(sink_root)
    sink = write_sink(sink_root, entries)
    write_text(os.path.join(F, "kinds.concat.json"),
               "\n\n".join(json.dumps(e, indent=2, ensure_ascii=False) for e in entries) + "\n")
    write_bytes(os.path.join(F, "kinds.bom-crlf.ndjson"),
                b"\xef\xbb\xbf" + "".join(l + "\r\n" for l in lines).encode("utf-8"))

    # --- damaged / edge inputs -----------------------------------------------------------
    good = [compact(e) for e in sample_healthy()[:50]]
    bad = {11: good[20][:187],                                   # truncated object
           27: "@@@ garbage: this line is not JSON at all ~~~ \x7f",  # garbage text
           44: good[30][:-1]}                                     # missing its closing brace
    out, gi = [], 0
    for ln in range(1, 54):
        if ln in bad:
            out.append(bad[ln])
        else:
            out.append(good[gi])
            gi += 1
    write_bytes(os.path.join(F, "broken3.ndjson.gz"), gz("".join(l + "\n" for l in out).encode("utf-8")))

    data = "".join(compact(e) + "\n" for e in sample_healthy()[:40]).encode("utf-8")
    full = gz(data)
    cut = full[: len(full) * 3 // 5]
    write_bytes(os.path.join(F, "truncated.ndjson.gz"), cut)
    part = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(cut)
    complete_lines = part.count(b"\n")

    arr_entries = sample_healthy()[:10]
    arr = json.dumps(arr_entries[::-1], indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    cut_at = len(arr) * 11 // 20
    truncated = arr[:cut_at]
    # complete elements before the cut: count closes of top-level objects
    elements_complete = truncated.count("\n  }")
    write_text(os.path.join(F, "truncated.json"), truncated)

    write_bytes(os.path.join(F, "empty.json"), b"")
    write_text(os.path.join(F, "empty-array.json"), "[]\n")
    yaml_entries = [entries[[i for i, e in enumerate(entries) if e["logName"].endswith("%2Frequests")][0]],
                    entries[[i for i, e in enumerate(entries) if e.get("jsonPayload", {}).get("message") == CRITICAL_AUTH_FAILURE][0]]]
    yaml_entries = [_yaml_safe(e) for e in yaml_entries]
    write_text(os.path.join(F, "gcloud.yaml"), gcloud_yaml(yaml_entries))
    write_text(os.path.join(F, "not-json.txt"),
               "ERROR: (gcloud.logging.read) PERMISSION_DENIED: Permission 'logging.logEntries.list' denied on "
               "resource (or it may not exist).\n- '@type': type.googleapis.com/google.rpc.ErrorInfo\n"
               "  domain: iam.googleapis.com\n  reason: IAM_PERMISSION_DENIED\n")
    edge = {
        "broken3.ndjson.gz": {"lines": 53, "good": 50, "bad_line_numbers": sorted(bad)},
        "truncated.ndjson.gz": {"complete_lines_before_cut": complete_lines, "entries_in_full_file": 40},
        "truncated.json": {"complete_elements_before_cut": elements_complete, "entries_in_full_file": 10},
        "empty.json": {"entries": 0},
        "empty-array.json": {"entries": 0},
        "gcloud.yaml": {"entries": 2},
        "not-json.txt": {"entries": 0},
    }
    write_text(os.path.join(F, "edge.expected.json"), json.dumps(edge, indent=2) + "\n")
    return {"kinds": len(entries), "expected": expected, "sink_files": sink, "edge": edge}


def _yaml_safe(e):
    """The YAML fixture keeps to scalars and maps (drop list-valued fields)."""
    return {k: (_yaml_safe(v) if isinstance(v, dict) else v) for k, v in e.items() if not isinstance(v, list)}


# ----------------------------------------------------------------------------------------
# benchmark input (streaming: NDJSON + gcloud pretty array + gzip NDJSON)
# ----------------------------------------------------------------------------------------

class BenchWriter:
    """NDJSON + gcloud pretty array (newest first, via reversed chunks in a temp file) written
    here; gzip NDJSON compressed by a thread (zlib releases the GIL, so it uses another core)."""

    def __init__(self, nd_path, gz_path, pretty_path):
        import queue
        import threading
        self.nd = open(nd_path, "wb")
        self.pretty_path, self.tmp_path = pretty_path, pretty_path + ".chunks"
        self.tmp = open(self.tmp_path, "w+b")
        self.chunks = []
        self.gz_raw = open(gz_path, "wb")
        self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.gz_raw, compresslevel=6, mtime=0)
        self.q = queue.Queue(maxsize=32)
        self.thread = threading.Thread(target=self._gzip_loop, daemon=True)
        self.thread.start()

    def _gzip_loop(self):
        while True:
            b = self.q.get()
            if b is None:
                return
            self.gz.write(b)

    def write(self, entries, ndjson_bytes):
        self.nd.write(ndjson_bytes)
        self.q.put(ndjson_bytes)
        text = ",\n".join(["  " + pretty(e, "\n  ") for e in reversed(entries)]).encode("utf-8")
        self.chunks.append((self.tmp.tell(), len(text)))
        self.tmp.write(text)

    def close(self):
        self.nd.close()
        self.q.put(None)
        self.thread.join()
        self.gz.close()
        self.gz_raw.close()
        with open(self.pretty_path, "wb") as f:
            f.write(b"[\n")
            for i, (off, ln) in enumerate(reversed(self.chunks)):
                if i:
                    f.write(b",\n")
                self.tmp.seek(off)
                f.write(self.tmp.read(ln))
            f.write(b"\n]\n")
        self.tmp.close()
        os.remove(self.tmp_path)


def bench(size_mb, out, seed=20250911):
    target = int(size_mb * 1024 * 1024)
    os.makedirs(out, exist_ok=True)
    r = Rand(seed)
    pending = []
    counter = [0]

    def sink(t, e):
        heapq.heappush(pending, (t, counter[0], e))
        counter[0] += 1

    sim = Sim(r)
    svc = CloudRunService(r, sink, "netra-staging", "netra-backend-staging", "us-central1", "api.staging.netrasystems.ai")
    clients = Clients(r, 500)
    old, new = "netra-backend-staging-00734-fvm", "netra-backend-staging-00742-b95"
    t0 = utc_us(2025, 9, 15, 6, 0, 0)
    app = NetraBackend(r, svc, clients, "healthy")
    app.instances = [svc.start_instance(old, t0 - 3600 * US) for _ in range(6)]
    k = 10.0  # traffic multiplier over the samples

    def session_call(t):
        if app.mode == "healthy":
            app.user_request(t, session_endpoint=True)
            return
        user = r.choice(clients.users)
        if app.user_request(t, user=user, session_endpoint=True) == "auth_fail":
            dt = 0
            for i in range(r.choice((2, 3, 3))):
                dt += (1 << i) * US + r.randint(50_000, 400_000)
                app.user_request(t + dt, user=user, session_endpoint=True)

    sim.poisson(t0, k / 14.0, session_call)
    sim.poisson(t0, k / 20.0, lambda t: app.user_request(t, session_endpoint=False))
    sim.poisson(t0, 3 / 60.0, app.health_check)
    sim.poisson(t0, k / 240.0, app.not_found)
    sim.poisson(t0, k / 420.0, app.websocket)
    sim.poisson(t0, k / 12.0, lambda t: app.background(t, warn_p=0.05))

    def churn(t):
        rev = app.instances[-1].rev if app.instances else old
        broken = app.mode != "healthy"
        i = svc.start_instance(rev, t)
        rd = boot_instance(svc, i, t, "AUTOSCALING", service_secret=not broken, jwt_secret=not broken)

        def serve(_t):
            app.instances.append(i)
            if len(app.instances) > 8:
                app.instances.pop(0)
        sim.at(rd + 300_000, serve)

    sim.poisson(t0, 1 / 1500.0, churn)

    nd_path, pretty_path, gz_path = (os.path.join(out, n) for n in ("bench.ndjson", "bench.gcloud.json", "bench.ndjson.gz"))
    writer = BenchWriter(nd_path, gz_path, pretty_path)
    st = {"bytes": 0, "entries": 0, "switched": None, "done": False, "n": 0, "auth_fail": 0, "403": 0,
          "session_ok": 0, "by_rev": {}}

    def flush(upto):
        lines, es = [], []
        while pending and pending[0][0] < upto and not st["done"]:
            e = heapq.heappop(pending)[2]
            line = compact(e).encode("utf-8") + b"\n"
            lines.append(line)
            es.append(e)
            st["bytes"] += len(line)
            if st["bytes"] >= target:
                st["done"] = True
        if not es:
            return
        writer.write(es, b"".join(lines))
        for e in es:
            jp = e.get("jsonPayload")
            if jp is not None:
                m = jp.get("message")
                if m == CRITICAL_AUTH_FAILURE:
                    st["auth_fail"] += 1
                elif m == SERVICE_USER_SESSION:
                    st["session_ok"] += 1
            else:
                h = e.get("httpRequest")
                if h is not None and h["status"] == 403:
                    st["403"] += 1
            rv = e["resource"]["labels"].get("revision_name") or "(audit)"
            st["by_rev"][rv] = st["by_rev"].get(rv, 0) + 1
        st["entries"] += len(es)
        if st["switched"] is None and st["bytes"] >= target // 2:
            st["switched"] = upto + 1
            sim.at(upto + 1, lambda t: deploy(sim, svc, app, t, old, new, 742, secrets_ok=False,
                                              boots=(t + 600 * US, t + 1500 * US)))

    def step(t):
        st["n"] += 1
        if st["n"] % 400 == 0:
            flush(t)
        return st["done"]

    started = time.time()
    while not st["done"]:
        if sim.run(1 << 62, step):
            flush(1 << 62)
            break
    writer.close()
    took = time.time() - started
    sizes = {p: os.path.getsize(p) for p in (nd_path, pretty_path, gz_path)}
    print("bench: %d entries, %.1f MB NDJSON in %.1fs (%.1f MB/s NDJSON, %.1f MB/s all outputs)" % (
        st["entries"], sizes[nd_path] / 1e6, took, sizes[nd_path] / 1e6 / took, sum(sizes.values()) / 1e6 / took))
    for p, s in sizes.items():
        print("   %-60s %12d bytes" % (p, s))
    print("   switch (ReplaceService audit) at %s: %s -> %s" % (ts(st["switched"]), old, new))
    print("   entries per revision: %s" % ", ".join("%s=%d" % kv for kv in sorted(st["by_rev"].items())))
    print("   CRITICAL_AUTH_FAILURE %d, 403 request logs %d, SERVICE USER SESSION %d (all before the switch)" % (
        st["auth_fail"], st["403"], st["session_ok"]))
    return st


# ----------------------------------------------------------------------------------------
# verification of everything written
# ----------------------------------------------------------------------------------------

def verify_outputs():
    """Parse every output file the way a reader would; raise on any surprise."""
    def lines_of(data):
        return [l for l in data.decode("utf-8").split("\n") if l]

    def check_entry(e, where):
        assert isinstance(e, dict) and "logName" in e and "insertId" in e and "resource" in e, where
        assert "timestamp" in e or "receiveTimestamp" in e, where
        h = e.get("httpRequest")
        if h and "requestUrl" in h:
            assert isinstance(h["status"], int) and isinstance(h["requestSize"], str), where
            assert h["latency"].endswith("s"), where
        if "trace" in e:
            tr = e["trace"].rsplit("/", 1)[-1]
            assert len(tr) == 32 and e["trace"].startswith("projects/"), where
        if "spanId" in e:
            assert len(e["spanId"]) == 16, where

    n = 0
    for name in ("service-auth-regression.json",):
        arr = json.load(open(os.path.join(SAMPLES, name), encoding="utf-8"))
        ts_ = [x["timestamp"] for x in arr]
        assert ts_ == sorted(ts_, reverse=True), name + " not newest first"
        for e in arr:
            check_entry(e, name)
        n += len(arr)
    for name in ("system-user-auth.ndjson", "healthy.ndjson"):
        for l in lines_of(open(os.path.join(SAMPLES, name), "rb").read()):
            check_entry(json.loads(l), name)
            n += 1
    for l in lines_of(gzip.decompress(open(os.path.join(SAMPLES, "auth-db-connectivity.ndjson.gz"), "rb").read())):
        check_entry(json.loads(l), "auth-db-connectivity")
        n += 1
    for dp, _, fs in os.walk(os.path.join(SAMPLES, "golden-path-startup")):
        for fn in fs:
            data = open(os.path.join(dp, fn), "rb").read()
            if fn.endswith(".gz"):
                data = gzip.decompress(data)
            for l in lines_of(data):
                check_entry(json.loads(l), fn)
                n += 1
    F = FIXTURES
    kinds = [json.loads(l) for l in lines_of(open(os.path.join(F, "kinds.ndjson"), "rb").read())]
    for e in kinds:
        check_entry(e, "kinds")
    def same(xs):
        return sorted(json.dumps(x, sort_keys=True, ensure_ascii=False) for x in xs)
    assert same(json.load(open(os.path.join(F, "kinds.gcloud.json")))) == same(kinds)
    assert same(json.load(open(os.path.join(F, "kinds.compact.json")))) == same(kinds)
    assert same(json.loads(l) for l in lines_of(gzip.decompress(open(os.path.join(F, "kinds.ndjson.gz"), "rb").read()))) == same(kinds)
    assert same(json.loads(l) for l in lines_of(gzip.decompress(open(os.path.join(F, "kinds.multi.ndjson.gz"), "rb").read()))) == same(kinds)
    raw = open(os.path.join(F, "kinds.bom-crlf.ndjson"), "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == len(kinds)
    assert same(json.loads(l) for l in raw[3:].decode().split("\r\n") if l) == same(kinds)
    concat = open(os.path.join(F, "kinds.concat.json"), encoding="utf-8").read()
    dec, pos, got = json.JSONDecoder(), 0, []
    while pos < len(concat):
        while pos < len(concat) and concat[pos] in " \r\n\t":
            pos += 1
        if pos >= len(concat):
            break
        o, pos = dec.raw_decode(concat, pos)
        got.append(o)
    assert same(got) == same(kinds)
    sink = []
    for dp, _, fs in os.walk(os.path.join(F, "kinds-sink")):
        for fn in fs:
            sink += [json.loads(l) for l in lines_of(open(os.path.join(dp, fn), "rb").read())]
    assert same(sink) == same(kinds)
    edge = json.load(open(os.path.join(F, "edge.expected.json")))
    bl = gzip.decompress(open(os.path.join(F, "broken3.ndjson.gz"), "rb").read()).decode().split("\n")[:-1]
    bad = []
    for i, l in enumerate(bl, 1):
        try:
            json.loads(l)
        except ValueError:
            bad.append(i)
    assert bad == edge["broken3.ndjson.gz"]["bad_line_numbers"] and len(bl) == 53, bad
    try:
        gzip.decompress(open(os.path.join(F, "truncated.ndjson.gz"), "rb").read())
        raise AssertionError("truncated.ndjson.gz decompressed fully")
    except EOFError:
        pass
    try:
        json.load(open(os.path.join(F, "truncated.json")))
        raise AssertionError("truncated.json parsed")
    except ValueError:
        pass
    assert os.path.getsize(os.path.join(F, "empty.json")) == 0
    assert json.load(open(os.path.join(F, "empty-array.json"))) == []
    ydocs = open(os.path.join(F, "gcloud.yaml"), encoding="utf-8").read().split("---\n")
    assert ydocs[0] == "" and len(ydocs) == 3
    return n


# ----------------------------------------------------------------------------------------
# command line
# ----------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd")
    sub.add_parser("all", help="samples and fixtures (default)")
    sub.add_parser("samples", help="samples/ incident and healthy exports + samples/README.md")
    sub.add_parser("fixtures", help="tests/fixtures/ format fixtures")
    b = sub.add_parser("bench", help="large Cloud Run export for benchmarks")
    b.add_argument("--size-mb", type=float, required=True, help="size of the NDJSON output in MiB")
    b.add_argument("--out", required=True, help="output directory")
    b.add_argument("--seed", type=int, default=20250911)
    args = ap.parse_args(argv)
    cmd = args.cmd or "all"
    if cmd == "bench":
        bench(args.size_mb, args.out, args.seed)
        return 0
    if cmd in ("all", "samples"):
        build_samples()
    if cmd in ("all", "fixtures"):
        fx = build_fixtures()
        print("== tests/fixtures: kinds.* with %d lines, expected %s" % (fx["kinds"], json.dumps(fx["expected"])))
        for rel, cnt in fx["sink_files"]:
            print("   kinds-sink/%s: %d" % (rel, cnt))
        print("   edge: %s" % json.dumps(fx["edge"]))
    if cmd == "all":
        print("verified %d sample entries and all fixtures" % verify_outputs())
    return 0


if __name__ == "__main__":
    sys.exit(main())
