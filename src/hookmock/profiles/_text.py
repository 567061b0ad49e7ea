"""Faker's text, made without faker's generic machinery on every field.

The payload builders ask faker for sentences, words, URLs, catch phrases and user names.  Faker
reaches each through a proxy, a provider method, ``random_elements`` (which copies a weighted
table's ~1,000 weights on every pick), a ``{{token}}`` regex and decorators: most of a generated
event's cost.  :func:`text_of` gives the same functions, reading faker's own tables once and
drawing from the generator's own ``random.Random`` exactly as faker does (the same calls, in the
same order), so a seeded factory makes byte-identical payloads with or without this module.

Each function is used only where the generator's method is faker's own implementation (a
locale or a user that replaces one keeps faker's), and only once a self-check has found it
equal to faker for this faker version and locale (:func:`_agrees`); anything else goes through
faker as before.  ``tests/test_payload_identity.py`` holds the equality over thousands of seeds.
"""

from __future__ import annotations

import random
import string
import weakref
from bisect import bisect
from collections.abc import Callable, Sequence
from itertools import accumulate
from math import floor
from typing import Any

__all__ = ["Text", "text_of"]

#: Faker's own pieces the fast functions stand in for, by generator method name.
_METHODS = ("sentence", "words", "word", "url", "catch_phrase", "user_name")
#: How many seeds the self-check tries per function (once per process and locale).
_CHECK_SEEDS = 12
#: Results of the self-check, by the generator's provider classes.
_VERDICTS: dict[tuple[tuple[type, Any], ...], frozenset[str]] = {}
_CACHE_LIMIT = 4096
#: each faker's text, for as long as the faker lives; and the last one asked for
_TEXTS: weakref.WeakKeyDictionary[Any, Text] = weakref.WeakKeyDictionary()
_last: tuple[Callable[[], Any], Any] = (lambda: None, None)


def text_of(fake: Any) -> Text:
    """The :class:`Text` of ``fake`` (a ``Faker`` or a faker ``Generator``), made once."""
    global _last
    last = _last
    text = last[1] if last[0]() is fake else _TEXTS.get(fake)  # usually the same faker again
    if text is None or (text._gen is not None and len(text._gen.providers) != text._provider_count):
        # a new faker, or one given another provider since (``add_provider``)
        text = _TEXTS[fake] = Text(fake)
    _last = (weakref.ref(fake), text)  # one tuple, swapped whole: safe across threads
    return text


def _picker(elements: Any, weighted: bool) -> Callable[[random.Random], Any]:
    """``random_element(elements)`` of faker's ``BaseProvider``: one ``choice``, or for a weighted
    table what ``choices(keys, weights, k=1)`` does, with the weights summed once here instead of
    on every call (``random.choices``: ``keys[bisect(cum, random() * total, 0, n - 1)]``)."""
    if isinstance(elements, dict):
        keys = tuple(elements)
        if weighted:
            cum = list(accumulate(elements.values()))
            total = cum[-1] + 0.0
            hi = len(cum) - 1
            return lambda r: keys[bisect(cum, r.random() * total, 0, hi)]
        return lambda r: r.choice(keys)
    return lambda r: r.choice(elements)


