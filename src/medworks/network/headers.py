"""What a spreadsheet header means, when it is none of the synonyms spreadsheet.py knows.

People write "Zip / Postal", "Clinic Nm", "PostalCd", "Tél. clinique" or "Cost ($)". This module
reads such a header the way a person would, with no statistics and nothing learnt: the same
header always gives the same answer, and `header_meaning()` says why.

1. Words: accents dropped, camelCase and letter/digit runs split ("PostalCd" -> postal cd,
   "Address1" -> address 1), "#" read as "number" and "$" as "dollar", then lower case with
   every run of punctuation a space (so snake_case, "Zip / Postal" and "Code-postal" split).
2. A few two-word phrases are one word ("e mail", "pre payment", "paiement anticipe",
   "courrier electronique"...). Filler words are dropped: articles and prepositions in English
   and French ("the", "of", "de", "du", "la"...), "main", "primary", lone digits and letters
   (the "Y/N" of "Accepts prepaid (Y/N)").
3. Each word is looked up in a small vocabulary (English and French, common abbreviations:
   "nm" name, "cd" code, "tel" phone, "addr" address, "prov" province, "svc" service), as is,
   then without a plural or feminine ending ("langues", "postale", "parlees"). A word found
   is a concept; a concept counts once per header.
4. Each concept gives points to fields (`_CONCEPTS`): 3 for a word that names an attribute of
   a location ("phone", "postal", "price"), 2 for a word that names a thing ("clinic",
   "partner", "service"), 1 for a word that only supports ("name", "code", "number").
   So "Clinic Phone" is the clinic's phone (3 against 2) and "Clinic Nm" the location (2 + 1).
   Some words name columns the layout does not have ("fax", "website", "manager", "id"...):
   they score for no field of ours, and win against weaker readings ("Clinic ID" is not the
   location, "Site web" is not a site).

A header is read as a field only when:
- that field has at least one word worth 2 or more (a supporting word alone: "Name", "Code",
  "Number" are not guessed);
- its score is strictly higher than every other field's and than "another column"'s
  ("Clinic / Partner", "City/Province", "Phone or email" are ties: not guessed);
- at least half of its words are known ("Harbour Health" is not a header of ours).

Exact synonyms are matched before this (spreadsheet.field_for_header) and keep their answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Not a field of the layout: a column the sheet has that the import does not read.
OTHER = "_other"

# Concept -> points it gives each field. Attributes 3, things 2, supporting words 1.
_CONCEPTS: dict[str, dict[str, int]] = {
    "partner": {"partner": 2, "partner_type": 1},
    "site": {"location": 2},
    "name": {"partner": 1, "location": 1, "service": 1},
    "type": {"partner_type": 2, "service": 1},
    "individual": {"partner_type": 2},
    "address": {"address": 3, "email": 1},
    "city": {"city": 3},
    "province": {"province": 3},
    "postal": {"postal_code": 3},
    "code": {"postal_code": 1, "service": 1},
    "phone": {"phone": 3},
    "number": {"phone": 1, OTHER: 2},
    "email": {"email": 3},
    "service": {"service": 2},
    "price": {"price": 3},
    "money": {"price": 1},
    "billing": {"billing": 3},
    "prepayment": {"accepts_prepayment": 4},
    "accepts": {"accepts_prepayment": 1},
    "language": {"languages": 3},
    "notes": {"notes": 3},
    "other": {OTHER: 3},
}

# Word -> concept. Words are folded (no accents, lower case) and compared after _stems().
_WORDS: dict[str, list[str]] = {
    "partner": [
        "partner", "partenaire", "affiliate", "affilie", "network", "reseau", "provider",
        "fournisseur", "company", "compagnie", "entreprise", "organisation", "organization",
        "organisme", "vendor", "supplier", "group", "groupe", "chain", "chaine", "corporation",
        "business",
    ],
    "site": [
        "location", "lieu", "emplacement", "clinic", "clinique", "facility", "facilities",
        "etablissement", "site", "centre", "center", "branch", "succursale", "office", "bureau",
        "practice", "cabinet", "clin",
    ],
    "name": ["name", "nm", "nom", "title", "titre", "label", "libelle", "appellation"],
    "type": ["type", "kind", "genre", "category", "categorie", "sorte", "typ"],
    "individual": ["individual", "individuel", "independent", "independant"],
    "address": ["address", "addr", "adr", "adresse", "street", "rue", "civic", "civique"],
    "city": [
        "city", "town", "ville", "municipality", "municipalite", "localite", "locality",
        "village", "cite",
    ],
    "province": ["province", "prov", "territory", "territoire", "terr", "state"],
    "postal": ["postal", "postcode", "zip", "zipcode", "cp", "pc"],
    "code": ["code", "cd", "cde"],
    "phone": [
        "phone", "telephone", "tel", "ph", "phn", "cell", "cellular", "mobile", "cellulaire",
    ],
    "number": ["number", "no", "num", "nbr", "nr", "numero", "nro"],
    "email": ["email", "mail", "courriel", "mel"],
    "service": [
        "service", "svc", "serv", "prestation", "test", "exam", "examination", "examen",
        "procedure", "modality", "treatment", "traitement", "offering", "soin", "intervention",
    ],
    "price": [
        "price", "prix", "cost", "cout", "fee", "frais", "tarif", "rate", "amount", "amt",
        "montant", "charge", "pricing", "tarification",
    ],
    "money": ["dollar", "cad", "cdn", "usd"],
    "billing": [
        "billing", "bill", "facturation", "invoice", "invoicing", "facture", "payment",
        "paiement", "pay", "reglement", "payable",
    ],
    "prepayment": ["prepayment", "prepaiement", "prepaid", "prepay", "prepaye", "advance"],
    "accepts": ["accepts", "accept", "accepte", "accepted"],
    "language": ["language", "langue", "lang", "spoken", "parle", "linguistic"],
    "notes": [
        "notes", "note", "comment", "commentaire", "remark", "remarque", "observation", "memo",
    ],
    "other": [
        "fax", "telecopieur", "extension", "ext", "poste", "website", "web", "url", "www",
        "hours", "heures", "horaire", "schedule", "id", "identifier", "identifiant", "ref",
        "reference", "date", "updated", "status", "statut", "active", "actif", "lat",
        "latitude", "lng", "lon", "longitude", "region", "country", "pays", "manager",
        "gestionnaire", "person", "personne", "director", "directeur", "account", "compte",
        "distance", "km", "unit", "suite", "tax", "taxe", "gst", "hst", "tps", "tvh", "rating",
        "area", "zone", "radius",
    ],
}  # fmt: skip
_LOOKUP: dict[str, str] = {word: concept for concept, words in _WORDS.items() for word in words}

# Two words that mean one: joined before the lookup.
_PHRASES: dict[tuple[str, str], str] = {
    ("e", "mail"): "email",
    ("courrier", "electronique"): "email",
    ("adresse", "electronique"): "email",
    ("pre", "payment"): "prepayment",
    ("pre", "paid"): "prepaid",
    ("pre", "pay"): "prepay",
    ("pre", "paiement"): "prepaiement",
    ("paiement", "anticipe"): "prepaiement",
    ("post", "code"): "postcode",
    ("zip", "code"): "zip",
    ("site", "web"): "website",
    ("web", "site"): "website",
}

_FILLER = {
    "the", "a", "an", "of", "for", "per", "by", "in", "at", "to", "its", "s",
    "de", "du", "des", "la", "le", "les", "l", "d", "en", "au", "aux", "un", "une", "par",
    "pour", "sa", "son", "ses",
    "main", "primary", "principal", "principale", "default", "line",
}  # fmt: skip

_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])"
)


@dataclass(frozen=True)
class Meaning:
    """What header_meaning() read, and why it decided so."""

    field: str | None  # the layout's field, or None when not guessed
    reason: str  # "matched", "no_known_word", "weak", "ambiguous", "other_column", "unclear"
    words: tuple[str, ...] = ()  # the header's words after filler was dropped
    concepts: tuple[str, ...] = ()  # the concepts found, in the header's order
    unknown: tuple[str, ...] = ()  # words the vocabulary does not know
    scores: dict[str, int] = field(default_factory=dict)  # field (or OTHER) -> points


def header_words(text: object) -> list[str]:
    """'PostalCd' -> ['postal', 'cd']; 'No. de téléphone' -> ['number', 'telephone']."""
    raw = "" if text is None else str(text)
    decomposed = unicodedata.normalize("NFKD", raw)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = _CAMEL.sub(" ", bare).replace("#", " number ").replace("$", " dollar ")
    words = re.sub(r"[^a-z0-9]+", " ", bare.casefold()).split()
    joined: list[str] = []
    for word in words:
        if joined and (joined[-1], word) in _PHRASES:
            joined[-1] = _PHRASES[(joined[-1], word)]
        else:
            joined.append(word)
    return [w for w in joined if w not in _FILLER and not w.isdigit() and len(w) > 1]


def _stems(word: str) -> list[str]:
    """The word, then without a plural or feminine ending: 'parlees' -> parlee, parle."""
    forms = [word]
    for ending in ("s", "e", "x"):
        last = forms[-1]
        if len(last) > 3 and last.endswith(ending):
            forms.append(last[: -len(ending)])
    return forms


def concept_of(word: str) -> str | None:
    for form in _stems(word):
        if form in _LOOKUP:
            return _LOOKUP[form]
    return None


def header_meaning(text: object) -> Meaning:
    """The field a header names by its words (see the module docstring), with the reasons."""
    words = tuple(header_words(text))
    concepts: list[str] = []
    unknown: list[str] = []
    for word in words:
        concept = concept_of(word)
        if concept is None:
            unknown.append(word)
        elif concept not in concepts:
            concepts.append(concept)
    known = len(words) - len(unknown)
    scores: dict[str, int] = {}
    strong: set[str] = set()
    for concept in concepts:
        for name, points in _CONCEPTS[concept].items():
            scores[name] = scores.get(name, 0) + points
            if points >= 2:
                strong.add(name)
    found = {"words": words, "concepts": tuple(concepts), "unknown": tuple(unknown)}
    if not concepts:
        return Meaning(field=None, reason="no_known_word", scores=scores, **found)
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    best, best_score = ranked[0]
    if len(ranked) > 1 and ranked[1][1] == best_score:
        return Meaning(field=None, reason="ambiguous", scores=scores, **found)
    if best == OTHER:
        return Meaning(field=None, reason="other_column", scores=scores, **found)
    if best not in strong:
        return Meaning(field=None, reason="weak", scores=scores, **found)
    if known < len(unknown):
        return Meaning(field=None, reason="unclear", scores=scores, **found)
    return Meaning(field=best, reason="matched", scores=scores, **found)
