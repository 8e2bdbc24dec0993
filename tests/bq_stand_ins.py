"""BigQuery stand-ins on 127.0.0.1 for the tests; nothing reaches Google.

- `Emulator`: bqemulator (installed by tests/install_bqemulator.sh into .emulators/), a REST
  stand-in that executes BigQuery SQL on DuckDB. It takes bound query parameters (scalars and
  arrays) and dry runs, so the real google-cloud-bigquery client runs every mart on it exactly as in
  production. It does not bill, enforce maximumBytesBilled or keep labels, and some date functions
  differ from BigQuery (DATE_TRUNC on DATE columns returns DATETIME; WEEK starts Monday).
- `Recorder`: a small HTTP server speaking the BigQuery REST calls a query makes (jobs.insert,
  jobs.get, getQueryResults, tables.get). It records what the real client sends (query text,
  queryParameters, dryRun, maximumBytesBilled, labels, location) and answers with scripted bytes,
  rows or errors (403, 404, 400 bytesBilledLimitExceeded, 503), which the emulator cannot.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from revbook import contract
from webhook import local_server

ROOT = Path(__file__).resolve().parents[1]
EMULATOR = ROOT / ".emulators" / "bqemulator"
PROJECT, DATASET = "revbook-test", "lake"
BQ_TYPES = {"string": "STRING", "int": "INT64", "float": "FLOAT64", "bool": "BOOL", "date": "DATE",
            "timestamp": "TIMESTAMP"}
ARROW_TYPES = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(),
               "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def emulator() -> Iterator[str]:
    """A running bqemulator; yields its endpoint (http://127.0.0.1:PORT). Stopped on exit."""
    binary = EMULATOR / "bin" / "bqemulator"
    if not (EMULATOR / ".installed").exists():
        raise RuntimeError(f"no BigQuery emulator at {EMULATOR}: `make test` installs it "
                           "(bash tests/install_bqemulator.sh .emulators/bqemulator .emulators/bqemulator-home)")
    port = free_port()
    env = {**os.environ, "HOME": str(EMULATOR.parent / "bqemulator-home")}
    proc = subprocess.Popen([str(binary), "start", "--rest-host", "127.0.0.1", "--rest-port", str(port),
                             "--grpc-host", "127.0.0.1", "--grpc-port", "0", "--ephemeral", "--project", PROJECT,
                             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/healthz", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                    raise RuntimeError(f"bqemulator did not start: {err}") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def load_lake(client: Any, frames: dict[str, pd.DataFrame]) -> None:
    """Create the dataset and load each contract table (typed by the contract) as Parquet."""
    from google.cloud import bigquery

    client.create_dataset(f"{PROJECT}.{DATASET}", exists_ok=True)
    for table in contract.TABLES:
        frame = frames[table.name][[c.name for c in table.columns]].copy()
        for column in table.columns:
            if column.type == "date":
                frame[column.name] = pd.to_datetime(frame[column.name]).dt.date
            elif column.type == "timestamp":
                frame[column.name] = pd.to_datetime(frame[column.name], utc=True)
        schema = pa.schema([(c.name, ARROW_TYPES[c.type]) for c in table.columns])
        fields = [bigquery.SchemaField(c.name, BQ_TYPES[c.type], mode="NULLABLE" if c.nullable else "REQUIRED")
                  for c in table.columns]
        buf = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, schema=schema, preserve_index=False), buf)
        buf.seek(0)
        config = bigquery.LoadJobConfig(schema=fields, source_format="PARQUET")
        # no size: the client then uploads resumably (the emulator rejects the multipart form)
        client.load_table_from_file(buf, f"{PROJECT}.{DATASET}.{table.name}", job_config=config).result()


# ---------------------------------------------------------------- the recording stand-in


@dataclass
class Recorder:
    """Records the client's requests; `script` answers the next requests (status, reason) first."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)  # {"method", "path", "body"}
    script: list[tuple[int, str]] = field(default_factory=list)
    bytes_processed: int = 123_456_789
    tables: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> [(column, type)]
    datasets: set[str] = field(default_factory=lambda: {DATASET})
    result: dict[str, Any] = field(default_factory=lambda: {  # every query's rows (REST form)
        "schema": {"fields": [{"name": "x", "type": "INT64", "mode": "NULLABLE"}]},
        "rows": [{"f": [{"v": "1"}]}], "totalRows": "1"})

    def answer(self, frame: pd.DataFrame, types: dict[str, str]) -> None:
        """Answer every query with `frame` (column -> BigQuery type in `types`)."""
        def cell(v: Any) -> dict[str, Any]:
            return {"v": None if pd.isna(v) else str(v).lower() if isinstance(v, bool) else str(v)}

        self.result = {"schema": {"fields": [{"name": c, "type": types[c], "mode": "NULLABLE"} for c in frame]},
                       "rows": [{"f": [cell(v) for v in row]} for row in frame.itertuples(index=False)],
                       "totalRows": str(len(frame))}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def jobs(self) -> list[dict[str, Any]]:
        """The query job configurations sent (jobs.insert bodies)."""
        return [r["body"]["configuration"]["query"] | {"_job": r["body"]} for r in self.requests
                if r["method"] == "POST" and r["path"].endswith("/jobs")]


def _job(body: dict[str, Any], job_id: str, bytes_processed: int) -> dict[str, Any]:
    dry = body.get("configuration", {}).get("dryRun", False)
    return {"kind": "bigquery#job", "id": f"{PROJECT}:US.{job_id}",
            "jobReference": {"projectId": PROJECT, "jobId": job_id, "location": "US"},
            "configuration": body.get("configuration", {}), "status": {"state": "DONE"},
            "statistics": {"query": {"totalBytesProcessed": str(bytes_processed),
                                     "totalBytesBilled": "0" if dry else str(bytes_processed),
                                     "statementType": "SELECT"}}}


def _error(status: int, reason: str) -> dict[str, Any]:
    messages = {"accessDenied": "Access Denied: Project revbook-test: User does not have bigquery.jobs.create "
                                "permission in project revbook-test.",
                "notFound": "Not found: Table revbook-test:lake.leads was not found in location US",
                "bytesBilledLimitExceeded": "Query exceeded limit for bytes billed: 1000. 123731968 or higher "
                                            "required.",
                "backendError": "Backend error. Job aborted."}
    return {"error": {"code": status, "message": messages.get(reason, reason),
                      "errors": [{"reason": reason, "message": messages.get(reason, reason), "domain": "global"}]}}


@contextmanager
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    jobs: dict[str, dict[str, Any]] = {}

    class Handler(BaseHTTPRequestHandler):
        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}") if length else {}
            path = self.path.split("?")[0]
            rec.requests.append({"method": method, "path": path, "body": body})
            if rec.script:
                status, reason = rec.script.pop(0)
                if status >= 400:
                    return self._send(status, _error(status, reason))
            if method == "POST" and path.endswith("/jobs"):
                job_id = body.get("jobReference", {}).get("jobId") or f"job{len(jobs)}"
                jobs[job_id] = _job(body, job_id, rec.bytes_processed)
                return self._send(200, jobs[job_id])
            if m := re.search(r"/jobs/([^/]+)$", path):
                return self._send(200, jobs.get(m.group(1), _job({}, m.group(1), rec.bytes_processed)))
            if m := re.search(r"/queries/([^/]+)$", path):
                return self._send(200, {"kind": "bigquery#getQueryResultsResponse", "jobComplete": True,
                                        "jobReference": {"projectId": PROJECT, "jobId": m.group(1), "location": "US"},
                                        **rec.result})
            if m := re.search(r"/datasets/([^/]+)/tables/([^/]+)$", path):
                name = m.group(2)
                if name not in rec.tables:
                    return self._send(404, _error(404, "notFound"))
                return self._send(200, {"tableReference": {"projectId": PROJECT, "datasetId": m.group(1),
                                                           "tableId": name}, "numRows": "10",
                                        "lastModifiedTime": "1767225600000",
                                        "schema": {"fields": [{"name": c, "type": t} for c, t in rec.tables[name]]}})
            if (m := re.search(r"/datasets/([^/]+)$", path)) and m.group(1) in rec.datasets:
                return self._send(200, {"datasetReference": {"projectId": PROJECT, "datasetId": m.group(1)}})
            return self._send(404, _error(404, "notFound"))

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self._handle("POST")

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    with local_server(Handler) as port:
        rec.port = port
        yield rec
