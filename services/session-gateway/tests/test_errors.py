"""Every error the gateway defines derives from GatewayError (itself a RoboVoxError) and is named ``...Error``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from openai.types.realtime import RealtimeError, RealtimeErrorEvent

import robovox.gateway
from robovox.gateway.errors import ApiError, ApiErrorCode, GatewayError
from robovox.shared.errors import RoboVoxError


def gateway_exceptions() -> list[type[BaseException]]:
    found: list[type[BaseException]] = []
    for module in pkgutil.walk_packages(robovox.gateway.__path__, "robovox.gateway."):
        if module.name.endswith("__main__"):
            continue
        for _name, value in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if issubclass(value, BaseException) and value.__module__.startswith("robovox.gateway"):
                found.append(value)
    return list(dict.fromkeys(found))


def test_every_gateway_error_derives_from_gateway_error_and_ends_in_error() -> None:
    errors = gateway_exceptions()
    assert len(errors) >= 10
    for error in errors:
        assert issubclass(error, GatewayError), error
        assert error.__name__.endswith("Error"), error
    assert issubclass(GatewayError, RoboVoxError)


def test_an_api_error_is_told_over_http_and_on_the_data_channel_in_openais_shapes() -> None:
    error = ApiError(ApiErrorCode.TOO_MANY_CLIENTS, "robot r already has 8 clients")
    assert error.status == 429
    assert error.http_body() == {
        "error": {"message": "robot r already has 8 clients", "type": "invalid_request_error", "param": None,
                  "code": "too_many_clients"},
    }  # fmt: skip
    refused = ApiError(ApiErrorCode.NOT_MIC_HOLDER, "only the holder", "type").event("evt_1")
    parsed = RealtimeErrorEvent.model_validate(refused)
    assert parsed.event_id.startswith("event_") and parsed.event_id == refused["event_id"]
    assert refused["error"] == {
        "type": "invalid_request_error", "code": "not_mic_holder", "message": "only the holder", "param": "type",
        "event_id": "evt_1",
    }  # fmt: skip
    assert set(refused) == set(RealtimeErrorEvent.model_fields)
    assert set(refused["error"]) == set(RealtimeError.model_fields)
    failed = ApiError(ApiErrorCode.SERVER_ERROR, "the gateway could not handle this event")
    assert failed.http_body()["error"]["type"] == failed.event(None)["error"]["type"] == "server_error"
    # Each event gets an id of its own.
    assert ApiError(ApiErrorCode.MIC_HELD, "held").event(None)["event_id"] != refused["event_id"]
