"""Reference read service of the `/api/v1` contract (FastAPI, read-only).

It implements exactly ``openapi.yaml``: tenant-scoped list and get of every
resource, the tenant taken from the bearer token, rows read through the RLS-bound
role, a per-tenant Redis token bucket sized from the tenant's profile
(``rate_limit.cap_rpm``: what the platform enforces) answering 429 + Retry-After,
errors as problem+json. Smokes run against it; nothing ever writes through it.

Run: ``uvicorn seedbank.api.service:create_app --factory --port 8088`` (make up).
"""

# No `from __future__ import annotations`: FastAPI reads the routes' Annotated
# dependencies at definition time, and they name closures of create_app.

import base64
import binascii
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

import redis
from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.conninfo import conninfo_to_dict
from starlette.exceptions import HTTPException as StarletteHTTPException

from factories.spec import tenant_uuid
from seedbank.adapters.profiles import load_profile
from seedbank.adapters.ratelimit import TokenBucket, bucket_key
from seedbank.api.contract import ENTITY_RESOURCES, representation
from seedbank.api.counters import RequestLog
from seedbank.api.db import ConnectionPool, read_one, read_page
from seedbank.api.settings import ApiSettings
from seedbank.api.tokens import TenantScope, verify_token
from seedbank.domain.errors import DependencyUnavailable, ManifestError, ProfileNotFound
from seedbank.domain.models import DOMAIN_TABLES, column_names, table_name
from seedbank.settings import Settings

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{22}$"
_COLUMNS = {table_name(m): column_names(m) for m in DOMAIN_TABLES}


class Problem(Exception):
    """An RFC 9457 answer; ``detail`` never carries a record's field values."""

    def __init__(
        self, status: int, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.headers = status, title, detail, headers


def problem_response(exc: Problem) -> JSONResponse:
    body = {"type": "about:blank", "title": exc.title, "status": exc.status, "detail": exc.detail}
    return JSONResponse(body, exc.status, headers=exc.headers, media_type=PROBLEM)


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, {"WWW-Authenticate": 'Bearer realm="api/v1"'})


def encode_cursor(last: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(last.bytes).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(cursor + "=="))
    except (binascii.Error, ValueError):
        raise Problem(400, "Bad Request", "cursor is not one this service issued") from None


class Limits:
    """Per-tenant buckets sized from each tenant's profile, re-read every few seconds."""

    def __init__(self, settings: Settings, api: ApiSettings, client: redis.Redis) -> None:
        self._settings, self._api, self._redis = settings, api, client
        self._caps: dict[tuple[str, str], tuple[int, float]] = {}
        self._buckets: dict[tuple[str, str, int], TokenBucket] = {}

    def cap_rpm(self, scope: TenantScope) -> int:
        if self._api.cap_rpm_override is not None:
            return self._api.cap_rpm_override
        key = (scope.env, scope.tenant)
        cached = self._caps.get(key)
        if cached is not None and time.monotonic() - cached[1] < self._api.profile_ttl_seconds:
            return cached[0]
        try:
            loaded = load_profile(self._settings.profiles_dir, env=scope.env, tenant=scope.tenant)
        except ProfileNotFound:
            raise unauthorized("the token names no known tenant") from None
        except ManifestError:
            raise Problem(503, "Service Unavailable", "the tenant's profile is invalid") from None
        cap = loaded.manifest.rate_limit.cap_rpm
        self._caps[key] = (cap, time.monotonic())
        return cap

    def bucket(self, scope: TenantScope) -> TokenBucket:
        cap = self.cap_rpm(scope)
        key = (scope.env, scope.tenant, cap)
        if key not in self._buckets:
            per_s = cap / 60
            self._buckets[key] = TokenBucket(
                self._redis,
                bucket_key("api", env=scope.env, tenant=scope.tenant),
                capacity=max(1.0, per_s * self._api.burst_seconds),
                refill_per_s=per_s,
            )
        return self._buckets[key]


