"""Where each parameter value comes from: the grammar of the schema's ``source`` strings, the sources of values
that the schema's default lists set per element, and the reasons scenario files give in comments.

A field's ``source`` (``market.config.F``) is one of:

* ``<calibration key>[, <key>…][: note]`` — a row of ``market/data/calibration.csv`` (kind ``calibration``);
* ``DERIVED: <arithmetic on calibration keys>`` (kind ``derived``);
* ``assumption: <reason>`` (kind ``assumption``; a bare "assumption" is refused);
* ``DESIGN.md <section or question>[: note]`` — a switch or choice that exists to test a design question
  (kind ``design``);
* ``<module>.<name> (<note>)`` — a value computed in ``market/<module>.py`` from calibration rows (kind ``code``);
* ``<Authors> (<year>) …`` — a published method (kind ``literature``);
* ``label: <what it names>`` — text that names something and changes no mechanism (kind ``label``);
* ``estimated by tokenmarket calibrate against <targets file> (fit: <summary>)`` — a value estimated by
  simulated moments against dated public paths (kind ``estimated``; written by ``tokenmarket calibrate`` into
  the calibrated scenario it produces). The targets file name is not checked as prose; the rest is.

Every snake_case word in a source must name something real: a calibration key, a prefix of keys written
``prefix_*``, a config field or a choice value. :func:`resolve_source` raises :class:`SourceError` otherwise,
so a mistyped or deleted calibration key cannot hide in prose.
"""

from __future__ import annotations

import difflib
import importlib
import re
from dataclasses import dataclass
from typing import Any

from market import calibration, path_targets
from market.config import schema_names

_SNAKE = re.compile(r"(?<![\w.])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(_\*)?(?![\w])")
_CODE = re.compile(r"^([a-z_]+)\.([a-z_][a-z0-9_]*)\b")
_LITERATURE = re.compile(r"^[A-Z][^:]*\(\d{4}\)")
_LEADING_KEY = re.compile(r"^([a-z][a-z0-9_]*)(?=[\s,:;(]|$)")
ESTIMATED_PREFIX = "estimated by tokenmarket calibrate against "
_ESTIMATED = re.compile(r"^" + re.escape(ESTIMATED_PREFIX) + r"(\S+) \(fit: [^)]+\)")


class SourceError(ValueError):
    """A source string that does not resolve: unknown calibration key, unknown name, missing reason."""


@dataclass(frozen=True)
class Source:
    """A resolved source.

    Attributes:
        kind: calibration | derived | assumption | design | code | literature | label | estimated | scenario |
            override.
        text: the source as written.
        keys: calibration keys it cites, in order of first mention (the first is the main one for ``calibration``).
    """

    kind: str
    text: str
    keys: tuple[str, ...] = ()

    def titles(self) -> str:
        """``source_title`` of each cited key, joined by " | " (titles contain semicolons; empty without keys)."""
        return " | ".join(calibration.row(k)["source_title"] for k in self.keys)

    def dates(self) -> str:
        """``as_of`` of each cited key, joined by " | "."""
        return " | ".join(calibration.row(k)["as_of"] for k in self.keys)


