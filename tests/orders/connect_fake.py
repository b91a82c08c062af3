"""A small fake of Stripe Connect's endpoints, written from Stripe's API reference, because
localstripe has no connected accounts or transfers.

Served over HTTP on a loopback port; the tests reach it through the same ``FaultProxy`` as
localstripe (paths /v1/accounts, /v1/account_links, /v1/transfers go here), so the real
``stripe`` client talks to it. It keeps what the reference says matters to us:

- ``POST /v1/accounts`` (type, country, email, capabilities, metadata) -> an ``account`` with
  ``details_submitted``, ``payouts_enabled`` and ``requirements.currently_due`` /
  ``disabled_reason``; ``GET /v1/accounts/{id}``.
- ``POST /v1/account_links`` (account, refresh_url, return_url, type) -> ``{"url": ...}``.
- ``POST /v1/transfers`` (amount, currency, destination, transfer_group, metadata) ->
  a ``transfer``; refused with 400 when the destination cannot receive payouts, or with
  ``balance_insufficient`` when the test says the platform balance is short.
- ``Idempotency-Key``: a repeated key gets the first answer (status and body).

Test controls (not Stripe's): ``enable(id)``, ``restrict(id, reason)``,
``platform_balance_short``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


def _unflatten(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding (a[b][c]=v) back into nested dicts."""
    out: dict = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


class ConnectFake:
    def __init__(self) -> None:
        self.accounts: dict[str, dict] = {}
        self.transfers: dict[str, dict] = {}
        self.replies: dict[str, tuple[int, dict]] = {}
        self.platform_balance_short = False
        self.lock = threading.Lock()

    # --- test controls -------------------------------------------------------------------

    def enable(self, account_id: str) -> None:
        account = self.accounts[account_id]
        account.update(details_submitted=True, payouts_enabled=True, charges_enabled=True)
        account["requirements"] = {"currently_due": [], "disabled_reason": None}

    def restrict(self, account_id: str, reason: str) -> None:
        account = self.accounts[account_id]
        account.update(details_submitted=True, payouts_enabled=False)
        account["requirements"] = {"currently_due": ["external_account"], "disabled_reason": reason}

    # --- the API ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, data: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/accounts":
            account = {
                "id": "acct_" + secrets.token_hex(8),
                "object": "account",
                "type": data.get("type", "express"),
                "country": data.get("country"),
                "email": data.get("email"),
                "metadata": data.get("metadata", {}),
                "details_submitted": False,
                "charges_enabled": False,
                "payouts_enabled": False,
                "requirements": {
                    "currently_due": ["business_profile.url", "external_account"],
                    "disabled_reason": "requirements.past_due",
                },
            }
            self.accounts[account["id"]] = account
            return 200, account
        if method == "GET" and path.startswith("/v1/accounts/"):
            account = self.accounts.get(path.rsplit("/", 1)[1])
            return (200, account) if account else _error(404, "resource_missing", "No such account")
        if method == "POST" and path == "/v1/account_links":
            if data.get("account") not in self.accounts:
                return _error(400, "resource_missing", "No such account")
            return 200, {
                "object": "account_link",
                "url": f"https://connect.stripe.test/setup/{data['account']}",
                "expires_at": int(time.time()) + 300,
                "created": int(time.time()),
            }
        if method == "POST" and path == "/v1/transfers":
            destination = self.accounts.get(data.get("destination", ""))
            if destination is None:
                return _error(400, "resource_missing", "No such destination")
            if not destination["payouts_enabled"]:
                return _error(
                    400,
                    "account_invalid",
                    "The destination account cannot receive transfers: "
                    + str(destination["requirements"]["disabled_reason"]),
                )
            if self.platform_balance_short:
                return _error(
                    400,
                    "balance_insufficient",
                    "You have insufficient available funds in your Stripe account.",
                )
            transfer = {
                "id": "tr_" + secrets.token_hex(8),
                "object": "transfer",
                "amount": int(data["amount"]),
                "currency": data["currency"],
                "destination": destination["id"],
                "transfer_group": data.get("transfer_group"),
                "metadata": data.get("metadata", {}),
                "reversed": False,
            }
            self.transfers[transfer["id"]] = transfer
            return 200, transfer
        return _error(404, "resource_missing", f"Unrecognized request URL ({method} {path})")

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path, _, query = self.path.partition("?")
                data = _unflatten(parse_qsl(body or query))
                key = self.headers.get("Idempotency-Key")
                with fake.lock:
                    if key and self.command == "POST" and key in fake.replies:
                        status, payload = fake.replies[key]
                    else:
                        status, payload = fake.handle(self.command, path, data)
                        if key and self.command == "POST":
                            fake.replies[key] = (status, payload)
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                if key:
                    self.send_header("Idempotency-Key", key)
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _error(status: int, code: str, message: str) -> tuple[int, dict]:
    return status, {"error": {"type": "invalid_request_error", "code": code, "message": message}}
