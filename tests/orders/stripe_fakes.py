"""Stripe over HTTP for the tests: localstripe in a process of its own, and a fault proxy.

``localstripe`` (session fixture) is the stateful fake Stripe server from PyPI, started on a
free loopback port and stopped by its PID. ``stripe_settings`` points the real ``stripe``
client at it (through ``FaultProxy``, a small loopback HTTP proxy that can delay a call, or
forward it and then drop the answer — the provider acted, we never heard).

``browser_pays`` does what Stripe.js does in the buyer's browser: localstripe's fake
Stripe.js cannot turn a card Element into a payment method with the publishable key (it
only fakes the 3-D Secure step), so the test attaches a payment method to the intent with
the test's key, confirms it, and answers 3-D Secure through localstripe's own
``_authenticate`` endpoint, the call its fake Stripe.js makes.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "sk_test_tradepost"
PUBLISHABLE_KEY = "pk_test_tradepost"
WEBHOOK_SECRET = "whsec_tradepost_test"

SUCCESS = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
# localstripe: the card attaches, the charge is refused (card_declined).
DECLINED = "4000000000000341"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def localstripe_process(log: Path):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("localstripe_server.py")), str(port)],
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@dataclass
class Fault:
    # Substring of "METHOD /path" the fault applies to, e.g. "POST /v1/payment_intents/pi_".
    match: str
    # "delay": sleep, then forward; "drop": forward, then close without answering;
    # "refuse": answer 503 without forwarding; "reject": answer 400 without forwarding.
    kind: str
    seconds: float = 0.0
    times: int = 1


@dataclass
class FaultProxy:
    """A loopback HTTP proxy in front of localstripe that can misbehave on cue."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    # Path prefixes served by another upstream (the Connect fake).
    routes: dict[str, str] = field(default_factory=dict)

    def start(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                line = f"{self.command} {self.path}"
                proxy.seen.append(line)
                fault = proxy._take(line)
                if fault and fault.kind in ("refuse", "reject"):
                    # refuse: Stripe is down (503); reject: Stripe says no (400).
                    self.send_response(503 if fault.kind == "refuse" else 400)
                    self.send_header("Content-Type", "application/json")
                    payload = (
                        b'{"error": {"message": "unavailable", "type": "api_error"}}'
                        if fault.kind == "refuse"
                        else b'{"error": {"message": "Charge has already been refunded.", '
                        b'"type": "invalid_request_error", "code": "charge_already_refunded"}}'
                    )
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if fault and fault.kind == "delay":
                    time.sleep(fault.seconds)
                target = next(
                    (url for prefix, url in proxy.routes.items() if self.path.startswith(prefix)),
                    proxy.upstream,
                )
                upstream = urlsplit(target)
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                if fault and fault.kind == "drop":
                    # The provider acted; its answer is lost on the way back.
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The client may have given up waiting (a "delay" fault), as on a real network.
                with contextlib.suppress(OSError):
                    self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _take(self, line: str) -> Fault | None:
        for fault in self.faults:
            if fault.match in line and fault.times > 0:
                fault.times -= 1
                return fault
        return None


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    with localstripe_process(tmp_path_factory.mktemp("localstripe") / "localstripe.log") as url:
        yield url


@pytest.fixture
def connect_fake():
    from tests.orders.connect_fake import ConnectFake

    fake = ConnectFake()
    fake.url = fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def stripe_proxy(localstripe, connect_fake):
    """localstripe for payments, the Connect fake for accounts and transfers."""
    proxy = FaultProxy(
        localstripe,
        routes=dict.fromkeys(
            ("/v1/accounts", "/v1/account_links", "/v1/transfers"), connect_fake.url
        ),
    )
    proxy.url = proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def stripe_settings(settings, stripe_proxy):
    settings.ORDERS_CARD_PROVIDER = "stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = stripe_proxy.url
    settings.STRIPE_TIMEOUT_SECONDS = 2
    return settings


# --- What the buyer's browser and Stripe do -----------------------------------------------


def api(base: str, method: str, path: str, **data) -> dict:
    response = requests.request(
        method, f"{base}{path}", data=data, auth=(SECRET_KEY, ""), timeout=10
    )
    return response.json()


def browser_pays(base: str, intent_id: str, card: str, *, authenticate: bool = True) -> dict:
    """Stripe.js's confirmCardPayment, done against localstripe (see the module note)."""
    method = api(
        base,
        "POST",
        "/v1/payment_methods",
        **{
            "type": "card",
            "card[number]": card,
            "card[exp_month]": "12",
            "card[exp_year]": "2034",
            "card[cvc]": "123",
        },
    )
    api(base, "POST", f"/v1/payment_intents/{intent_id}", payment_method=method["id"])
    intent = api(base, "POST", f"/v1/payment_intents/{intent_id}/confirm")
    if intent.get("status") == "requires_action":
        intent = requests.post(
            f"{base}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true" if authenticate else "false"},
            data=json.dumps({"key": PUBLISHABLE_KEY, "client_secret": intent["client_secret"]}),
            timeout=10,
        ).json()
    return intent


def signed_event(event: dict, *, secret: str = WEBHOOK_SECRET) -> tuple[bytes, str]:
    """A webhook body and its ``Stripe-Signature`` header, signed as Stripe (and localstripe)
    sign them: HMAC-SHA256 over "<timestamp>.<body>"."""
    body = json.dumps(event).encode()
    timestamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return body, f"t={timestamp},v1={mac.hexdigest()}"


def intent_event(base: str, event_type: str, intent_id: str, *, event_id: str) -> dict:
    """An event whose object is the intent as localstripe holds it now."""
    intent = api(base, "GET", f"/v1/payment_intents/{intent_id}")
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": intent},
    }
