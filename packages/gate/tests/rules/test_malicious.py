"""Hostile rule files (RELIABILITY section 4, row 20) are refused fast and cleanly.

Each must raise RuleLoadError, never RecursionError or anything else, within 100 ms:
a bound on the work an attacker can cause at load, not a benchmark.
"""

import time

import pytest

from trading_gate.rules import RuleLoadError, load_rules, parse_rules
from trading_gate.rules.limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, MAX_RULE_BYTES

HEADER = 'rule "r"\n  id r\n  author "human:alice"\n  created 2026-11-30\n  when '
BOUND_S = 0.100

MALICIOUS = {
    "nesting 10^5 deep": (HEADER + "(" * 10**5 + "true" + ")" * 10**5 + "\n  deny", "bytes"),
    "nesting 33 deep": (HEADER + "(" * 33 + "true" + ")" * 33 + "\n  deny", "nested deeper"),
    # Refused by counting operators before lark parses anything (each is a node).
    "1000 nots": (HEADER + "not " * 1000 + "true\n  deny", "more than 512 operators"),
    "900-term chain": (HEADER + "1 + " * 900 + "1 > 0\n  deny", "more than 512 operators"),
    "depth 40 in 40 operators": (HEADER + "not " * 40 + "true\n  deny", "nested deeper than 32"),
    "600 nodes": (HEADER + "1 < 2 and " * 200 + "true\n  deny", "more than 512 nodes"),
    "10^6-digit literal": (HEADER + "1 > " + "9" * 10**6 + "\n  deny", "bytes"),
    "1000-digit literal": (HEADER + "order.notional_usd > " + "9" * 1000 + "\n  deny", "digits"),
    "1e999999": (HEADER + "order.notional_usd > 1e999999\n  deny", "exponent"),
    "exponent of 4000 digits": (HEADER + "order.notional_usd > 1e" + "9" * 3000 + "\n  deny", "ex"),
    "NUL byte": (HEADER + "true\x00\n  deny", "NUL byte at byte offset 71"),
    "__class__": (HEADER + "__class__ == 1\n  deny", "not allowed"),
    "dunder chain": (HEADER + "order.__class__.__subclasses__ == 1\n  deny", "not allowed"),
    "10^6-term expression": (HEADER + " + ".join(["1"] * 10**6) + " > 0\n  deny", "bytes"),
    "huge file": ("# padding\n" * 10**6, "bytes"),
    "huge rule": (HEADER + "true or " * 600 + "true\n  deny", "bytes; the limit is 4096"),
    "unterminated string flood": (HEADER + '"' * 3001 + "\n  deny", "unexpected"),
    "control character": (HEADER + 'order.product == "a\x07b"\n  deny', "string"),
}


@pytest.mark.parametrize("name", MALICIOUS)
def test_load_rules_when_malicious_then_refused_fast(name: str) -> None:
    """Refused with a RuleLoadError naming the limit, in under 100 ms."""
    text, fragment = MALICIOUS[name]
    load_rules(HEADER + "true\n  deny\n", source="warm.rule", tier="core")  # warm caches

    start = time.perf_counter()
    with pytest.raises(RuleLoadError) as raised:
        load_rules(text, source="evil.rule", tier="core")
    elapsed = time.perf_counter() - start

    assert elapsed < BOUND_S, f"{name}: {elapsed * 1000:.1f} ms"
    assert any(fragment in p.message for p in raised.value.problems), raised.value.problems


def test_limits_when_just_inside_then_loaded() -> None:
    """The limits are not off by one: depth 32 brackets and a 30-digit literal load."""
    nested = "(" * (MAX_DEPTH - 2) + "order.post_only" + ")" * (MAX_DEPTH - 2)
    digits = "order.notional_usd > " + "9" * 30 + " and order.notional_usd > 1e-30"

    rules = load_rules(HEADER + f"{nested} and {digits}\n  deny\n", source="ok", tier="core")

    assert len(rules) == 1


def test_limits_are_the_documented_figures() -> None:
    """The figures of RELIABILITY section 5 and the brief, so a change is deliberate."""
    assert (MAX_FILE_BYTES, MAX_RULE_BYTES, MAX_DEPTH, MAX_NODES) == (65536, 4096, 32, 512)


def test_parse_rules_when_file_exactly_at_the_limit_then_size_is_not_the_problem() -> None:
    """A file of exactly 64 KiB passes the size check (the limit is inclusive)."""
    rule = HEADER + "true\n  deny\n"
    text = rule + "#" * (MAX_FILE_BYTES - len(rule) - 1) + "\n"

    assert len(text.encode()) == MAX_FILE_BYTES
    assert len(parse_rules(text, source="big")) == 1
    with pytest.raises(RuleLoadError, match="65537 bytes"):
        parse_rules(text + " ", source="big")


def test_nul_offset_when_multibyte_text_before_then_counted_in_bytes() -> None:
    """The NUL's offset is in bytes, as a hex dump shows it, not in characters."""
    text = "# é\x00"

    with pytest.raises(RuleLoadError, match="byte offset 4"):
        parse_rules(text, source="x")


def test_load_rules_when_many_comment_lines_follow_a_rule_then_fast_and_loaded() -> None:
    """Trailing comments are trimmed line by line in linear time, and do not count
    towards the rule's size."""
    text = HEADER + "true\n  deny\n" + "#\n" * 30_000

    start = time.perf_counter()
    rules = load_rules(text, source="comments.rule", tier="core")

    assert time.perf_counter() - start < BOUND_S
    assert rules[0].source_text.endswith("deny")
