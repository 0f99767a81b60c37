import os

import pytest

from app.main import decide, models
from tests.test_health import get

MODEL = os.environ.get("OLLAMA_MODEL", "llama3.2:3b-instruct-fp16")


def test_the_model_is_pulled() -> None:
    assert MODEL in models(os.environ["OLLAMA_HOST"])


def test_analyze_gives_a_signal_from_the_model(api: str) -> None:
    status, body = get(f"{api}/api/v1/analyze?asset=BTCUSD&change=-3.5")
    assert status == 200
    assert body == {"asset": "BTCUSD", "action": "BUY", "model": MODEL, "platform": "mock", "signal_only": True}


def test_analyze_refuses_a_bad_change(api: str) -> None:
    assert get(f"{api}/api/v1/analyze?change=lots")[0] == 422


@pytest.mark.parametrize(("change", "action"), [(2.5, "SELL"), (-2, "BUY"), (0.4, "HOLD")])
def test_decisions(change: float, action: str) -> None:
    assert decide("ETHUSD", change) == action
