"""The clients' error tree: each error carries a reason code and its params, so that a
command tells it in the user's language, and ``str()`` is the English sentence.

::

    ClientError                    reason               what to do
    ├── AuthenticationFailed       http_401, closed_4401  a new token is needed; never retried
    ├── CertificateRejected        cert_*               the relay's certificate is not trusted
    │                                                   (--ca-file); never retried
    ├── RelayUnreachable           refused, timeout...  no connection, or it was lost: retry
    │   └── GaveUp (clients.client)                     the caller's deadline passed first
    └── Rejected                   rejected             an error frame (``code``, ``details``);
                                                        ``retriable`` for rate_limited and
                                                        unavailable

:func:`os_error_reason` and :func:`certificate_reason` turn what the socket and TLS
layers raise into a reason; :func:`refusal_text` and :func:`detail_text` tell a relay's
error frame and each of its problems from their codes (docs/protocol.md "Errors",
"Problem codes"), falling back to the relay's English for a code this client does not
know.
"""

from __future__ import annotations

import errno
import socket
import ssl
from collections.abc import Mapping
from typing import Any, Final

from clients.i18n import Translator, register
from relay.contract.errors import HTTP_STATUS
from relay.contract.problems import PROBLEM_CODES
from relay.contract.problems_fr import problem_text

__all__ = [
    "RETRIABLE_CODES",
    "AuthenticationFailed",
    "CertificateRejected",
    "ClientError",
    "Rejected",
    "RelayUnreachable",
    "certificate_reason",
    "detail_text",
    "error_text",
    "file_error_text",
    "os_error_reason",
    "refusal_text",
]

RETRIABLE_CODES: Final = frozenset({"rate_limited", "unavailable"})