def create_app(
    settings: Settings | None = None,
    api: ApiSettings | None = None,
    redis_client: redis.Redis | None = None,
) -> FastAPI:
    settings = settings or Settings()
    api = api or ApiSettings()
    client = redis_client or redis.Redis.from_url(
        settings.redis_url, socket_timeout=2, socket_connect_timeout=2
    )
    pool = ConnectionPool(settings.database_url, api.pool_size)
    limits = Limits(settings, api, client)
    log = RequestLog()
    key = api.token_key.get_secret_value()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()

    app = FastAPI(
        title="seedbank reference read API",
        openapi_url=None,  # the contract is the packaged openapi.yaml, not a derived one
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )

    def authenticated(request: Request) -> TenantScope:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("send 'Authorization: Bearer <token>'")
        scope = verify_token(key, token.strip(), now=time.time())
        if scope is None:
            raise unauthorized("the token is invalid or expired")
        request.state.tenant_scope = scope
        return scope

    def rate_limited(scope: Annotated[TenantScope, Depends(authenticated)]) -> TenantScope:
        grant = limits.bucket(scope).take()
        if not grant.allowed:
            wait = max(1, math.ceil(grant.retry_after_s))
            raise Problem(
                429,
                "Too Many Requests",
                f"the tenant's rate limit of {limits.cap_rpm(scope)} requests/min is exhausted",
                {"Retry-After": str(wait)},
            )
        return scope

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        at = time.time()
        response = await call_next(request)
        scope: TenantScope | None = getattr(request.state, "tenant_scope", None)
        if scope is not None and not request.url.path.startswith(f"{PREFIX}/_meta/"):
            log.record(env=scope.env, tenant=scope.tenant, status=response.status_code, at=at)
        return response

    @app.exception_handler(Problem)
    async def on_problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(DependencyUnavailable)
    async def on_dependency(_: Request, exc: DependencyUnavailable) -> JSONResponse:
        return problem_response(Problem(503, "Service Unavailable", exc.message))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Name the parameter and the rule only: pydantic's messages may quote the input.
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        detail = f"{where} is invalid ({first.get('type', 'value_error')})"
        return problem_response(Problem(400, "Bad Request", detail))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Keep Starlette's headers: a 405 must carry Allow (RFC 9110).
        headers = dict(exc.headers or {})
        detail = str(exc.detail)
        return problem_response(Problem(exc.status_code, detail, detail, headers))

    served = str(conninfo_to_dict(settings.database_url).get("dbname", ""))

    @app.get(f"{PREFIX}/health")
    def health() -> JSONResponse:
        # The database's name (never its URL): a smoke can tell it is not looking at
        # the data it just seeded (a test's scratch database, another env).
        return JSONResponse({"status": "ok", "database": served})

    @app.get(f"{PREFIX}/_meta/counters")
    def counters(
        scope: Annotated[TenantScope, Depends(authenticated)],
        since: Annotated[float, Query(ge=0, le=1e11)] = 0.0,
    ) -> JSONResponse:
        return JSONResponse(log.snapshot(env=scope.env, tenant=scope.tenant, since=since))

    for entity, segment in ENTITY_RESOURCES.items():
        _add_resource(app, pool, entity, segment, rate_limited)
    return app


def _add_resource(
    app: FastAPI,
    pool: ConnectionPool,
    entity: str,
    segment: str,
    guard: Callable[..., TenantScope],
) -> None:
    columns = _COLUMNS[entity]
    label = entity.replace("_", " ")

    def list_page(
        scope: Annotated[TenantScope, Depends(guard)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
    ) -> JSONResponse:
        after = decode_cursor(cursor) if cursor is not None else None
        with pool.connection() as conn:
            rows = read_page(
                conn,
                tenant_id=tenant_uuid(scope.env, scope.tenant),
                table=entity,
                columns=columns,
                after=after,
                limit=limit,
            )
        items = [representation(entity, columns, row) for row in rows]
        more = len(rows) == limit
        cursor_out = encode_cursor(rows[-1][columns.index("id")]) if more else None
        return JSONResponse({"items": items, "next_cursor": cursor_out})

    def get_one(scope: Annotated[TenantScope, Depends(guard)], id: uuid.UUID) -> JSONResponse:
        with pool.connection() as conn:
            row = read_one(
                conn,
                tenant_id=tenant_uuid(scope.env, scope.tenant),
                table=entity,
                columns=columns,
                row_id=id,
            )
        if row is None:
            raise Problem(404, "Not Found", f"no {label} with this id for this tenant")
        return JSONResponse(representation(entity, columns, row))

    app.add_api_route(f"{PREFIX}/{segment}", list_page, methods=["GET"], name=f"list_{entity}")
    app.add_api_route(f"{PREFIX}/{segment}/{{id}}", get_one, methods=["GET"], name=f"get_{entity}")
