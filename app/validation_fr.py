"""Pydantic's validation errors said in French, by error type (`missing`, `int_parsing`, …).

Pydantic writes its messages in English ("Input should be a valid integer"); the service
answers in French whatever the error: each known type has its sentence, filled with the limits
pydantic gives in `ctx`, and any other type gets a generic French sentence. The English text and
the rejected input are never copied into an answer (nor the message of a `value_error`, which
may come from a library).
"""

from collections.abc import Mapping
from typing import Any

_MESSAGES: dict[str, str] = {
    "missing": "Valeur obligatoire absente.",
    "extra_forbidden": "Champ inconnu.",
    "json_invalid": "Le corps de la requête n'est pas du JSON valide.",
    "json_type": "Une chaîne JSON est attendue.",
    "string_type": "Une chaîne de caractères est attendue.",
    "string_sub_type": "Une chaîne de caractères est attendue.",
    "string_unicode": "Le texte n'est pas de l'Unicode valide.",
    "string_too_short": "Au moins {min_length} caractère(s) attendu(s).",
    "string_too_long": "Au plus {max_length} caractère(s) permis.",
    "string_pattern_mismatch": "Le texte n'a pas la forme attendue.",
    "bytes_type": "Des octets sont attendus.",
    "bytes_too_short": "Au moins {min_length} octet(s) attendu(s).",
    "bytes_too_long": "Au plus {max_length} octet(s) permis.",
    "int_type": "Un nombre entier est attendu.",
    "int_parsing": "Un nombre entier est attendu.",
    "int_parsing_size": "Ce nombre entier est trop grand.",
    "int_from_float": "Un nombre entier est attendu, sans partie décimale.",
    "float_type": "Un nombre est attendu.",
    "float_parsing": "Un nombre est attendu.",
    "finite_number": "Un nombre fini est attendu.",
    "decimal_type": "Un nombre décimal est attendu.",
    "decimal_parsing": "Un nombre décimal est attendu.",
    "decimal_max_digits": "Au plus {max_digits} chiffre(s) permis.",
    "decimal_max_places": "Au plus {decimal_places} décimale(s) permise(s).",
    "bool_type": "Une valeur booléenne est attendue (true ou false).",
    "bool_parsing": "Une valeur booléenne est attendue (true ou false).",
    "greater_than": "La valeur doit être supérieure à {gt}.",
    "greater_than_equal": "La valeur doit être supérieure ou égale à {ge}.",
    "less_than": "La valeur doit être inférieure à {lt}.",
    "less_than_equal": "La valeur doit être inférieure ou égale à {le}.",
    "multiple_of": "La valeur doit être un multiple de {multiple_of}.",
    "enum": "Valeur non prévue ; valeurs permises : {expected}.",
    "literal_error": "Valeur non prévue ; valeurs permises : {expected}.",
    "list_type": "Une liste est attendue.",
    "tuple_type": "Une liste est attendue.",
    "set_type": "Une liste est attendue.",
    "iterable_type": "Une liste est attendue.",
    "dict_type": "Un objet est attendu.",
    "model_type": "Un objet est attendu.",
    "model_attributes_type": "Un objet est attendu.",
    "dataclass_type": "Un objet est attendu.",
    "too_short": "Au moins {min_length} élément(s) attendu(s).",
    "too_long": "Au plus {max_length} élément(s) permis.",
    "date_type": "Une date est attendue (AAAA-MM-JJ).",
    "date_parsing": "Une date est attendue (AAAA-MM-JJ).",
    "date_from_datetime_parsing": "Une date est attendue (AAAA-MM-JJ).",
    "date_from_datetime_inexact": "Une date sans heure est attendue (AAAA-MM-JJ).",
    "date_past": "Une date passée est attendue.",
    "date_future": "Une date future est attendue.",
    "datetime_type": "Une date et une heure sont attendues (ISO 8601).",
    "datetime_parsing": "Une date et une heure sont attendues (ISO 8601).",
    "datetime_from_date_parsing": "Une date et une heure sont attendues (ISO 8601).",
    "time_type": "Une heure est attendue.",
    "time_parsing": "Une heure est attendue.",
    "timezone_aware": "Une date et une heure avec fuseau horaire sont attendues.",
    "timezone_naive": "Une date et une heure sans fuseau horaire sont attendues.",
    "uuid_type": "Un UUID est attendu.",
    "uuid_parsing": "Un UUID est attendu.",
    "url_type": "Une adresse URL est attendue.",
    "url_parsing": "Une adresse URL est attendue.",
    "url_scheme": "Le schéma de cette adresse URL n'est pas permis.",
    "url_too_long": "Cette adresse URL est trop longue.",
    "ip_any_address": "Une adresse IP est attendue.",
    "none_required": "Aucune valeur n'est attendue ici.",
    "union_tag_invalid": "Type d'objet non prévu.",
    "union_tag_not_found": "Le type de l'objet n'est pas indiqué.",
    "frozen_field": "Ce champ ne se modifie pas.",
    "recursion_loop": "La valeur est trop profondément imbriquée.",
}
GENERIC = "Valeur invalide."


def _french_alternatives(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as « 'a', 'b' ou 'c' »."""
    return expected.replace(" or ", " ou ")


def french_validation_message(error: Mapping[str, Any]) -> str:
    """The French sentence for one entry of `ValidationError.errors()`."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    template = _MESSAGES.get(kind)
    if template is None:
        return GENERIC
    if "expected" in context:
        context["expected"] = _french_alternatives(str(context["expected"]))
    try:
        return template.format(**{key: str(value)[:100] for key, value in context.items()})
    except (KeyError, IndexError):  # a limit pydantic did not give
        return GENERIC
