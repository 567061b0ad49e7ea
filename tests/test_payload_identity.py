"""Seeded payloads do not change: the fast text functions equal faker's, call for call.

The payload builders draw their text with :mod:`hookmock.profiles._text` instead of calling faker
per field.  A user who pinned a seed must keep getting the same bytes, so every function is
compared with faker itself over thousands of seeds (the value and the generator's state after),
and whole events of every profile with digests made by the builders before the rewrite
(``payload_golden.json``, see ``payload_golden.py``).
"""

from __future__ import annotations

import gc
import json
import random
import weakref
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

import pytest
from faker import Faker
from faker.providers.lorem.en_US import Provider as EnglishLorem

from hookmock import ids
from hookmock.clock import SECOND, format_iso
from hookmock.profiles import _text
from hookmock.profiles._text import Text, text_of
from payload_golden import SEEDS, digest

GOLDEN = json.loads((Path(__file__).parent / "payload_golden.json").read_text())

CALLS = (
    ("sentence", (10,)),
    ("sentence", (8,)),
    ("sentence", (4,)),
    ("sentence", (12,)),
    ("sentence", ()),
    ("sentence", (1,)),
    ("sentence", (2,)),
    ("sentence", (3,)),
    ("sentence", (14,)),
    ("url", ()),
    ("words", (2,)),
    ("words", (1,)),
    ("words", ()),
    ("word", ()),
    ("catch_phrase", ()),
    ("user_name", ()),
)


def _compare(locale: str | list[str], seeds: range, calls_per_seed: int = 8) -> None:
    """Drive faker and the fast functions with the same seed and the same random call sequence."""
    faker, fast = Faker(locale), Faker(locale)
    text = text_of(fast)
    for seed in seeds:
        faker.seed_instance(seed)
        fast.seed_instance(seed)
        order = random.Random(seed)
        for _ in range(calls_per_seed):
            name, args = order.choice(CALLS)
            expected = getattr(faker, name)(*args)
            assert getattr(text, name)(*args) == expected, (locale, seed, name, args)
        assert fast.random.getstate() == faker.random.getstate(), (locale, seed)


@pytest.fixture
def fresh_verdicts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test makes its own self-check (the verdicts are kept once per process otherwise)."""
    monkeypatch.setattr(_text, "_VERDICTS", {})


def test_every_fast_function_is_used_for_english(fresh_verdicts: None) -> None:
    text = text_of(Faker("en_US"))
    for name in _text._METHODS:
        assert getattr(text, name).__func__ is getattr(Text, name), name


def test_the_fast_functions_equal_faker_over_thousands_of_seeds(fresh_verdicts: None) -> None:
    _compare("en_US", range(3000))


def test_sentences_of_every_length_equal_faker(fresh_verdicts: None) -> None:
    faker, fast = Faker("en_US"), Faker("en_US")
    text = text_of(fast)
    for seed in range(200):
        for nb_words in range(-1, 16):
            faker.seed_instance(seed)
            fast.seed_instance(seed)
            assert text.sentence(nb_words) == faker.sentence(nb_words=nb_words), (seed, nb_words)
            assert fast.random.getstate() == faker.random.getstate()
        for nb in range(0, 5):
            faker.seed_instance(seed)
            fast.seed_instance(seed)
            assert text.words(nb) == faker.words(nb=nb)
            assert fast.random.getstate() == faker.random.getstate()


@pytest.mark.parametrize("locale", ["fr_FR", "de_DE", "ja_JP", "ru_RU"])
def test_other_locales_get_fakers_text(fresh_verdicts: None, locale: str) -> None:
    """Another locale's tables (non-ASCII names, its own URL and user-name formats) or methods."""
    _compare(locale, range(300))


