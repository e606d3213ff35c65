from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from retention import services, sweeps
from retention.models import SweepRun


@require_http_methods(["GET", "POST"])
def keep_in_touch(request: HttpRequest, token: str) -> HttpResponse:
    """The re-permission link. GET only shows the question (mail scanners follow links);
    the explicit "yes" is the POST of its button. No login: the signed link is the proof."""
    repermission = services.repermission_from_token(token)
    if repermission is None:
        return render(request, "retention/keep_in_touch_expired.html", status=404)
    if request.method == "POST":
        services.keep_in_touch(repermission=repermission, now=timezone.now())
        return redirect(request.path + "?merci=1")
    return render(
        request,
        "retention/keep_in_touch.html",
        {"answered": repermission.answered_yes_at is not None or "merci" in request.GET},
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The database, Redis, and the age of each policy's last successful run; 503 when any
    is down or a policy has not succeeded within HEALTHZ_MAX_SWEEP_AGE_HOURS."""
    now = timezone.now()
    checks = {"database": _database_ok(), "redis": _redis_status()}
    healthy = checks["database"] == "ok" and checks["redis"] in ("ok", "not configured")
    max_age = settings.HEALTHZ_MAX_SWEEP_AGE_HOURS
    last = {}
    if checks["database"] == "ok":
        last = dict(
            SweepRun.objects.successful()
            .values("policy")
            .annotate(last=Max("finished_at"))
            .values_list("policy", "last")
        )
    policies = {}
    for name in sweeps.POLICIES:
        finished = last.get(name)
        age = None if finished is None else round((now - finished).total_seconds() / 3600, 2)
        fresh = age is not None and age <= max_age
        healthy = healthy and fresh
        policies[name] = {
            "last_success": finished.isoformat() if finished else None,
            "age_hours": age,
            "ok": fresh,
        }
    return JsonResponse(
        {
            "status": "ok" if healthy else "unhealthy",
            **checks,
            "max_sweep_age_hours": max_age,
            "sweeps": policies,
        },
        status=200 if healthy else 503,
    )


def _database_ok() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return "error"
    return "ok"


def _redis_status() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError:
        return "error"
    return "ok"