def cited_keys(text: str, allow: frozenset[str] | set[str] = frozenset()) -> tuple[str, ...]:
    """Calibration keys cited in ``text`` (prose, a comment or a source), in order of first mention.

    Raises:
        SourceError: a snake_case word that is neither a calibration key, nor ``prefix_*`` of keys, nor a key of
            the dated paths, nor a config field or choice name, nor in ``allow`` (the message suggests close keys).
            In an ``estimated by tokenmarket calibrate against <file>`` source the file name is skipped.
    """
    keys = set(calibration.keys())
    paths = set(path_targets.keys())
    cited: list[str] = []
    if (est := _ESTIMATED.match(text)) is not None:  # a file name is not prose
        text = text[:est.start(1)] + text[est.end(1):]
    for m in _SNAKE.finditer(text):
        word, glob = m.group(1), m.group(2)
        if glob:
            if not any(k.startswith(word + "_") for k in keys):
                raise SourceError(f"{word}_* matches no calibration key (in {text!r})")
        elif word in keys:
            if word not in cited:
                cited.append(word)
        elif word not in schema_names() and word not in allow and word not in paths:
            close = difflib.get_close_matches(word, keys, n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SourceError(f"{word!r} is neither a calibration key nor a config name (in {text!r}){hint}")
    return tuple(cited)


def resolve_source(text: str) -> Source:
    """Classify a source string and check that everything it cites exists.

    Args:
        text: a ``source`` as written in the schema, in :data:`VALUE_SOURCES` or a scenario comment.

    Returns:
        :class:`Source` with its kind and cited calibration keys.

    Raises:
        SourceError: empty source, "assumption" without a reason, a leading calibration key that is not in the
            table, a ``DERIVED`` source citing no key, a code reference to nothing, or any snake_case word that
            is neither a calibration key nor a config name.
    """
    text = (text or "").strip()
    if not text:
        raise SourceError("empty source")
    allow: set[str] = set()
    if text.lower().startswith("assumption"):
        head, _, reason = text.partition(":")
        if head.strip().lower() != "assumption" or not reason.strip():
            raise SourceError(f"{text!r}: write 'assumption: <reason>'")
        kind = "assumption"
    elif text.startswith("DERIVED:"):
        kind = "derived"
    elif text.startswith("DESIGN.md"):
        kind = "design"
    elif text.startswith("label:"):
        kind = "label"
    elif text.startswith(ESTIMATED_PREFIX.split(" against")[0]):
        if _ESTIMATED.match(text) is None:
            raise SourceError(f"{text!r}: write '{ESTIMATED_PREFIX}<targets file> (fit: <summary>)'")
        kind = "estimated"
    elif (code := _CODE.match(text)) is not None:
        module, name = code.groups()
        try:
            target = importlib.import_module(f"market.{module}")
        except ModuleNotFoundError:
            raise SourceError(f"{text!r}: no module market.{module}") from None
        if not hasattr(target, name):
            raise SourceError(f"{text!r}: market.{module} has no {name!r}")
        allow.add(name)
        kind = "code"
    elif _LITERATURE.match(text):
        kind = "literature"
    elif (lead := _LEADING_KEY.match(text)) is not None:
        try:
            calibration.row(lead.group(1))
        except KeyError as err:
            raise SourceError(f"{text!r}: {err.args[0]}") from None
        kind = "calibration"
    else:
        raise SourceError(f"{text!r}: not a calibration key, 'DERIVED:', 'assumption: …', 'DESIGN.md …', "
                          "'label: …', 'estimated by tokenmarket calibrate …', a market module reference or a "
                          "literature reference")
    keys = cited_keys(text, allow)
    if kind == "derived" and not keys:
        raise SourceError(f"{text!r}: a DERIVED source must cite the calibration keys it is computed from")
    return Source(kind, text, keys)


# Values the schema's default lists and nested defaults (``_default_labs``, ``_default_segments``, the lambdas of
# ``LabConfig.api_policy`` and the like) set where they differ from the field's own default, by field path and
# value. Keyed by value, so a scenario restating a default value (a [[labs]] table copies every lab) keeps its
# source. Fields without a default (segments) are covered by the field's own source.
_BLEND = "blended at DeepSeek's 78:22 input:output mix"
_VALUE_PRICING = "assumption: subscriptions are value-priced from customers' willingness to pay (logit best response)"
VALUE_SOURCES: dict[str, dict[Any, str]] = {
    "customers.segments[].reconsider_prob": {
        0.08: "assumption: consumers look around a little less often than the average customer",
        0.12: "assumption: developers try new models often",
        0.05: "assumption: enterprises re-tender rarely (yearly contracts)"},
    "customers.segments[].reconsider_prob_news": {
        0.25: "assumption: about three times the base rate after a price rise or a launch",
        0.35: "assumption: about three times the base rate after a price rise or a launch",
        0.15: "assumption: about three times the base rate after a price rise or a launch"},
    "customers.segments[].aware0": {
        0.9: "assumption: nearly every developer had tried an AI assistant or API by mid-2024",
        0.7: "assumption: most enterprises had piloted AI by mid-2024"},
    "customers.segments[].quality_exponent": {
        2.0: "assumption: professional users value quality near the frontier more steeply than consumers"},
    "customers.segments[].api_capable": {True: "assumption: developers and enterprises can build on an API"},
    "labs[].funding": {"self_funded": "DESIGN.md Q6: a giant with another cash business",
                       "efficient": "DESIGN.md Q6: an efficient low-cost lab that publishes its costs and weights"},
    "labs[].quality": {0.97: "assumption: the giant's model starts a little behind the frontier",
                       0.93: "assumption: the efficient lab's model starts a little further behind"},
    "labs[].cash_usd": {1e10: "assumption: the larger investor-funded lab holds twice a typical round",
                        2e10: "assumption: a giant's AI unit starts with more cash than a start-up",
                        1e9: "assumption: a small lab"},
    "labs[].brand_awareness": {
        0.9: "chatgpt_wau_2024_08: the app-first lab's chat app was the one most people knew",
        0.15: "assumption: the API-first lab's chat app was little known to consumers in 2024",
        0.45: "gemini_app_mau_2025_q2 against chatgpt_wau_2025_08: the giant's app reached about half as many",
        0.05: "assumption: the efficient lab's app was barely known before its 2025 release"},
    "labs[].vertical_quality": {
        (("coding", 1.1), ("customer_support", 1.05)): "assumption: the API-first lab's models lead at coding and "
                                                        "agentic work (its share of enterprise API spend in 2025 "
                                                        "surveys), a 10 % edge in coding"},
    "labs[].plans[].cap_mtok": {
        2.0: "assumption: the $20 plan covers a heavy consumer's or a light developer's month",
        40.0: "assumption: the $200 plan allows 20 times the $20 plan, as the top plans of 2025 did"},
    "labs[].plans[].price_usd_per_month": {
        200.0: "assumption: the $200 plans of late 2024-2025 (ChatGPT Pro, Claude Max)"},
    "labs[].tiers[].size_factor": {
        0.06: "DERIVED: 0.247 / 4.13, the small and frontier models' blended prices (price_gpt4o_mini_input_usd_per_m, "
              "price_gpt4o_mini_output_usd_per_m against price_gpt4o_2024_08_input_usd_per_m, "
              "price_gpt4o_2024_08_output_usd_per_m) taken as the ratio of their serving costs"},
    "labs[].tiers[].quality_factor": {
        0.85: "assumption: a small model scores about 15 % below its frontier sibling on broad evaluations"},
    "labs[].tiers[].price_usd_per_mtok": {
        0.247: f"price_gpt4o_mini_input_usd_per_m, price_gpt4o_mini_output_usd_per_m: 0.15 in / 0.6 out, {_BLEND}",
        5.61: f"price_claude35_sonnet_input_usd_per_m, price_claude35_sonnet_output_usd_per_m: 3 in / 15 out, {_BLEND}",
        0.5: f"price_claude3_haiku_input_usd_per_m, price_claude3_haiku_output_usd_per_m: 0.25 in / 1.25 out, {_BLEND}",
        3.15: f"price_gemini25_pro_input_usd_per_m, price_gemini25_pro_output_usd_per_m: 1.25 in / 10 out, {_BLEND}",
        0.15: f"price_gemini15_flash_input_usd_per_m, price_gemini15_flash_output_usd_per_m: 0.075 in / 0.3 out, {_BLEND}",
        0.45: f"price_deepseek_v3_input_usd_per_m, price_deepseek_v3_output_usd_per_m: 0.27 in / 1.1 out, {_BLEND}"},
    "labs[].compute_per_token": {
        1.0: "deepseek_daily_cost_usd: the cost curve is calibrated to DeepSeek-V3/R1 serving, so the efficient "
             "lab's model takes 1 × its GPU time per token by definition"},
    "labs[].training_share": {0.3: "assumption: deepseek_v3_training_cost_usd was small next to serving"},
    "labs[].training_gpus": {1e4: "deepseek_v3_training_gpu_hours: ≈ 2,000 GPUs for two months; a 10k cluster"},
    "labs[].training_efficiency": {
        3.0: "assumption: deepseek_v3_training_cost_usd suggests an efficient lab gets several times more per GPU"},
    "labs[].opex_usd_per_month": {1e7: "assumption: a lab of a few hundred people"},
    "labs[].parent_budget_usd_per_month": {
        9.4e9: "alphabet_q2_2025_net_income_usd: a third of a quarter's net income a month",
        1e8: "assumption: a quant-fund parent, far smaller than Alphabet"},
    "wrappers.plans[].cap_mtok": {
        5.0: "assumption: a $20 app plan covers a working developer's month",
        100.0: "assumption: the $200 app plan covers agentic use twenty times that"},
    "wrappers.plans[].price_usd_per_month": {
        200.0: "assumption: the $200 top plans of coding apps in 2025 (cursor_pro_price_usd_per_month's note)"},
}


# ------------------------------------------------------------------------------------- scenario comments

_HEADER = re.compile(r"^(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_LINE = re.compile(r"^([A-Za-z0-9_\-.\"']+)\s*=\s*(.*)$")


def _split_comment(rest: str) -> tuple[str, str]:
    """(value text, inline comment) of what follows ``key =``: the first ``#`` outside a string."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return rest[:i].strip(), rest[i + 1:].strip()
    return rest.strip(), ""


def scenario_comments(text: str) -> dict[str, tuple[str, str]]:
    """Reasons a scenario file gives in comments, by dotted path (array-of-tables elements by index).

    A comment block directly above a key is the reason of that key and of the keys right below it, up to a
    blank line; a comment at the end of a line adds to that line's reason (level ``"key"``; for an inline table
    such as ``api_policy = {…}`` it covers every field inside). A block directly above a
    table header is the table's reason (level ``"table"``); above ``[[labs]]`` it also covers the following
    ``[[labs]]`` tables until another header comment. A blank line ends a block.

    Args:
        text: the TOML file's text (assumed valid TOML; ``tomllib`` parses the values).

    Returns:
        {path: (level, comment)} with paths such as ``world.open_weight_lag_months`` or ``labs.0.api_policy``.
    """
    out: dict[str, tuple[str, str]] = {}
    pending: list[str] = []
    table, counts, carry = "", {}, {}
    closing: str | None = None
    after_key = False  # the pending block already covers the keys above: a new comment starts a new block
    for line in text.splitlines():
        s = line.strip()
        if closing is not None:  # inside a multi-line string
            closing = None if closing in s else closing
            continue
        if not s:
            pending, after_key = [], False
            continue
        if s.startswith("#"):
            pending = [] if after_key else pending
            pending.append(s.lstrip("#").strip())
            after_key = False
            continue
        head = _HEADER.match(s)
        if head is not None:
            name = head.group(2).strip()
            comment = " ".join(pending + ([head.group(3).lstrip("#").strip()] if head.group(3) else []))
            if head.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = f"{name}.{counts[name]}"
                carry[name] = comment or carry.get(name, "")
                comment = carry[name]
            else:
                table = name
            if comment:
                out[table] = ("table", comment)
            pending = []
            continue
        kv = _KEY_LINE.match(s)
        if kv is not None:
            key = kv.group(1).replace('"', "").replace("'", "")
            value, inline = _split_comment(kv.group(2))
            for delim in ('"""', "'''"):
                if value.startswith(delim) and value.count(delim) == 1:
                    closing = delim
            comment = " ".join(pending + ([inline] if inline else []))
            if comment:
                out[f"{table}.{key}" if table else key] = ("key", comment)
            after_key = True
            continue  # a comment block goes on covering the keys that follow it, up to a blank line
        pending = []
    return out


def comment_for(path: str, comments: dict[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The comment covering ``path``: its own or an enclosing inline table's (level ``"key"``), else the
    innermost table's (level ``"table"``); None if the file says nothing about it."""
    parts = path.split(".")
    tables = []
    for i in range(len(parts), 0, -1):
        found = comments.get(".".join(parts[:i]))
        if found is None:
            continue
        if found[0] == "key":
            return found
        tables.append(found)
    return tables[0] if tables else None
