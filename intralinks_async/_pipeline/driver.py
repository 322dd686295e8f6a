"""The request pipeline's driver: admission, auth, one attempt, then retry or return.

One call goes through these stages, each in its own module or method:

1. admission: wait while the outage circuit is open (``circuit.py``,
   :meth:`Pipeline._through_circuit`), then take a send slot from the rate controller
   (``rate.py``; a counter unless pacing, else :meth:`Pipeline._queue`);
2. auth: the bearer token (``auth.py``: refreshed ahead, single flight);
3. build (``builder.py``) and send one attempt within the deadline (``attempt.py``);
4. decide (:meth:`Pipeline._after_answer` / :meth:`Pipeline._after_failure`): feed the rate
   controller and the circuit, then retry (with the wait the rules give) or return /
   raise. The rules are those of ``intralinks_async._retry``; the per-attempt hook
   (``hooks.py``) and DEBUG logging (``log.py``) see every attempt.

A new concern goes into the stage it belongs to; the driver only sequences them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Protocol

import anyio
import httpx

from intralinks_async._logging import SecretStr, logger
from intralinks_async._pipeline import log
from intralinks_async._pipeline.attempt import AttemptSender, DeadlineExceeded
from intralinks_async._pipeline.body import Body
from intralinks_async._pipeline.builder import QueryParams, RequestBuilder
from intralinks_async._pipeline.circuit import Circuit
from intralinks_async._pipeline.failures import (
    body_started,
    connection_error,
    raise_connection_error,
)
from intralinks_async._pipeline.hooks import AttemptHook, AttemptRecord, emit
from intralinks_async._pipeline.rate import RateController
from intralinks_async._response import OPERATION_EXTENSION
from intralinks_async._retry import RetryPolicy, fatal_connect_error
from intralinks_async.auth import OAuth2Auth
from intralinks_async.errors import APITimeoutError, ServiceUnavailableError, redact_url

__all__ = ["ATTEMPTS_EXTENSION", "OPERATION_EXTENSION", "Call", "Pipeline", "PipelineHost"]

#: ``response.extensions`` key: how many times the request was sent.
ATTEMPTS_EXTENSION: Final = "intralinks_attempts"
_DEBUG: Final = 10  # logging.DEBUG


class PipelineHost(Protocol):
    """What the driver needs from the client (or ``with_options`` view) sending a call."""

    _sleep: Callable[[float], Awaitable[None]]
    _extensions: dict[str, object]
    _oauth: OAuth2Auth | None
    auth: httpx.Auth | None

    def _get_transport(self) -> httpx.AsyncBaseTransport: ...


class Call:
    """The state of one call across its attempts."""

    __slots__ = (
        "attempts",
        "authenticated",
        "body",
        "deadline",
        "gated",
        "headers",
        "method",
        "operation",
        "params",
        "path",
        "policy",
        "probe",
        "replayed_401",
        "retries",
        "stream",
        "throttles",
    )

    def __init__(
        self,
        method: str,
        path: str,
        operation: str,
        params: QueryParams | None,
        body: Body,
        headers: Mapping[str, str] | None,
        authenticated: bool,
        stream: bool,
        policy: RetryPolicy,
        gated: bool = True,
    ) -> None:
        self.method = method
        self.path = path
        self.operation = operation
        self.params = params
        self.body = body
        self.headers = headers
        self.authenticated = authenticated
        self.stream = stream
        self.policy = policy
        self.gated = gated  # through the circuit and the rate controller (not token calls)
        self.attempts = 0
        self.retries = 0  # retries that used up max_retries
        self.throttles = 0  # 429 retries (free)
        self.replayed_401 = False
        self.probe = False
        self.deadline: float | None = None


class Pipeline:
    """Sends calls for one client and its ``with_options`` views (shared state: the rate
    controller, the circuit, the request builder and the hooks)."""

    def __init__(
        self,
        *,
        builder: RequestBuilder,
        sender: AttemptSender,
        rate: RateController,
        circuit: Circuit,
        on_attempt: list[AttemptHook],
    ) -> None:
        self.builder = builder
        self.sender = sender
        self.rate = rate
        self.circuit = circuit
        self.on_attempt = on_attempt
        self.now: Callable[[], float] = self._detect_clock
        rate.clock = circuit.clock = self._clock

    def _clock(self) -> float:
        return self.now()

    def _detect_clock(self) -> float:
        """Pick the event loop's clock on first use (asyncio: time.monotonic; trio: its own)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self.now = anyio.current_time
        else:
            self.now = time.monotonic
        return self.now()

    # -- the loop ---------------------------------------------------------------------------

    async def send(self, host: PipelineHost, call: Call) -> httpx.Response:
        """Run ``call`` to its final answer (returned whatever its status) or error.

        The common case (no throttling, no outage, a token in hand, a 2xx/3xx answer, no
        hook, no DEBUG logging) runs inline: admission is a counter, the decision two tests.
        """
        transport = host._get_transport()
        now = self.now()
        total = call.policy.total_timeout
        if total is not None:
            call.deadline = now + total
        rate = self.rate
        circuit = self.circuit
        oauth = host._oauth if call.authenticated else None
        generic_auth = host.auth if call.authenticated and oauth is None else None
        deadline = None if call.body.streamed else call.deadline
        try:
            while True:
                call.attempts += 1
                # 1. admission: the circuit, then the rate controller.
                if not call.gated:
                    sent_at = now
                elif circuit.open:
                    sent_at = await self._through_circuit(call)
                elif rate.reserve(now):
                    sent_at = now
                else:
                    sent_at = await self._queue(call)
                # 2. auth; 3. build and send one attempt.
                token: SecretStr | None = None  # wrapped: frame locals show in reports
                if oauth is not None:
                    token = SecretStr(oauth.fresh_token() or await oauth.get_token())
                request = self._build(host, call, token)
                try:
                    response = await self.sender.send(
                        transport, request, generic_auth, stream=call.stream, deadline=deadline
                    )
                except httpx.TransportError as exc:
                    await host._sleep(self._after_failure(call, request, exc, sent_at))
                    now = self.now()
                    continue
                except DeadlineExceeded:
                    raise self._deadline_error(call, request) from None
                # 4. decide.
                if (
                    response.status_code < 400
                    and not call.probe
                    and not self.on_attempt
                    and not logger.isEnabledFor(_DEBUG)
                ):
                    if call.gated:
                        rate.on_answer(sent_at)
                        if circuit.failures:
                            circuit.success()
                    response.extensions[ATTEMPTS_EXTENSION] = call.attempts
                    return response
                retry = await self._after_answer(host, call, request, response, token, sent_at)
                if retry is None:
                    return response
                if retry:
                    await host._sleep(retry)
                now = self.now()
        finally:
            if call.probe:  # the probe ended without an outcome (cancelled, failed early)
                self.circuit.probe_abandoned()

    # -- stages -----------------------------------------------------------------------------

    async def _through_circuit(self, call: Call) -> float:
        """Wait while the circuit is open (maybe as its probe), then take a rate slot."""
        try:
            call.probe = await self.circuit.wait(call.operation, call.deadline)
        except ServiceUnavailableError as exc:
            raise _with_attempts(exc, call.attempts - 1) from None
        now = self.now()
        return now if self.rate.reserve(now) else await self._queue(call)

    async def _queue(self, call: Call) -> float:
        """Queue for the rate controller's next send slot; return the send time."""
        try:
            return await self.rate.wait_turn(call.deadline)
        except TimeoutError:
            raise APITimeoutError(
                f"overall deadline of {call.policy.total_timeout}s passed while waiting for "
                "the rate controller's next send slot",
                operation=call.operation,
                method=call.method,
                attempts=max(call.attempts - 1, 1),
            ) from None

    def _build(self, host: PipelineHost, call: Call, token: SecretStr | None) -> httpx.Request:
        """This attempt's request, with the bearer token when the call carries one."""
        request = self.builder.build(
            call.method,
            call.path,
            call.params,
            call.body,
            call.headers,
            None if token is None else "Bearer " + token.get_secret_value(),
            host._extensions,
        )
        request.extensions[OPERATION_EXTENSION] = call.operation
        if logger.isEnabledFor(_DEBUG):
            log.log_request(request, call.operation, call.attempts)
        return request

    def _deadline_error(self, call: Call, request: httpx.Request) -> APITimeoutError:
        return APITimeoutError(
            f"overall deadline of {call.policy.total_timeout}s exceeded",
            operation=call.operation,
            method=request.method,
            url=request.url,
            attempts=call.attempts,
        )

    def _after_failure(
        self, call: Call, request: httpx.Request, exc: httpx.TransportError, sent_at: float
    ) -> float:
        """A transport failure: return the wait before the next attempt, or raise."""
        policy = call.policy
        fatal = fatal_connect_error(exc)
        unknown = (
            not fatal
            and call.method not in policy.idempotent_methods
            and body_started(request, exc)
        )
        probe, call.probe = call.probe, False
        if call.gated and not fatal:
            self.circuit.failure(probe, call.operation, id(call))
            if self.circuit.exhausted():
                raise _with_attempts(self.circuit.unavailable(call.operation), call.attempts)
        delay: float | None = None
        budgeted = False
        if (
            not fatal
            and not unknown
            and policy.max_retries
            and policy.retry_error(call.method, exc, replayable=call.body.replayable)
        ):
            if call.gated and self.circuit.open:
                delay = 0.0  # wait on the circuit, not on this call's retry budget
            elif call.retries < policy.max_retries:
                delay = policy.backoff(call.retries + 1)
                budgeted = True
            if delay is not None and not self._in_time(call, delay):
                delay = None
        if self.on_attempt:
            self._record(call, request, None, exc, sent_at, throttled=False, retry_in=delay)
        if delay is None:
            error = connection_error(
                exc, request, call.operation, call.attempts, outcome_unknown=unknown
            )
            raise_connection_error(error, exc)
            raise AssertionError("unreachable")  # pragma: no cover
        if budgeted:
            call.retries += 1
        if logger.isEnabledFor(_DEBUG):
            log.log_retry(request, call.operation, delay, type(exc).__name__, call.attempts)
        return delay

    async def _after_answer(
        self,
        host: PipelineHost,
        call: Call,
        request: httpx.Request,
        response: httpx.Response,
        token: SecretStr | None,
        sent_at: float,
    ) -> float | None:
        """An answer: None to return it, else the wait before the next attempt."""
        status = response.status_code
        if logger.isEnabledFor(_DEBUG):
            log.log_response(response, request, call.operation, call.attempts)
        throttled = status == 429 or (status == 503 and "retry-after" in response.headers)
        probe, call.probe = call.probe, False
        if call.gated:
            if throttled:
                self.rate.on_throttle(sent_at, self.now())
            else:
                self.rate.on_answer(sent_at)
            if status >= 500:
                self.circuit.failure(probe, call.operation, id(call))
                if self.circuit.exhausted():
                    await response.aclose()
                    error = self.circuit.unavailable(call.operation)
                    raise _with_attempts(error, call.attempts)
            else:
                self.circuit.success(probe)
        if (
            status == 401
            and token is not None
            and not call.replayed_401
            and await self._replay_401(host, call, response, token)
        ):
            return 0.0
        delay = self._status_delay(call, response) if status >= 408 else None
        if self.on_attempt:
            self._record(call, request, response, None, sent_at, throttled, retry_in=delay)
        if delay is None:
            response.extensions[ATTEMPTS_EXTENSION] = call.attempts
            return None
        await response.aclose()
        if logger.isEnabledFor(_DEBUG):
            log.log_retry(request, call.operation, delay, f"HTTP {status}", call.attempts)
        return delay

    def _status_delay(self, call: Call, response: httpx.Response) -> float | None:
        """The wait before retrying after ``response``'s status, None when not retried."""
        policy = call.policy
        status = response.status_code
        if (
            not policy.max_retries
            or status not in policy.retry_statuses
            or not policy.retry_status(call.method, status, replayable=call.body.replayable)
        ):
            return None
        if status == 429:  # throttled: waits do not use up max_retries
            delay = policy.delay(call.throttles + 1, response.headers)
            if not self._in_time(call, delay):
                return None
            call.throttles += 1
            return delay
        if status >= 500 and call.gated and self.circuit.open:
            return 0.0  # the circuit paces the retry (a probe at a time)
        if call.retries >= policy.max_retries:
            return None
        delay = policy.delay(call.retries + 1, response.headers)
        if not self._in_time(call, delay):
            return None
        call.retries += 1
        return delay

    async def _replay_401(
        self, host: PipelineHost, call: Call, response: httpx.Response, token: SecretStr
    ) -> bool:
        """Refresh the token after a 401; True to replay the call once with the new one."""
        oauth = host._oauth
        if oauth is None:
            return False
        try:
            # Refresh even when the body cannot be replayed (a streamed upload): the
            # caller's next request must not meet the same dead token.
            replacement = await oauth.on_unauthorized(token)
        except BaseException:
            await response.aclose()
            raise
        if replacement is None or not call.body.replayable:
            return False
        call.replayed_401 = True
        await response.aclose()
        if logger.isEnabledFor(_DEBUG):
            logger.debug("401 for %s: token refreshed, replaying once", call.operation)
        return True

    def _in_time(self, call: Call, delay: float) -> bool:
        return call.deadline is None or self.now() + delay < call.deadline

    def _record(
        self,
        call: Call,
        request: httpx.Request,
        response: httpx.Response | None,
        exc: BaseException | None,
        sent_at: float,
        throttled: bool,
        retry_in: float | None,
    ) -> None:
        emit(
            self.on_attempt,
            AttemptRecord(
                operation=call.operation,
                method=call.method,
                url=redact_url(request.url) or "",
                attempt=call.attempts,
                status=None if response is None else response.status_code,
                exception=exc,
                elapsed=self.now() - sent_at,
                throttled=throttled,
                retry_in=retry_in,
            ),
        )


def _with_attempts(error: ServiceUnavailableError, attempts: int) -> ServiceUnavailableError:
    """``error`` carrying how many times the call was sent (reports count retries from it)."""
    setattr(error, "attempts", max(attempts, 1))  # noqa: B010 (not a declared field)
    return error
