"""Provider settings: parsed strictly, keys from the environment, prices per model."""

import pytest

from regen.engine.llm.client import Price
from regen.engine.llm.providers import ProviderConfigError, parse_providers, split_model


def parse(raw, environ=None):
    return parse_providers(raw, environ=environ or {}, defaults={"read_timeout": 30.0})


def test_a_provider_reads_its_key_from_the_named_variable_and_its_prices_per_model():
    providers = parse(
        {
            "vllm": {
                "base_url": "http://10.0.0.5:8000/v1/",
                "api_key_env": "VLLM_KEY",
                "models": {"Qwen/Qwen2.5-7B": [0, 0], "big": {"input": 2.5, "output": 10}},
                "read_timeout": 120,
            }
        },
        environ={"VLLM_KEY": "sk-local"},
    )
    vllm = providers["vllm"]
    assert vllm.base_url == "http://10.0.0.5:8000/v1"
    assert vllm.api_key == "sk-local"
    assert vllm.read_timeout == 120.0
    assert vllm.price("big") == Price(2.5, 10.0)
    assert vllm.default_model == "Qwen/Qwen2.5-7B"
    assert "sk-local" not in repr(vllm)


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"a/b": {"base_url": "http://x/v1", "models": {"m": [0, 0]}}},
        {"a": {"models": {"m": [0, 0]}}},
        {"a": {"base_url": "http://x/v1", "models": {}}},
        {"a": {"base_url": "http://x/v1", "models": {"m": [1]}}},
        {"a": {"base_url": "http://x/v1", "models": {"m": [-1, 1]}}},
        {"a": {"base_url": "http://x/v1", "models": {"m": [True, 1]}}},
        {"a": {"base_url": "http://x/v1", "models": {"m": [0, 0]}, "read_timeout": "slow"}},
    ],
)
def test_malformed_settings_are_refused_with_a_reason(raw):
    with pytest.raises(ProviderConfigError):
        parse(raw)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("openai/gpt-4o-mini", ("openai", "gpt-4o-mini")),
        ("vllm/Qwen/Qwen2.5-7B", ("vllm", "Qwen/Qwen2.5-7B")),
        ("gpt-4o-mini", None),
        ("/gpt", None),
        ("openai/", None),
    ],
)
def test_a_model_name_splits_at_its_first_slash(name, parts):
    assert split_model(name) == parts
