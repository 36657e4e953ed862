"""Secrets seen in traffic, masked in every event unless the user asks for them (`--show-secrets`).

One door, applied by the pipeline to every event before any output or observer sees it (`mask_event`),
so that a new detector cannot forget: what it writes under the usual field names is masked for it.
- `login`/`logins`: the password after a login's colon (`wallet.worker:x` -> `wallet.worker:********`),
  split exactly as identity/login.py reads it; wallet, worker and difficulty stay (they are evidence).
  Many miners send "x" or the worker name as password: masked all the same, since which is which cannot be
  known and a rule with exceptions would leak the one password that mattered.
- `password`/`passwords`: the whole value.
- any other string: URL userinfo passwords (`scheme://user:********@host`), values of password-like
  query/form parameters, JSON/YAML keys and command-line options (`token=********`, `"pass": "********"`,
  `--pass ********`, `-u user:********`), and Authorization/Cookie header values.
- `excerpt` (with `match`, the matched text, and `field` beside it): the same, except that a value holding
  the matched text is shown whole (an exploit in a password field is the attack's payload, the evidence);
  the value of a header whose name is secret-like (`http.header.authorization`, each cookie) as a whole.
Each event showing a mask says where in `secrets_masked` (a sorted list of dotted field paths).
Masking is idempotent: masking twice changes nothing more.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import ahocorasick
import orjson

from minerwatch.events import SECRET_MASK, Event
from minerwatch.identity import split_password

# A parameter, key or header name that holds a secret: it contains one of these words, or is one of the
# short names. Over-masking (`author`, `passport`) is the cheaper mistake.
_SECRET_WORD = r"(?:pass|pwd|secret|token|api[_-]?key|auth(?!or)|credential|session|cookie|private[_-]?key)"
_SHORT_NAME = r"(?:pw|key|sig|signature|sid|jwt)"
_NAME_CHAR = r"[\w.\-\[\]]"
# A name starts after no name character and no backslash, or right after an escaped line end (`\r\nCookie`).
_START = r"(?:(?<![\w.\-\[\]\\])|(?<=\\[rnt]))"
_NAME = rf"(?:{_NAME_CHAR}{{0,32}}?{_SECRET_WORD}{_NAME_CHAR}{{0,32}}|{_SHORT_NAME})"
_ESCAPE = r"\\[rnt]|\\x[0-9a-fA-F]{2}"  # escapes written by the exploit excerpts: a line ends there
_BARE = rf"(?:(?!{_ESCAPE})[^\s&\"'<>;,])+"
_TO_EOL = r"(?:(?!\\[rn])[^\r\n\"'])+"
_SCHEMES = r"(?:basic|bearer|digest|negotiate|ntlm|token|apikey|aws4-hmac-sha256)"
_RULES = re.compile(
    "|".join(
        (
            # Authorization and Cookie headers: the value to the end of the line (an auth scheme stays).
            rf"{_START}(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?(?:{_SCHEMES}\s+)?(?P<auth>{_TO_EOL})",
            rf"{_START}(?:set-)?cookie[\"']?\s*[:=]\s*[\"']?(?P<cookie>{_TO_EOL})",
            # URL userinfo: scheme://user:password@host
            r"[A-Za-z][A-Za-z0-9+.\-]{0,30}://[^\s/?#@:]{0,256}:(?P<userinfo>[^\s/?#]{0,256})@",
            # Miner and curl command lines: -p/--pass PASSWORD (not a port number), -u/-O user:password.
            r"(?<!\S)(?:-p|--pass|--password|--passwd)(?:[ \t]+|=)(?P<option>(?!\d{1,5}(?:\s|$))[^\s\"']+)",
            r"(?<!\S)(?:-u|--user|(?-i:-O)|--userpass)(?:[ \t]+|=)(?P<login>[^\s\"']+)",
            # name=value, "name": "value", name: value, SQL `PASSWORD 'value'`. A quoted name may follow
            # anything: `0"pass"=1` is masked as a mask before it (`********"pass"=1`) would make it.
            rf"(?:{_START}|(?=[\"']))(?P<q>[\"']?){_NAME}(?P=q)"
            r"(?:\s*=\s*|(?<=[\"'])\s*:\s*|:\s+|\s+(?=[\"']))"
            rf"(?:\"(?P<dq>(?:[^\"\\]|\\.)*)\"|'(?P<sq>(?:[^'\\]|\\.)*)'|(?P<bare>{_BARE}))",
        )
    ),
    re.IGNORECASE | re.ASCII,  # ASCII: a name matches only as its lower-case hint does
)
# Every rule needs one of these (lower case; an option after a space): a first look, one Aho-Corasick pass
# (pyahocorasick, ten times a regex's speed here), that spares most strings (hex, numbers, names) the rules
# and most events the walk, searched in their JSON form (escaping cannot hide an ASCII word).
HINTS = (
    *("pass", "pw", "secret", "token", "key", "auth", "credential", "session", "cookie", "sig", "sid", "jwt"),
    *(f"{before}{option}" for before in ' "\t\n\r\f\v' for option in ("-p", "-u", "-o", "--user")),
    "@",
    SECRET_MASK,  # a value masked before (an intel alert quotes a masked login): flagged again
)
_VALUE_GROUPS = ("auth", "cookie", "userinfo", "option", "dq", "sq", "bare")
_SECRET_HEADER = re.compile(
    rf"http\.header\.(?:(?P<cookie>(?:set-)?cookie)|{_NAME}|(?:proxy-)?authorization)", re.IGNORECASE
)
LOGIN_FIELDS = frozenset({"login", "logins"})
PASSWORD_FIELDS = frozenset({"password", "passwords"})

Span = tuple[int, int]


@cache
def _hints() -> ahocorasick.Automaton:
    automaton = ahocorasick.Automaton()
    for hint in HINTS:
        automaton.add_word(hint, hint)
    automaton.make_automaton()
    return automaton


def _hinted(text: str) -> bool:
    """Whether `text` holds a hint, i.e. whether any rule could match in it."""
    return next(_hints().iter(" " + text.lower()), None) is not None


def _spans(text: str) -> list[Span]:
    """Where the secret values of `text` are (start, end), in order, not overlapping."""
    spans: list[Span] = []
    if not _hinted(text):
        return spans
    for match in _RULES.finditer(text):
        if match["login"] is not None:
            password = split_password(match["login"])[2]
            if password:
                spans.append((match.end() - len(password), match.end()))
        elif match["cookie"] is not None:
            spans += _cookie_spans(text, *match.span("cookie"))
        else:
            group = next(g for g in _VALUE_GROUPS if match[g] is not None)
            if match.end(group) > match.start(group):
                spans.append(match.span(group))
    return spans


def _cookie_spans(text: str, start: int, end: int) -> list[Span]:
    """The value of each `name=value` of a Cookie header value in text[start:end] (of a bare piece, all
    of it): one cookie carrying an exploit does not unmask the session cookie beside it."""
    spans = []
    while start < end:
        stop = text.find(";", start, end)
        stop = end if stop < 0 else stop
        value = text.find("=", start, stop) + 1 or start
        while value < stop and text[value] == " ":
            value += 1
        if value < stop:
            spans.append((value, stop))
        start = stop + 1
    return spans


def _redact(text: str, spans: list[Span], keep: Span | None = None) -> str:
    """`text` with each span replaced by SECRET_MASK, except a span that holds part of `keep` (the text a
    rule matched): a "secret" carrying an exploit is the attack's payload, shown whole as evidence."""
    out, pos = [], 0
    for start, end in spans:
        if keep is None or not (keep[0] < end and start < keep[1]):
            out += [text[pos:start], SECRET_MASK]
            pos = end
    out.append(text[pos:])
    return "".join(out)


