"""``/health`` and ``/metrics`` (no token needed: health checks and Prometheus call them) and
``/v1/stats``: the process's figures.

``/health`` answers 503 ``starting`` until the gateway is ready (the API bound, every
robot's inbox consumer reading and its first session attempt made), then 200 ``ok``:
a container's health check and a load balancer take it as the gateway's readiness."""

# No ``from __future__ import annotations``: FastAPI reads the route annotations.
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from robovox.gateway.http.deps import DispatchTimes, EventsDropped, LoopLag, OperatorOnly, Ready, Robots
from robovox.shared.metrics import CONTENT_TYPE, render
from robovox.shared.session import SessionState

router = APIRouter()


class Health(BaseModel):
    status: str
    robots: int
    live: int


class Stats(BaseModel):
    robots: int
    live: int
    loop_lag_p50_ms: float
    loop_lag_p99_ms: float
    loop_lag_max_ms: float
    loop_lag_samples: int
    dispatch_p50_ms: float
    dispatch_p99_ms: float
    dispatch_samples: int
    """Function calls timed from their arrival on the data channel to their entry in Redis."""
    events_dropped: int


@router.get("/health")
async def health(robots: Robots, ready: Ready, response: Response) -> Health:
    live = sum(1 for r in robots.values() if r.state is SessionState.LIVE)
    if not ready.is_set():
        response.status_code = 503
        return Health(status="starting", robots=len(robots), live=live)
    return Health(status="ok", robots=len(robots), live=live)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """Every series of this process, and the gateway's streams read now (Prometheus' text format)."""
    return Response(await render(request.app.state.stream_figures), media_type=CONTENT_TYPE)


@router.get("/v1/stats", dependencies=[OperatorOnly])
async def stats(
    robots: Robots, loop_lag: LoopLag, dispatch_ms: DispatchTimes, events_dropped: EventsDropped, reset: bool = False
) -> Stats:
    """Process figures; ``reset=true`` starts new windows after reading these."""
    result = Stats(
        robots=len(robots),
        live=sum(1 for r in robots.values() if r.state is SessionState.LIVE),
        loop_lag_p50_ms=loop_lag.percentile(0.5),
        loop_lag_p99_ms=loop_lag.percentile(0.99),
        loop_lag_max_ms=loop_lag.percentile(1.0),
        loop_lag_samples=loop_lag.count,
        dispatch_p50_ms=dispatch_ms.percentile(0.5),
        dispatch_p99_ms=dispatch_ms.percentile(0.99),
        dispatch_samples=dispatch_ms.count,
        events_dropped=events_dropped,
    )
    if reset:
        loop_lag.reset()
        dispatch_ms.reset()
    return result
