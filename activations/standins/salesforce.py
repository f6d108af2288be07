"""A Salesforce org on loopback: OAuth refresh-token flow, sObject Collections and SOQL lookups.

Speaks the REST API as documented (developer.salesforce.com/docs/atlas.en-us.api_rest.meta):
- `POST /services/oauth2/token` (grant_type=refresh_token) issues access tokens and names this
  server as the `instance_url`; other calls need `Authorization: Bearer` with a live token,
  else 401 `INVALID_SESSION_ID`;
- `/services/data/vXX.X/composite/sobjects`: upsert by external id (PATCH .../{type}/{field}),
  create (POST), update by Id (PATCH), delete (DELETE ?ids=), at most 200 records, honouring
  `allOrNone`, with per-record `{"id", "success", "errors": [{"statusCode", "message",
  "fields"}]}` in request order;
- `GET /services/data/vXX.X/query?q=SELECT Id, F FROM T WHERE F IN (...)`, the one SOQL shape a
  lookup by external id needs, paged with `nextRecordsUrl`.
Records are validated like an org would: unknown fields, required fields, email fields,
restricted picklists, unique external ids, relationships by external id (`Who`). Field names
are case-insensitive, as in Salesforce. Failures on demand: `reject` (a per-record error for an
external id), `lock_once` (UNABLE_TO_LOCK_ROW once), `expire_sessions`, `refresh_refused`,
`api_request_limit`; `fail_next` injects failures into API calls and `fail_login_next` into
token requests.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from activations.standins.base import Failure, Reply, Request, StandIn
from activations.standins.salesforce_org import (
    Org,
    RecordError,
    RequestError,
    SObjectType,
    record_error,
)

TOKEN_PATH = "/services/oauth2/token"
API_VERSION = re.compile(r"^/services/data/v(\d+\.\d)(/.*)$")
SUPPORTED_VERSIONS = (46.0, 64.0)
MAX_RECORDS = 200
_QUERY = re.compile(
    r"^SELECT\s+Id\s*,\s*(\w+)\s+FROM\s+(\w+)\s+WHERE\s+(\w+)\s+IN\s*\((.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_LITERAL = re.compile(r"\s*'((?:[^'\\]|\\.)*)'\s*(,|$)")


class SalesforceStandIn(StandIn):
    def __init__(
        self,
        *,
        client_id: str = "3MVG9-standin-consumer-key",
        client_secret: str = "standin-consumer-secret",
        refresh_token: str = "5Aep-standin-refresh-token",
        objects: dict[str, SObjectType] | None = None,
        query_page_size: int = 2000,
    ) -> None:
        self.client_id, self.client_secret, self.refresh_token = (
            client_id, client_secret, refresh_token,
        )  # fmt: skip
        self.org = Org(objects)
        self.query_page_size = query_page_size
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.refresh_refused = False
        """The refresh token was revoked: every refresh answers invalid_grant."""
        self.api_request_limit: int | None = None
        """Requests allowed before REQUEST_LIMIT_EXCEEDED (the org's daily allocation)."""
        self.api_requests = 0
        self._tokens = itertools.count(1)
        self._cursors: dict[str, tuple[list[dict], str]] = {}
        self.login_failures: list[Failure] = []
        super().__init__()

    # -- test helpers -----------------------------------------------------------------------

    def fail_login_next(self, *failures: Failure) -> None:
        with self.lock:
            self.login_failures.extend(failures)

    def next_failure(self, request: Request) -> Failure | None:
        queue = self.login_failures if request.path == TOKEN_PATH else self.failures
        return queue.pop(0) if queue else None

    def expire_sessions(self) -> None:
        """Every access token issued so far stops working (a session timeout)."""
        with self.lock:
            self.tokens.clear()

    def by_external_id(self, sobject: str, field_name: str) -> dict[str, dict[str, Any]]:
        with self.lock:
            return self.org.by_external_id(sobject, field_name)

    def of_type(self, sobject: str) -> list[dict[str, Any]]:
        with self.lock:
            return self.org.of_type(sobject)

    # -- dispatch -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        if request.path == TOKEN_PATH:
            return self._token(request)
        match = API_VERSION.match(request.path)
        if match is None or not (
            SUPPORTED_VERSIONS[0] <= float(match.group(1)) <= SUPPORTED_VERSIONS[1]
        ):
            return _errors(404, "NOT_FOUND", "The requested resource does not exist")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.tokens:
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        self.api_requests += 1
        if self.api_request_limit is not None and self.api_requests > self.api_request_limit:
            return _errors(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        version, rest = match.groups()
        try:
            return self._route(request, version, rest)
        except RequestError as error:
            return _errors(error.status, error.code, error.message)

    def _route(self, request: Request, version: str, rest: str) -> Reply:
        parts = rest.strip("/").split("/")
        method = request.method
        if parts[:2] == ["composite", "sobjects"]:
            if method == "PATCH" and len(parts) == 4:
                return self._collection(request, "upsert", parts[2], parts[3])
            if method in ("POST", "PATCH") and len(parts) == 2:
                return self._collection(request, "create" if method == "POST" else "update")
            if method == "DELETE" and len(parts) == 2:
                return self._delete(request)
        if parts[0] == "query" and method == "GET":
            if len(parts) == 2:
                return self._page(parts[1])
            return self._query(request, version)
        raise RequestError("NOT_FOUND", "The requested resource does not exist", 404)

    # -- OAuth --------------------------------------------------------------------------------

    def _token(self, request: Request) -> Reply:
        form = {key: values[0] for key, values in request.form().items()}
        refusal = None
        if request.method != "POST" or form.get("grant_type") != "refresh_token":
            refusal = ("unsupported_grant_type", "grant type not supported")
        elif form.get("client_id") != self.client_id:
            refusal = ("invalid_client_id", "client identifier invalid")
        elif form.get("client_secret") != self.client_secret:
            refusal = ("invalid_client", "invalid client credentials")
        elif self.refresh_refused or form.get("refresh_token") != self.refresh_token:
            refusal = ("invalid_grant", "expired access/refresh token")
        if refusal is not None:
            return Reply(400, {"error": refusal[0], "error_description": refusal[1]})
        self.token_requests += 1
        token = f"00Dstandin!AQ{next(self._tokens):08d}"
        self.tokens.add(token)
        return Reply(
            200,
            {
                "access_token": token,
                "signature": "standin-signature",
                "scope": "api refresh_token",
                "instance_url": self.url,
                "id": f"{self.url}/id/00Dstandin/005standin",
                "token_type": "Bearer",
                "issued_at": "1767225600000",
            },
        )

    # -- collections --------------------------------------------------------------------------

    def _collection(
        self, request: Request, action: str, url_type: str | None = None, url_field=None
    ) -> Reply:
        body = _json_object(request)
        records = body.get("records")
        if not isinstance(records, list):
            raise RequestError("JSON_PARSER_ERROR", "records: a list of sObjects is required")
        if len(records) > MAX_RECORDS:
            message = f"Can't submit more than {MAX_RECORDS} records in a single call."
            raise RequestError("EXCEEDED_ID_LIMIT", message)
        org, external_id = self.org, None
        if action == "upsert":
            external_id = org.field(url_type, url_field)
            if external_id not in org.type(url_type).external_ids:
                message = f"Field name provided, {url_field} is not an External ID or indexed "
                raise RequestError("INVALID_FIELD", message + f"field for {url_type}")
        snapshot = org.snapshot() if body.get("allOrNone") else None
        seen: set[str] = set()
        results = []
        for record in records:
            try:
                results.append(org.apply(action, record, url_type, external_id, seen))
            except RecordError as error:
                results.append(error.result)
        if snapshot is not None and not all(result["success"] for result in results):
            org.restore(snapshot)
            rolled = record_error(
                "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "Record rolled back because not all records were valid and the request was "
                "using AllOrNone header",
            )
            results = [rolled if result["success"] else result for result in results]
        return Reply(200, results)

    def _delete(self, request: Request) -> Reply:
        ids = [i for i in ",".join(request.query.get("ids", [""])).split(",") if i]
        if not ids:
            raise RequestError("MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > MAX_RECORDS:
            message = f"Can't delete more than {MAX_RECORDS} records in a single call."
            raise RequestError("EXCEEDED_ID_LIMIT", message)
        return Reply(200, self.org.delete(ids))

    # -- SOQL -----------------------------------------------------------------------------------

    def _query(self, request: Request, version: str) -> Reply:
        soql = (request.query.get("q") or [""])[0]
        match = _QUERY.match(soql)
        if match is None:
            raise RequestError("MALFORMED_QUERY", f"unexpected token in: {soql[:80]}")
        selected, type_name, where = match.group(1), match.group(2), match.group(3)
        if selected.lower() != where.lower():
            raise RequestError("MALFORMED_QUERY", "only lookups of one field by itself are served")
        field_name = self.org.field(type_name, selected)
        rows = [
            {
                "attributes": {
                    "type": type_name,
                    "url": f"/services/data/v{version}/sobjects/{type_name}/{record['Id']}",
                },
                "Id": record["Id"],
                field_name: record[field_name],
            }
            for record in self.org.matching(type_name, field_name, set(_literals(match.group(4))))
        ]
        return self._paged(rows, version)

    def _paged(self, rows: list[dict], version: str) -> Reply:
        page, rest = rows[: self.query_page_size], rows[self.query_page_size :]
        answer: dict[str, Any] = {"totalSize": len(rows), "done": not rest, "records": page}
        if rest:
            cursor = f"01gstandin{next(self._tokens):08d}-{len(page)}"
            self._cursors[cursor] = (rest, version)
            answer["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}"
        return Reply(200, answer)

    def _page(self, cursor: str) -> Reply:
        if cursor not in self._cursors:
            raise RequestError("INVALID_QUERY_LOCATOR", "invalid query locator")
        rows, version = self._cursors.pop(cursor)
        return self._paged(rows, version)


def _json_object(request: Request) -> dict:
    try:
        body = request.json()
    except ValueError as error:
        raise RequestError("JSON_PARSER_ERROR", f"Unexpected character: {error}") from error
    if not isinstance(body, dict):
        raise RequestError("JSON_PARSER_ERROR", "Expected a JSON object")
    return body


def _literals(text: str) -> list[str]:
    values, position = [], 0
    while position < len(text):
        match = _LITERAL.match(text, position)
        if match is None:
            raise RequestError("MALFORMED_QUERY", f"unexpected token: {text[position:][:40]}")
        values.append(re.sub(r"\\(.)", r"\1", match.group(1)))
        position = match.end()
    return values


def _errors(status: int, code: str, message: str) -> Reply:
    return Reply(status, [{"message": message, "errorCode": code}])
