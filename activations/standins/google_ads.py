"""A loopback Google Ads API (REST) holding Customer Match lists, and its OAuth token endpoint.

- `POST /token` (grant_type=refresh_token, client_id, client_secret, refresh_token) issues
  access tokens; errors as `{"error": "invalid_grant" | "invalid_client", "error_description"}`.
- `POST /{version}/customers/{id}/offlineUserDataJobs:create` with a CUSTOMER_MATCH_USER_LIST job
  on a known user list returns `{"resourceName"}`.
- `POST /{version}/{job}:addOperations` validates every operation (create or remove of UserData
  with 1-20 identifiers; hashedEmail / hashedPhoneNumber / addressInfo hashed names as 64
  lower-case hex; at most 100,000 identifiers per request). With `enablePartialFailure` a bad
  operation is reported in `partialFailureError` at `operations[index]`; without it the request
  fails whole.
- `POST /{version}/{job}:run` applies the job's operations in order (a real job is processed
  asynchronously; here the list changes at once) and returns a long-running operation name.

Requests need `Authorization: Bearer <issued token>` and the `developer-token` header, and
`login-customer-id` when the stand-in is set up with one. Errors carry a GoogleAdsFailure.
A member is the set of identifiers of one UserData; a remove takes out every member sharing
an identifier with it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from activations.standins.base import Failure, Reply, Request, StandIn

MAX_IDENTIFIERS = 100_000
MAX_PER_USER = 20
_HASH = re.compile(r"^[0-9a-f]{64}$")
_CREATE = re.compile(r"^/(v[0-9]+)/customers/([0-9]{10})/offlineUserDataJobs:create$")
_JOB = re.compile(r"^/(v[0-9]+)/(customers/([0-9]{10})/offlineUserDataJobs/([0-9]+)):(\w+)$")

Member = frozenset[tuple[str, Any]]


def ads_error(status: int, grpc: str, family: str, code: str, message: str) -> Reply:
    failure = {
        "@type": "type.googleapis.com/google.ads.googleads.v23.errors.GoogleAdsFailure",
        "errors": [{"errorCode": {family: code}, "message": message}],
        "requestId": secrets.token_hex(8),
    }
    text = {
        "UNAUTHENTICATED": "Request had invalid authentication credentials.",
        "INVALID_ARGUMENT": "Request contains an invalid argument.",
        "RESOURCE_EXHAUSTED": "Resource has been exhausted (e.g. check quota).",
        "PERMISSION_DENIED": "The caller does not have permission",
    }.get(grpc, message)
    return Reply(
        status, {"error": {"code": status, "message": text, "status": grpc, "details": [failure]}}
    )


class GoogleAdsStandIn(StandIn):
    def __init__(
        self,
        *,
        developer_token: str,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        customer_id: str = "1234567890",
        user_lists: Iterable[str] = ("555",),
        login_customer_id: str | None = None,
    ) -> None:
        super().__init__()
        self.developer_token, self.client_id = developer_token, client_id
        self.client_secret, self.refresh_token = client_secret, refresh_token
        self.customer_id, self.login_customer_id = customer_id, login_customer_id
        self.lists: dict[str, set[Member]] = {
            f"customers/{customer_id}/userLists/{n}": set() for n in user_lists
        }
        self.tokens: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.invalid_hashes: set[str] = set()
        """Hashes answered with INVALID_SHA256_FORMAT, as if malformed."""

    @staticmethod
    def quota_exhausted(retry_seconds: int) -> Failure:
        reply = ads_error(
            429,
            "RESOURCE_EXHAUSTED",
            "quotaError",
            "RESOURCE_TEMPORARILY_EXHAUSTED",
            "Too many requests. Retry in a few seconds.",
        )
        reply.body["error"]["details"][0]["errors"][0]["details"] = {
            "quotaErrorDetails": {
                "rateScope": "DEVELOPER",
                "rateName": "Requests per developer token per second",
                "retryDelay": f"{retry_seconds}s",
            }
        }
        return Failure(429, reply.body)

    @staticmethod
    def internal_error() -> Failure:
        reply = ads_error(
            500, "INTERNAL", "internalError", "INTERNAL_ERROR", "An internal error has occurred."
        )
        return Failure(500, reply.body)

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def members(self, user_list_id: str = "555") -> set[Member]:
        return self.lists[f"customers/{self.customer_id}/userLists/{user_list_id}"]

    def handle(self, request: Request) -> Reply:
        if request.path == "/token":
            return self._token(request)
        problem = self._authorised(request)
        if problem is not None:
            return problem
        document = request.json() if request.body else {}
        if (match := _CREATE.match(request.path)) and request.method == "POST":
            return self._create(match.group(2), document)
        match = _JOB.match(request.path)
        if match is None or request.method != "POST" or match.group(2) not in self.jobs:
            return Reply(
                404,
                {
                    "error": {
                        "code": 404,
                        "status": "NOT_FOUND",
                        "message": f"Resource not found: {request.path}",
                    }
                },
            )
        job, action = self.jobs[match.group(2)], match.group(5)
        if action == "addOperations":
            return self._add(job, document)
        if action == "run":
            return self._run(match.group(2), job)
        return Reply(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": action}})

    def _token(self, request: Request) -> Reply:
        form = {k: v[-1] for k, v in request.form().items()}
        if (form.get("client_id"), form.get("client_secret")) != (
            self.client_id,
            self.client_secret,
        ):
            return Reply(
                401,
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
            )
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != (
            self.refresh_token
        ):
            return Reply(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        token = "ya29." + secrets.token_urlsafe(24)
        self.tokens.add(token)
        return Reply(
            200,
            {
                "access_token": token,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/adwords",
            },
        )

    def _authorised(self, request: Request) -> Reply | None:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return ads_error(
                401,
                "UNAUTHENTICATED",
                "authenticationError",
                "OAUTH_TOKEN_INVALID",
                "Oauth token is invalid.",
            )
        if request.headers.get("developer-token") != self.developer_token:
            return ads_error(
                401,
                "UNAUTHENTICATED",
                "authenticationError",
                "DEVELOPER_TOKEN_INVALID",
                "The developer token is not valid.",
            )
        if self.login_customer_id and (
            request.headers.get("login-customer-id") != self.login_customer_id
        ):
            return ads_error(
                403,
                "PERMISSION_DENIED",
                "authorizationError",
                "USER_PERMISSION_DENIED",
                "User doesn't have permission to access "
                "customer. Note: If you're accessing a client customer, the "
                "manager's customer id must be set in the 'login-customer-id' header.",
            )
        return None

    def _create(self, customer_id: str, document: dict) -> Reply:
        job = document.get("job") or {}
        metadata = job.get("customerMatchUserListMetadata") or {}
        if job.get("type") != "CUSTOMER_MATCH_USER_LIST":
            return ads_error(
                400,
                "INVALID_ARGUMENT",
                "offlineUserDataJobError",
                "INVALID_JOB_TYPE",
                "The job type is not supported.",
            )
        if customer_id != self.customer_id or metadata.get("userList") not in self.lists:
            return ads_error(
                400,
                "INVALID_ARGUMENT",
                "offlineUserDataJobError",
                "INVALID_USER_LIST_ID",
                "The user list ID provided for the job is invalid.",
            )
        name = f"customers/{customer_id}/offlineUserDataJobs/{len(self.jobs) + 1000}"
        self.jobs[name] = {"list": metadata["userList"], "operations": [], "status": "PENDING"}
        return Reply(200, {"resourceName": name})

    def _add(self, job: dict, document: dict) -> Reply:
        if job["status"] != "PENDING":
            return ads_error(
                400,
                "INVALID_ARGUMENT",
                "offlineUserDataJobError",
                "INVALID_JOB_STATUS",
                "The job is not in PENDING status.",
            )
        operations = document.get("operations") or []
        total = sum(len(_data(o).get("userIdentifiers") or []) for o in operations)
        if not operations or total > MAX_IDENTIFIERS:
            return ads_error(
                400,
                "INVALID_ARGUMENT",
                "offlineUserDataJobError",
                "TOO_MANY_USER_IDENTIFIERS",
                "Maximum number of user identifiers "
                f"allowed per request is {MAX_IDENTIFIERS} and per operation is "
                f"{MAX_PER_USER}.",
            )
        errors, accepted = [], []
        for index, operation in enumerate(operations):
            problem = self._invalid(operation)
            if problem is None:
                accepted.append(operation)
                continue
            code, message, field = problem
            errors.append(
                {
                    "errorCode": {"offlineUserDataJobError": code},
                    "message": message,
                    "location": {
                        "fieldPathElements": [
                            {"fieldName": "operations", "index": index},
                            {"fieldName": field},
                        ]
                    },
                }
            )
        if errors and not document.get("enablePartialFailure"):
            reply = ads_error(
                400,
                "INVALID_ARGUMENT",
                "offlineUserDataJobError",
                errors[0]["errorCode"]["offlineUserDataJobError"],
                errors[0]["message"],
            )
            reply.body["error"]["details"][0]["errors"] = errors
            return reply
        job["operations"] += accepted
        if not errors:
            return Reply(200, {})
        return Reply(
            200,
            {
                "partialFailureError": {
                    "code": 3,
                    "message": f"{errors[0]['message']}, at operations[{len(errors)}]",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.ads.googleads.v23.errors."
                            "GoogleAdsFailure",
                            "errors": errors,
                        }
                    ],
                }
            },
        )

    def _invalid(self, operation: dict) -> tuple[str, str, str] | None:
        kinds = [k for k in ("create", "remove", "removeAll") if k in operation]
        if len(kinds) != 1 or kinds[0] == "removeAll":
            return "INVALID_OPERATION", "Exactly one of create or remove is required.", "create"
        identifiers = _data(operation).get("userIdentifiers") or []
        if not identifiers or len(identifiers) > MAX_PER_USER:
            return "TOO_MANY_USER_IDENTIFIERS", "A UserData takes 1 to 20 identifiers.", kinds[0]
        for identifier in identifiers:
            hashes = [identifier.get("hashedEmail"), identifier.get("hashedPhoneNumber")]
            address = identifier.get("addressInfo")
            if address is not None:
                hashes += [address.get("hashedFirstName"), address.get("hashedLastName")]
                if not address.get("countryCode") or not address.get("postalCode"):
                    return (
                        "INCOMPATIBLE_UPLOAD_KEY_TYPE",
                        "addressInfo needs countryCode and postalCode with the hashed names.",
                        "address_info",
                    )
            for value in filter(None, hashes):
                if not _HASH.match(value) or value in self.invalid_hashes:
                    return (
                        "INVALID_SHA256_FORMAT",
                        "The SHA256 encoded value is malformed.",
                        ("user_identifiers"),
                    )
        return None

    def _run(self, name: str, job: dict) -> Reply:
        if job["status"] != "PENDING":
            return ads_error(
                400,
                "INVALID_ARGUMENT",
                "offlineUserDataJobError",
                "INVALID_JOB_STATUS",
                "The job has already been run.",
            )
        members = self.lists[job["list"]]
        for operation in job["operations"]:
            member = _member(_data(operation))
            if "create" in operation:
                members.add(member)
            else:
                members.difference_update({m for m in members if m & member})
        job["status"] = "SUCCESS"
        return Reply(
            200, {"name": f"{name.split('/offline')[0]}/operations/{secrets.token_hex(6)}"}
        )


def _data(operation: dict) -> dict:
    return operation.get("create") or operation.get("remove") or {}


def _member(user_data: dict) -> Member:
    pairs = []
    for identifier in user_data.get("userIdentifiers") or []:
        for key, value in identifier.items():
            pairs.append((key, tuple(sorted(value.items())) if isinstance(value, dict) else value))
    return frozenset(pairs)