register({
    # Why a connection could not be opened or was lost.
    "why.http_401": ("the relay answered HTTP 401 at the handshake",
                     "le relais a répondu HTTP 401 à l'ouverture de la connexion"),
    "why.closed_4401": ("the relay closed the connection with 4401 (token revoked or invalid)",
                        "le relais a fermé la connexion avec 4401 (jeton révoqué ou invalide)"),
    "why.refused": ("cannot connect to {url}: connection refused",
                    "connexion impossible à {url} : connexion refusée"),
    "why.timeout": ("cannot connect to {url}: no answer within {seconds:g} s",
                    "connexion impossible à {url} : pas de réponse en {seconds:g} s"),
    "why.name_unknown": ("cannot connect to {url}: the name {host} is not known",
                         "connexion impossible à {url} : le nom {host} est inconnu"),
    "why.no_route": ("cannot connect to {url}: the network or the host cannot be reached",
                     "connexion impossible à {url} : le réseau ou l'hôte est injoignable"),
    "why.reset": ("cannot connect to {url}: the connection was reset",
                  "connexion impossible à {url} : la connexion a été réinitialisée"),
    "why.os_error": ("cannot connect to {url}: system error {name} ({detail})",
                     "connexion impossible à {url} : erreur système {name} ({detail})"),
    "why.bad_handshake": ("cannot connect to {url}: the WebSocket handshake failed ({detail})",
                          "connexion impossible à {url} : l'ouverture WebSocket a échoué ({detail})"),
    "why.http_status": ("the relay answered HTTP {status} at the handshake",
                        "le relais a répondu HTTP {status} à l'ouverture de la connexion"),
    "why.tls": ("cannot connect to {url}: the TLS handshake failed ({detail}); does the relay "
                "serve wss:// at this address?",
                "connexion impossible à {url} : la négociation TLS a échoué ({detail}) ; le relais "
                "sert-il wss:// à cette adresse ?"),
    "why.cert_self_signed": (
        "the certificate of {url} is self-signed and not trusted here; give its certificate "
        "or its authority's with --ca-file",
        "le certificat de {url} est auto-signé et n'est pas reconnu ici ; donnez-le, ou celui "
        "de son autorité, avec --ca-file"),
    "why.cert_unknown_authority": (
        "the certificate of {url} comes from an authority not trusted here; give the "
        "authority's certificate with --ca-file",
        "le certificat de {url} vient d'une autorité qui n'est pas reconnue ici ; donnez le "
        "certificat de l'autorité avec --ca-file"),
    "why.cert_expired": ("the certificate of {url} has expired; tell the relay operator",
                         "le certificat de {url} a expiré ; prévenez l'opérateur du relais"),
    "why.cert_not_yet_valid": (
        "the certificate of {url} is not valid yet; check this terminal's clock",
        "le certificat de {url} n'est pas encore valide ; vérifiez l'horloge de ce terminal"),
    "why.cert_name_mismatch": (
        "the certificate of {url} is not issued for {host}; check the URL",
        "le certificat de {url} n'est pas délivré pour {host} ; vérifiez l'URL"),
    "why.certificate": ("the certificate of {url} is not trusted ({detail})",
                        "le certificat de {url} n'est pas reconnu ({detail})"),
    "why.closed": ("the relay closed the connection", "le relais a fermé la connexion"),
    "why.relay_stopping": ("the relay is stopping (1001)", "le relais s'arrête (1001)"),
    "why.too_slow": ("the relay closed a connection that did not keep up (4408)",
                     "le relais a fermé une connexion qui ne suivait pas (4408)"),
    "why.lost": ("connection lost (code {code})", "connexion perdue (code {code})"),
    "why.cut": ("connection cut without a close frame", "connexion coupée sans fermeture"),
    "why.no_reply": ("no reply within {seconds:g} s", "pas de réponse en {seconds:g} s"),
    "why.bad_welcome": ("the relay's first frame is not a welcome frame",
                        "la première trame du relais n'est pas une trame d'accueil"),
    "why.undecodable": ("a frame from the relay could not be decoded",
                        "une trame du relais n'a pas pu être décodée"),
    "why.dropped_events": ("events were dropped while a reply was awaited",
                           "des événements ont été perdus pendant l'attente d'une réponse"),
    "why.client_closed": ("closed by the client", "fermée par le client"),
    "why.retry_later": ("the relay answered {code}; trying again later",
                        "le relais a répondu {code} ; nouvel essai plus tard"),
    # The relay's error codes (docs/protocol.md "Errors"; HTTP bodies use them too).
    "refusal.bad_frame": ("the request is not valid", "la demande n'est pas valide"),
    "refusal.unknown_type": ("the relay does not know this kind of request",
                             "le relais ne connaît pas ce type de demande"),
    "refusal.invalid_alert": ("the alert breaks the rules of the alert model",
                              "l'alerte ne respecte pas les règles du modèle d'alerte"),
    "refusal.invalid_filter": ("the filter is not valid", "le filtre n'est pas valide"),
    "refusal.invalid_query": ("the query is not valid", "la requête n'est pas valide"),
    "refusal.unauthorized": ("the token is not valid", "le jeton n'est pas valide"),
    "refusal.forbidden": ("this unit may not do that (a role is missing, or the alert is "
                          "not its own or was not distributed to it)",
                          "cette unité n'a pas le droit de le faire (il lui manque un rôle, ou "
                          "l'alerte n'est pas la sienne ou ne lui a pas été distribuée)"),
    "refusal.not_found": ("the relay has no such alert", "le relais n'a pas cette alerte"),
    "refusal.conflict": ("the key was already used for another alert",
                         "la clé a déjà servi pour une autre alerte"),
    "refusal.too_large": ("the request is too large", "la demande est trop grande"),
    "refusal.rate_limited": ("too many requests: the relay asks to slow down",
                             "trop de demandes : le relais demande de ralentir"),
    "refusal.unavailable": ("the relay is unavailable for the moment",
                            "le relais est momentanément indisponible"),
    "refusal.line": ("{code}: {sentence}", "{code} : {sentence}"),
    # Why a file could not be read.
    "file_error.missing": ("it does not exist", "il n'existe pas"),
    "file_error.denied": ("permission denied", "accès refusé"),
    "file_error.directory": ("it is a directory", "c'est un dossier"),
    "file_error.other": ("system error {name}", "erreur système {name}"),
})

# The relay's error codes, each with its sentence above.
REFUSAL_CODES: Final = frozenset(HTTP_STATUS)


class ClientError(Exception):
    """Base of the errors a client of the relay can meet: ``reason`` and ``params``
    name what happened; :meth:`describe` tells it in a language."""

    def __init__(self, reason: str, /, **params: Any) -> None:
        self.reason = reason
        self.params: dict[str, Any] = params
        super().__init__(self.describe(Translator("en")))

    def describe(self, t: Translator) -> str:
        return t(f"why.{self.reason}", **self.params)

    def as_dict(self) -> dict[str, Any]:
        """What an outbox keeps of the error: its reason and params, no sentence."""
        return {"reason": self.reason, "params": self.params}


class AuthenticationFailed(ClientError):
    """The relay refused the token (handshake 401, or close 4401 when revoked)."""


