"""clients.errors: each error a client meets, and each refusal and problem of the relay,
told in English or French from its code."""

from __future__ import annotations

import errno
import socket
import ssl

import pytest

from clients.errors import (
    AuthenticationFailed,
    CertificateRejected,
    Rejected,
    RelayUnreachable,
    certificate_reason,
    detail_text,
    error_text,
    os_error_reason,
    refusal_text,
)
from clients.i18n import Translator

EN, FR = Translator("en"), Translator("fr")
URL = "wss://relay.example.org/v1/stream"
INVALID = {"type": "error", "code": "invalid_alert", "message": "the alert has 1 problem",
           "details": [{"field": "distribution.units[0]", "problem": "unknown unit 'MA-CMN-BNPX'",
                        "code": "unknown_unit", "params": {"value": "MA-CMN-BNPX"}}]}


def test_a_refusal_is_the_relays_message_in_english_and_its_codes_sentence_in_french():
    """The English message can name what was refused; the French comes from the code."""
    assert ("invalid_alert: the alert has 1 problem",
            "invalid_alert : l'alerte ne respecte pas les règles du modèle d'alerte") == (
        refusal_text(INVALID, EN), refusal_text(INVALID, FR))


def test_a_refusal_code_this_client_does_not_know_keeps_the_relays_message():
    """A newer relay's code: its own words are the best there is."""
    error = {"code": "teapot", "message": "I am a teapot"}
    assert "teapot : I am a teapot" == refusal_text(error, FR)


def test_a_problem_is_told_from_its_code_and_params():
    """unknown_unit with its value, in French."""
    assert "unité inconnue 'MA-CMN-BNPX'" == detail_text(INVALID["details"][0], FR)


@pytest.mark.parametrize("detail", [
    {"field": "x", "problem": "is purple", "code": "purple", "params": {}},
    {"field": "x", "problem": "unknown unit 'X'", "code": "unknown_unit", "params": {}},
    {"field": "x", "problem": "is required"},
])
def test_a_problem_of_an_unknown_code_or_params_is_the_relays_english(detail):
    """docs/protocol.md: a client that does not know a code shows the English sentence."""
    assert detail["problem"] == detail_text(detail, FR)


def test_a_rejected_frame_says_what_the_relay_said_and_is_final_unless_retriable():
    rejected, limited = Rejected(INVALID), Rejected({"code": "rate_limited", "message": "slow down"})
    assert ("invalid_alert: the alert has 1 problem", False, True) == (
        str(rejected), rejected.retriable, limited.retriable)


@pytest.mark.parametrize(("exc", "reason"), [
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "refused"),
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "name_unknown"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "no_route"),
    (ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), "reset"),
    (OSError(errno.EMFILE, "Too many open files"), "os_error"),
])
def test_a_socket_that_cannot_connect_has_its_reason(exc, reason):
    error = os_error_reason(exc, URL, "relay.example.org")
    assert (RelayUnreachable, reason) == (type(error), error.reason)


def test_an_unknown_system_error_is_named_by_its_errno_in_french():
    """The system's own words are English; its errno name reads the same in every language."""
    error = os_error_reason(OSError(errno.EMFILE, "Too many open files"), URL, "relay.example.org")
    assert f"connexion impossible à {URL} : erreur système EMFILE (Too many open files)" == \
        error.describe(FR)


@pytest.mark.parametrize(("code", "reason"), [
    (18, "cert_self_signed"), (19, "cert_self_signed"), (20, "cert_unknown_authority"),
    (10, "cert_expired"), (9, "cert_not_yet_valid"), (62, "cert_name_mismatch"),
    (2, "certificate"),
])
def test_a_certificate_error_has_its_own_reason_by_openssls_code(code, reason):
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_code, exc.verify_message = code, "what OpenSSL says"
    error = certificate_reason(exc, URL, "relay.example.org")
    assert (CertificateRejected, reason) == (type(error), error.reason)
    assert "--ca-file" in error.describe(FR) or reason not in ("cert_self_signed",
                                                               "cert_unknown_authority")


def test_an_error_kept_in_the_outbox_is_told_again_in_either_language():
    """as_dict() keeps the reason and params; error_text tells them later, in French too."""
    kept = RelayUnreachable("refused", url=URL).as_dict()
    assert (f"cannot connect to {URL}: connection refused",
            f"connexion impossible à {URL} : connexion refusée") == (error_text(kept, EN),
                                                                      error_text(kept, FR))
    assert "invalid_alert : l'alerte ne respecte pas les règles du modèle d'alerte" == \
        error_text(Rejected(INVALID).as_dict(), FR)


def test_a_refused_token_reads_in_french():
    assert "le relais a répondu HTTP 401 à l'ouverture de la connexion" == \
        AuthenticationFailed("http_401").describe(FR)