def test_a_method_a_provider_replaces_keeps_the_replacement(fresh_verdicts: None) -> None:
    class Shouting(EnglishLorem):
        def sentence(self, nb_words: int = 6, variable_nb_words: bool = True, ext_word_list=None) -> str:  # type: ignore[no-untyped-def, override]
            return "SHOUT " * nb_words

    fake = Faker("en_US")
    fake.add_provider(Shouting)
    text = text_of(fake)
    assert text.sentence(2) == "SHOUT SHOUT "
    fake.seed_instance(1)
    words = text.words(2)
    fake.seed_instance(1)
    assert words == fake.words(nb=2)  # words stay faker's (the copy or faker's own)


def test_a_provider_added_after_the_first_use_is_honoured(fresh_verdicts: None) -> None:
    """``fake.add_provider`` on a factory's faker changes its text, as it did with faker alone."""

    class Quiet(EnglishLorem):
        def words(self, nb: int = 3, ext_word_list=None, part_of_speech=None, unique=False):  # type: ignore[no-untyped-def, override]
            return ["hush"] * nb

    fake = Faker("en_US")
    assert text_of(fake).words(2) != ["hush", "hush"]
    fake.add_provider(Quiet)
    assert text_of(fake).words(2) == ["hush", "hush"]
    assert text_of(fake).word() == fake.word()  # faker's word() through the new words()
    assert text_of(fake) is text_of(fake)


def test_unweighted_fakers_are_checked_on_their_own(fresh_verdicts: None) -> None:
    weighted, flat = Faker("en_US"), Faker("en_US", use_weighting=False)
    text_of(weighted)
    text = text_of(flat)
    assert len(_text._VERDICTS) == 2
    assert text.url.__func__ is Text.url and text.user_name.__func__ is Text.user_name
    other = Faker("en_US", use_weighting=False)
    for seed in range(100):
        flat.seed_instance(seed)
        other.seed_instance(seed)
        assert (text.url(), text.user_name()) == (other.url(), other.user_name())