class CertificateRejected(ClientError):
    """The relay's TLS certificate could not be verified: trying again cannot help until
    the terminal trusts it (``--ca-file``) or the operator fixes it."""


class RelayUnreachable(ClientError):
    """The relay could not be reached or the connection was lost; try again later."""


class Rejected(ClientError):
    """The relay answered a frame with an error frame."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.error = error
        self.code = str(error.get("code", "unknown"))
        self.details: list[dict[str, Any]] = list(error.get("details") or [])
        super().__init__("rejected", code=self.code)

    def describe(self, t: Translator) -> str:
        return refusal_text(self.error, t)

    def as_dict(self) -> dict[str, Any]:
        return {"reason": "rejected", "params": {"code": self.code}, "error": self.error}

    @property
    def retriable(self) -> bool:
        """Resend the same frame (same id) later: protocol.md, Errors."""
        return self.code in RETRIABLE_CODES


def refusal_text(error: Mapping[str, Any], t: Translator) -> str:
    """``code: sentence`` of an error frame or body. In English the sentence is the
    relay's ``message`` (it can name the unit or the alert); in French it comes from the
    code, or is the relay's message for a code this client does not know."""
    code = str(error.get("code", "unknown"))
    message = str(error.get("message") or "")
    if code in REFUSAL_CODES and (t.language != "en" or not message):
        sentence = t(f"refusal.{code}")
    else:
        sentence = message
    return t("refusal.line", code=code, sentence=sentence)


def error_text(record: Mapping[str, Any], t: Translator) -> str:
    """What :meth:`ClientError.as_dict` kept (an outbox's ``last_error``), told again."""
    error = record.get("error")
    if isinstance(error, Mapping):
        return refusal_text(error, t)
    reason, params = record.get("reason"), record.get("params")
    try:
        return t(f"why.{reason}", **(params if isinstance(params, Mapping) else {}))
    except (KeyError, IndexError, ValueError):  # a reason of another version of the client
        return str(reason)


def detail_text(detail: Mapping[str, Any], t: Translator) -> str:
    """The sentence of one problem of an error, from its ``code`` and ``params``; the
    relay's English ``problem`` when the code or its params are not ones this client
    knows (docs/protocol.md "Problem codes": new codes may be added)."""
    code, params = detail.get("code"), detail.get("params")
    if isinstance(code, str) and code in PROBLEM_CODES and isinstance(params, Mapping):
        try:
            return problem_text(code, params, t.language)
        except (KeyError, IndexError, TypeError, ValueError):
            pass  # params of another version of the relay: its own sentence says it
    return str(detail.get("problem", code or ""))


def file_error_text(exc: OSError, t: Translator) -> str:
    """Why a file could not be read, in t's language (the system's own words are not)."""
    if exc.errno == errno.ENOENT:
        return t("file_error.missing")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return t("file_error.denied")
    if exc.errno == errno.EISDIR:
        return t("file_error.directory")
    return t("file_error.other", name=errno.errorcode.get(exc.errno or 0, type(exc).__name__))


# OpenSSL's verification codes (X509_V_ERR_*) that an officer can act on.
_CERTIFICATE_REASONS: Final = {
    9: "cert_not_yet_valid",
    10: "cert_expired",
    18: "cert_self_signed",
    19: "cert_self_signed",
    20: "cert_unknown_authority",
    21: "cert_unknown_authority",
    62: "cert_name_mismatch",
    64: "cert_name_mismatch",
}


def certificate_reason(exc: ssl.SSLCertVerificationError, url: str, host: str) -> CertificateRejected:
    """The error for a certificate the terminal does not trust, by OpenSSL's code."""
    reason = _CERTIFICATE_REASONS.get(exc.verify_code, "certificate")
    return CertificateRejected(reason, url=url, host=host,
                               detail=exc.verify_message or exc.reason or "")


def os_error_reason(exc: OSError, url: str, host: str) -> RelayUnreachable:
    """The error for a socket that could not connect: refused, no route, unknown name..."""
    if isinstance(exc, socket.gaierror):
        return RelayUnreachable("name_unknown", url=url, host=host)
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return RelayUnreachable("refused", url=url)
    if isinstance(exc, ConnectionResetError):
        return RelayUnreachable("reset", url=url)
    if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN):
        return RelayUnreachable("no_route", url=url)
    # A name that identifies the error in any language, and the system's own words.
    name = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
    return RelayUnreachable("os_error", url=url, name=name, detail=exc.strerror or str(exc))