def mask_text(text: str) -> str:
    """Any text, URLs included: userinfo passwords, secret-like parameters, keys and options,
    Authorization/Cookie values masked."""
    spans = _spans(text)
    return _redact(text, spans) if spans else text


def mask_login(login: str) -> str:
    """A pool login with the password after its colon masked; ticker, wallet, worker and the rest kept."""
    password = split_password(login)[2]
    return login[: len(login) - len(password)] + SECRET_MASK if password else login


def mask_excerpt(text: str, match: str | None = None, field: str | None = None) -> str:
    """An excerpt of a matched field: secrets masked, except those that hold the matched text (`match`).

    A secret-like header's value (`http.header.authorization`, each cookie of `http.header.cookie`) is a
    secret as a whole; the `...` that marks a cut stays.
    """
    found = text.find(match) if match else -1
    keep = (found, found + len(match)) if match and found >= 0 else None
    start = 3 if text.startswith("...") else 0  # the marks of a cut are not part of any value
    end = len(text) - 3 if text.endswith("...") and len(text) - 3 > start else len(text)
    header = _SECRET_HEADER.fullmatch(field or "")
    if header is None:
        spans = [(start + a, start + b) for a, b in _spans(text[start:end])]
    elif header["cookie"] is not None:
        spans = _cookie_spans(text, start, end)
    else:
        spans = [(start, end)] if end > start and text[start:end] != SECRET_MASK else []
    return _redact(text, spans, keep) if spans else text


def _masked_string(text: str, name: str, siblings: dict[str, Any]) -> str:
    """`text`, the value of field `name`, masked as that field holds secrets (see the module's doc)."""
    if name in PASSWORD_FIELDS:
        return SECRET_MASK if text else text
    if name in LOGIN_FIELDS:
        return mask_login(text)
    if name == "excerpt":
        match, field = siblings.get("match"), siblings.get("field")
        return mask_excerpt(
            text, match if isinstance(match, str) else None, field if isinstance(field, str) else None
        )
    return mask_text(text)


def _mask(value: Any, name: str, path: str, masked: set[str], siblings: dict[str, Any]) -> Any:
    """`value` with its secrets masked: the same object when nothing changed, else a new one (events may
    share lists and dicts with a detector's state, which must keep the raw values)."""
    if isinstance(value, str):
        new = _masked_string(value, name, siblings)
        if SECRET_MASK in new:
            masked.add(path)
        return value if new == value else new
    if isinstance(value, list):
        items = [_mask(item, name, path, masked, siblings) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        changed = {}
        for key, item in value.items():
            if key == "match" and "excerpt" in value:
                continue  # what a rule matched is the evidence, shown as it is
            new = _mask(item, key, f"{path}.{key}", masked, value)
            if new is not item:
                changed[key] = new
        return value | changed if changed else value
    return value


def _may_hold_secrets(value: dict | list) -> bool:
    try:
        return _hinted(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode())
    except orjson.JSONEncodeError:  # not JSON: no output could write it either, but look anyway
        return True


def mask_event(event: Event) -> Event:
    """Mask the secrets of `event` in place (its sub-objects are replaced, never changed) and name in
    `secrets_masked` the fields that show a mask (masked now, or earlier in an event this one quotes).
    Returns the event."""
    masked: set[str] = set()
    event.pop("secrets_masked", None)  # copied from the event another one was built from: not this one's
    for key, value in list(event.items()):
        if isinstance(value, dict | list) and _may_hold_secrets(value):
            new = _mask(value, key, key, masked, event)
            if new is not value:
                event[key] = new
    if masked:
        event["secrets_masked"] = sorted(masked)
    return event
