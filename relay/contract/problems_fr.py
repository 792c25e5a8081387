"""Every problem code's sentence in French, beside the English of :mod:`problems`, so
that the relay's own clients and command show each problem in the user's language from
its ``code`` and ``params`` (admin.md, "Problems in the user's language").

Field names, codes of the contract (``passenger``, ``update``, ``msg_type``...) and the
values a client sent stay as they are: they are the contract's words, not English ones.
A code with no French sentence (one a newer relay sends) is shown in English, as
docs/protocol.md "Problem codes" asks of every client.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from relay.contract.i18n import Language
from relay.contract.problems import english, quoted

__all__ = ["FRENCH", "problem_text"]

Params = Mapping[str, Any]


def _span(params: Params, unit: str) -> str:
    """``de 1 à 50 éléments``, ``au plus 50 éléments`` or ``au moins 2 éléments``."""
    low, high = params.get("low", 0), params.get("high")
    if high is None:
        return f"au moins {low} {unit}"
    return f"de {low} à {high} {unit}" if low else f"au plus {high} {unit}"


def _choices(params: Params) -> str:
    return ", ".join(str(item) for item in params["allowed"])


def _required_for_kind(params: Params) -> str:
    hint = {
        "subjects": f" (de {params.get('low')} à {params.get('high')} personnes)",
        "seizures": f" (de {params.get('low')} à {params.get('high')} objets saisis)",
        "location": " (le code IATA de l'aéroport où elle a eu lieu)",
    }.get(params.get("field", ""), "")
    return f"est obligatoire pour une alerte {params['kind']}{hint}"


def _country(params: Params) -> str:
    expected = "un code pays ISO 3166-1 alpha-2 (2 lettres majuscules, p. ex. ML)"
    if "value" in params:
        return f"{quoted(params['value'])} n'est pas {expected}"
    return f"doit être {expected}"


def _language_tag(params: Params) -> str:
    if "value" in params:
        return (f"{quoted(params['value'])} n'est pas une étiquette de langue BCP 47 valide "
                "(p. ex. fr, en, pt-BR)")
    return "doit être une étiquette de langue BCP 47 (une chaîne, p. ex. fr, en, pt-BR)"


def _unknown_region(params: Params) -> str:
    known = ", ".join(params["known"]) or "aucune"
    return f"région inconnue {quoted(params['value'])} (régions connues : {known})"


def _references_required(params: Params) -> str:
    what = {"update": "une mise à jour (update)", "cancel": "une annulation (cancel)"}
    return f"est obligatoire pour {what.get(params['msg_type'], params['msg_type'])}"


def _route_end(params: Params) -> str:
    end = "de départ" if params["end"] == "origin" else "d'arrivée"
    return f"doit être l'aéroport {end} du vol, {params['expected']!r}"


_TIMESTAMP = "un horodatage RFC 3339 avec son décalage horaire, p. ex. 2026-11-23T08:00:00Z"

# code -> the French sentence: a str.format template over the params, or a function of them.
FRENCH: dict[str, str | Callable[[Params], str]] = {
    # shapes
    "required": "est obligatoire",
    "required_for_kind": _required_for_kind,
    "unknown_field": "champ inconnu",
    "set_by_relay": "champ inconnu : c'est le relais qui le remplit, un client ne le peut pas",
    "not_a_map": "doit être une table de clés et de valeurs",
    "not_a_list": "doit être une liste",
    "not_a_string": "doit être une chaîne de caractères",
    "not_a_number": "doit être un nombre",
    "not_one_of": lambda p: f"doit être l'une des valeurs {_choices(p)}",
    "item_count": lambda p: f"doit avoir {_span(p, 'éléments')}",
    "length": lambda p: f"doit faire {_span(p, 'caractères')}",
    "string_length": lambda p: f"doit être une chaîne {_span(p, 'caractères')}",
    "nul_character": "ne doit pas contenir le caractère NUL (U+0000), qui ne peut pas être "
                     "enregistré",
    "control_character": "ne doit pas contenir le caractère de contrôle {character} (seuls la "
                         "tabulation et le saut de ligne sont permis)",
    "too_deep": "imbrique des tables et des listes sur plus de {limit} niveaux",
    "blank": "ne doit pas être fait que d'espaces",
    "min_integer": "doit être un entier supérieur ou égal à {low}",
    "integer_range": "doit être un entier de {low} à {high}",
    "too_large": "fait {size} octets une fois encodé ; il doit en faire au plus {limit}",
    "cannot_encode": "contient une valeur qui ne peut pas être encodée ({reason})",
    "not_json_value": "ne doit contenir que des valeurs JSON : ni données binaires, ni nombres "
                      "non finis, ni entiers au-delà de 64 bits (l'alerte circule dans les "
                      "deux encodages)",
    "string_keys": "doit avoir des clés qui sont des chaînes",
    "not_json_object": "doit être un objet JSON",
    "too_slow": "n'est pas arrivé en {seconds} s",
    # codes and ids
    "bad_iata": "doit être un code d'aéroport IATA (3 lettres majuscules, p. ex. CDG)",
    "unknown_airport": lambda p: f"code d'aéroport IATA inconnu {p['value']!r}",
    "bad_country": _country,
    "bad_language_tag": _language_tag,
    "bad_flight_number": "doit être un numéro de vol IATA : un code de compagnie de 2 caractères "
                         "(pas deux chiffres), 1 à 4 chiffres et une lettre facultative, "
                         "p. ex. AT571",
    "bad_alert_id": "doit être un identifiant d'alerte : un UUID en hexadécimal minuscule, "
                    "8-4-4-4-12",
    "bad_reference": "doit être l'alert_id de l'alerte visée : un UUID en hexadécimal "
                     "minuscule, 8-4-4-4-12",
    "bad_unit_id": "doit être un identifiant d'unité (lettres majuscules, chiffres et tirets, "
                   "de 3 à 40)",
    "unknown_unit": lambda p: f"unité inconnue {quoted(p['value'])}",
    "not_a_unit_id": "doit être un identifiant d'unité (une chaîne)",
    "not_a_region_name": "doit être un nom de région (une chaîne)",
    "unknown_region": _unknown_region,
    "bad_seizure_unit": lambda p: f"doit être l'une des unités {', '.join(p['units'])}, ou pour "
                                  "des espèces un code de devise ISO 4217 (p. ex. EUR)",
    "currency_only_for_cash": lambda p: f"une devise ({p['unit']}) n'est une unité que pour des "
                                        f"espèces ; utilisez l'une de {', '.join(p['units'])}",
    "not_positive": "doit être un nombre fini supérieur à 0",
    # time
    "bad_timestamp": f"doit être {_TIMESTAMP}",
    "no_time_offset": "n'a pas de décalage horaire : terminez-le par Z (UTC) ou ±hh:mm",
    "not_a_real_moment": lambda p: f"{quoted(p['value'])} n'est pas une date et une heure réelles",
    "bad_date": "doit être une date AAAA-MM-JJ, p. ex. 2026-11-23",
    "not_a_real_date": lambda p: f"{p['value']!r} n'est pas une date réelle du calendrier",
    "in_the_future": "ne doit pas être dans le futur",
    "not_after": "doit être postérieur à {other}",
    # cross-field rules of alerts.md
    "references_not_allowed": "doit être absent quand msg_type vaut alert : seule une mise à "
                              "jour (update) ou une annulation (cancel) vise une alerte",
    "references_required": _references_required,
    "route_end": _route_end,
    "not_for_red": "n'est pas permis pour une alerte rouge (red) : nommez les unités",
    "red_needs_units": "doit nommer au moins une unité pour une alerte rouge (red)",
    "no_recipient": 'doit nommer au moins une unité, un pays ou une région, ou valoir '
                    '{{"all": true}}',
    "all_must_be_true": 'doit valoir true ({{"all": true}} s\'adresse à toutes les unités)',
    "all_alone": "ne peut pas être combiné avec des unités, des pays ou des régions",
    # the stored log
    "no_such_alert": "alerte inexistante",
    "alert_of_another_unit": "une alerte d'une autre unité",
    "kind_of_referenced": "doit être {kind}, comme l'alerte visée",
    "beyond_head": "doit être au plus la tête du relais ({head}) ; le curseur du client "
                   "viendrait-il d'un autre relais ?",
    # HTTP requests
    "unknown_parameter": "paramètre de requête inconnu",
    "unknown_filter_key": "clé de filtre inconnue",
    "repeated": "doit être donné une fois au plus",
    "bad_cursor": "n'est pas un curseur donné par ce relais",
    "key_reused": "déjà utilisée pour une autre alerte par cette unité",
    # units and tokens (admin.md)
    "already_exists": lambda p: f"{quoted(p['value'])} existe déjà",
    "last_admin": "laisserait le relais sans aucune unité admin active",
    "unit_suspended": lambda p: f"l'unité {p['value']} est suspendue ; rétablissez-la d'abord",
    "not_suspended": lambda p: f"l'unité {p['value']} n'est pas suspendue",
    "unknown_token": lambda p: f"jeton inconnu {quoted(p['value'])}",
    "already_revoked": lambda p: f"le jeton {p['value']} est déjà révoqué",
    "bad_header": lambda p: f"doit être la ligne d'en-tête {p['expected']}",
    "column_count": lambda p: f"doit avoir {p['expected']} colonnes, pas {p['found']}",
    "repeated_in_file": lambda p: f"apparaît déjà à la ligne {p['line']}",
    "not_csv": "n'est pas du CSV valide (guillemet non fermé, ou champ trop long)",
    "not_a_boolean": "doit valoir true ou false",
    "not_an_integer": "doit être un entier",
    # federation (federation.md)
    "bad_relay_id": ("doit être un identifiant de relais : 2 à 20 lettres majuscules, chiffres"
                     " ou « - » (p. ex. ML, G5-PCMS)"),
    "unknown_peer": lambda p: f"aucun relais pair {quoted(p['value'])}",
    "peer_revoked": lambda p: f"le pair {p['value']} est déjà révoqué",
    "not_a_unit": "doit être une unité : unit_id, country, airport facultatif et name",
    # passengers' personal data (protection.md)
    "bad_date_or_timestamp": "doit être une date AAAA-MM-JJ ou un horodatage RFC 3339 avec son "
                             "décalage horaire, p. ex. 2027-06-30 ou 2027-06-30T00:00:00Z",
    "in_the_past": "doit être dans le futur",
    "keys_destroyed": "les données personnelles de l'alerte ne peuvent plus être lues : sa clé "
                      "de données a été détruite (au masquage avec shred_on_mask, ou à sa "
                      "réduction)",
    "personal_unreadable": "les données personnelles scellées de l'alerte ne peuvent pas être "
                           "ouvertes (une ligne endommagée, ou une clé que le fichier de clés du "
                           "relais ne contient pas) ; prévenez l'opérateur du relais",
}


def problem_text(code: str, params: Params, language: Language) -> str:
    """The sentence of a problem in ``language``; English for a code without French."""
    if language == "fr":
        french = FRENCH.get(code)
        if french is not None:
            return french(params) if callable(french) else french.format(**params)
    return english(code, params)