class Text:
    """The text functions of one faker generator; each falls back to faker where it must."""

    def __init__(self, fake: Any) -> None:
        # Nothing here holds ``fake`` itself (the cache of texts is keyed by it, weakly): a faker
        # with one locale is served by its generator, a bare generator through a weak proxy.
        factories = getattr(fake, "_factories", None)
        gen: Any = None
        if factories is None:
            gen = weakref.proxy(fake)
        elif len(factories) == 1:
            gen = factories[0]
        self._gen = gen
        #: how many providers the generator had when its tables were read
        self._provider_count = len(gen.providers) if gen is not None else 0
        self._tokens: dict[str, Callable[[random.Random], str]] = {}
        self._patterns: dict[str, Callable[[random.Random], str]] = {}
        self._domain_words: dict[str, str] = {}
        self._user_names: dict[str, str] = {}
        self._company: Callable[[random.Random], str] | None = None
        fast = self._fast_methods() if gen is not None else frozenset()
        for name in _METHODS:
            if name not in fast:  # faker's own: a generator's bound method, or a proxy's pick
                own = getattr(gen, name) if factories and gen is not None else _through(fake, name)
                setattr(self, name, own)

    # -- which functions may be fast --------------------------------------------------------
    def _fast_methods(self) -> frozenset[str]:
        gen = self._gen
        key = tuple((type(p), getattr(p, "__use_weighting__", None)) for p in gen.providers)
        verdict = _VERDICTS.get(key)
        if verdict is None:
            verdict = _VERDICTS[key] = frozenset(
                name for name in _METHODS if self._prepare(name) and _agrees(self, gen, name)
            )
        for name in verdict:
            self._prepare(name)
        return verdict

    def _prepare(self, name: str) -> bool:
        """Read faker's tables for ``name``; False where faker's method is not the one copied."""
        from faker.providers import BaseProvider
        from faker.providers.company import Provider as Company
        from faker.providers.internet import Provider as Internet
        from faker.providers.lorem import Provider as Lorem

        gen = self._gen
        if name in ("sentence", "words", "word"):
            helpers = ("sentence", "words", "word", "get_words_list", "randomize_nb_elements")
            lorem = _own(gen, Lorem, name, *helpers)
            if lorem is None or not _base_picks(lorem, BaseProvider):
                return False
            self._word_list = tuple(lorem.word_list)
            self._connector = lorem.word_connector
            self._punctuation = lorem.sentence_punctuation
            return True
        if name == "catch_phrase":
            company = _own(gen, Company, "catch_phrase")
            if company is None or not _base_picks(company, BaseProvider):
                return False
            weighted = bool(getattr(company, "__use_weighting__", False))
            self._phrase = tuple(_picker(words, weighted) for words in company.catch_phrase_words)
            return True
        internet = _own(gen, Internet, name, "bothify", "numerify", "lexify", "_to_ascii")
        if internet is None or not _base_picks(internet, BaseProvider):
            return False
        weighted = bool(getattr(internet, "__use_weighting__", False))
        self._internet = weakref.proxy(internet)  # it holds its generator
        if name == "url":
            if _own(gen, Internet, "domain_name", "domain_word", "tld") is not internet:
                return False
            self._url_format = _picker(internet.url_formats, weighted)
            self._tld = _picker(internet.tlds, weighted)
            company = _own(gen, Company, "company")
            self._company = (
                (_picker(company.formats, bool(getattr(company, "__use_weighting__", False))))
                if company is not None and _base_picks(company, BaseProvider)
                else None
            )
        else:
            self._user_name_format = _picker(internet.user_name_formats, weighted)
        return True

    # -- lorem -----------------------------------------------------------------------------
    def words(self, nb: int = 3) -> list[str]:
        """``fake.words(nb=nb)``."""
        r = self._gen.random
        if nb == 1:
            return [r.choice(self._word_list)]
        return r.choices(self._word_list, k=nb)

    def word(self) -> str:
        """``fake.word()``."""
        return self._gen.random.choice(self._word_list)

    def sentence(self, nb_words: int = 6) -> str:
        """``fake.sentence(nb_words=nb_words)``: a randomized length (60–140 %, at least one word),
        the words, the first one title-cased, and a full stop."""
        if nb_words <= 0:
            return ""
        r = self._gen.random
        nb = int(nb_words * r.randint(60, 140) / 100)
        word_list = self._word_list
        if nb <= 1:
            words = [r.choice(word_list)]
        else:  # what random.choices(word_list, k=nb) does
            draw = r.random
            n = len(word_list) + 0.0
            words = [word_list[floor(draw() * n)] for _ in range(nb)]
        words[0] = words[0].title()
        return self._connector.join(words) + self._punctuation

    # -- company ---------------------------------------------------------------------------
    def catch_phrase(self) -> str:
        """``fake.catch_phrase()``: one word of each of faker's three lists."""
        r = self._gen.random
        return " ".join([pick(r) for pick in self._phrase])

    # -- internet --------------------------------------------------------------------------
    def url(self) -> str:
        """``fake.url()``: a scheme, a URL format, and its ``{{domain_name}}`` filled."""
        r = self._gen.random
        scheme = r.choice(["http", "https"])
        return f"{scheme}://" + self._parse(self._url_format(r), r)

    def user_name(self) -> str:
        """``fake.user_name()``: a format filled with names, ``#`` and ``?`` drawn, then faker's
        ASCII folding and slug (a pure function of the drawn text, remembered)."""
        r = self._gen.random
        drawn = self._bothify(self._parse(self._user_name_format(r), r), r)
        name = self._user_names.get(drawn)
        if name is None:
            from faker.utils.text import slugify

            name = slugify(self._internet._to_ascii(drawn.lower()), allow_unicode=True)
            _remember(self._user_names, drawn, name)
        return name

    def _bothify(self, text: str, r: random.Random) -> str:
        if "#" not in text and "?" not in text and not any(c in text for c in "%$!@"):
            return text
        if any(c in text for c in "%$!@"):
            return self._internet.bothify(text)
        if "#" in text:  # numerify first (every '#', left to right), then lexify every '?'
            text = "".join(str(r.randint(0, 9)) if c == "#" else c for c in text)
        if "?" in text:
            text = "".join(r.choice(string.ascii_letters) if c == "?" else c for c in text)
        return text

    def _domain_name(self, r: random.Random) -> str:
        """``domain_name()``: ``domain_word() + "." + tld()``, lower-cased; the domain word is the
        first word of a company name, ASCII-folded and slugged (remembered per word)."""
        company = self._parse(self._company(r), r)  # type: ignore[misc]
        first = company.split(" ")[0]
        word = self._domain_words.get(first)
        if word is None:
            from faker.utils.text import slugify

            word = slugify(self._internet._to_ascii(first), allow_unicode=True).lower()
            _remember(self._domain_words, first, word)
        return (word + "." + self._tld(r)).lower()

    # -- {{token}} patterns ----------------------------------------------------------------
    def _parse(self, pattern: str, r: random.Random) -> str:
        """``generator.parse(pattern)``, with the tokens faker fills by a table pick drawn here."""
        fill = self._patterns.get(pattern)
        if fill is None:
            fill = self._patterns[pattern] = self._compile(pattern)
        return fill(r)

    def _compile(self, pattern: str) -> Callable[[random.Random], str]:
        from faker.generator import _re_token

        parts: list[Any] = []
        pos = 0
        for m in _re_token.finditer(pattern):
            if m.group(2):  # an argument group: faker's parse handles the whole pattern
                gen = self._gen
                return lambda r: gen.parse(pattern)
            parts.append(pattern[pos : m.start()])
            parts.append(self._token(m.group(1)))
            pos = m.end()
        parts.append(pattern[pos:])
        literals = parts[::2]
        tokens = parts[1::2]

        def fill(r: random.Random) -> str:
            out = [literals[0]]
            for token, literal in zip(tokens, literals[1:]):
                out.append(token(r))
                out.append(literal)
            return "".join(out)

        return fill

    def _token(self, name: str) -> Callable[[random.Random], str]:
        token = self._tokens.get(name)
        if token is not None:
            return token
        from faker.providers import BaseProvider
        from faker.providers.company import Provider as Company
        from faker.providers.person import Provider as Person

        gen = self._gen
        tables: dict[str, tuple[type, str]] = {
            "first_name": (Person, "first_names"),
            "last_name": (Person, "last_names"),
            "company_suffix": (Company, "company_suffixes"),
        }
        if name in tables:
            base, table = tables[name]
            provider = _own(gen, base, name)
            if provider is not None and _base_picks(provider, BaseProvider):
                pick = _picker(getattr(provider, table), bool(getattr(provider, "__use_weighting__", False)))
                token = lambda r: str(pick(r))  # noqa: E731
        elif name == "domain_name" and self._company is not None:
            token = self._domain_name
        if token is None:
            token = lambda r: str(gen.format(name))  # noqa: E731
        self._tokens[name] = token
        return token


