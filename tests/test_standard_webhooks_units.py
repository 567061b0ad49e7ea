"""Unit tests of the Standard Webhooks profile's verification, keys and catalogue: each message a
user reads when a request or a key is refused, the parsing of the signature list as the reference
``standardwebhooks`` package does it, and ``register_event``.  Fast (no audit, no sockets)."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from hookmock.errors import BadSignature, MalformedHeader, MissingHeader, UsageError
from hookmock.profiles import get_profile
from hookmock.profiles import standard_webhooks as sw
from hookmock.profiles.standard_webhooks import generate_key_pair, public_key_of

P = "standard-webhooks"
SW = get_profile(P)
NOW = 1_700_000_000
BODY = b'{"type":"user.created","timestamp":"2023-11-14T22:13:20.000000Z","data":{"id":"1"}}'
MSG = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"


def _signed(secret: str, **changes: str) -> dict[str, str]:
    headers = SW.sign(BODY, secret, NOW, message_id=MSG)
    headers.update(changes)
    return headers


def _reference_accepts(secret: str, headers: dict[str, str]) -> bool:
    try:
        Webhook(secret).verify(BODY, headers, json_parse=False)
    except WebhookVerificationError:
        return False
    except ValueError:  # the reference library's own parsing error
        return False
    return True


# -- what a refused request says ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("webhook-id", "the webhook-id header is missing; Standard Webhooks sends the message id there"),
        (
            "webhook-timestamp",
            "the webhook-timestamp header is missing; Standard Webhooks sends the unix time in seconds there",
        ),
        (
            "webhook-signature",
            "the webhook-signature header is missing; Standard Webhooks sends 'v1,<base64>' signatures there",
        ),
    ],
)
def test_a_missing_header_is_named_with_what_goes_there(header: str, message: str) -> None:
    secret = SW.generate_secret()
    headers = {k: v for k, v in _signed(secret).items() if k != header}
    with pytest.raises(MissingHeader) as caught:
        SW.verify(headers, BODY, secret, now=NOW)
    assert str(caught.value) == message


def test_an_empty_secret_is_a_usage_error_saying_which_key_to_pass() -> None:
    with pytest.raises(UsageError) as caught:
        SW.verify(_signed(SW.generate_secret()), BODY, "", now=NOW)
    assert str(caught.value) == "the signing secret is empty; pass the whsec_… secret (or the whpk_… key)"


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        ("1.5", "'1.5'"),
        ("x" * 40, repr("x" * 40)),  # 40 characters are shown whole
        ("x" * 41, repr("x" * 40 + "…")),  # a longer value is cut at 40 and marked
        ("y" * 39 + "z" * 30, repr("y" * 39 + "z" + "…")),
    ],
)
def test_a_malformed_timestamp_is_shown_cut_at_40_characters(stamp: str, shown: str) -> None:
    secret = SW.generate_secret()
    with pytest.raises(MalformedHeader) as caught:
        SW.verify(_signed(secret, **{"webhook-timestamp": stamp}), BODY, secret, now=NOW)
    assert str(caught.value) == f"the webhook-timestamp header {shown} is not a unix time in whole seconds"


def test_a_bad_signature_says_what_was_signed_and_what_to_check() -> None:
    secret = SW.generate_secret()
    with pytest.raises(BadSignature) as caught:
        SW.verify(_signed(secret), BODY + b" ", secret, now=NOW)
    assert str(caught.value) == (
        "no v1 signature matches '{webhook-id}.{webhook-timestamp}.{raw body}' with this key; check that "
        "the raw request bytes (not re-serialized JSON) and the right key are used"
    )


def test_a_public_key_that_is_not_base64_is_named_when_verifying() -> None:
    signing, _ = generate_key_pair()
    with pytest.raises(UsageError) as caught:
        SW.verify(_signed(signing), BODY, "whpk_!!!!", now=NOW)
    assert str(caught.value) == (
        "the public key is not base64 after its prefix; give the key as the provider shows it "
        "(whsec_…, whsk_… or whpk_…)"
    )


# -- the signature list, read as the reference library reads it ----------------------------------
def _junk_inside(entry: str) -> str:
    scheme, _, value = entry.partition(",")
    return f"{scheme},{value[:10]}!*{value[10:]}"


@pytest.mark.parametrize("asymmetric", [False, True])
def test_a_signature_with_characters_outside_base64_does_not_verify(asymmetric: bool) -> None:
    """A lenient base64 decoder drops the stray characters and accepts the signature (the Python
    reference library does); hookmock is as strict as the Go reference library, which compares the
    base64 text itself: a sender never produces such a value."""
    if asymmetric:
        secret, key = generate_key_pair()
    else:
        secret = key = SW.generate_secret()
    now = int(datetime.now(tz=timezone.utc).timestamp())  # the reference library reads the real clock
    good = SW.sign(BODY, secret, now, message_id=MSG)
    bad = dict(good, **{"webhook-signature": _junk_inside(good["webhook-signature"])})
    SW.verify(good, BODY, key, now=now)
    with pytest.raises(BadSignature):
        SW.verify(bad, BODY, key, now=now)
    if not asymmetric:
        assert _reference_accepts(secret, good)


def test_signatures_are_separated_by_spaces_only_as_for_the_reference_library() -> None:
    old, new = SW.generate_secret(), SW.generate_secret()
    now = int(datetime.now(tz=timezone.utc).timestamp())  # the reference library reads the real clock
    spaced = SW.sign_rotated(BODY, [old, new], now, message_id=MSG)
    tabbed = dict(spaced, **{"webhook-signature": spaced["webhook-signature"].replace(" ", "\t")})
    assert SW.check(spaced, BODY, new, now=now).ok and _reference_accepts(new, spaced)
    # one entry 'v1,<old>\tv1,<new>': its value is not base64, so nothing the new key made matches
    assert not _reference_accepts(new, tabbed)
    with pytest.raises(BadSignature):
        SW.verify(tabbed, BODY, new, now=now)


def test_an_entry_of_the_receivers_scheme_that_holds_a_comma_is_a_bad_signature_not_a_missing_one() -> None:
    secret = SW.generate_secret()
    valid = _signed(secret)["webhook-signature"].partition(",")[2]
    with pytest.raises(BadSignature):
        SW.verify(_signed(secret, **{"webhook-signature": f"v1,{valid},{valid}"}), BODY, secret, now=NOW)
    with pytest.raises(MalformedHeader, match="no 'v1,<base64>' signature"):
        SW.verify(_signed(secret, **{"webhook-signature": f"v1a,{valid}"}), BODY, secret, now=NOW)


# -- secrets and keys ------------------------------------------------------------------------------
def test_the_public_prefix_kept_when_a_key_is_redacted() -> None:
    signing, public = generate_key_pair()
    assert SW.secret_prefix_of(SW.generate_secret()) == "whsec_"
    assert SW.secret_prefix_of(signing) == "whsk_" and SW.secret_prefix_of(public) == "whpk_"
    assert SW.secret_prefix_of("sk_live_abc") == ""  # no known prefix: nothing is public


# -- register_event --------------------------------------------------------------------------------
@pytest.fixture
def restore_catalogue() -> Any:
    saved = dict(sw._EVENTS)
    yield
    sw._EVENTS.clear()
    sw._EVENTS.update(saved)


@pytest.mark.usefixtures("restore_catalogue")
def test_a_registered_event_type_is_in_the_catalogue_marked_as_the_users() -> None:
    sw.register_event("order.shipped")
    sw.register_event("order_2.line_item.added", description="A line was added")
    assert SW.event_types[-2:] == ("order.shipped", "order_2.line_item.added")
    spec = SW.event_spec("order.shipped")
    assert spec.name == "order.shipped" and spec.inferred is True
    assert spec.description == "order.shipped (registered by the user)"
    assert SW.event_spec("order_2.line_item.added").description == "A line was added"
    payload = SW.build_payload(
        "order.shipped", fake=_faker(), rng=__import__("random").Random(1), now_s=NOW, overrides={}
    )
    assert payload["type"] == "order.shipped" and payload["data"]["type"] == "order"


@pytest.mark.usefixtures("restore_catalogue")
@pytest.mark.parametrize("name", ["", "order..shipped", ".order", "order.", "order-shipped", "ordér", 7])
def test_a_malformed_event_type_is_refused_with_the_rule(name: Any) -> None:
    before = SW.event_types
    with pytest.raises(UsageError) as caught:
        sw.register_event(name)
    assert str(caught.value) == (
        f"{name!r} is not a Standard Webhooks event type; use full-stop delimited identifiers "
        "of [a-zA-Z0-9_], e.g. 'order.shipped'"
    )
    assert SW.event_types == before


def _faker() -> Any:
    from faker import Faker

    fake = Faker()
    fake.seed_instance(1)
    return fake


def test_a_key_is_base64_with_or_without_padding() -> None:
    raw = bytes(range(1, 25))  # 24 bytes: base64 without padding; 23 bytes: one '='
    for secret_bytes in (raw, raw[:23], raw[:22]):
        text = base64.b64encode(secret_bytes).decode()
        for secret in (f"whsec_{text}", f"whsec_{text.rstrip('=')}"):
            assert SW.check(SW.sign(BODY, secret, NOW, message_id=MSG), BODY, f"whsec_{text}", now=NOW).ok


# -- payloads ----------------------------------------------------------------------------------------
ISO_MICROS = r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})Z$"
UUID4 = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def _payload(event_type: str, seed: int = 1, **overrides: Any) -> dict[str, Any]:
    import random

    return SW.build_payload(
        event_type, fake=_faker(), rng=random.Random(seed), now_s=NOW, overrides=overrides
    )


def test_the_payload_is_type_timestamp_and_data_at_the_time_given() -> None:
    import re

    micros = set()
    for seed in range(30):
        payload = _payload("user.created", seed)
        assert list(payload) == ["type", "timestamp", "data"] and payload["type"] == "user.created"
        when = re.fullmatch(ISO_MICROS, payload["timestamp"])
        assert when and when.group(1) == "2023-11-14T22:13:20"  # NOW, in UTC
        micros.add(int(when.group(2)))
    assert len(micros) > 20 and max(micros) < 1_000_000  # a random fraction of that second


@pytest.mark.parametrize(
    ("event_type", "keys"),
    [
        ("contact.created", {"id", "type", "fullName", "address", "phoneNumber"}),
        ("invoice.paid", {"id", "type", "amount", "currency", "paidAt"}),
        ("user.created", {"id", "type", "email", "name"}),
    ],
)
def test_each_catalogue_event_has_its_data(event_type: str, keys: set[str]) -> None:
    import re

    for seed in range(20):
        data = _payload(event_type, seed)["data"]
        assert set(data) == keys
        assert re.fullmatch(UUID4, data["id"]) and data["type"] == event_type.split(".")[0]
        if "address" in data:
            assert (
                "\n" not in data["address"] and data["address"] and data["fullName"] and data["phoneNumber"]
            )
        if "amount" in data:
            assert isinstance(data["amount"], int) and 100 <= data["amount"] <= 500_000
            assert data["currency"] in ("usd", "eur", "gbp")
            assert data["paidAt"] == "2023-11-14T22:13:20+00:00"
        if "email" in data:
            assert "@" in data["email"] and data["name"]
    currencies = {_payload("invoice.paid", seed)["data"]["currency"] for seed in range(40)}
    assert event_type != "invoice.paid" or currencies == {"usd", "eur", "gbp"}


def test_the_specifications_example_payload_and_a_users_event() -> None:
    for seed in range(20):
        data = _payload("example.event", seed)["data"]
        assert set(data) == {"foo", "fizzbuzz"} and data["foo"] and 0 <= data["fizzbuzz"] <= 100
    assert _payload("invoice.paid", 3, data__currency="nok")["data"]["currency"] == "nok"


def test_an_unknown_event_type_names_the_catalogue_and_how_to_add_one() -> None:
    from hookmock.errors import UnknownEventType

    with pytest.raises(UnknownEventType) as caught:
        _payload("order.shipped")
    assert str(caught.value) == (
        "'order.shipped' is not in hookmock's Standard Webhooks catalogue (contact.created, invoice.paid, "
        "user.created, example.event); add it with hookmock.profiles.standard_webhooks.register_event()"
    )


def test_what_the_profile_reads_from_a_received_request() -> None:
    payload = _payload("user.created")
    assert SW.event_id(payload) is None  # the id travels in the header
    assert SW.received_event_id({"Webhook-Id": "msg_1"}, payload) == "msg_1"
    assert SW.received_event_id({}, payload) is None
    assert SW.event_type_of(payload) == "user.created"
    assert SW.event_type_of({"type": 3}) is None and SW.event_type_of(["type"]) is None  # type: ignore[arg-type]
    assert SW.schema_for(payload) == "standard-webhooks-event"
    variants = SW.body_variants(payload)
    assert variants and all(b'"user.created"' in body for body in variants.values())


# -- message ids, secrets, signing helpers ------------------------------------------------------
def test_message_ids_are_msg_and_27_base62_characters_reproducible_under_a_seed() -> None:
    import random
    import re

    rng = random.Random(4)
    ids = [SW.new_message_id(rng) for _ in range(200)]
    assert all(re.fullmatch(r"msg_[0-9A-Za-z]{27}", i) for i in ids)
    assert set("".join(i[4:] for i in ids)) == set(sw._BASE62)  # every base62 character is used
    assert ids == [SW.new_message_id(random.Random(4)) for _ in range(1)] + ids[1:]
    assert SW.new_message_id() != SW.new_message_id()
    headers = SW.sign_rotated(BODY, [SW.generate_secret()], NOW)
    assert re.fullmatch(r"msg_[0-9A-Za-z]{27}", headers["webhook-id"])


def test_generated_secrets_are_32_bytes_reproducible_under_a_seed() -> None:
    import random

    one, two = SW.generate_secret(random.Random(2)), SW.generate_secret(random.Random(2))
    assert one == two and one.startswith("whsec_")
    assert base64.b64decode(one[6:]) == random.Random(2).randbytes(32)
    assert SW.generate_secret() != SW.generate_secret()


def test_a_timestamp_text_is_signed_as_given() -> None:
    secret = SW.generate_secret()
    headers = SW.sign_timestamp_text(BODY, secret, "0001700000000", message_id=MSG)
    assert headers is not None and headers["webhook-timestamp"] == "0001700000000"
    assert headers["webhook-id"] == MSG
    expected = sw.signature(BODY, secret, "0001700000000", MSG)
    assert headers["webhook-signature"] == expected
    fresh = SW.sign_timestamp_text(BODY, secret, "1700000000")
    assert fresh is not None and fresh["webhook-id"].startswith("msg_")
    assert SW.check(fresh, BODY, secret, now=NOW).ok


def test_split_signature_keeps_the_scheme_as_the_public_part() -> None:
    assert SW.split_signature("v1,abc=") == ("v1,", "abc=")
    assert SW.split_signature("v1a,a,b") == ("v1a,", "a,b")
    assert SW.split_signature("abc") == ("", "abc")


def test_check_secret_signing_or_verifying() -> None:
    signing, public = generate_key_pair()
    SW.check_secret(public, signing=False)
    SW.check_secret(signing)
    with pytest.raises(UsageError, match="cannot sign"):
        SW.check_secret(public)


@pytest.mark.parametrize(
    ("key", "signing", "message"),
    [
        ("whpk_AAAA", True, "a whpk_ key verifies, it cannot sign; sign with the whsk_ key"),
        ("whpk_" + "A" * 22, False, "a whpk_ key holds 32 bytes, not 16"),
        (
            "whpk_!!!!",
            False,
            "the public key is not base64 after its prefix; give the key as the provider shows it "
            "(whsec_…, whsk_… or whpk_…)",
        ),
        ("whsk_" + "A" * 22, True, "a whsk_ key holds 32 bytes (or 64), not 16"),
        (
            "whsk_!!!!",
            True,
            "the signing key is not base64 after its prefix; give the key as the provider shows it "
            "(whsec_…, whsk_… or whpk_…)",
        ),
        (
            "whsec_",
            True,
            "the signing secret holds no bytes after 'whsec_'; give whsec_ followed by the base64 of the "
            "secret's bytes (the specification suggests 24 to 64 random bytes)",
        ),
        (
            "whsec_!!",
            False,
            "the signing secret is not base64 after its prefix; give the key as the provider shows it "
            "(whsec_…, whsk_… or whpk_…)",
        ),
    ],
)
def test_an_unusable_key_is_refused_with_what_to_give(key: str, signing: bool, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        SW.check_secret(key, signing=signing)
    assert str(caught.value) == message


def test_a_signing_key_of_64_bytes_is_the_seed_and_the_public_key() -> None:
    import random

    signing, public = generate_key_pair(random.Random(9))
    seed = base64.b64decode(signing[5:])
    assert len(seed) == 32 and seed == random.Random(9).randbytes(32)
    long_form = "whsk_" + base64.b64encode(seed + base64.b64decode(public[5:])).decode()
    SW.check_secret(long_form)
    assert public_key_of(long_form) == public
    assert sw.signature(BODY, long_form, NOW, MSG) == sw.signature(BODY, signing, NOW, MSG)
    assert public_key_of(public) == public
    with pytest.raises(UsageError) as caught:
        public_key_of(SW.generate_secret())
    assert str(caught.value) == "only a whsk_ signing key has a public key"


def test_a_public_key_cannot_sign_a_request() -> None:
    _, public = generate_key_pair()
    with pytest.raises(UsageError) as caught:
        sw.signature(BODY, public, NOW, MSG)
    assert str(caught.value) == "a whpk_ key verifies, it cannot sign; sign with the whsk_ key"


@pytest.mark.parametrize("message_id", ["", "msg.1", "msg\n1", "msg\x001"])
def test_a_message_id_the_specification_forbids_is_refused(message_id: str) -> None:
    with pytest.raises(UsageError) as caught:
        SW.sign(BODY, SW.generate_secret(), NOW, message_id=message_id)
    assert str(caught.value) == (
        f"webhook-id {message_id!r}: a message id is a non-empty printable string without '.' "
        "(the specification forbids '.', the signed content's delimiter)"
    )


def test_without_the_cryptography_package_v1a_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import cryptography.hazmat.primitives.asymmetric as asymmetric

    signing, _ = generate_key_pair()
    monkeypatch.delattr(asymmetric, "ed25519")
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ed25519", None)
    with pytest.raises(UsageError) as caught:
        SW.sign(BODY, signing, NOW, message_id=MSG)
    assert str(caught.value) == (
        "v1a (ed25519) signatures need the 'cryptography' package: pip install cryptography"
    )
    SW.sign(BODY, SW.generate_secret(), NOW, message_id=MSG)  # v1 needs nothing more


# -- the tolerance window, both ways -----------------------------------------------------------------
@pytest.mark.parametrize("tolerance", [300, 10])
def test_the_tolerance_is_inclusive_and_a_refusal_says_by_how_much(tolerance: int) -> None:
    from hookmock.errors import TimestampTooNew, TimestampTooOld

    secret = SW.generate_secret()
    headers = _signed(secret)
    assert SW.verify(headers, BODY, secret, now=NOW + tolerance, tolerance=tolerance) == NOW
    assert SW.verify(headers, BODY, secret, now=NOW - tolerance, tolerance=tolerance) == NOW
    with pytest.raises(TimestampTooOld) as old:
        SW.verify(headers, BODY, secret, now=NOW + tolerance + 1, tolerance=tolerance)
    assert str(old.value) == (
        f"timestamp {NOW} is {tolerance + 1} s old; at most {tolerance} s is accepted (a replay?)"
    )
    with pytest.raises(TimestampTooNew) as new:
        SW.verify(headers, BODY, secret, now=NOW - tolerance - 1, tolerance=tolerance)
    assert (
        str(new.value)
        == f"timestamp {NOW} is {tolerance + 1} s in the future; at most {tolerance} s is accepted"
    )


def test_an_empty_key_is_refused_too() -> None:
    with pytest.raises(UsageError, match="holds no bytes after 'whsec_'"):
        SW.check_secret("")


def test_hostile_body_variants_put_their_value_under_data() -> None:
    import json

    variants = SW.body_variants(_payload("user.created"))
    exponent = json.loads(variants["exponent"])
    assert exponent["data"]["hookmock_probe"] == 100.0 and "hookmock_probe" not in exponent


def test_a_contacts_address_is_one_line_joined_with_commas() -> None:
    import random

    from faker import Faker
    from faker.providers import BaseProvider

    class Addresses(BaseProvider):
        def address(self) -> str:
            return "1 Main St\nApt 2\nSpringfield, IL 62701"

    fake = Faker()
    fake.add_provider(Addresses)
    payload = SW.build_payload("contact.created", fake=fake, rng=random.Random(1), now_s=NOW, overrides={})
    assert payload["data"]["address"] == "1 Main St, Apt 2, Springfield, IL 62701"