def test_a_copy_that_differs_from_this_faker_is_not_used(
    fresh_verdicts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The self-check: a fast function that draws differently (another faker version) is dropped."""
    monkeypatch.setattr(Text, "sentence", lambda self, nb_words=6: "Other words.")
    monkeypatch.setattr(Text, "url", lambda self: (self._gen.random.random(), "http://x.test/")[1])
    fake = Faker("en_US")
    text = text_of(fake)
    fake.seed_instance(3)
    ours = (text.sentence(5), text.url(), text.word())
    fake.seed_instance(3)
    assert ours == (fake.sentence(nb_words=5), fake.url(), fake.word())
    assert text.word.__func__ is Text.word  # the others stay fast


def test_the_self_check_tries_single_words_and_long_sentences(
    fresh_verdicts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy wrong only for one word, or only for the longest sentence checked, is dropped."""
    real_words, real_sentence = Text.words, Text.sentence

    def words(self: Text, nb: int = 3) -> list[str]:
        return ["one"] if nb == 1 else real_words(self, nb)

    def sentence(self: Text, nb_words: int = 6) -> str:
        return "Long." if nb_words == 12 else real_sentence(self, nb_words)

    monkeypatch.setattr(Text, "words", words)
    monkeypatch.setattr(Text, "sentence", sentence)
    text = text_of(Faker("en_US"))
    assert getattr(text.words, "__func__", None) is not words
    assert getattr(text.sentence, "__func__", None) is not sentence
    assert text.url.__func__ is Text.url


def test_a_copy_that_fails_is_not_used(fresh_verdicts: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: Text) -> str:
        raise LookupError("a table this faker does not have")

    monkeypatch.setattr(Text, "url", broken)
    fake = Faker("en_US")
    text = text_of(fake)
    fake.seed_instance(4)
    ours = text.url()
    fake.seed_instance(4)
    assert ours == fake.url()


def test_a_user_name_copy_that_consumes_more_is_not_used(
    fresh_verdicts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same value, different draws: the generator's state after the call is compared as well."""
    real = Text.user_name

    def extra_draw(self: Text) -> str:
        value = real(self)
        self._gen.random.random()
        return value

    monkeypatch.setattr(Text, "user_name", extra_draw)
    text = text_of(Faker("en_US"))
    assert text.user_name.__func__ is not extra_draw
    assert text.catch_phrase.__func__ is Text.catch_phrase


def test_the_verdict_is_kept_per_locale(fresh_verdicts: None) -> None:
    text_of(Faker("en_US"))
    text_of(Faker("en_US"))
    text_of(Faker("fr_FR"))
    assert len(_text._VERDICTS) == 2
    assert all(_text._VERDICTS.values())


def test_several_locales_use_faker_throughout(fresh_verdicts: None) -> None:
    fake = Faker(["en_US", "fr_FR"])
    text = text_of(fake)
    for name in _text._METHODS:
        assert getattr(getattr(text, name), "__func__", None) is not getattr(Text, name)
    fake.seed_instance(9)
    ours = [text.sentence(4), text.url(), text.user_name(), text.words(2)]
    fake.seed_instance(9)
    assert ours == [fake.sentence(nb_words=4), fake.url(), fake.user_name(), fake.words(nb=2)]
    assert _text._VERDICTS == {}


def test_a_bare_generator_gets_the_fast_text(fresh_verdicts: None) -> None:
    gen, faker = Faker("en_US")._factories[0], Faker("en_US")
    text = text_of(gen)
    assert text.url.__func__ is Text.url
    for seed in range(50):
        gen.seed_instance(seed)
        faker.seed_instance(seed)
        assert (text.url(), text.sentence(6)) == (faker.url(), faker.sentence())


def test_a_faker_no_longer_used_is_not_kept() -> None:
    """The texts are kept per faker, weakly: a factory's faker goes when the factory goes."""
    fakes = [Faker("en_US"), Faker("en_US")._factories[0], Faker(["en_US", "fr_FR"])]
    refs = [weakref.ref(f) for f in fakes]
    for fake in fakes:
        text_of(fake).sentence(3)
    del fakes, fake
    gc.collect()
    assert [r() for r in refs] == [None, None, None]


def test_the_text_is_made_once_per_faker() -> None:
    fake = Faker("en_US")
    assert text_of(fake) is text_of(fake)
    assert text_of(Faker("en_US")) is not text_of(fake)


def test_remembered_slugs_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_text, "_CACHE_LIMIT", 5)
    fake = Faker("en_US")
    text = text_of(fake)
    faker = Faker("en_US")
    for seed in range(60):
        fake.seed_instance(seed)
        faker.seed_instance(seed)
        assert (text.user_name(), text.url()) == (faker.user_name(), faker.url())
        assert len(text._user_names) <= 5 and len(text._domain_words) <= 5


@pytest.mark.parametrize("name", list(SEEDS))
def test_seeded_events_are_byte_identical_to_before(name: str) -> None:
    """Every event type of every profile, for each golden seed, as the builders made it before."""
    got = [digest(name, seed) for seed in range(SEEDS[name])]
    assert got == GOLDEN[name]


def test_iso_times_equal_datetimes() -> None:
    r = random.Random(5)
    for _ in range(20000):
        seconds = r.choice(
            (
                r.randint(-62135596800, 253402300799),
                r.randint(1_700_000_000, 1_800_000_000),
                r.randint(0, 86400),
            )
        )
        assert format_iso(seconds * SECOND) == datetime.fromtimestamp(seconds, tz=timezone.utc).isoformat()
    assert format_iso(1.5e18) == datetime.fromtimestamp(1.5e9, tz=timezone.utc).isoformat()  # type: ignore[arg-type]


def test_ids_at_a_given_time_equal_the_whole_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id made at a given time (its time characters remembered) equals the 130-bit value's
    26 characters, as every id was written before; the remembered times are bounded."""
    monkeypatch.setattr(ids, "_heads", {})
    pick = random.Random(11)
    for seed in range(5000):
        ms = pick.choice(
            (pick.getrandbits(60), 1_777_593_600_000 + pick.randint(0, 99), -pick.randint(1, 10**9))
        )
        made, drawn = random.Random(seed), random.Random(seed)
        whole = ((ms & ((1 << 50) - 1)) << 80) | drawn.getrandbits(80)
        assert ids.crockford_id("cvs", ms=ms, rng=made) == "cvs_" + ids._encode(whole, 26)
        assert len(ids._heads) <= 1024
        made, drawn = random.Random(seed), random.Random(seed)
        whole = (drawn.getrandbits(47) << 80) | drawn.getrandbits(80)
        assert ids.crockford_id("evt", rng=made) == "evt_" + ids._encode(whole, 26)


def test_placeholders_are_drawn_as_fakers_bothify(fresh_verdicts: None) -> None:
    """``#`` and ``?`` drawn here, faker's other placeholders (``% $ ! @``) by faker's own."""
    faker, fast = Faker("en_US"), Faker("en_US")
    text = text_of(fast)
    for seed in range(300):
        for pattern in ("plain", "ab##", "?smith", "?x#y?#", "a%b", "x$!@", "#%?", "@"):
            faker.seed_instance(seed)
            fast.seed_instance(seed)
            assert text._bothify(pattern, fast.random) == faker.bothify(pattern), (seed, pattern)
            assert fast.random.getstate() == faker.random.getstate()


def test_patterns_fill_as_fakers_parse(fresh_verdicts: None) -> None:
    """Table tokens drawn here; any other token, or an argument group, filled by faker itself."""
    faker, fast = Faker("en_US"), Faker("en_US")
    for fake in (faker, fast):
        fake.set_arguments("short", {"max_nb_chars": 20})
    text = text_of(fast)
    patterns = (
        "{{last_name}}, {{ first_name }} and {{company_suffix}}",
        "{{color_name}}-{{last_name}}",
        "{{text:short}} {{last_name}}",
        "www.{{domain_name}}/",
        "no tokens",
    )
    for seed in range(200):
        for pattern in patterns:
            faker.seed_instance(seed)
            fast.seed_instance(seed)
            assert text._parse(pattern, fast.random) == faker.parse(pattern), (seed, pattern)
            assert fast.random.getstate() == faker.random.getstate()


def test_odd_tables_give_fakers_text(fresh_verdicts: None) -> None:
    """Names with tabs, leading spaces, several words, upper case and letters a locale replaces
    (``ä`` → ``ae``): the domain word and user name still come out as faker's."""
    from collections import OrderedDict

    from faker.providers.internet.en_US import Provider as EnglishInternet
    from faker.providers.person.en_US import Provider as EnglishPerson

    class OddPeople(EnglishPerson):
        last_names: ClassVar[OrderedDict[str, float]] = OrderedDict(
            [
                ("\tTab", 0.2),
                (" Lead", 0.1),
                ("Müller", 0.2),
                ("ÄRGER", 0.2),
                ("Van Dyke", 0.2),
                ("O'Neil", 0.1),
            ]
        )
        first_names = ("Zoë", "Jürgen", "Ann  Marie", "ÜBEL")

    class OddInternet(EnglishInternet):
        replacements = (("ä", "ae"), ("ü", "ue"))  # lower case only, as de_DE's

    faker, fast = Faker("en_US"), Faker("en_US")
    for fake in (faker, fast):
        fake.add_provider(OddPeople)
        fake.add_provider(OddInternet)
    text = text_of(fast)
    assert text.url.__func__ is Text.url and text.user_name.__func__ is Text.user_name
    for seed in range(400):
        faker.seed_instance(seed)
        fast.seed_instance(seed)
        assert (text.url(), text.user_name()) == (faker.url(), faker.user_name()), seed


def test_url_and_user_name_draw_every_token_here(
    fresh_verdicts: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """English URLs and user names never go back to faker's ``format``/``parse`` (the names,
    suffixes and domain are drawn from the tables read once): that is where the time was."""
    fake = Faker("en_US")
    text = text_of(fake)
    gen = fake._factories[0]

    def refused(*args: object, **kwargs: object) -> str:
        raise AssertionError(f"faker itself was asked for {args}")

    monkeypatch.setattr(gen, "format", refused)
    monkeypatch.setattr(gen, "parse", refused)
    for seed in range(100):
        fake.seed_instance(seed)
        assert text.url().startswith("http") and text.user_name()