def _through(fake: Any, name: str) -> Callable[..., Any]:
    """``fake.name(...)`` looked up on each call (a faker of several locales picks one per call)."""
    ref = weakref.proxy(fake)
    return lambda *args: getattr(ref, name)(*args)


def _own(gen: Any, base: type, method: str, *helpers: str) -> Any:
    """The provider behind ``gen.method`` when it is ``base``'s own method, and the ``helpers`` it
    calls on itself are ``base``'s too; else None."""
    bound = getattr(gen, method, None)
    provider = getattr(bound, "__self__", None)
    if not isinstance(provider, base) or getattr(bound, "__func__", None) is not getattr(base, method):
        return None
    kind = type(provider)
    if any(getattr(kind, name, None) is not getattr(base, name) for name in helpers):
        return None
    return provider


def _base_picks(provider: Any, base: type) -> bool:
    """Whether ``provider`` draws table entries with faker's own ``random_element(s)``."""
    kind = type(provider)
    picks = ("random_element", "random_elements", "random_choices")
    return all(getattr(kind, name) is getattr(base, name) for name in picks)


def _remember(cache: dict[str, str], key: str, value: str) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _agrees(text: Text, gen: Any, name: str) -> bool:
    """Whether ``text.name()`` equals faker's for a few seeds: the same value and the same
    generator state after (faker's version and locale may differ from the ones copied)."""
    calls: Sequence[tuple[Any, ...]] = (
        [(n,) for n in (1, 2, 4, 8, 10, 12)] if name in ("sentence", "words") else [()]
    )
    saved = gen.random
    try:
        for seed in range(_CHECK_SEEDS):
            for args in calls:
                gen.random = random.Random(seed)
                expected = getattr(gen, name)(*args)
                after = gen.random.getstate()
                gen.random = random.Random(seed)
                if getattr(Text, name)(text, *args) != expected or gen.random.getstate() != after:
                    return False
    except Exception:  # a faker that differs in any way keeps faker's
        return False
    finally:
        gen.random = saved
    return True
